/*
 * int8 DIV with 4-D broadcasting (TFLite Micro's div.cc, reference DivElementwise): the divisor, made
 * positive (flipping both signs), becomes a Q0.31 reciprocal mantissa and exponent (GetReciprocal); the
 * dividend is normalised by its sign-bit headroom before the multiply; one output multiplier (in1 / (in2 *
 * out)) with the summed exponents brings the quotient to the output scale. The final rounding shift can
 * pass 31 (a small dividend over a large divisor): the reference's (1ll << e) - 1 mask then truncates to all
 * ones and x86's SAR shifts by e mod 32, so its outputs (TFLite Micro's, computed on x86-64) are
 * (x >> (e & 31)) + (x >= 0); we reproduce that on every target.
 */
#ifndef TM_DIV_H
#define TM_DIV_H

#include "tm_binary.h"
#include "tm_softmax.h" /* tm_one_over_one_plus_x, tm_clz32 */

/* CountLeadingSignBits (31 for 0 and -1). */
TM_HELPER int tm_clrsb32(int32_t x) {
  return tm_clz32((uint32_t)(x >= 0 ? x : ~x)) - 1;
}

TM_HELPER int32_t tm_div_rdbpot(int32_t x, int e) {
  if (e <= 0) return x; /* the reference's exponents are >= 0 for int8 operands (|dividend| < 2^8) */
  if (e <= 31) return tm_rdbpot(x, e);
  return (x >> (e & 31)) + (x >= 0 ? 1 : 0);
}

/* A divisor equal to its zero point gives the output zero point (the interpreter refuses such inputs; the MCU must not trap). */
TM_HELPER int32_t tm_div_one_s8(const tm_qbinary_params *p, int32_t a, int32_t b) {
  int32_t x = a + p->in1_offset, d = b + p->in2_offset;
  if (d == 0) return tm_clamp(p->out_zp, p->act_min, p->act_max);
  if (d < 0) {
    x = -x;
    d = -d;
  }
  const int headroom_plus_one = tm_clz32((uint32_t)d);
  const int bits_over_unit = 31 - headroom_plus_one;
  const int32_t inv = tm_one_over_one_plus_x((int32_t)(((uint32_t)d << headroom_plus_one) & 0x7fffffffu));
  const int headroom = tm_clrsb32(x);
  const int32_t unscaled = tm_srdhm((int32_t)((uint32_t)x << headroom), inv);
  const int total_shift = p->out_shift - bits_over_unit - headroom;
  const int32_t v = p->out_zp + tm_div_rdbpot(tm_srdhm(unscaled, p->out_mult), -total_shift);
  return tm_clamp(v, p->act_min, p->act_max);
}

TM_KERNEL void tm_div_s8(const tm_qbinary_params *p, const tm_broadcast4d *bc, const int8_t *a, const int8_t *b, int8_t *out) {
  TM_BROADCAST4D(bc, *out++ = (int8_t)tm_div_one_s8(p, a[ia], b[ib]))
}

#endif /* TM_DIV_H */
