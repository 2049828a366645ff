/*
 * RESIZE_BILINEAR float32 (TFLite Micro's reference_ops::ResizeBilinear; int8 below): each output pixel interpolates
 * the four input pixels around its source position. The generator works out, per output row and column,
 * the two neighbours and the fraction exactly as the reference does (align_corners, half_pixel_centers);
 * the kernel only interpolates, in float. The output must not overlap the input.
 */
#ifndef TM_RESIZE_H
#define TM_RESIZE_H

#include "tm_common.h"

typedef struct {
  int32_t batches, in_h, in_w, c, out_h, out_w;
  const int32_t *rows; /* per output row: y0, y1 */
  const float *dy;
  const int32_t *cols; /* per output column: x0, x1 */
  const float *dx;
} tm_resize_bilinear_params;

TM_KERNEL void tm_resize_bilinear_f32(const tm_resize_bilinear_params *p, const float *in, float *out) {
  const int32_t c = p->c;
  for (int32_t b = 0; b < p->batches; b++) {
    const float *img = in + (size_t)b * (size_t)(p->in_h * p->in_w * c);
    for (int32_t oy = 0; oy < p->out_h; oy++) {
      const float *r0 = img + p->rows[2 * oy] * p->in_w * c, *r1 = img + p->rows[2 * oy + 1] * p->in_w * c;
      const float dy = p->dy[oy];
      for (int32_t ox = 0; ox < p->out_w; ox++) {
        const int32_t x0 = p->cols[2 * ox] * c, x1 = p->cols[2 * ox + 1] * c;
        const float dx = p->dx[ox];
        for (int32_t ch = 0; ch < c; ch++) {
          *out++ = r0[x0 + ch] * (1.0f - dy) * (1.0f - dx) + r1[x0 + ch] * dy * (1.0f - dx) + r0[x1 + ch] * (1.0f - dy) * dx + r1[x1 + ch] * dy * dx;
        }
      }
    }
  }
}

/*
 * RESIZE_BILINEAR int8 (ResizeBilinearInteger): the same walk with neighbours and weights in 1/1024ths
 * (`dy`, `dx` hold them as integers), the 20-bit sum rounded half away from zero; no requantisation.
 */
typedef struct {
  int32_t batches, in_h, in_w, c, out_h, out_w;
  const int32_t *rows; /* per output row: y0, y1 */
  const int32_t *wy;   /* per output row: weight of y1 in 1/1024ths */
  const int32_t *cols;
  const int32_t *wx;
} tm_resize_bilinear_s8_params;

TM_KERNEL void tm_resize_bilinear_s8(const tm_resize_bilinear_s8_params *p, const int8_t *in, int8_t *out) {
  const int32_t c = p->c;
  for (int32_t b = 0; b < p->batches; b++) {
    const int8_t *img = in + (size_t)b * (size_t)(p->in_h * p->in_w * c);
    for (int32_t oy = 0; oy < p->out_h; oy++) {
      const int8_t *r0 = img + p->rows[2 * oy] * p->in_w * c, *r1 = img + p->rows[2 * oy + 1] * p->in_w * c;
      const int32_t wy = p->wy[oy];
      for (int32_t ox = 0; ox < p->out_w; ox++) {
        const int32_t x0 = p->cols[2 * ox] * c, x1 = p->cols[2 * ox + 1] * c;
        const int32_t wx = p->wx[ox];
        for (int32_t ch = 0; ch < c; ch++) {
          const int32_t sum = r0[x0 + ch] * (1024 - wy) * (1024 - wx) + r1[x0 + ch] * wy * (1024 - wx) + r0[x1 + ch] * (1024 - wy) * wx + r1[x1 + ch] * wy * wx;
          *out++ = (int8_t)((sum + (sum > 0 ? (1 << 19) : -(1 << 19))) / (1 << 20));
        }
      }
    }
  }
}

#endif /* TM_RESIZE_H */
