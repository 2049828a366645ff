/*
 * FULLY_CONNECTED, int8: weights [n_out][depth], input rows of `depth` values. Same integer result as
 * TFLite Micro's reference_integer_ops::FullyConnected (bias folded with the input zero point; the weights'
 * zero point is 0, which the generator checks). Two rows at a time share each weight load.
 */
#ifndef TM_FULLY_CONNECTED_H
#define TM_FULLY_CONNECTED_H

#include "tm_common.h"
#include "tm_gemm.h"

TM_KERNEL void tm_fully_connected_s8(int rows, int depth, int n_out, const tm_requant_params *q, const int8_t *in, const int8_t *w, int8_t *out) {
  int r = 0;
  for (; r + 2 <= rows; r += 2) {
    tm_gemm_s8_2col(in + r * depth, in + (r + 1) * depth, w, depth, n_out, q, out + r * n_out, out + (r + 1) * n_out);
  }
  if (r < rows) tm_gemm_s8_1col(in + r * depth, w, depth, n_out, q, out + r * n_out);
}

#if TM_DSP
/*
 * The DSP path with the weights split into SMLAD pairs by the generator (int16 in Flash): each row's group
 * of four inputs is split once and feeds four weight rows, two LDM bringing their pairs: 13 instructions for
 * 16 multiply-accumulates instead of 23. depth % 4 == 0, n_out % 4 == 0; wp: per four rows, per group of
 * four values k..k+3, the words r (k, k+2), r (k+1, k+3) of rows r0..r3.
 */
#define TM_DSP_FC_W16_GROUP               \
  "ldr r8, [r0], #4\n\t"                  \
  "ldm r1!, {r4, r5, r6, r7}\n\t"         \
  "sxtb16 r9, r8\n\t"                     \
  "sxtb16 r8, r8, ror #8\n\t"             \
  "smlad r10, r9, r4, r10\n\t"            \
  "smlad r10, r8, r5, r10\n\t"            \
  "smlad r11, r9, r6, r11\n\t"            \
  "smlad r11, r8, r7, r11\n\t"            \
  "ldm r1!, {r4, r5, r6, r7}\n\t"         \
  "smlad r12, r9, r4, r12\n\t"            \
  "smlad r12, r8, r5, r12\n\t"            \
  "smlad lr, r9, r6, lr\n\t"              \
  "smlad lr, r8, r7, lr\n\t"

/* acc[0..3] += x . rows 0..3 over acc[4] (>= 1) groups; naked as tm_dsp_dot_2x2_groups (tm_gemm.h). */
__attribute__((naked, noipa, unused)) static void tm_dsp_fc_1x4_w16(TM_ASM_ARG const int8_t *x, TM_ASM_ARG const int32_t *w, TM_ASM_ARG int32_t *acc) {
  __asm__ volatile(
    "push {r2, r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t"
    "ldm r2, {r10, r11, r12, lr}\n\t"
    "ldr r3, [r2, #16]\n\t"
    "lsrs r3, r3, #1\n\t"
    "bcc 2f\n\t"
    TM_DSP_FC_W16_GROUP
    "2:\n\t"
    "beq 3f\n"
    "1:\n\t"
    TM_DSP_FC_W16_GROUP
    TM_DSP_FC_W16_GROUP
    "subs r3, r3, #1\n\t"
    "bne 1b\n"
    "3:\n\t"
    "pop {r2}\n\t"
    "stm r2, {r10, r11, r12, lr}\n\t"
    "pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n\t");
}

TM_KERNEL void tm_fully_connected_w16_s8(int rows, int depth, int n_out, const tm_requant_params *q, const int8_t *in, const int32_t *wp, int8_t *out) {
  for (int r = 0; r < rows; r++) {
    int8_t *dst = out + r * n_out;
    const int32_t *w = wp;
    for (int c = 0; c < n_out; c += 4, w += 2 * depth) {
      int32_t acc[5] = {q->bias[c], q->bias[c + 1], q->bias[c + 2], q->bias[c + 3], depth >> 2};
      tm_dsp_fc_1x4_w16(in + r * depth, w, acc);
      const int8_t o0 = tm_requant_ch(q, acc[0], c), o1 = tm_requant_ch(q, acc[1], c + 1);
      const int8_t o2 = tm_requant_ch(q, acc[2], c + 2), o3 = tm_requant_ch(q, acc[3], c + 3);
      dst[c] = o0;
      dst[c + 1] = o1;
      dst[c + 2] = o2;
      dst[c + 3] = o3;
    }
  }
}
#endif

#if !TM_DSP && !defined(TM_WASM_EXPORT) /* the wasm runtime never lowers to them */
/* tm_fully_connected_w16_s8 without the DSP extension (see tm_conv2d.h's portable split-weight kernels). */
TM_KERNEL void tm_fully_connected_w16_s8(int rows, int depth, int n_out, const tm_requant_params *q, const int8_t *in, const int32_t *wp, int8_t *out) {
  for (int r = 0; r < rows; r++) {
    const int8_t *x = in + r * depth;
    for (int c = 0; c < n_out; c++) {
      int32_t acc = q->bias[c];
      for (int k = 0; k < depth; k++) acc += (int32_t)x[k] * tm_w16_weight(wp, 4, c, k, depth);
      out[r * n_out + c] = tm_requant_ch(q, acc, c);
    }
  }
}
#endif

/*
 * FULLY_CONNECTED float32, the same floats as reference_ops::FullyConnected (each output sums its products
 * in order, then adds the bias). Weights come transposed, [depth][n_out], so outputs are the SIMD lanes.
 */
TM_KERNEL void tm_fully_connected_f32(int rows, int depth, int n_out, const tm_float_params *p, const float *in, const float *wt, float *out) {
  for (int r = 0; r < rows; r++) {
    const float *x = in + r * depth;
    float *dst = out + r * n_out;
    int c = 0;
#if TM_WASM_SIMD
    const v128_t lo = wasm_f32x4_splat(p->act_min), hi = wasm_f32x4_splat(p->act_max);
    for (; c + 8 <= n_out; c += 8) {
      v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0;
      const float *w = wt + c;
      for (int d = 0; d < depth; d++, w += n_out) {
        const v128_t xv = wasm_f32x4_splat(x[d]);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(xv, wasm_v128_load(w)));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(xv, wasm_v128_load(w + 4)));
      }
      a0 = wasm_f32x4_add(a0, wasm_v128_load(p->bias + c));
      a1 = wasm_f32x4_add(a1, wasm_v128_load(p->bias + c + 4));
      wasm_v128_store(dst + c, wasm_f32x4_pmin(wasm_f32x4_pmax(a0, lo), hi));
      wasm_v128_store(dst + c + 4, wasm_f32x4_pmin(wasm_f32x4_pmax(a1, lo), hi));
    }
#endif
    for (; c < n_out; c++) {
      float acc = 0.0f;
      for (int d = 0; d < depth; d++) acc += x[d] * wt[d * n_out + c];
      dst[c] = tm_clamp_f32(acc + p->bias[c], p->act_min, p->act_max);
    }
  }
}

#endif /* TM_FULLY_CONNECTED_H */
