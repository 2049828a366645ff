/*
 * Binary ops with 4-D broadcasting on every element type, as the TypeScript ops compute them (TFLite
 * Micro's sub.cc, maximum_minimum.cc, squared_difference.cc, floor_div.cc, floor_mod.cc, div.cc, prelu.cc,
 * comparisons.cc, logical.cc, select.cc): one kernel per element type, the operation picked by `op` (a
 * constant of the layer's parameter struct, so an inlined call keeps only its own case).
 *
 * The output is written in order and element i reads its inputs before writing, so it may share memory
 * with an input of the output's shape (the generator checks the plan).
 */
#ifndef TM_BINARY_H
#define TM_BINARY_H

#include <math.h>
#include "tm_elementwise.h"

enum {
  TM_BIN_ADD, TM_BIN_SUB, TM_BIN_MUL, TM_BIN_DIV, TM_BIN_FLOOR_DIV, TM_BIN_FLOOR_MOD,
  TM_BIN_SQDIFF, TM_BIN_MAX, TM_BIN_MIN, TM_BIN_PRELU
};

enum { TM_CMP_EQ, TM_CMP_NE, TM_CMP_GT, TM_CMP_GE, TM_CMP_LT, TM_CMP_LE, TM_LOGIC_AND, TM_LOGIC_OR };

/* float32: the operation, then the fused activation's clamp (+-FLT_MAX for none). */
typedef struct {
  int32_t op;
  float act_min, act_max;
} tm_binary_f32_params;

/* int32: wrapping arithmetic, then the activation's clamp. */
typedef struct {
  int32_t op;
  int32_t act_min, act_max;
} tm_binary_s32_params;

/*
 * int8 / int16 (quantised). ADD/SUB/SQDIFF move each input to a common scale (offset, left shift,
 * in*_mult/shift) and rescale the sum, difference or squared difference by out_mult/shift; MUL rescales
 * the offset product; PRELU rescales x >= 0 by in1_mult/shift and x * (alpha offset) by out_mult/shift;
 * MAX/MIN take raw values. Then the output zero point and the clamp.
 */
typedef struct {
  int32_t op;
  int32_t in1_offset, in2_offset;
  int32_t in1_mult, in1_shift;
  int32_t in2_mult, in2_shift;
  int32_t out_mult, out_shift;
  int32_t out_zp, left_shift;
  int32_t act_min, act_max;
} tm_qbinary_params;

/* Comparisons and logical ops (bool output); int8 inputs are first rescaled as the quantised params say. */
typedef struct {
  int32_t op;
  int32_t in1_offset, in2_offset;
  int32_t in1_mult, in1_shift;
  int32_t in2_mult, in2_shift;
  int32_t left_shift;
} tm_compare_params;

/* SELECT_V2: three inputs broadcast to the 4-D output, element bytes copied. */
typedef struct {
  int32_t dims[4];
  int32_t stride_cond[4];
  int32_t stride_x[4];
  int32_t stride_y[4];
  int32_t elem_bytes;
} tm_select_params;

/* out[...] = BODY over the output in order, with ia and ib the broadcast input indices. */
#define TM_BROADCAST4D(bc, BODY)                                                                            \
  for (int32_t i0 = 0; i0 < (bc)->dims[0]; i0++)                                                            \
    for (int32_t i1 = 0; i1 < (bc)->dims[1]; i1++)                                                          \
      for (int32_t i2 = 0; i2 < (bc)->dims[2]; i2++) {                                                      \
        int32_t ia = i0 * (bc)->stride1[0] + i1 * (bc)->stride1[1] + i2 * (bc)->stride1[2];                 \
        int32_t ib = i0 * (bc)->stride2[0] + i1 * (bc)->stride2[1] + i2 * (bc)->stride2[2];                 \
        for (int32_t i3 = 0; i3 < (bc)->dims[3]; i3++, ia += (bc)->stride1[3], ib += (bc)->stride2[3]) { \
          BODY;                                                                                             \
        }                                                                                                   \
      }

TM_HELPER float tm_binary_one_f32(int32_t op, float a, float b) {
  switch (op) {
    case TM_BIN_ADD: return a + b;
    case TM_BIN_SUB: return a - b;
    case TM_BIN_MUL: return a * b;
    case TM_BIN_DIV: return a / b;
    case TM_BIN_FLOOR_DIV: return floorf(a / b);
    case TM_BIN_FLOOR_MOD: {
      const float m = fmodf(a, b);
      return (m != 0.0f && ((b < 0.0f) != (m < 0.0f))) ? m + b : m;
    }
    case TM_BIN_SQDIFF: {
      const float d = a - b;
      return d * d;
    }
    case TM_BIN_MAX: return a > b ? a : b;
    case TM_BIN_MIN: return a < b ? a : b;
    default: return a >= 0.0f ? a : a * b; /* PRELU */
  }
}

/* Division by zero gives 0 (the interpreter refuses such inputs; the MCU must not trap). */
TM_HELPER int32_t tm_binary_one_s32(int32_t op, int32_t a, int32_t b) {
  switch (op) {
    case TM_BIN_ADD: return (int32_t)((uint32_t)a + (uint32_t)b);
    case TM_BIN_SUB: return (int32_t)((uint32_t)a - (uint32_t)b);
    case TM_BIN_MUL: return (int32_t)((uint32_t)a * (uint32_t)b);
    case TM_BIN_DIV:
      if (b == 0) return 0;
      return (a == INT32_MIN && b == -1) ? INT32_MIN : a / b;
    case TM_BIN_FLOOR_DIV: {
      if (b == 0) return 0;
      if (a == INT32_MIN && b == -1) return INT32_MIN;
      const int32_t q = a / b;
      return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
    }
    case TM_BIN_FLOOR_MOD: {
      if (b == 0 || b == -1) return 0;
      const int32_t m = a % b;
      return (m != 0 && ((b < 0) != (m < 0))) ? m + b : m;
    }
    case TM_BIN_SQDIFF: {
      const uint32_t d = (uint32_t)a - (uint32_t)b;
      return (int32_t)(d * d);
    }
    case TM_BIN_MAX: return a > b ? a : b;
    default: return a < b ? a : b; /* MIN */
  }
}

TM_HELPER int32_t tm_qbinary_one(const tm_qbinary_params *p, int32_t a, int32_t b) {
  int32_t raw;
  switch (p->op) {
    case TM_BIN_ADD: case TM_BIN_SUB: case TM_BIN_SQDIFF: {
      const int32_t s1 = tm_mbqm((int32_t)((uint32_t)(a + p->in1_offset) << p->left_shift), p->in1_mult, p->in1_shift);
      const int32_t s2 = tm_mbqm((int32_t)((uint32_t)(b + p->in2_offset) << p->left_shift), p->in2_mult, p->in2_shift);
      if (p->op == TM_BIN_SQDIFF) {
        const uint32_t d = (uint32_t)s1 - (uint32_t)s2;
        raw = tm_mbqm((int32_t)(d * d), p->out_mult, p->out_shift) + p->out_zp;
      } else {
        raw = tm_mbqm(p->op == TM_BIN_SUB ? s1 - s2 : s1 + s2, p->out_mult, p->out_shift) + p->out_zp;
      }
      break;
    }
    case TM_BIN_MUL: raw = tm_mbqm((a + p->in1_offset) * (b + p->in2_offset), p->out_mult, p->out_shift) + p->out_zp; break;
    case TM_BIN_PRELU: {
      const int32_t d = a + p->in1_offset;
      raw = p->out_zp + (d >= 0 ? tm_mbqm(d, p->in1_mult, p->in1_shift) : tm_mbqm(d * (b + p->in2_offset), p->out_mult, p->out_shift));
      break;
    }
    case TM_BIN_MAX: raw = a > b ? a : b; break;
    default: raw = a < b ? a : b; break; /* MIN */
  }
  return tm_clamp(raw, p->act_min, p->act_max);
}

TM_HELPER uint8_t tm_compare_one(int32_t op, int32_t a, int32_t b) {
  switch (op) {
    case TM_CMP_EQ: return a == b;
    case TM_CMP_NE: return a != b;
    case TM_CMP_GT: return a > b;
    case TM_CMP_GE: return a >= b;
    case TM_CMP_LT: return a < b;
    case TM_CMP_LE: return a <= b;
    case TM_LOGIC_AND: return a && b;
    default: return a || b; /* LOGIC_OR */
  }
}

TM_HELPER uint8_t tm_compare_one_f32(int32_t op, float a, float b) {
  switch (op) {
    case TM_CMP_EQ: return a == b;
    case TM_CMP_NE: return a != b;
    case TM_CMP_GT: return a > b;
    case TM_CMP_GE: return a >= b;
    case TM_CMP_LT: return a < b;
    default: return a <= b; /* LE */
  }
}

TM_KERNEL void tm_binary_f32(const tm_binary_f32_params *p, const tm_broadcast4d *bc, const float *a, const float *b, float *out) {
  TM_BROADCAST4D(bc, *out++ = tm_clamp_f32(tm_binary_one_f32(p->op, a[ia], b[ib]), p->act_min, p->act_max))
}

TM_KERNEL void tm_binary_s32(const tm_binary_s32_params *p, const tm_broadcast4d *bc, const int32_t *a, const int32_t *b, int32_t *out) {
  TM_BROADCAST4D(bc, *out++ = tm_clamp(tm_binary_one_s32(p->op, a[ia], b[ib]), p->act_min, p->act_max))
}

TM_KERNEL void tm_qbinary_s8(const tm_qbinary_params *p, const tm_broadcast4d *bc, const int8_t *a, const int8_t *b, int8_t *out) {
  TM_BROADCAST4D(bc, *out++ = (int8_t)tm_qbinary_one(p, a[ia], b[ib]))
}

TM_KERNEL void tm_qbinary_s16(const tm_qbinary_params *p, const tm_broadcast4d *bc, const int16_t *a, const int16_t *b, int16_t *out) {
  TM_BROADCAST4D(bc, *out++ = (int16_t)tm_qbinary_one(p, a[ia], b[ib]))
}

/* int16 activations with int8 operands (PRELU's alphas, as the reference requires for int16). */
TM_KERNEL void tm_qbinary_s16_s8(const tm_qbinary_params *p, const tm_broadcast4d *bc, const int16_t *a, const int8_t *b, int16_t *out) {
  TM_BROADCAST4D(bc, *out++ = (int16_t)tm_qbinary_one(p, a[ia], b[ib]))
}

TM_KERNEL void tm_compare_f32(const tm_compare_params *p, const tm_broadcast4d *bc, const float *a, const float *b, uint8_t *out) {
  TM_BROADCAST4D(bc, *out++ = tm_compare_one_f32(p->op, a[ia], b[ib]))
}

TM_KERNEL void tm_compare_s32(const tm_compare_params *p, const tm_broadcast4d *bc, const int32_t *a, const int32_t *b, uint8_t *out) {
  TM_BROADCAST4D(bc, *out++ = tm_compare_one(p->op, a[ia], b[ib]))
}

TM_KERNEL void tm_compare_u8(const tm_compare_params *p, const tm_broadcast4d *bc, const uint8_t *a, const uint8_t *b, uint8_t *out) {
  TM_BROADCAST4D(bc, *out++ = tm_compare_one(p->op, a[ia], b[ib]))
}

TM_KERNEL void tm_compare_s64(const tm_compare_params *p, const tm_broadcast4d *bc, const int64_t *a, const int64_t *b, uint8_t *out) {
  TM_BROADCAST4D(bc, {
    const int64_t x = a[ia];
    const int64_t y = b[ib];
    *out++ = tm_compare_one(p->op, (x > y) - (x < y), 0); /* the order of x and y as -1, 0, 1 */
  })
}

/* int8 inputs on a common footing: ((q + offset) << left_shift) scaled by each input's own multiplier. */
TM_KERNEL void tm_compare_s8(const tm_compare_params *p, const tm_broadcast4d *bc, const int8_t *a, const int8_t *b, uint8_t *out) {
  TM_BROADCAST4D(bc, {
    const int32_t x = tm_mbqm((int32_t)((uint32_t)(a[ia] + p->in1_offset) << p->left_shift), p->in1_mult, p->in1_shift);
    const int32_t y = tm_mbqm((int32_t)((uint32_t)(b[ib] + p->in2_offset) << p->left_shift), p->in2_mult, p->in2_shift);
    *out++ = tm_compare_one(p->op, x, y);
  })
}

TM_KERNEL void tm_select(const tm_select_params *p, const uint8_t *cond, const void *x, const void *y, void *out) {
  const uint8_t *xs = (const uint8_t *)x, *ys = (const uint8_t *)y;
  uint8_t *dst = (uint8_t *)out;
  const size_t e = (size_t)p->elem_bytes;
  for (int32_t i0 = 0; i0 < p->dims[0]; i0++)
    for (int32_t i1 = 0; i1 < p->dims[1]; i1++)
      for (int32_t i2 = 0; i2 < p->dims[2]; i2++)
        for (int32_t i3 = 0; i3 < p->dims[3]; i3++, dst += e) {
          const int32_t ic = i0 * p->stride_cond[0] + i1 * p->stride_cond[1] + i2 * p->stride_cond[2] + i3 * p->stride_cond[3];
          const int32_t ix = i0 * p->stride_x[0] + i1 * p->stride_x[1] + i2 * p->stride_x[2] + i3 * p->stride_x[3];
          const int32_t iy = i0 * p->stride_y[0] + i1 * p->stride_y[1] + i2 * p->stride_y[2] + i3 * p->stride_y[3];
          memcpy(dst, cond[ic] ? xs + (size_t)ix * e : ys + (size_t)iy * e, e);
        }
}

#endif /* TM_BINARY_H */
