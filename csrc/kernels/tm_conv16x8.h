/*
 * CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED in the 16x8 scheme (int16 activations with zero point 0,
 * int8 symmetric weights; TFLite Micro's reference_integer_ops 16x8 kernels): products summed in 64 bits,
 * then, with an int64 bias, the reduced 64-bit requantisation (tm_mbqm64), or with an int32 bias the sum
 * wrapped to int32 and MultiplyByQuantizedMultiplier. FULLY_CONNECTED is the 1x1 convolution of its rows.
 * The output must not overlap the input.
 */
#ifndef TM_CONV16X8_H
#define TM_CONV16X8_H

#include "tm_batch_matmul.h"

typedef struct {
  int32_t batches, in_h, in_w, in_c, out_h, out_w, out_c;
  int32_t k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left;
  int32_t depth_multiplier; /* 0: filters [out_c][k_h][k_w][in_c]; else depthwise [k_h][k_w][out_c] */
  int32_t int32_bias;
  const int32_t *bias;
  const int32_t *mult;
  const int32_t *shift;
  int32_t act_min, act_max;
} tm_conv16x8_params;

TM_KERNEL void tm_conv16x8(const tm_conv16x8_params *p, const int16_t *in, const int8_t *filter, int16_t *out) {
  for (int32_t b = 0; b < p->batches; b++)
    for (int32_t oy = 0; oy < p->out_h; oy++)
      for (int32_t ox = 0; ox < p->out_w; ox++)
        for (int32_t c = 0; c < p->out_c; c++) {
          int64_t acc = 0;
          for (int32_t ky = 0; ky < p->k_h; ky++) {
            const int32_t iy = oy * p->stride_h - p->pad_top + ky * p->dil_h;
            if (iy < 0 || iy >= p->in_h) continue;
            for (int32_t kx = 0; kx < p->k_w; kx++) {
              const int32_t ix = ox * p->stride_w - p->pad_left + kx * p->dil_w;
              if (ix < 0 || ix >= p->in_w) continue;
              const int16_t *x = in + ((b * p->in_h + iy) * p->in_w + ix) * p->in_c;
              if (p->depth_multiplier) {
                acc += (int64_t)x[c / p->depth_multiplier] * filter[(ky * p->k_w + kx) * p->out_c + c];
              } else {
                const int8_t *w = filter + ((c * p->k_h + ky) * p->k_w + kx) * p->in_c;
                for (int32_t ic = 0; ic < p->in_c; ic++) acc += (int64_t)x[ic] * w[ic];
              }
            }
          }
          const int32_t v = p->int32_bias ? tm_mbqm((int32_t)(uint32_t)(uint64_t)(acc + p->bias[c]), p->mult[c], p->shift[c])
                                          : tm_mbqm64(acc + p->bias[c], p->mult[c], p->shift[c]);
          *out++ = (int16_t)tm_clamp(v, p->act_min, p->act_max);
        }
}

#endif /* TM_CONV16X8_H */
