/*
 * float32 unary ops as TFLite Micro's reference kernels compute them, in float (build with
 * -ffp-contract=off), and CAST / FILL between any of the element types: one kernel each, the operation
 * picked by `op` (a constant of the layer's parameter struct, so an inlined call keeps only its case).
 * Element i is read before it is written, so the output may lie on the input.
 */
#ifndef TM_UNARY_H
#define TM_UNARY_H

#include <math.h>
#include "tm_common.h"

enum {
  TM_UN_ABS, TM_UN_NEG, TM_UN_FLOOR, TM_UN_CEIL, TM_UN_ROUND, TM_UN_SQUARE, TM_UN_SQRT, TM_UN_RSQRT,
  TM_UN_EXP, TM_UN_LOG, TM_UN_SIN, TM_UN_COS, TM_UN_RELU, TM_UN_RELU6, TM_UN_LOGISTIC, TM_UN_TANH,
  TM_UN_ELU, TM_UN_HARD_SWISH, TM_UN_LEAKY_RELU
};

typedef struct {
  int32_t op;
  float alpha; /* LEAKY_RELU */
} tm_unary_f32_params;

/* Round half to even (TFLite's RoundToNearest). */
TM_HELPER float tm_round_half_even(float x) {
  const float f = floorf(x);
  const float d = x - f;
  if (d < 0.5f) return f;
  if (d > 0.5f) return f + 1.0f;
  return fmodf(f, 2.0f) == 0.0f ? f : f + 1.0f;
}

TM_HELPER float tm_unary_one_f32(const tm_unary_f32_params *p, float v) {
  switch (p->op) {
    case TM_UN_ABS: return fabsf(v);
    case TM_UN_NEG: return -v;
    case TM_UN_FLOOR: return floorf(v);
    case TM_UN_CEIL: return ceilf(v);
    case TM_UN_ROUND: return tm_round_half_even(v);
    case TM_UN_SQUARE: return v * v;
    case TM_UN_SQRT: return sqrtf(v);
    case TM_UN_RSQRT: return 1.0f / sqrtf(v);
    case TM_UN_EXP: return expf(v);
    case TM_UN_LOG: return logf(v);
    case TM_UN_SIN: return sinf(v);
    case TM_UN_COS: return cosf(v);
    case TM_UN_RELU: return v < 0.0f ? 0.0f : v;
    case TM_UN_RELU6: return v > 6.0f ? 6.0f : (v < 0.0f ? 0.0f : v);
    case TM_UN_LOGISTIC:
      /* reference_ops::Logistic: saturate above the cut-off, exp(x) below -9, else 1 / (1 + exp(-x)). */
      if (v > 16.619047164916992188f) return 1.0f;
      if (v < -9.0f) return expf(v);
      return 1.0f / (1.0f + expf(-v));
    case TM_UN_TANH: return tanhf(v);
    case TM_UN_ELU: return v < 0.0f ? expm1f(v) : v;
    case TM_UN_HARD_SWISH: {
      const float r = v + 3.0f;
      return v * (r < 0.0f ? 0.0f : (r > 6.0f ? 6.0f : r)) / 6.0f;
    }
    default: return v > 0.0f ? v : v * p->alpha; /* LEAKY_RELU */
  }
}

TM_KERNEL void tm_unary_f32(const tm_unary_f32_params *p, int32_t n, const float *in, float *out) {
  for (int32_t i = 0; i < n; i++) out[i] = tm_unary_one_f32(p, in[i]);
}

/*
 * int16 RELU, RELU6 and LEAKY_RELU (ReluQuantized, the 16-bit clamp, leaky_relu.cc): the offset input
 * rescaled by the multiplier of its sign, plus the output zero point, clamped; `identity` keeps the raw
 * value (RELU6 only clamps).
 */
typedef struct {
  int32_t in_zp, out_zp;
  int32_t pos_mult, pos_shift;
  int32_t neg_mult, neg_shift;
  int32_t lo, hi;
  int32_t identity;
} tm_act_s16_params;

TM_KERNEL void tm_act_s16(const tm_act_s16_params *p, int32_t n, const int16_t *in, int16_t *out) {
  for (int32_t i = 0; i < n; i++) {
    const int32_t d = in[i] - p->in_zp;
    const int32_t v = p->identity ? in[i] : p->out_zp + (d >= 0 ? tm_mbqm(d, p->pos_mult, p->pos_shift) : tm_mbqm(d, p->neg_mult, p->neg_shift));
    out[i] = (int16_t)tm_clamp(v, p->lo, p->hi);
  }
}

/* Element types of tm_cast and tm_fill. */
enum { TM_T_F32, TM_T_S8, TM_T_U8, TM_T_S16, TM_T_S32, TM_T_BOOL };

/*
 * static_cast between element types: float to integer truncates toward zero, integers wrap to a narrower
 * type, anything to bool is "not zero". Out-of-range floats (undefined in C) give 0.
 */
TM_KERNEL void tm_cast(int32_t from, int32_t to, int32_t n, const void *in, void *out) {
  for (int32_t k = 0; k < n; k++) {
    float f = 0.0f;
    int64_t i = 0;
    switch (from) {
      case TM_T_F32: f = ((const float *)in)[k]; i = (f > -9.2e18f && f < 9.2e18f) ? (int64_t)f : 0; break;
      case TM_T_S8: i = ((const int8_t *)in)[k]; break;
      case TM_T_U8: case TM_T_BOOL: i = ((const uint8_t *)in)[k]; break;
      case TM_T_S16: i = ((const int16_t *)in)[k]; break;
      default: i = ((const int32_t *)in)[k]; break;
    }
    if (from != TM_T_F32) f = (float)i;
    switch (to) {
      case TM_T_F32: ((float *)out)[k] = f; break;
      case TM_T_S8: ((int8_t *)out)[k] = (int8_t)(uint8_t)(uint64_t)i; break;
      case TM_T_U8: ((uint8_t *)out)[k] = (uint8_t)(uint64_t)i; break;
      case TM_T_S16: ((int16_t *)out)[k] = (int16_t)(uint16_t)(uint64_t)i; break;
      case TM_T_S32: ((int32_t *)out)[k] = (int32_t)(uint32_t)(uint64_t)i; break;
      default: ((uint8_t *)out)[k] = (uint8_t)(from == TM_T_F32 ? f != 0.0f : i != 0); break;
    }
  }
}

/* FILL / ZEROS_LIKE: n copies of one element of elem_bytes. */
TM_KERNEL void tm_fill(int32_t elem_bytes, int32_t n, const void *value, void *out) {
  uint8_t *dst = (uint8_t *)out;
  for (int32_t k = 0; k < n; k++, dst += elem_bytes) memcpy(dst, value, (size_t)elem_bytes);
}

#endif /* TM_UNARY_H */
