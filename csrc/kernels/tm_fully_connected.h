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
