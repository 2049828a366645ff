/*
 * ADD and MUL, int8, with TFLite Micro's reference_integer_ops semantics. Element i of the output depends
 * only on element i of the inputs and is written after both are read, so the output may share memory with
 * an input (the planner's in-place elementwise trick).
 *
 * Broadcasting: the generator reduces both inputs to 4-D strides (0 along broadcast dimensions).
 */
#ifndef TM_ELEMENTWISE_H
#define TM_ELEMENTWISE_H

#include "tm_common.h"

typedef struct {
  int32_t in1_offset, in2_offset; /* minus the zero points */
  int32_t in1_mult, in1_shift;    /* ADD: per-input rescale to the common scale */
  int32_t in2_mult, in2_shift;
  int32_t out_mult, out_shift;
  int32_t out_zp, act_min, act_max;
  int32_t left_shift;             /* ADD: 20 for int8 */
  int32_t fast;                   /* every multiplier takes tm_mbqm_fast exactly (set by the generator) */
} tm_binary_params;

/* Strides in elements for a 4-D broadcast; `dims` is the output shape. */
typedef struct {
  int32_t dims[4];
  int32_t stride1[4];
  int32_t stride2[4];
} tm_broadcast4d;

/* p->mult * 2^(shift - 31) of a value known to stay below 2^30 (the fast form when the layer allows it). */
TM_HELPER int32_t tm_binary_scale(const tm_binary_params *p, int32_t x, int32_t m, int32_t shift) {
#if TM_DSP
  if (p->fast) return shift == 0 ? tm_smmulr(__qadd(x, x), m) : tm_mbqm_fast(x, m, -shift, (int32_t)1 << (-shift - 1));
#endif
  (void)p;
  return tm_mbqm(x, m, shift);
}

/* AddElementwise: both inputs scaled to a shared 2^left_shift fixed point, summed, rescaled. */
TM_HELPER int8_t tm_add_one_s8(const tm_binary_params *p, int8_t a, int8_t b) {
  const int32_t x1 = (int32_t)((uint32_t)(p->in1_offset + a) << p->left_shift);
  const int32_t x2 = (int32_t)((uint32_t)(p->in2_offset + b) << p->left_shift);
  const int32_t s1 = tm_binary_scale(p, x1, p->in1_mult, p->in1_shift);
  const int32_t s2 = tm_binary_scale(p, x2, p->in2_mult, p->in2_shift);
  const int32_t raw = tm_binary_scale(p, s1 + s2, p->out_mult, p->out_shift) + p->out_zp;
  return (int8_t)tm_clamp(raw, p->act_min, p->act_max);
}

/* MulElementwise: the product of the offset inputs, rescaled once. */
TM_HELPER int8_t tm_mul_one_s8(const tm_binary_params *p, int8_t a, int8_t b) {
  const int32_t prod = (p->in1_offset + a) * (p->in2_offset + b);
  const int32_t raw = tm_binary_scale(p, prod, p->out_mult, p->out_shift) + p->out_zp;
  return (int8_t)tm_clamp(raw, p->act_min, p->act_max);
}

#if TM_WASM_SIMD
/* Sixteen int8 values as four i32x4, in order. */
TM_HELPER void tm_wasm_widen16(const int8_t *src, v128_t v[4]) {
  const v128_t x = wasm_v128_load(src);
  const v128_t lo = wasm_i16x8_extend_low_i8x16(x), hi = wasm_i16x8_extend_high_i8x16(x);
  v[0] = wasm_i32x4_extend_low_i16x8(lo);
  v[1] = wasm_i32x4_extend_high_i16x8(lo);
  v[2] = wasm_i32x4_extend_low_i16x8(hi);
  v[3] = wasm_i32x4_extend_high_i16x8(hi);
}

/* Four i32x4 already within int8, stored as sixteen bytes. */
TM_HELPER void tm_wasm_narrow16(int8_t *dst, const v128_t v[4]) {
  wasm_v128_store(dst, wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(v[0], v[1]), wasm_i16x8_narrow_i32x4(v[2], v[3])));
}

/*
 * ADD's input rescale in 32-bit lanes: RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(v 2^ls, m), e)
 * for |v| <= 255 (an int8 minus its zero point) and 9 <= ls <= 22. The high-mul is floor((v m + 2^(d-1)) / 2^d)
 * with d = 31 - ls; with m = mh 2^d + ml (0 <= ml < 2^d) that is v mh + floor((v ml + 2^(d-1)) / 2^d), both
 * products within int32 (|v mh| < 2^(8+ls), |v ml| < 2^(8+d)). The result stays below 2^28, so
 * RoundingDivideByPOT is (h + 2^(e-1) - [h < 0]) >> e without overflow.
 */
typedef struct {
  v128_t mh, ml, half;
  int d, e;
} tm_wasm_add_in;

TM_HELPER tm_wasm_add_in tm_wasm_add_in_make(int32_t m, int32_t shift, int32_t left_shift) {
  tm_wasm_add_in k;
  k.d = 31 - left_shift;
  k.e = -shift;
  k.mh = wasm_i32x4_splat(m >> k.d);
  k.ml = wasm_i32x4_splat(m & (((int32_t)1 << k.d) - 1));
  k.half = wasm_i32x4_splat((int32_t)1 << (k.d - 1));
  return k;
}

TM_HELPER v128_t tm_wasm_add_rescale(const tm_wasm_add_in *k, v128_t v) {
  const v128_t lo = tm_wasm_shr(wasm_i32x4_add(wasm_i32x4_mul(v, tm_wasm_here(k->ml)), k->half), k->d);
  const v128_t h = wasm_i32x4_add(wasm_i32x4_mul(v, tm_wasm_here(k->mh)), lo);
  if (k->e == 0) return h;
  return tm_wasm_shr(wasm_i32x4_add(wasm_i32x4_add(h, wasm_i32x4_splat((int32_t)1 << (k->e - 1))), wasm_i32x4_shr(h, 31)), k->e);
}

/* Elements [0, n & ~15) of an ADD (op 0) or MUL (op 1) of two int8 arrays, 16 at a time; returns how many it did. */
TM_HELPER int tm_wasm_binary_s8(const tm_binary_params *p, int op, int n, const int8_t *a, const int8_t *b, int8_t *out) {
  /* Right shifts only (TFLite's ADD multipliers are all below one; a MUL's may not be). */
  if (p->out_shift > 0 || (op == 0 && (p->in1_shift > 0 || p->in2_shift > 0))) return 0;
  const v128_t m1 = wasm_i32x4_splat(p->in1_mult), m2 = wasm_i32x4_splat(p->in2_mult), mo = wasm_i32x4_splat(p->out_mult);
  const v128_t off1 = wasm_i32x4_splat(p->in1_offset), off2 = wasm_i32x4_splat(p->in2_offset);
  const v128_t zp = wasm_i32x4_splat(p->out_zp), lo = wasm_i32x4_splat(p->act_min), hi = wasm_i32x4_splat(p->act_max);
  int i = 0;
  /* ADD in 32-bit lanes (tm_wasm_add_rescale, tm_wasm_mbqm4_wide) where their conditions hold: |offset| <= 128. */
  const int add32 = op == 0 && p->left_shift >= 9 && p->left_shift <= 22 && p->in1_offset >= -128 && p->in1_offset <= 128 &&
                    p->in2_offset >= -128 && p->in2_offset <= 128 && tm_wasm_rq_wide_ok(p->out_mult, -p->out_shift, p->out_zp, p->act_min, p->act_max);
  if (add32) {
    const tm_wasm_add_in k1 = tm_wasm_add_in_make(p->in1_mult, p->in1_shift, p->left_shift);
    const tm_wasm_add_in k2 = tm_wasm_add_in_make(p->in2_mult, p->in2_shift, p->left_shift);
    for (; i + 16 <= n; i += 16) {
      v128_t va[4], vb[4];
      tm_wasm_widen16(a + i, va);
      tm_wasm_widen16(b + i, vb);
      for (int j = 0; j < 4; j++) {
        const v128_t sum = wasm_i32x4_add(tm_wasm_add_rescale(&k1, wasm_i32x4_add(va[j], off1)), tm_wasm_add_rescale(&k2, wasm_i32x4_add(vb[j], off2)));
        va[j] = wasm_i32x4_min(wasm_i32x4_max(wasm_i32x4_add(tm_wasm_mbqm4_wide(sum, p->out_mult, -p->out_shift), zp), lo), hi);
      }
      tm_wasm_narrow16(out + i, va);
    }
    return i;
  }
  for (; i + 16 <= n; i += 16) {
    v128_t va[4], vb[4];
    tm_wasm_widen16(a + i, va);
    tm_wasm_widen16(b + i, vb);
    for (int j = 0; j < 4; j++) {
      const v128_t x1 = wasm_i32x4_add(va[j], off1), x2 = wasm_i32x4_add(vb[j], off2);
      v128_t raw;
      if (op == 0) {
        const v128_t s1 = tm_wasm_mbqm4_uniform(tm_wasm_shl(x1, p->left_shift), m1, -p->in1_shift);
        const v128_t s2 = tm_wasm_mbqm4_uniform(tm_wasm_shl(x2, p->left_shift), m2, -p->in2_shift);
        raw = tm_wasm_mbqm4_uniform(wasm_i32x4_add(s1, s2), mo, -p->out_shift);
      } else {
        raw = tm_wasm_mbqm4_uniform(wasm_i32x4_mul(x1, x2), mo, -p->out_shift);
      }
      va[j] = wasm_i32x4_min(wasm_i32x4_max(wasm_i32x4_add(raw, zp), lo), hi);
    }
    tm_wasm_narrow16(out + i, va);
  }
  return i;
}
#endif

TM_KERNEL void tm_add_s8(const tm_binary_params *p, int n, const int8_t *a, const int8_t *b, int8_t *out) {
  int i = 0;
#if TM_WASM_SIMD
  i = tm_wasm_binary_s8(p, 0, n, a, b, out);
#endif
  for (; i < n; i++) out[i] = tm_add_one_s8(p, a[i], b[i]);
}

TM_KERNEL void tm_mul_s8(const tm_binary_params *p, int n, const int8_t *a, const int8_t *b, int8_t *out) {
  int i = 0;
#if TM_WASM_SIMD
  i = tm_wasm_binary_s8(p, 1, n, a, b, out);
#endif
  for (; i < n; i++) out[i] = tm_mul_one_s8(p, a[i], b[i]);
}

TM_KERNEL void tm_add_broadcast_s8(const tm_binary_params *p, const tm_broadcast4d *bc, const int8_t *a, const int8_t *b, int8_t *out) {
  for (int i0 = 0; i0 < bc->dims[0]; i0++)
    for (int i1 = 0; i1 < bc->dims[1]; i1++)
      for (int i2 = 0; i2 < bc->dims[2]; i2++)
        for (int i3 = 0; i3 < bc->dims[3]; i3++) {
          const int32_t ia = i0 * bc->stride1[0] + i1 * bc->stride1[1] + i2 * bc->stride1[2] + i3 * bc->stride1[3];
          const int32_t ib = i0 * bc->stride2[0] + i1 * bc->stride2[1] + i2 * bc->stride2[2] + i3 * bc->stride2[3];
          *out++ = tm_add_one_s8(p, a[ia], b[ib]);
        }
}

TM_KERNEL void tm_mul_broadcast_s8(const tm_binary_params *p, const tm_broadcast4d *bc, const int8_t *a, const int8_t *b, int8_t *out) {
  for (int i0 = 0; i0 < bc->dims[0]; i0++)
    for (int i1 = 0; i1 < bc->dims[1]; i1++)
      for (int i2 = 0; i2 < bc->dims[2]; i2++)
        for (int i3 = 0; i3 < bc->dims[3]; i3++) {
          const int32_t ia = i0 * bc->stride1[0] + i1 * bc->stride1[1] + i2 * bc->stride1[2] + i3 * bc->stride1[3];
          const int32_t ib = i0 * bc->stride2[0] + i1 * bc->stride2[1] + i2 * bc->stride2[2] + i3 * bc->stride2[3];
          *out++ = tm_mul_one_s8(p, a[ia], b[ib]);
        }
}

/* ADD / MUL float32, same shapes (reference_ops): the operation, then the activation clamp. */
TM_KERNEL void tm_add_f32(const tm_float_act *p, int n, const float *a, const float *b, float *out) {
  for (int i = 0; i < n; i++) out[i] = tm_clamp_f32(a[i] + b[i], p->act_min, p->act_max);
}

TM_KERNEL void tm_mul_f32(const tm_float_act *p, int n, const float *a, const float *b, float *out) {
  for (int i = 0; i < n; i++) out[i] = tm_clamp_f32(a[i] * b[i], p->act_min, p->act_max);
}

#endif /* TM_ELEMENTWISE_H */
