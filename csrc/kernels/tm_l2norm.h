/*
 * int8 L2_NORMALIZATION over the last dimension (reference_integer_ops::L2Normalization): each row's sum
 * of squared (q - zero point) gives a fixed-point 1/sqrt (GetInvSqrtQuantizedMultiplierExp: five
 * Newton-Raphson steps in Q3.28), which multiplies every offset value into the fixed output scale 1/128
 * (7 bits more of left shift), zero point 0.
 */
#ifndef TM_L2NORM_H
#define TM_L2NORM_H

#include "tm_softmax.h" /* tm_sat_shl, tm_clz32 */

/* 1/sqrt(input) for input > 1 as a Q0.31 multiplier and a left shift (MultiplyByQuantizedMultiplier's convention). */
TM_HELPER void tm_inv_sqrt_multiplier(int32_t input, int32_t *multiplier, int32_t *left_shift) {
  if (input <= 1) {
    *multiplier = INT32_MAX;
    *left_shift = 0;
    return;
  }
  int32_t shift = 11;
  while (input >= (1 << 29)) {
    input /= 4;
    shift++;
  }
  const int pairs = (tm_clz32((uint32_t)input) - 1) / 2 - 1;
  shift -= pairs;
  input = (int32_t)((uint32_t)input << (2 * pairs));
  /* Q3.28 values: a product of two is Q6.25, of three Q9.22; Rescale back to Q3 saturates. */
  const int32_t half_input = tm_rdbpot(input >> 1, 1);
  const int32_t half_three = (1 << 28) + (1 << 27);
  int32_t x = 1 << 28;
  for (int i = 0; i < 5; i++) {
    const int32_t x3 = tm_sat_shl(tm_srdhm(tm_srdhm(x, x), x), 6);
    x = tm_sat_shl((int32_t)((uint32_t)tm_srdhm(half_three, x) - (uint32_t)tm_srdhm(half_input, x3)), 3);
  }
  int32_t m = tm_srdhm(x, 1518500250); /* times sqrt(2)/2 in Q0.31 */
  if (shift < 0) {
    m = (int32_t)((uint32_t)m << -shift);
    shift = 0;
  }
  *multiplier = m;
  *left_shift = -shift;
}

TM_KERNEL void tm_l2_normalize_s8(int32_t rows, int32_t depth, int32_t in_zp, const int8_t *in, int8_t *out) {
  for (int32_t r = 0; r < rows; r++, in += depth, out += depth) {
    int32_t acc = 0;
    for (int32_t c = 0; c < depth; c++) {
      const int32_t v = in[c] - in_zp;
      acc += v * v;
    }
    int32_t m, shift;
    tm_inv_sqrt_multiplier(acc, &m, &shift);
    /* Element c is read before it is written: the output may lie on the input. */
    for (int32_t c = 0; c < depth; c++) out[c] = (int8_t)tm_clamp(tm_mbqm(in[c] - in_zp, m, shift + 7), -128, 127);
  }
}

#endif /* TM_L2NORM_H */
