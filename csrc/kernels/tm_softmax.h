/*
 * SOFTMAX, int8 -> int8: TFLite's reference_ops::Softmax for quantised inputs, i.e. gemmlowp fixed point.
 * Differences to the row maximum are rescaled by beta * input_scale into Q5.26, exp() is evaluated on them
 * in Q0.31, summed in Q12.19, and one reciprocal of the sum scales every output. The generator computes
 * the beta multiplier, its left shift and diff_min exactly as TFLite Micro's Prepare does.
 */
#ifndef TM_SOFTMAX_H
#define TM_SOFTMAX_H

#include "tm_common.h"

typedef struct {
  int32_t rows, depth;
  int32_t input_mult, input_left_shift;
  int32_t diff_min;
} tm_softmax_params;

/* SaturatingRoundingMultiplyByPOT with a positive exponent: a saturating left shift. */
TM_HELPER int32_t tm_sat_shl(int32_t x, int e) {
  const int32_t threshold = (int32_t)((UINT32_C(1) << (31 - e)) - 1u);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return (int32_t)((uint32_t)x << e);
}

/* exp(x) for x in [-1/4, 0), Q0.31 in and out: Taylor expansion around -1/8. */
TM_HELPER int32_t tm_exp_quarter(int32_t a) {
  const int32_t constant_term = 1895147668;  /* exp(-1/8) */
  const int32_t one_third = 715827883;
  const int32_t x = a + (1 << 28);           /* a + 1/8 */
  const int32_t x2 = tm_srdhm(x, x);
  const int32_t x3 = tm_srdhm(x2, x);
  const int32_t x4 = tm_srdhm(x2, x2);
  const int32_t x4_over_4 = tm_rdbpot(x4, 2);
  const int32_t poly = tm_rdbpot(tm_srdhm(x4_over_4 + x3, one_third) + x2, 1);
  return constant_term + tm_srdhm(constant_term, x + poly);
}

/* gemmlowp exp_on_negative_values for a Q5.26 input; result in Q0.31. */
TM_HELPER int32_t tm_exp_on_negative_q5_26(int32_t a) {
  const int frac_bits = 26;
  const int32_t one_quarter = 1 << (frac_bits - 2);
  const int32_t mask = one_quarter - 1;
  const int32_t a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter;
  int32_t result = tm_exp_quarter(tm_sat_shl(a_mod_quarter_minus_one_quarter, 5));
  const int32_t remainder = a_mod_quarter_minus_one_quarter - a;
  static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
  for (int i = 0; i < 7; i++) {
    const int exponent = i - 2; /* exp(-2^exponent) */
    if (5 > exponent && (remainder & (1 << (frac_bits + exponent)))) result = tm_srdhm(result, barrel[i]);
  }
  return a == 0 ? INT32_MAX : result;
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1: Newton-Raphson, Q0.31 in and out. */
TM_HELPER int32_t tm_one_over_one_plus_x(int32_t a) {
  const int64_t sum = (int64_t)a + INT32_MAX; /* RoundingHalfSum(a, One) */
  const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
  const int32_t c48_17 = 1515870810, c_neg32_17 = -1010580540; /* Q2.29 */
  int32_t x = c48_17 + tm_srdhm(half_denominator, c_neg32_17);
  for (int i = 0; i < 3; i++) {
    const int32_t hdx = tm_srdhm(half_denominator, x);
    const int32_t one_minus = (1 << 29) - hdx;
    x = x + tm_sat_shl(tm_srdhm(x, one_minus), 2);
  }
  return tm_sat_shl(x, 1);
}

TM_HELPER int tm_clz32(uint32_t x) {
  int n = 0;
  if (x == 0) return 32;
  while (!(x & 0x80000000u)) { x <<= 1; n++; }
  return n;
}

/* The part of the reference Softmax its int8 and int16 outputs share: the row's maximum, and the
   reciprocal of its sum of exponentials (GetReciprocal with 12 integer bits). */
typedef struct {
  int32_t max_in_row;
  int32_t shifted_scale;
  int num_bits_over_unit;
} tm_softmax_row;

TM_HELPER int32_t tm_softmax_exp(const tm_softmax_params *p, int32_t diff) {
  return tm_exp_on_negative_q5_26(tm_srdhm((int32_t)((uint32_t)diff << p->input_left_shift), p->input_mult));
}

TM_HELPER tm_softmax_row tm_softmax_row_stats(const tm_softmax_params *p, const int8_t *x) {
  tm_softmax_row s;
  s.max_in_row = -128;
  for (int32_t c = 0; c < p->depth; c++) s.max_in_row = TM_MAX(s.max_in_row, (int32_t)x[c]);
  int32_t sum_of_exps = 0; /* Q12.19 */
  for (int32_t c = 0; c < p->depth; c++) {
    const int32_t diff = (int32_t)x[c] - s.max_in_row;
    if (diff >= p->diff_min) sum_of_exps += tm_rdbpot(tm_softmax_exp(p, diff), 12);
  }
  const int headroom_plus_one = tm_clz32((uint32_t)sum_of_exps);
  s.num_bits_over_unit = 12 - headroom_plus_one;
  const int32_t shifted_sum_minus_one = (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - (UINT32_C(1) << 31));
  s.shifted_scale = tm_one_over_one_plus_x(shifted_sum_minus_one);
  return s;
}

TM_KERNEL void tm_softmax_s8(const tm_softmax_params *p, const int8_t *in, int8_t *out) {
  for (int32_t r = 0; r < p->rows; r++) {
    const int8_t *x = in + r * p->depth;
    int8_t *y = out + r * p->depth;
    const tm_softmax_row s = tm_softmax_row_stats(p, x);
    const int exponent = s.num_bits_over_unit + 31 - 8;
    for (int32_t c = 0; c < p->depth; c++) {
      const int32_t diff = (int32_t)x[c] - s.max_in_row;
      if (diff >= p->diff_min) {
        const int32_t unsat = tm_rdbpot(tm_srdhm(s.shifted_scale, tm_softmax_exp(p, diff)), exponent);
        y[c] = (int8_t)tm_clamp(unsat - 128, -128, 127);
      } else {
        y[c] = -128;
      }
    }
  }
}

/*
 * SOFTMAX float32 (reference_ops::Softmax): exp((x - max) * beta) in float, summed in order, each divided by
 * the sum. exp is the C library's expf; the WebAssembly build has no C library and asks its host for exp
 * (JavaScript's Math.exp, rounded to float, as the TypeScript kernel computes it).
 */
#if defined(__wasm__)
__attribute__((import_module("env"), import_name("exp"))) double tm_host_exp(double x);
#define TM_EXPF(x) ((float)tm_host_exp((double)(x)))
#else
#include <math.h>
#define TM_EXPF(x) expf(x)
#endif

TM_KERNEL void tm_softmax_f32(int32_t rows, int32_t depth, float beta, const float *in, float *out) {
  for (int32_t r = 0; r < rows; r++, in += depth, out += depth) {
    float max = -3.40282347e+38f;
    for (int32_t c = 0; c < depth; c++) max = in[c] > max ? in[c] : max;
    float sum = 0.0f;
    for (int32_t c = 0; c < depth; c++) {
      const float e = TM_EXPF((in[c] - max) * beta);
      out[c] = e;
      sum += e;
    }
    for (int32_t c = 0; c < depth; c++) out[c] = out[c] / sum;
  }
}

#endif /* TM_SOFTMAX_H */
