/*
 * LOG_SOFTMAX over the last dimension (TFLite Micro's log_softmax.cc, reference LogSoftmaxQuantized):
 * int8 with the generator's tables of each difference from the row maximum (Q5.26) and of its exp()
 * (Q12.19); log(sum) by TFLite's log_x_for_x_greater_than_or_equal_to_1 in gemmlowp fixed point; output
 * on the fixed quantisation 16/256, zero point 127. float32 as the reference, in float.
 */
#ifndef TM_LOG_SOFTMAX_H
#define TM_LOG_SOFTMAX_H

#include <math.h>
#include "tm_softmax.h"

typedef struct {
  int32_t rows, depth;
  int32_t diff_min;
  int32_t reverse_mult, reverse_shift;
  const int32_t *diff_q5;  /* indexed by max - x */
  const int32_t *exp_q12;
} tm_log_softmax_params;

/* SaturatingRoundingMultiplyByPOT for any exponent. */
TM_HELPER int32_t tm_srmpot(int32_t x, int e) {
  if (e == 0) return x;
  return e < 0 ? tm_rdbpot(x, -e) : tm_sat_shl(x, e);
}

TM_HELPER int32_t tm_sat_add32(int32_t a, int32_t b) {
  const int64_t s = (int64_t)a + b;
  return s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : (int32_t)s);
}

TM_HELPER int32_t tm_sat_sub32(int32_t a, int32_t b) {
  const int64_t s = (int64_t)a - b;
  return s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : (int32_t)s);
}

TM_HELPER int32_t tm_wrap_add(int32_t a, int32_t b) {
  return (int32_t)((uint32_t)a + (uint32_t)b);
}

/* log(x) for x >= 1 in Q(in_bits), result in Q(out_bits): TFLite's log_x_for_x_greater_than_or_equal_to_1_impl. */
TM_HELPER int32_t tm_log_x_ge_1(int32_t x, int in_bits, int out_bits) {
  const int accum_bits = out_bits + 1;
  const int32_t log2 = 1488522236, sqrt_sqrt_half = 1805811301, sqrt_half = 1518500250, one_quarter = 536870912;
  const int32_t alpha_n = 117049297, alpha_d = 127690142, alpha_i = 1057819769, alpha_f = 638450708;
  const int32_t shifted_quarter = tm_srmpot(one_quarter, -accum_bits);
  const int z_a_headroom_plus_1 = tm_clz32((uint32_t)x);
  const int32_t r_a_tmp = tm_srmpot(x, z_a_headroom_plus_1 - 1);
  const int32_t r_a = tm_srmpot(tm_srdhm(r_a_tmp, sqrt_half), 1);
  const int32_t z_a_pow2_adj = tm_sat_add32(tm_srmpot(in_bits - z_a_headroom_plus_1, 31 - accum_bits), shifted_quarter);
  const int32_t z_b = tm_srdhm(x, sqrt_half);
  const int z_b_headroom = tm_clz32((uint32_t)z_b) - 1;
  const int32_t r_b = tm_srmpot(x, z_b_headroom);
  const int32_t z_b_pow2_adj = tm_sat_sub32(tm_srmpot(in_bits - z_b_headroom, 31 - accum_bits), shifted_quarter);
  const int32_t r = TM_MIN(r_a, r_b);
  const int32_t z_pow2_adj = TM_MAX(z_a_pow2_adj, z_b_pow2_adj);
  const int64_t half_sum = (int64_t)r + sqrt_sqrt_half;
  const int32_t p = (int32_t)((half_sum + (half_sum >= 0 ? 1 : -1)) / 2);
  int32_t q = tm_wrap_add(r, -sqrt_sqrt_half);
  q = tm_wrap_add(q, q);
  const int32_t common_sq = tm_srdhm(q, q);
  const int32_t num = tm_wrap_add(tm_srdhm(q, r), tm_srdhm(tm_srdhm(q, common_sq), alpha_n));
  const int32_t denom_minus_one = tm_wrap_add(tm_srdhm(p, tm_wrap_add(tm_wrap_add(alpha_i, q), tm_srdhm(alpha_d, common_sq))), tm_srdhm(alpha_f, q));
  const int32_t recip_denom = tm_one_over_one_plus_x(denom_minus_one);
  const int32_t num_scaled = tm_srmpot(num, -accum_bits);
  return tm_srmpot(tm_wrap_add(tm_srdhm(z_pow2_adj, log2), tm_srdhm(num_scaled, recip_denom)), accum_bits - out_bits);
}

TM_KERNEL void tm_log_softmax_s8(const tm_log_softmax_params *p, const int8_t *in, int8_t *out) {
  const int out_shift = 31 - 5 - 4; /* Q5.26 to the output's 4 integer bits */
  for (int32_t row = 0; row < p->rows; row++, in += p->depth, out += p->depth) {
    int32_t max = -128;
    for (int32_t c = 0; c < p->depth; c++) max = TM_MAX(max, in[c]);
    int32_t sum = 0;
    for (int32_t c = 0; c < p->depth; c++) sum = tm_wrap_add(sum, p->exp_q12[max - in[c]]);
    const int32_t log_sum = tm_log_x_ge_1(sum, 12, 5);
    const int32_t shifted_log_sum = tm_wrap_add(log_sum, INT32_MIN);
    const int32_t adjusted_diff_min = TM_MAX(p->diff_min - 1, tm_mbqm(shifted_log_sum, p->reverse_mult, p->reverse_shift));
    for (int32_t c = 0; c < p->depth; c++) {
      const int32_t k = max - in[c];
      out[c] = -k > adjusted_diff_min ? (int8_t)tm_clamp(tm_rdbpot(tm_wrap_add(p->diff_q5[k], -log_sum), out_shift) + 127, -128, 127) : (int8_t)-128;
    }
  }
}

TM_KERNEL void tm_log_softmax_f32(int32_t rows, int32_t depth, const float *in, float *out) {
  for (int32_t row = 0; row < rows; row++, in += depth, out += depth) {
    float max = -3.40282347e38f;
    for (int32_t c = 0; c < depth; c++) max = in[c] > max ? in[c] : max;
    float sum = 0.0f;
    for (int32_t c = 0; c < depth; c++) sum += expf(in[c] - max);
    const float log_sum = logf(sum);
    for (int32_t c = 0; c < depth; c++) out[c] = (in[c] - max) - log_sum;
  }
}

#endif /* TM_LOG_SOFTMAX_H */
