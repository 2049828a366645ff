/*
 * The pools tm_pool2d.h leaves out: int16 AVERAGE_POOL_2D / MAX_POOL_2D (the int8 arithmetic on int16,
 * as TFLite Micro's reference_integer_ops) and float32 L2_POOL_2D (sqrt of the mean square over the
 * window clipped to the input, each step in float). NHWC batch 1; the generator calls once per batch.
 */
#ifndef TM_POOL_EXTRA_H
#define TM_POOL_EXTRA_H

#include <math.h>
#include "tm_pool2d.h"

/* For each output pixel and channel (in output order): INIT, TAP per tap of the clipped window (`row` its row), STORE; `count` taps. */
#define TM_POOL_WALK(s, T, INIT, TAP, STORE)                                                   \
  for (int oy = 0; oy < (s)->out_h; oy++) {                                                    \
    const int y0 = oy * (s)->stride_h - (s)->pad_top;                                          \
    const int fy0 = TM_MAX(0, -y0), fy1 = TM_MIN((s)->f_h, (s)->in_h - y0);                    \
    for (int ox = 0; ox < (s)->out_w; ox++) {                                                  \
      const int x0 = ox * (s)->stride_w - (s)->pad_left;                                       \
      const int fx0 = TM_MAX(0, -x0), fx1 = TM_MIN((s)->f_w, (s)->in_w - x0);                  \
      const int count = (fy1 - fy0) * (fx1 - fx0);                                             \
      (void)count; /* max pooling does not count */                                            \
      for (int ch = 0; ch < (s)->c; ch++) {                                                    \
        INIT;                                                                                  \
        for (int fy = fy0; fy < fy1; fy++) {                                                   \
          const T *row = in + ((y0 + fy) * (s)->in_w + x0) * (s)->c + ch;                      \
          for (int fx = fx0; fx < fx1; fx++) TAP;                                              \
        }                                                                                      \
        STORE;                                                                                 \
      }                                                                                        \
    }                                                                                          \
  }

TM_KERNEL void tm_avg_pool2d_s16(const tm_pool_shape *s, const int16_t *in, int16_t *out) {
  TM_POOL_WALK(s, int16_t, int32_t acc = 0, acc += row[fx * s->c],
               { acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count; *out++ = (int16_t)tm_clamp(acc, s->act_min, s->act_max); })
}

TM_KERNEL void tm_max_pool2d_s16(const tm_pool_shape *s, const int16_t *in, int16_t *out) {
  TM_POOL_WALK(s, int16_t, int32_t best = -32768, best = TM_MAX(best, (int32_t)row[fx * s->c]), *out++ = (int16_t)tm_clamp(best, s->act_min, s->act_max))
}

TM_KERNEL void tm_l2_pool2d_f32(const tm_pool_shape *s, const tm_float_act *p, const float *in, float *out) {
  TM_POOL_WALK(s, float, float acc = 0.0f, acc += row[fx * s->c] * row[fx * s->c],
               *out++ = tm_clamp_f32(sqrtf(acc / (float)count), p->act_min, p->act_max))
}

#endif /* TM_POOL_EXTRA_H */
