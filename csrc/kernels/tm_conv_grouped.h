/*
 * Grouped CONV_2D, int8 (filters [out_c][k_h][k_w][in_c / groups], output channel c reads the input
 * channels of its group): a plain loop, as rare as it is. Taps outside the input are skipped, which is
 * the reference's padding with the input zero point ((x - zp) * w = 0 there); the raw bias, per-channel
 * requantisation. NHWC batch 1 (the generator calls once per image); the output must not overlap the input.
 */
#ifndef TM_CONV_GROUPED_H
#define TM_CONV_GROUPED_H

#include "tm_conv2d.h"

TM_KERNEL void tm_conv_grouped_s8(const tm_conv_shape *s, int32_t groups, const tm_requant_params *q, const int8_t *in, const int8_t *filter, int8_t *out) {
  const int32_t cin_g = s->in_c / groups, cout_g = s->out_c / groups;
  for (int32_t oy = 0; oy < s->out_h; oy++)
    for (int32_t ox = 0; ox < s->out_w; ox++)
      for (int32_t c = 0; c < s->out_c; c++) {
        const int32_t first = (c / cout_g) * cin_g;
        int32_t acc = 0;
        for (int32_t ky = 0; ky < s->k_h; ky++) {
          const int32_t iy = oy * s->stride_h - s->pad_top + ky * s->dil_h;
          if (iy < 0 || iy >= s->in_h) continue;
          for (int32_t kx = 0; kx < s->k_w; kx++) {
            const int32_t ix = ox * s->stride_w - s->pad_left + kx * s->dil_w;
            if (ix < 0 || ix >= s->in_w) continue;
            const int8_t *x = in + (iy * s->in_w + ix) * s->in_c + first;
            const int8_t *w = filter + ((c * s->k_h + ky) * s->k_w + kx) * cin_g;
            for (int32_t i = 0; i < cin_g; i++) acc += (x[i] - s->in_zp) * w[i];
          }
        }
        *out++ = tm_requant(acc + q->bias[c], q->mult[c], q->shift[c], q->out_zp, q->act_min, q->act_max);
      }
}

#endif /* TM_CONV_GROUPED_H */
