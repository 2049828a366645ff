/*
 * PAD / PADV2 for any element size, shapes padded to 4-D by the generator, constant fill (for int8 the
 * output zero point, as TFLite Micro does). Rows of the innermost dimension are copied with memcpy.
 * tm_pad_inplace runs backwards with memmove so the padded output can overlay its input at the same
 * offset (TinyEngine's in-place padding): every output row lies at or after the input row it reads.
 */
#ifndef TM_PAD_H
#define TM_PAD_H

#include "tm_common.h"

typedef struct {
  int32_t in_dims[4];
  int32_t out_dims[4];
  int32_t before[4];   /* padding before each dimension */
  int32_t elem_bytes;
} tm_pad_params;

/* Fill n elements at dst with the pad value (one element's bytes in `value`). */
TM_HELPER void tm_pad_fill(uint8_t *dst, int32_t n, const uint8_t *value, int32_t elem) {
  if (elem == 1) {
    memset(dst, value[0], (size_t)n);
    return;
  }
  for (int32_t i = 0; i < n; i++) memcpy(dst + i * elem, value, (size_t)elem);
}

/* One output row (innermost dimension): the input row at `src`, or NULL for a row that is all padding. */
TM_HELPER void tm_pad_row(const tm_pad_params *p, uint8_t *dst, const uint8_t *src, const uint8_t *value) {
  const int32_t e = p->elem_bytes, n_out = p->out_dims[3], n_in = p->in_dims[3], before = p->before[3];
  if (!src) {
    tm_pad_fill(dst, n_out, value, e);
    return;
  }
  memmove(dst + before * e, src, (size_t)(n_in * e));
  tm_pad_fill(dst, before, value, e);
  tm_pad_fill(dst + (before + n_in) * e, n_out - before - n_in, value, e);
}

/* The input row for output row (i0, i1, i2), or NULL when that row lies in the padding. */
TM_HELPER const uint8_t *tm_pad_src_row(const tm_pad_params *p, const uint8_t *in, int32_t i0, int32_t i1, int32_t i2) {
  const int32_t j0 = i0 - p->before[0], j1 = i1 - p->before[1], j2 = i2 - p->before[2];
  if (j0 < 0 || j0 >= p->in_dims[0] || j1 < 0 || j1 >= p->in_dims[1] || j2 < 0 || j2 >= p->in_dims[2]) return 0;
  return in + (((j0 * p->in_dims[1] + j1) * p->in_dims[2] + j2) * p->in_dims[3]) * p->elem_bytes;
}

TM_KERNEL void tm_pad(const tm_pad_params *p, const void *pad_value, const void *in, void *out) {
  const int32_t row_bytes = p->out_dims[3] * p->elem_bytes;
  uint8_t *dst = (uint8_t *)out;
  for (int32_t i0 = 0; i0 < p->out_dims[0]; i0++)
    for (int32_t i1 = 0; i1 < p->out_dims[1]; i1++)
      for (int32_t i2 = 0; i2 < p->out_dims[2]; i2++, dst += row_bytes)
        tm_pad_row(p, dst, tm_pad_src_row(p, (const uint8_t *)in, i0, i1, i2), (const uint8_t *)pad_value);
}

TM_KERNEL void tm_pad_inplace(const tm_pad_params *p, const void *pad_value, void *buf) {
  const int32_t row_bytes = p->out_dims[3] * p->elem_bytes;
  const int32_t rows = p->out_dims[0] * p->out_dims[1] * p->out_dims[2];
  for (int32_t r = rows - 1; r >= 0; r--) {
    const int32_t i2 = r % p->out_dims[2], i1 = (r / p->out_dims[2]) % p->out_dims[1], i0 = r / (p->out_dims[2] * p->out_dims[1]);
    tm_pad_row(p, (uint8_t *)buf + r * row_bytes, tm_pad_src_row(p, (const uint8_t *)buf, i0, i1, i2), (const uint8_t *)pad_value);
  }
}

#endif /* TM_PAD_H */
