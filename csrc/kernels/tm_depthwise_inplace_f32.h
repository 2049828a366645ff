/*
 * DEPTHWISE_CONV_2D float32 with the output over the input (the planner's in-place depthwise, depth
 * multiplier 1): channel by channel, the channel's input plane is copied to the scratch `plane`, then
 * its outputs are computed from the copy into the shared buffer. Output channel c only overwrites
 * channel c, whose input is already saved. Each output sums its taps in tm_depthwise_conv2d_f32's order.
 */
#ifndef TM_DEPTHWISE_INPLACE_F32_H
#define TM_DEPTHWISE_INPLACE_F32_H

#include "tm_depthwise_conv2d.h"

TM_KERNEL void tm_depthwise_conv2d_inplace_f32(const tm_dw_shape *s, const tm_float_params *p, float *buf, const float *w, float *plane) {
  const int c_n = s->in_c;
  for (int c = 0; c < c_n; c++) {
    for (int i = 0; i < s->in_h * s->in_w; i++) plane[i] = buf[i * c_n + c];
    for (int oy = 0; oy < s->out_h; oy++) {
      const int y0 = oy * s->stride_h - s->pad_top;
      for (int ox = 0; ox < s->out_w; ox++) {
        const int x0 = ox * s->stride_w - s->pad_left;
        float acc = 0.0f;
        for (int ky = 0; ky < s->k_h; ky++) {
          const int iy = y0 + ky * s->dil_h;
          if (iy < 0 || iy >= s->in_h) continue;
          for (int kx = 0; kx < s->k_w; kx++) {
            const int ix = x0 + kx * s->dil_w;
            if (ix >= 0 && ix < s->in_w) acc += plane[iy * s->in_w + ix] * w[(ky * s->k_w + kx) * c_n + c];
          }
        }
        buf[(oy * s->out_w + ox) * c_n + c] = tm_clamp_f32(acc + p->bias[c], p->act_min, p->act_max);
      }
    }
  }
}

#endif /* TM_DEPTHWISE_INPLACE_F32_H */
