/*
 * TRANSPOSE for any element size, rank <= 4 (padded to 4-D by the generator): out[i] = in[perm(i)],
 * walking the output in order and the input through permuted strides.
 */
#ifndef TM_TRANSPOSE_H
#define TM_TRANSPOSE_H

#include "tm_common.h"

typedef struct {
  int32_t out_dims[4];
  int32_t in_strides[4];  /* input stride (elements) of the input axis that output axis k reads */
  int32_t elem_bytes;
} tm_transpose_params;

TM_KERNEL void tm_transpose(const tm_transpose_params *p, const void *in, void *out) {
  const uint8_t *src = (const uint8_t *)in;
  uint8_t *dst = (uint8_t *)out;
  const int32_t e = p->elem_bytes;
  for (int32_t a = 0; a < p->out_dims[0]; a++)
    for (int32_t b = 0; b < p->out_dims[1]; b++)
      for (int32_t c = 0; c < p->out_dims[2]; c++)
        for (int32_t d = 0; d < p->out_dims[3]; d++, dst += e) {
          const int32_t i = a * p->in_strides[0] + b * p->in_strides[1] + c * p->in_strides[2] + d * p->in_strides[3];
          memcpy(dst, src + i * e, (size_t)e);
        }
}

#endif /* TM_TRANSPOSE_H */
