/*
 * CONCATENATION, one input at a time: input i is `outer` blocks of `block_bytes`, block k going to
 * out + k * row_bytes (the generator passes `out` already advanced to the input's place in a row). Inputs
 * whose quantisation differs from the output's are requantised through a 256-entry table the generator
 * computes with the TypeScript op's own float32 map (TFLite's ConcatenationWithScaling), so both sides
 * agree by construction. Inputs never overlap the output here: an input the memory plan already placed at
 * its slot (in-place concatenation) gets no call at all.
 */
#ifndef TM_CONCATENATION_H
#define TM_CONCATENATION_H

#include "tm_common.h"

TM_KERNEL void tm_concat_copy(int32_t outer, int32_t block_bytes, int32_t row_bytes, const void *in, void *out) {
  const uint8_t *src = (const uint8_t *)in;
  uint8_t *dst = (uint8_t *)out;
  for (int32_t k = 0; k < outer; k++, src += block_bytes, dst += row_bytes) memcpy(dst, src, (size_t)block_bytes);
}

TM_KERNEL void tm_concat_requant_s8(int32_t outer, int32_t block_bytes, int32_t row_bytes, const uint8_t *table, const int8_t *in, int8_t *out) {
  for (int32_t k = 0; k < outer; k++, in += block_bytes, out += row_bytes)
    for (int32_t i = 0; i < block_bytes; i++) out[i] = (int8_t)table[(uint8_t)in[i]];
}

#endif /* TM_CONCATENATION_H */
