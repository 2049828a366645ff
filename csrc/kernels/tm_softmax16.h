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
    const tm_softmax_row s = tm_softmax_row_stats(p, x);
    const int exponent = s.num_bits_over_unit + 31 - 16;
    for (int32_t c = 0; c < p->depth; c++) {
      const int32_t diff = (int32_t)x[c] - s.max_in_row;
      if (diff >= p->diff_min) {
        y[c] = (int16_t)tm_clamp(tm_rdbpot(tm_srdhm(s.shifted_scale, tm_softmax_exp(p, diff)), exponent) - 32768, -32768, 32767);
      } else {
        y[c] = -32768;
      }
    }
  }
}

#endif /* TM_SOFTMAX16_H */
