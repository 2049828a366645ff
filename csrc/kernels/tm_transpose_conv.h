/*
 * TRANSPOSE_CONV (TFLite Micro's transpose_conv.cc), written as a gather: each output element sums the
 * input pixels whose filter taps land on it. For one output those come in the reference's scatter order
 * (input row, column, channel), so float sums round alike and int8 sums are the same integers; no
 * accumulator buffer is needed. int8: (x - input zero point) * w in int32, the raw bias, per-channel
 * requantisation. The output must not overlap the input.
 */
#ifndef TM_TRANSPOSE_CONV_H
#define TM_TRANSPOSE_CONV_H

#include "tm_common.h"

typedef struct {
  int32_t batches, in_h, in_w, in_c;
  int32_t out_h, out_w, out_c;
  int32_t k_h, k_w, stride_h, stride_w, pad_top, pad_left;
  int32_t in_offset; /* minus the input zero point (int8) */
} tm_tconv_params;

/* The input rows (or columns) whose taps reach output row o: y in [lo, hi), tap o + pad - y * stride. */
TM_HELPER void tm_tconv_range(int32_t o, int32_t pad, int32_t stride, int32_t k, int32_t in, int32_t *lo, int32_t *hi) {
  const int32_t t = o + pad;                         /* = y * stride + tap */
  int32_t first = t - (k - 1) <= 0 ? 0 : (t - (k - 1) + stride - 1) / stride;
  int32_t last = t < 0 ? -1 : t / stride;
  *lo = first;
  *hi = TM_MIN(last + 1, in);
}

#define TM_TCONV_LOOP(g, ACC_T, INIT, ACCUM, STORE)                                                        \
  for (int32_t b = 0; b < (g)->batches; b++)                                                               \
    for (int32_t oy = 0; oy < (g)->out_h; oy++) {                                                          \
      int32_t y0, y1;                                                                                      \
      tm_tconv_range(oy, (g)->pad_top, (g)->stride_h, (g)->k_h, (g)->in_h, &y0, &y1);                      \
      for (int32_t ox = 0; ox < (g)->out_w; ox++) {                                                        \
        int32_t x0, x1;                                                                                    \
        tm_tconv_range(ox, (g)->pad_left, (g)->stride_w, (g)->k_w, (g)->in_w, &x0, &x1);                   \
        for (int32_t oc = 0; oc < (g)->out_c; oc++) {                                                      \
          ACC_T acc = INIT;                                                                                \
          for (int32_t y = y0; y < y1; y++) {                                                              \
            const int32_t fy = oy + (g)->pad_top - y * (g)->stride_h;                                      \
            for (int32_t x = x0; x < x1; x++) {                                                            \
              const int32_t fx = ox + (g)->pad_left - x * (g)->stride_w;                                   \
              const int32_t i0 = ((b * (g)->in_h + y) * (g)->in_w + x) * (g)->in_c;                        \
              const int32_t w0 = ((oc * (g)->k_h + fy) * (g)->k_w + fx) * (g)->in_c;                       \
              for (int32_t ic = 0; ic < (g)->in_c; ic++) ACCUM;                                            \
            }                                                                                              \
          }                                                                                                \
          STORE;                                                                                           \
        }                                                                                                  \
      }                                                                                                    \
    }

TM_KERNEL void tm_transpose_conv_s8(const tm_tconv_params *g, const tm_requant_params *q, const int8_t *in, const int8_t *filter, int8_t *out) {
  TM_TCONV_LOOP(g, int32_t, 0, acc += (in[i0 + ic] + g->in_offset) * filter[w0 + ic],
                *out++ = tm_requant(acc + q->bias[oc], q->mult[oc], q->shift[oc], q->out_zp, q->act_min, q->act_max))
}

TM_KERNEL void tm_transpose_conv_f32(const tm_tconv_params *g, const tm_float_params *p, const float *in, const float *filter, float *out) {
  TM_TCONV_LOOP(g, float, 0.0f, acc += in[i0 + ic] * filter[w0 + ic],
                *out++ = tm_clamp_f32(acc + p->bias[oc], p->act_min, p->act_max))
}

#endif /* TM_TRANSPOSE_CONV_H */
