/*
 * AVERAGE_POOL_2D and MAX_POOL_2D, int8, NHWC batch 1: TFLite Micro's reference_integer_ops::AveragePool
 * and MaxPool. The window is clipped to the input (padding is not counted in the average); the average
 * rounds half away from zero with integer division, as the reference does.
 */
#ifndef TM_POOL2D_H
#define TM_POOL2D_H

#include "tm_common.h"

typedef struct {
  int16_t in_h, in_w, c;
  int16_t out_h, out_w;
  int16_t f_h, f_w;
  int16_t stride_h, stride_w;
  int16_t pad_top, pad_left;
  int32_t act_min, act_max;
} tm_pool_shape;

TM_KERNEL void tm_avg_pool2d_s8(const tm_pool_shape *s, const int8_t *in, int8_t *out) {
  for (int oy = 0; oy < s->out_h; oy++) {
    const int y0 = oy * s->stride_h - s->pad_top;
    const int fy0 = TM_MAX(0, -y0), fy1 = TM_MIN(s->f_h, s->in_h - y0);
    for (int ox = 0; ox < s->out_w; ox++) {
      const int x0 = ox * s->stride_w - s->pad_left;
      const int fx0 = TM_MAX(0, -x0), fx1 = TM_MIN(s->f_w, s->in_w - x0);
      const int count = (fy1 - fy0) * (fx1 - fx0);
      int8_t *dst = out + (oy * s->out_w + ox) * s->c;
      for (int ch = 0; ch < s->c; ch++) {
        int32_t acc = 0;
        for (int fy = fy0; fy < fy1; fy++) {
          const int8_t *row = in + ((y0 + fy) * s->in_w + x0) * s->c + ch;
          for (int fx = fx0; fx < fx1; fx++) acc += row[fx * s->c];
        }
        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
        dst[ch] = (int8_t)tm_clamp(acc, s->act_min, s->act_max);
      }
    }
  }
}

TM_KERNEL void tm_max_pool2d_s8(const tm_pool_shape *s, const int8_t *in, int8_t *out) {
  for (int oy = 0; oy < s->out_h; oy++) {
    const int y0 = oy * s->stride_h - s->pad_top;
    const int fy0 = TM_MAX(0, -y0), fy1 = TM_MIN(s->f_h, s->in_h - y0);
    for (int ox = 0; ox < s->out_w; ox++) {
      const int x0 = ox * s->stride_w - s->pad_left;
      const int fx0 = TM_MAX(0, -x0), fx1 = TM_MIN(s->f_w, s->in_w - x0);
      int8_t *dst = out + (oy * s->out_w + ox) * s->c;
      for (int ch = 0; ch < s->c; ch++) {
        int32_t best = -128;
        for (int fy = fy0; fy < fy1; fy++) {
          const int8_t *row = in + ((y0 + fy) * s->in_w + x0) * s->c + ch;
          for (int fx = fx0; fx < fx1; fx++) best = TM_MAX(best, (int32_t)row[fx * s->c]);
        }
        dst[ch] = (int8_t)tm_clamp(best, s->act_min, s->act_max);
      }
    }
  }
}

/* AVERAGE_POOL_2D / MAX_POOL_2D float32 (reference_ops): the window clipped to the input, the average over the taps inside. */
TM_HELPER void tm_pool2d_f32(const tm_pool_shape *s, const tm_float_act *p, const float *in, float *out, int average) {
  for (int oy = 0; oy < s->out_h; oy++) {
    const int y0 = oy * s->stride_h - s->pad_top;
    const int fy0 = TM_MAX(0, -y0), fy1 = TM_MIN(s->f_h, s->in_h - y0);
    for (int ox = 0; ox < s->out_w; ox++) {
      const int x0 = ox * s->stride_w - s->pad_left;
      const int fx0 = TM_MAX(0, -x0), fx1 = TM_MIN(s->f_w, s->in_w - x0);
      const float count = (float)((fy1 - fy0) * (fx1 - fx0));
      float *dst = out + (oy * s->out_w + ox) * s->c;
      for (int ch = 0; ch < s->c; ch++) {
        float acc = average ? 0.0f : -3.40282347e+38f;
        for (int fy = fy0; fy < fy1; fy++) {
          const float *row = in + ((y0 + fy) * s->in_w + x0) * s->c + ch;
          for (int fx = fx0; fx < fx1; fx++) {
            const float v = row[fx * s->c];
            acc = average ? acc + v : (v > acc ? v : acc);
          }
        }
        dst[ch] = tm_clamp_f32(average ? acc / count : acc, p->act_min, p->act_max);
      }
    }
  }
}

TM_KERNEL void tm_avg_pool2d_f32(const tm_pool_shape *s, const tm_float_act *p, const float *in, float *out) {
  tm_pool2d_f32(s, p, in, out, 1);
}

TM_KERNEL void tm_max_pool2d_f32(const tm_pool_shape *s, const tm_float_act *p, const float *in, float *out) {
  tm_pool2d_f32(s, p, in, out, 0);
}

#endif /* TM_POOL2D_H */
