/*
 * GATHER (TFLite Micro's gather.cc) for any element size: per batch and outer index, the params' slices
 * picked by the indices, each `inner_bytes` long. Indices may be constants or computed; one outside
 * [0, coord) writes zeros (the interpreter refuses such an input; the MCU must not read out of bounds).
 */
#ifndef TM_GATHER_H
#define TM_GATHER_H

#include "tm_common.h"

typedef struct {
  int32_t batch, outer, coord, per_batch;
  int32_t inner_bytes;
} tm_gather_params;

TM_KERNEL void tm_gather(const tm_gather_params *p, const int32_t *indices, const void *params, void *out) {
  const uint8_t *src = (const uint8_t *)params;
  uint8_t *dst = (uint8_t *)out;
  const size_t inner = (size_t)p->inner_bytes;
  for (int32_t b = 0; b < p->batch; b++)
    for (int32_t o = 0; o < p->outer; o++)
      for (int32_t i = 0; i < p->per_batch; i++, dst += inner) {
        const int32_t v = indices[b * p->per_batch + i];
        if (v < 0 || v >= p->coord) memset(dst, 0, inner);
        else memcpy(dst, src + ((size_t)(b * p->outer + o) * (size_t)p->coord + (size_t)v) * inner, inner);
      }
}

/*
 * An index map that is no strided walk (MIRROR_PAD, cropped BATCH_TO_SPACE_ND, padded SPACE_TO_BATCH_ND),
 * as runs: `runs` holds (first source element, elements) pairs in output order, a source of -1 meaning
 * `fill` repeated. The generator keeps the table small (it refuses maps of too many runs).
 */
TM_KERNEL void tm_copy_runs(int32_t n_runs, const int32_t *runs, int32_t elem_bytes, const uint8_t *fill, const void *in, void *out) {
  const uint8_t *src = (const uint8_t *)in;
  uint8_t *dst = (uint8_t *)out;
  const size_t e = (size_t)elem_bytes;
  for (int32_t r = 0; r < n_runs; r++) {
    const int32_t from = runs[2 * r], count = runs[2 * r + 1];
    if (from >= 0) {
      memcpy(dst, src + (size_t)from * e, (size_t)count * e);
      dst += (size_t)count * e;
    } else {
      for (int32_t k = 0; k < count; k++, dst += e) memcpy(dst, fill, e);
    }
  }
}

#endif /* TM_GATHER_H */
