/*
 * The int8 matrix-vector core shared by CONV_2D (1x1 directly on the input, KxK on im2col columns) and
 * FULLY_CONNECTED: out[c] = requant(bias[c] + sum_k col[k] * w[c * depth + k]) for every output channel c.
 *
 * `bias` is the generator's folded bias, bias[c] - input_zero_point * sum_k w[c][k], so the inner loop
 * multiplies raw int8 values (no offset add per MAC) and padded taps are filled with the input zero point.
 * The result is bit-identical to the reference's sum of (x - zp) * w: the identity is exact in int32.
 *
 * DSP path: SXTB16 splits four int8 into two int16 pairs (bytes 0,2 and, rotated, 1,3); SMLAD then does
 * two multiply-accumulates per instruction. Columns and weights are split the same way, so the pairs line up.
 */
#ifndef TM_GEMM_H
#define TM_GEMM_H

#include "tm_common.h"

/* Per-layer requantisation: per-channel multipliers and shifts (per-tensor layers repeat one value). */
typedef struct {
  const int32_t *bias;
  const int32_t *mult;
  const int32_t *shift;
  int32_t out_zp;
  int32_t act_min;
  int32_t act_max;
} tm_requant_params;

/* Dot product of one column with one weight row: the scalar tail of the SIMD loops, and the portable path. */
TM_HELPER int32_t tm_dot_s8(const int8_t *x, const int8_t *w, int n, int32_t acc) {
  for (int k = 0; k < n; k++) acc += (int32_t)x[k] * (int32_t)w[k];
  return acc;
}

#if TM_DSP
/* Two columns times two weight rows: four accumulators, eight SMLADs per four depth steps. */
TM_HELPER void tm_dot_2x2_s8(const int8_t *x0, const int8_t *x1, const int8_t *w0, const int8_t *w1, int depth, int32_t acc[4]) {
  int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
  int k = 0;
  for (; k + 4 <= depth; k += 4) {
    const int32_t wa = tm_load32(w0 + k), wb = tm_load32(w1 + k);
    const int32_t wa_e = __sxtb16(wa), wa_o = __sxtb16(tm_ror8(wa));
    const int32_t wb_e = __sxtb16(wb), wb_o = __sxtb16(tm_ror8(wb));
    const int32_t xa = tm_load32(x0 + k);
    const int32_t xa_e = __sxtb16(xa), xa_o = __sxtb16(tm_ror8(xa));
    a00 = __smlad(xa_e, wa_e, a00);
    a00 = __smlad(xa_o, wa_o, a00);
    a01 = __smlad(xa_e, wb_e, a01);
    a01 = __smlad(xa_o, wb_o, a01);
    const int32_t xb = tm_load32(x1 + k);
    const int32_t xb_e = __sxtb16(xb), xb_o = __sxtb16(tm_ror8(xb));
    a10 = __smlad(xb_e, wa_e, a10);
    a10 = __smlad(xb_o, wa_o, a10);
    a11 = __smlad(xb_e, wb_e, a11);
    a11 = __smlad(xb_o, wb_o, a11);
  }
  for (; k < depth; k++) {
    const int32_t wa = w0[k], wb = w1[k], xa = x0[k], xb = x1[k];
    a00 += xa * wa;
    a01 += xa * wb;
    a10 += xb * wa;
    a11 += xb * wb;
  }
  acc[0] = a00; acc[1] = a01; acc[2] = a10; acc[3] = a11;
}

/* One column times four weight rows (fully connected, the odd pixel of a 1x1 convolution). */
TM_HELPER void tm_dot_1x4_s8(const int8_t *x, const int8_t *w0, int depth, int32_t acc[4]) {
  const int8_t *w1 = w0 + depth, *w2 = w1 + depth, *w3 = w2 + depth;
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  int k = 0;
  for (; k + 4 <= depth; k += 4) {
    const int32_t xv = tm_load32(x + k);
    const int32_t x_e = __sxtb16(xv), x_o = __sxtb16(tm_ror8(xv));
    int32_t wv = tm_load32(w0 + k);
    a0 = __smlad(x_e, __sxtb16(wv), a0);
    a0 = __smlad(x_o, __sxtb16(tm_ror8(wv)), a0);
    wv = tm_load32(w1 + k);
    a1 = __smlad(x_e, __sxtb16(wv), a1);
    a1 = __smlad(x_o, __sxtb16(tm_ror8(wv)), a1);
    wv = tm_load32(w2 + k);
    a2 = __smlad(x_e, __sxtb16(wv), a2);
    a2 = __smlad(x_o, __sxtb16(tm_ror8(wv)), a2);
    wv = tm_load32(w3 + k);
    a3 = __smlad(x_e, __sxtb16(wv), a3);
    a3 = __smlad(x_o, __sxtb16(tm_ror8(wv)), a3);
  }
  for (; k < depth; k++) {
    const int32_t xv = x[k];
    a0 += xv * w0[k];
    a1 += xv * w1[k];
    a2 += xv * w2[k];
    a3 += xv * w3[k];
  }
  acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
}

/* One column times one weight row. */
TM_HELPER int32_t tm_dot_1x1_s8(const int8_t *x, const int8_t *w, int depth, int32_t acc) {
  int k = 0;
  for (; k + 4 <= depth; k += 4) {
    const int32_t xv = tm_load32(x + k), wv = tm_load32(w + k);
    acc = __smlad(__sxtb16(xv), __sxtb16(wv), acc);
    acc = __smlad(__sxtb16(tm_ror8(xv)), __sxtb16(tm_ror8(wv)), acc);
  }
  return tm_dot_s8(x + k, w + k, depth - k, acc);
}
#endif /* TM_DSP */

/* One column (one output pixel, or one fully-connected batch row) through all n_out weight rows. */
TM_HELPER void tm_gemm_s8_1col(const int8_t *col, const int8_t *w, int depth, int n_out, const tm_requant_params *q, int8_t *out) {
  int c = 0;
#if TM_DSP
  for (; c + 4 <= n_out; c += 4) {
    int32_t acc[4] = {q->bias[c], q->bias[c + 1], q->bias[c + 2], q->bias[c + 3]};
    tm_dot_1x4_s8(col, w + c * depth, depth, acc);
    for (int j = 0; j < 4; j++) out[c + j] = tm_requant(acc[j], q->mult[c + j], q->shift[c + j], q->out_zp, q->act_min, q->act_max);
  }
  for (; c < n_out; c++) {
    const int32_t acc = tm_dot_1x1_s8(col, w + c * depth, depth, q->bias[c]);
    out[c] = tm_requant(acc, q->mult[c], q->shift[c], q->out_zp, q->act_min, q->act_max);
  }
#else
  for (; c < n_out; c++) {
    const int32_t acc = tm_dot_s8(col, w + c * depth, depth, q->bias[c]);
    out[c] = tm_requant(acc, q->mult[c], q->shift[c], q->out_zp, q->act_min, q->act_max);
  }
#endif
}

/* Two columns (two output pixels) through all weight rows: each weight word loaded once serves both. */
TM_HELPER void tm_gemm_s8_2col(const int8_t *col0, const int8_t *col1, const int8_t *w, int depth, int n_out, const tm_requant_params *q, int8_t *out0, int8_t *out1) {
  int c = 0;
#if TM_DSP
  for (; c + 2 <= n_out; c += 2) {
    int32_t acc[4] = {q->bias[c], q->bias[c + 1], q->bias[c], q->bias[c + 1]};
    tm_dot_2x2_s8(col0, col1, w + c * depth, w + (c + 1) * depth, depth, acc);
    out0[c] = tm_requant(acc[0], q->mult[c], q->shift[c], q->out_zp, q->act_min, q->act_max);
    out0[c + 1] = tm_requant(acc[1], q->mult[c + 1], q->shift[c + 1], q->out_zp, q->act_min, q->act_max);
    out1[c] = tm_requant(acc[2], q->mult[c], q->shift[c], q->out_zp, q->act_min, q->act_max);
    out1[c + 1] = tm_requant(acc[3], q->mult[c + 1], q->shift[c + 1], q->out_zp, q->act_min, q->act_max);
  }
#endif
  for (; c < n_out; c++) {
    const int8_t *wr = w + c * depth;
    int32_t a0 = q->bias[c], a1 = q->bias[c];
    for (int k = 0; k < depth; k++) {
      const int32_t wv = wr[k];
      a0 += (int32_t)col0[k] * wv;
      a1 += (int32_t)col1[k] * wv;
    }
    out0[c] = tm_requant(a0, q->mult[c], q->shift[c], q->out_zp, q->act_min, q->act_max);
    out1[c] = tm_requant(a1, q->mult[c], q->shift[c], q->out_zp, q->act_min, q->act_max);
  }
}

#endif /* TM_GEMM_H */
