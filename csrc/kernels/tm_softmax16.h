/*
 * SOFTMAX int8 -> int16 (output scale 1/65536, zero point -32768): tm_softmax_s8's fixed-point arithmetic
 * with the reciprocal scaled to 16 output bits, as TFLite Micro's reference Softmax does for an int16 output.
 */
#ifndef TM_SOFTMAX16_H
#define TM_SOFTMAX16_H

#include "tm_softmax.h"

TM_KERNEL void tm_softmax_s8_s16(const tm_softmax_params *p, const int8_t *in, int16_t *out) {
  for (int32_t r = 0; r < p->rows; r++) {
    const int8_t *x = in + r * p->depth;
    int16_t *y = out + r * p->depth;
    int32_t max_in_row = -128;
    for (int32_t c = 0; c < p->depth; c++) max_in_row = TM_MAX(max_in_row, (int32_t)x[c]);
    int32_t sum_of_exps = 0; /* Q12.19 */
    for (int32_t c = 0; c < p->depth; c++) {
      const int32_t diff = (int32_t)x[c] - max_in_row;
      if (diff >= p->diff_min) {
        const int32_t scaled = tm_srdhm((int32_t)((uint32_t)diff << p->input_left_shift), p->input_mult);
        sum_of_exps += tm_rdbpot(tm_exp_on_negative_q5_26(scaled), 12);
      }
    }
    const int headroom_plus_one = tm_clz32((uint32_t)sum_of_exps);
    const int num_bits_over_unit = 12 - headroom_plus_one;
    const int32_t shifted_sum_minus_one = (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - (UINT32_C(1) << 31));
    const int32_t shifted_scale = tm_one_over_one_plus_x(shifted_sum_minus_one);
    const int exponent = num_bits_over_unit + 31 - 16;
    for (int32_t c = 0; c < p->depth; c++) {
      const int32_t diff = (int32_t)x[c] - max_in_row;
      if (diff >= p->diff_min) {
        const int32_t scaled = tm_srdhm((int32_t)((uint32_t)diff << p->input_left_shift), p->input_mult);
        const int32_t e = tm_exp_on_negative_q5_26(scaled);
        y[c] = (int16_t)tm_clamp(tm_rdbpot(tm_srdhm(shifted_scale, e), exponent) - 32768, -32768, 32767);
      } else {
        y[c] = -32768;
      }
    }
  }
}

#endif /* TM_SOFTMAX16_H */
