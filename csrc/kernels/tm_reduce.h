/*
 * Reductions over any set of axes of a tensor of rank <= 4 (TFLite Micro's reduce.cc and arg_min_max.cc):
 * SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_ALL, float MEAN, int16 MEAN / SUM, ARG_MAX, ARG_MIN; and float
 * L2_NORMALIZATION over rows. Each output
 * element folds its inputs in row-major order, the reference's order, so float sums round alike. int8 /
 * int16 MAX and MIN compare raw values (input and output share the quantisation).
 */
#ifndef TM_REDUCE_H
#define TM_REDUCE_H

#include <math.h>
#include "tm_mean.h"

enum { TM_RED_SUM, TM_RED_MAX, TM_RED_MIN, TM_RED_ALL, TM_RED_MEAN };

typedef struct {
  int32_t op;
  int32_t in_dims[4];
  int32_t reduced[4]; /* 1 where the axis is reduced */
  int32_t count;      /* elements per output */
} tm_reduce_params;

typedef struct {
  int32_t op; /* 0: ARG_MAX, 1: ARG_MIN */
  int32_t outer, n, inner;
} tm_arg_params;

/*
 * The walk shared by every reduction: for each output element (kept axes in order), ACC starts at the
 * first reduced element and FOLD(acc, x) takes the others in order; STORE(acc) writes the output.
 */
#define TM_REDUCE_WALK(T, in_dims_, reduced_, INIT, FOLD, STORE)                                            \
  do {                                                                                                      \
    const int32_t *d_ = (in_dims_);                                                                         \
    const int32_t st_[4] = {d_[1] * d_[2] * d_[3], d_[2] * d_[3], d_[3], 1};                                \
    int32_t hi_[4], len_[4];                                                                                \
    for (int k_ = 0; k_ < 4; k_++) {                                                                        \
      hi_[k_] = (reduced_)[k_] ? 1 : d_[k_];                                                                \
      len_[k_] = (reduced_)[k_] ? d_[k_] : 1;                                                               \
    }                                                                                                       \
    for (int32_t i0 = 0; i0 < hi_[0]; i0++)                                                                 \
      for (int32_t i1 = 0; i1 < hi_[1]; i1++)                                                               \
        for (int32_t i2 = 0; i2 < hi_[2]; i2++)                                                             \
          for (int32_t i3 = 0; i3 < hi_[3]; i3++) {                                                         \
            const T *base_ = in + i0 * st_[0] + i1 * st_[1] + i2 * st_[2] + i3 * st_[3];                    \
            INIT;                                                                                           \
            for (int32_t a_ = 0; a_ < len_[0]; a_++)                                                        \
              for (int32_t b_ = 0; b_ < len_[1]; b_++)                                                      \
                for (int32_t c_ = 0; c_ < len_[2]; c_++)                                                    \
                  for (int32_t e_ = 0; e_ < len_[3]; e_++) {                                                \
                    const T x = base_[a_ * st_[0] + b_ * st_[1] + c_ * st_[2] + e_ * st_[3]];               \
                    FOLD;                                                                                   \
                  }                                                                                         \
            STORE;                                                                                          \
          }                                                                                                 \
  } while (0)

TM_KERNEL void tm_reduce_f32(const tm_reduce_params *p, const float *in, float *out) {
  const int32_t op = p->op;
  TM_REDUCE_WALK(float, p->in_dims, p->reduced, float acc = op == TM_RED_SUM || op == TM_RED_MEAN ? 0.0f : base_[0],
                 acc = (op == TM_RED_SUM || op == TM_RED_MEAN) ? acc + x : (op == TM_RED_MAX ? (x > acc ? x : acc) : (x < acc ? x : acc)),
                 *out++ = op == TM_RED_MEAN ? (p->count ? acc / (float)p->count : 0.0f) : acc);
}

TM_KERNEL void tm_reduce_s32(const tm_reduce_params *p, const int32_t *in, int32_t *out) {
  const int32_t op = p->op;
  TM_REDUCE_WALK(int32_t, p->in_dims, p->reduced, int32_t acc = op == TM_RED_SUM ? 0 : base_[0],
                 acc = op == TM_RED_SUM ? (int32_t)((uint32_t)acc + (uint32_t)x) : (op == TM_RED_MAX ? (x > acc ? x : acc) : (x < acc ? x : acc)),
                 *out++ = acc);
}

TM_KERNEL void tm_reduce_s8(const tm_reduce_params *p, const int8_t *in, int8_t *out) {
  const int32_t op = p->op;
  TM_REDUCE_WALK(int8_t, p->in_dims, p->reduced, int8_t acc = base_[0], acc = op == TM_RED_MAX ? (x > acc ? x : acc) : (x < acc ? x : acc), *out++ = acc);
}

TM_KERNEL void tm_reduce_s16(const tm_reduce_params *p, const int16_t *in, int16_t *out) {
  const int32_t op = p->op;
  TM_REDUCE_WALK(int16_t, p->in_dims, p->reduced, int16_t acc = base_[0], acc = op == TM_RED_MAX ? (x > acc ? x : acc) : (x < acc ? x : acc), *out++ = acc);
}

/* REDUCE_ALL on bool bytes. */
TM_KERNEL void tm_reduce_all_u8(const tm_reduce_params *p, const uint8_t *in, uint8_t *out) {
  TM_REDUCE_WALK(uint8_t, p->in_dims, p->reduced, uint8_t acc = 1, acc = (uint8_t)(acc && x), *out++ = acc);
}

/* int16 MEAN and SUM: tm_mean_s8's arithmetic (QuantizedMeanOrSum) on int16. */
TM_KERNEL void tm_mean_s16(const tm_mean_params *p, const int16_t *in, int16_t *out) {
  TM_REDUCE_WALK(int16_t, p->in_dims, p->reduced, int32_t sum = 0, sum += x,
                 *out++ = (int16_t)tm_clamp(tm_mbqm(sum - p->in_zp * p->count, p->mult, p->shift) + p->out_zp, -32768, 32767));
}

/* ARG_MAX / ARG_MIN along one axis: the first index of the extreme value, int32 output. */
#define TM_ARG_KERNEL(name, T)                                                                       \
  TM_KERNEL void name(const tm_arg_params *p, const T *in, int32_t *out) {                           \
    for (int32_t o = 0; o < p->outer; o++)                                                           \
      for (int32_t i = 0; i < p->inner; i++) {                                                       \
        const T *s = in + (size_t)o * (size_t)p->n * (size_t)p->inner + i;                           \
        T best = s[0];                                                                               \
        int32_t at = 0;                                                                              \
        for (int32_t k = 1; k < p->n; k++) {                                                         \
          const T x = s[(size_t)k * (size_t)p->inner];                                               \
          if (p->op == 0 ? x > best : x < best) {                                                    \
            best = x;                                                                                \
            at = k;                                                                                  \
          }                                                                                          \
        }                                                                                            \
        *out++ = at;                                                                                 \
      }                                                                                              \
  }

TM_ARG_KERNEL(tm_arg_f32, float)
TM_ARG_KERNEL(tm_arg_s8, int8_t)
TM_ARG_KERNEL(tm_arg_u8, uint8_t)
TM_ARG_KERNEL(tm_arg_s16, int16_t)
TM_ARG_KERNEL(tm_arg_s32, int32_t)

/* L2_NORMALIZATION float32 over the last dimension: x / max(sqrt(sum of squares), 1e-6), in float. */
TM_KERNEL void tm_l2_normalize_f32(int32_t rows, int32_t depth, const float *in, float *out) {
  for (int32_t r = 0; r < rows; r++, in += depth, out += depth) {
    float s = 0.0f;
    for (int32_t c = 0; c < depth; c++) s += in[c] * in[c];
    const float norm = TM_MAX(sqrtf(s), 1e-6f);
    for (int32_t c = 0; c < depth; c++) out[c] = in[c] / norm;
  }
}

#endif /* TM_REDUCE_H */
