/*
 * BATCH_MATMUL (TFLite Micro's batch_matmul.cc): per batch, lhs [M, K] x rhs [K, N] read through strides
 * (adj_x / adj_y transpose by strides, no copy), batch broadcasting resolved by the generator into an
 * offset pair per output batch. float32 sums in k order; int8 sums offset products in int32 and
 * requantises (MultiplyByQuantizedMultiplier); int16 sums in 64 bits and requantises with the reduced
 * 64-bit multiply of the 16x8 kernels. The output must not overlap an input.
 */
#ifndef TM_BATCH_MATMUL_H
#define TM_BATCH_MATMUL_H

#include "tm_common.h"

typedef struct {
  int32_t m, k, n, batches;
  int32_t lhs_m_stride, lhs_k_stride;
  int32_t rhs_k_stride, rhs_n_stride;
  const int32_t *offsets;         /* per output batch: lhs and rhs element offsets */
  int32_t lhs_offset, rhs_offset; /* minus the zero points */
  int32_t out_mult, out_shift, out_zp;
} tm_batch_matmul_params;

/* The 16x8 kernels' requantisation: the multiplier reduced to 16 bits, one rounding shift of the 64-bit product. */
TM_HELPER int32_t tm_mbqm64(int64_t x, int32_t multiplier, int32_t shift) {
  const int64_t reduced = multiplier < 0x7fff0000 ? (multiplier + (1 << 15)) >> 16 : 0x7fff;
  const int total = 15 - shift;
  return (int32_t)(uint32_t)(uint64_t)((x * reduced + ((int64_t)1 << (total - 1))) >> total);
}

#define TM_BATCH_MATMUL_LOOP(p, BODY)                                                         \
  for (int32_t b = 0; b < (p)->batches; b++) {                                                 \
    const int32_t lo = (p)->offsets[2 * b], ro = (p)->offsets[2 * b + 1];                      \
    for (int32_t m = 0; m < (p)->m; m++)                                                       \
      for (int32_t n = 0; n < (p)->n; n++) {                                                   \
        const int32_t l0 = lo + m * (p)->lhs_m_stride, r0 = ro + n * (p)->rhs_n_stride;        \
        BODY;                                                                                  \
      }                                                                                        \
  }

TM_KERNEL void tm_batch_matmul_f32(const tm_batch_matmul_params *p, const float *lhs, const float *rhs, float *out) {
  TM_BATCH_MATMUL_LOOP(p, {
    float s = 0.0f;
    for (int32_t k = 0; k < p->k; k++) s += lhs[l0 + k * p->lhs_k_stride] * rhs[r0 + k * p->rhs_k_stride];
    *out++ = s;
  })
}

TM_KERNEL void tm_batch_matmul_s8(const tm_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs, int8_t *out) {
  TM_BATCH_MATMUL_LOOP(p, {
    int32_t s = 0;
    for (int32_t k = 0; k < p->k; k++) s += (lhs[l0 + k * p->lhs_k_stride] + p->lhs_offset) * (rhs[r0 + k * p->rhs_k_stride] + p->rhs_offset);
    *out++ = (int8_t)tm_clamp(tm_mbqm(s, p->out_mult, p->out_shift) + p->out_zp, -128, 127);
  })
}

TM_KERNEL void tm_batch_matmul_s16(const tm_batch_matmul_params *p, const int16_t *lhs, const int16_t *rhs, int16_t *out) {
  TM_BATCH_MATMUL_LOOP(p, {
    int64_t s = 0;
    for (int32_t k = 0; k < p->k; k++) s += (int64_t)(lhs[l0 + k * p->lhs_k_stride] + p->lhs_offset) * (rhs[r0 + k * p->rhs_k_stride] + p->rhs_offset);
    *out++ = (int16_t)tm_clamp(tm_mbqm64(s, p->out_mult, p->out_shift) + p->out_zp, -32768, 32767);
  })
}

#endif /* TM_BATCH_MATMUL_H */
