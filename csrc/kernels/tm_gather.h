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
 * EMBEDDING_LOOKUP hybrid (embedding_lookup.cc EvalHybrid): int8 rows of a symmetric table dequantised
 * into a float output, q * scale in float. An id outside [0, rows) writes zeros (as tm_gather).
 */
TM_KERNEL void tm_embedding_lookup_s8_f32(int32_t rows, int32_t row, int32_t n, float scale, const int32_t *ids, const int8_t *table, float *out) {
  for (int32_t i = 0; i < n; i++, out += row) {
    const int32_t v = ids[i];
    if (v < 0 || v >= rows) {
      for (int32_t k = 0; k < row; k++) out[k] = 0.0f;
      continue;
    }
    const int8_t *src = table + (size_t)v * (size_t)row;
    for (int32_t k = 0; k < row; k++) out[k] = (float)src[k] * scale;
  }
}

/* GATHER_ND: `n` index tuples of depth k, each picking a slice of slice_bytes from params [dims[0..k)][...]. */
typedef struct {
  int32_t n, k, slice_bytes;
  int32_t dims[8];
} tm_gather_nd_params;

TM_KERNEL void tm_gather_nd(const tm_gather_nd_params *p, const int32_t *indices, const void *params, void *out) {
  const uint8_t *src = (const uint8_t *)params;
  uint8_t *dst = (uint8_t *)out;
  const size_t slice = (size_t)p->slice_bytes;
  for (int32_t i = 0; i < p->n; i++, dst += slice) {
    size_t at = 0;
    int inside = 1;
    for (int32_t d = 0; d < p->k; d++) {
      const int32_t v = indices[i * p->k + d];
      inside &= v >= 0 && v < p->dims[d];
      at = at * (size_t)p->dims[d] + (size_t)(inside ? v : 0);
    }
    if (inside) memcpy(dst, src + at * slice, slice);
    else memset(dst, 0, slice);
  }
}

/*
 * DYNAMIC_UPDATE_SLICE (rank <= 4, shapes padded to 4-D in front): the operand copied to the output (unless
 * they share memory), then the update written at the start indices, each clamped so the update fits.
 */
typedef struct {
  int32_t dims[4];     /* operand */
  int32_t upd_dims[4]; /* update */
  int32_t lead;        /* 4 - rank: the starts tensor holds rank values */
  int32_t elem_bytes;
} tm_update_slice_params;

TM_KERNEL void tm_dynamic_update_slice(const tm_update_slice_params *p, const void *operand, const void *update, const int32_t *starts, void *out) {
  const size_t e = (size_t)p->elem_bytes;
  const int32_t *d = p->dims, *u = p->upd_dims;
  if (operand != out) memcpy(out, operand, (size_t)d[0] * (size_t)d[1] * (size_t)d[2] * (size_t)d[3] * e);
  int32_t at[4];
  for (int k = 0; k < 4; k++) at[k] = k < p->lead ? 0 : TM_MIN(TM_MAX(starts[k - p->lead], 0), d[k] - u[k]);
  const uint8_t *src = (const uint8_t *)update;
  uint8_t *dst = (uint8_t *)out;
  for (int32_t a = 0; a < u[0]; a++)
    for (int32_t b = 0; b < u[1]; b++)
      for (int32_t c = 0; c < u[2]; c++, src += (size_t)u[3] * e) {
        const size_t row = (((size_t)(a + at[0]) * (size_t)d[1] + (size_t)(b + at[1])) * (size_t)d[2] + (size_t)(c + at[2])) * (size_t)d[3] + (size_t)at[3];
        memcpy(dst + row * e, src, (size_t)u[3] * e);
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

/*
 * BROADCAST_ARGS: the broadcast of two shape vectors (int32 or int64, `wide` = 1 for int64), right-aligned,
 * a 1 taking the other side's extent. Incompatible shapes (refused by the interpreter) give the larger.
 */
TM_KERNEL void tm_broadcast_args(int32_t wide, int32_t na, int32_t nb, const void *a, const void *b, void *out) {
  const int32_t n = TM_MAX(na, nb);
  for (int32_t i = 0; i < n; i++) {
    const int32_t ka = i - (n - na), kb = i - (n - nb);
    const int64_t da = ka < 0 ? 1 : (wide ? ((const int64_t *)a)[ka] : ((const int32_t *)a)[ka]);
    const int64_t db = kb < 0 ? 1 : (wide ? ((const int64_t *)b)[kb] : ((const int32_t *)b)[kb]);
    const int64_t d = da == 1 ? db : (db == 1 ? da : TM_MAX(da, db));
    if (wide) ((int64_t *)out)[i] = d;
    else ((int32_t *)out)[i] = (int32_t)d;
  }
}

#endif /* TM_GATHER_H */
