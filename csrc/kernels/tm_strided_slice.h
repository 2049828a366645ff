/*
 * STRIDED_SLICE for any element size, up to 5-D, any strides (negative ones too). The generator resolves
 * begin/end/strides and the masks exactly as the TypeScript op does and hands over a byte walk: `counts`
 * visits per axis (outer first) at `strides` bytes apart, each visit copying one contiguous run of
 * `run_bytes` (an element, or as many innermost elements as lie back to back: a patch's row of pixels).
 * The output is written in order; it must not overlap the input (the generator checks the plan).
 */
#ifndef TM_STRIDED_SLICE_H
#define TM_STRIDED_SLICE_H

#include "tm_common.h"

typedef struct {
  int32_t counts[4];
  int32_t strides[4];  /* bytes between consecutive visits along each axis of the input */
  int32_t base;        /* byte offset of the first run read */
  int32_t run_bytes;
} tm_strided_slice_params;

TM_KERNEL void tm_strided_slice(const tm_strided_slice_params *p, const void *in, void *out) {
  const uint8_t *src = (const uint8_t *)in + p->base;
  uint8_t *dst = (uint8_t *)out;
  const size_t run = (size_t)p->run_bytes;
  for (int32_t a = 0; a < p->counts[0]; a++)
    for (int32_t b = 0; b < p->counts[1]; b++)
      for (int32_t c = 0; c < p->counts[2]; c++) {
        const uint8_t *s = src + a * p->strides[0] + b * p->strides[1] + c * p->strides[2];
        for (int32_t d = 0; d < p->counts[3]; d++, dst += run) memcpy(dst, s + d * p->strides[3], run);
      }
}

#endif /* TM_STRIDED_SLICE_H */
