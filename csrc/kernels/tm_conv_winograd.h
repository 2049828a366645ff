/*
 * 3x3 stride-1 CONV_2D, int8, by Winograd's F(2x2, 3x3) in exact integers (WebAssembly SIMD only): each
 * 2x2 block of outputs ("tile") takes 16 products per input and output channel instead of 36, so the
 * multiply-bound GEMM does 2.25x fewer multiply-accumulates.
 *
 * Exact, so bit-identical to tm_conv2d_s8: with G2 = 2G = [[2,0,0],[1,1,1],[1,-1,1],[0,0,2]] every
 * transform is integer. The weights U = G2 g G2^T (|U| <= 9 * 128, int16) are transformed and packed at
 * load (src/runtime/wasm/packed_weights.ts, packWinogradWeights); the input tile d (4x4, padded taps hold
 * the zero point as in im2col) becomes V = B^T d B (|V| <= 4 * 128, int16); per position xi of the 4x4,
 * M[xi] = sum over input channels of U[xi] V[xi] (|M| <= in_c * 2^19.2); Y = A^T M A (nine terms) is four
 * times the convolution's sum, exactly, while in_c <= TM_WINO_MAX_IN_C keeps |Y| below 2^31. Y >> 2 plus
 * the folded bias is the reference's accumulator, requantised by the pixel-lane tile's code.
 *
 * Layout: eight tiles at a time are the eight pixel lanes of the tile GEMM (tm_gemm.h): per position xi,
 * the transformed input is packed [input-channel pair][tile][2] and meets U[xi]'s packed pairs.
 */
#ifndef TM_CONV_WINOGRAD_H
#define TM_CONV_WINOGRAD_H

#include "tm_conv2d.h"

#if TM_WASM_SIMD
/* Input channels the kernel takes: a multiple of 8 (one int16 vector per transform), at most this many. */
#define TM_WINO_MAX_IN_C 64
/* Output channels: the discarded outputs of a partial tile land in a buffer of this many bytes. */
#define TM_WINO_MAX_OUT_C 256

/* Whether a convolution takes the Winograd kernel (the loader packs its weights by the same test). */
TM_HELPER int tm_wino_takes(const tm_conv_shape *s) {
  return s->k_h == 3 && s->k_w == 3 && s->stride_h == 1 && s->stride_w == 1 && s->dil_h == 1 && s->dil_w == 1 &&
         s->in_c % 8 == 0 && s->in_c <= TM_WINO_MAX_IN_C && s->out_c <= TM_WINO_MAX_OUT_C;
}

/* V = B^T d B of one tile for input channels c .. c + 7 (d: the 16 input pixels, row by row): v[xi], int16. */
TM_HELPER void tm_wino_input_tile(const int8_t *const d[16], int c, v128_t v[16]) {
  v128_t t[16];
  for (int j = 0; j < 4; j++) {
    const v128_t d0 = wasm_i16x8_load8x8(d[j] + c), d1 = wasm_i16x8_load8x8(d[4 + j] + c);
    const v128_t d2 = wasm_i16x8_load8x8(d[8 + j] + c), d3 = wasm_i16x8_load8x8(d[12 + j] + c);
    t[j] = wasm_i16x8_sub(d0, d2);
    t[4 + j] = wasm_i16x8_add(d1, d2);
    t[8 + j] = wasm_i16x8_sub(d2, d1);
    t[12 + j] = wasm_i16x8_sub(d1, d3);
  }
  for (int i = 0; i < 4; i++) {
    const v128_t t0 = t[4 * i], t1 = t[4 * i + 1], t2 = t[4 * i + 2], t3 = t[4 * i + 3];
    v[4 * i] = wasm_i16x8_sub(t0, t2);
    v[4 * i + 1] = wasm_i16x8_add(t1, t2);
    v[4 * i + 2] = wasm_i16x8_sub(t2, t1);
    v[4 * i + 3] = wasm_i16x8_sub(t1, t3);
  }
}

/*
 * Four tiles' transforms (tv[tile][channel block][xi], each vector four channel pairs) into quad `quad` of
 * the packed input: a 4x4 transposition of 32-bit pairs makes each channel pair's four tiles one vector,
 * one store where the tiles' lanes would take four.
 */
TM_HELPER void tm_wino_pack_quad(const v128_t tv[4][TM_WINO_MAX_IN_C / 8][16], int cin, int16_t *xp, int xi_step, int quad) {
  for (int c8 = 0; c8 < cin >> 3; c8++)
    for (int xi = 0; xi < 16; xi++) {
      const v128_t a = tv[0][c8][xi], b = tv[1][c8][xi], c = tv[2][c8][xi], d = tv[3][c8][xi];
      const v128_t ab0 = wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), ab1 = wasm_i32x4_shuffle(a, b, 2, 6, 3, 7);
      const v128_t cd0 = wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), cd1 = wasm_i32x4_shuffle(c, d, 2, 6, 3, 7);
      int16_t *o = xp + xi * xi_step + c8 * 64 + quad * 8;
      wasm_v128_store(o, wasm_i32x4_shuffle(ab0, cd0, 0, 1, 4, 5));
      wasm_v128_store(o + 16, wasm_i32x4_shuffle(ab0, cd0, 2, 3, 6, 7));
      wasm_v128_store(o + 32, wasm_i32x4_shuffle(ab1, cd1, 0, 1, 4, 5));
      wasm_v128_store(o + 48, wasm_i32x4_shuffle(ab1, cd1, 2, 3, 6, 7));
    }
}

/* Y = A^T M A of one vector of tiles: y[0..3] the outputs (0,0), (0,1), (1,0), (1,1). */
TM_HELPER void tm_wino_output(const v128_t *m, int stride, v128_t y[4]) {
  v128_t r0[4], r1[4];
  for (int b = 0; b < 4; b++) {
    const v128_t m0 = m[b * stride], m1 = m[(4 + b) * stride], m2 = m[(8 + b) * stride], m3 = m[(12 + b) * stride];
    r0[b] = wasm_i32x4_add(wasm_i32x4_add(m0, m1), m2);
    r1[b] = wasm_i32x4_sub(wasm_i32x4_sub(m1, m2), m3);
  }
  y[0] = wasm_i32x4_add(wasm_i32x4_add(r0[0], r0[1]), r0[2]);
  y[1] = wasm_i32x4_sub(wasm_i32x4_sub(r0[1], r0[2]), r0[3]);
  y[2] = wasm_i32x4_add(wasm_i32x4_add(r1[0], r1[1]), r1[2]);
  y[3] = wasm_i32x4_sub(wasm_i32x4_sub(r1[1], r1[2]), r1[3]);
}

/*
 * M[xi] for one group of four output channels, per position xi: the packed input of the batch (xp, xi_step
 * values a position) times U[xi]'s packed pairs (wg, then xi_stride values on per position). m[8 xi + j]:
 * channel j for tiles 0-3, m[8 xi + 4 + j] for tiles 4-7 (when quads == 2; a constant at each call).
 */
TM_HELPER void tm_wino_products(const int16_t *xp, int xi_step, const int16_t *wg, size_t xi_stride, int pairs, v128_t *m, int quads) {
  for (int xi = 0; xi < 16; xi++) {
    v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    tm_wasm_dot_quads(xp + xi * xi_step, wg + xi * xi_stride, pairs, quads, &a0, &a1, &a2, &a3, &b0, &b1, &b2, &b3);
    v128_t *mx = m + 8 * xi;
    mx[0] = a0; mx[1] = a1; mx[2] = a2; mx[3] = a3;
    mx[4] = b0; mx[5] = b1; mx[6] = b2; mx[7] = b3;
  }
}

/*
 * wp: per position xi (16), U[xi] packed for the tile (tm_wasm_tile_gemm_packed's layout over in_c / 2
 * pairs and out_c channels). Other shapes go to tm_conv2d_s8.
 */
TM_KERNEL void tm_conv2d_winograd_s8(const tm_conv_shape *s, const tm_requant_params *q, const int8_t *in, const int8_t *w, int8_t *out, int8_t *scratch, const int16_t *wp) {
  if (!tm_wino_takes(s)) {
    tm_conv2d_s8(s, q, in, w, out, scratch);
    return;
  }
  const int cin = s->in_c, n_out = s->out_c, pairs = cin >> 1, groups = (n_out + 3) >> 2;
  const int tiles_w = (s->out_w + 1) >> 1, n_tiles = tiles_w * ((s->out_h + 1) >> 1);
  const int xi_step = pairs * 16; /* int16 values of one position's packed input */
  const int rq_mode = tm_wasm_rq_mode(q, n_out, (9 * cin + 1) >> 1);
  const v128_t zp = wasm_i32x4_splat(q->out_zp), lo = wasm_i32x4_splat(q->act_min), hi = wasm_i32x4_splat(q->act_max);
  int16_t xp[16 * TM_WINO_MAX_IN_C * 8] __attribute__((aligned(16)));
  v128_t m[16 * 8];
  v128_t tv[4][TM_WINO_MAX_IN_C / 8][16]; /* a quad of tiles' transforms, before tm_wino_pack_quad */
  int8_t zero_px[TM_WINO_MAX_IN_C] __attribute__((aligned(16)));
  int8_t discard[TM_WINO_MAX_OUT_C];
  tm_wasm_fill(zero_px, (int8_t)s->in_zp, cin);
  for (int t0 = 0; t0 < n_tiles; t0 += TM_WASM_TILE) {
    /* A last batch of at most four tiles takes one quad: lanes 4-7 are neither packed nor read. */
    const int quads = n_tiles - t0 > 4 ? 2 : 1;
    int8_t *dst[4][TM_WASM_TILE];
    for (int lane = 0; lane < TM_WASM_TILE; lane++) {
      if (lane >= 4 * quads) {
        for (int k = 0; k < 4; k++) dst[k][lane] = discard;
        continue;
      }
      /* A lane past the last tile repeats tile t0; its outputs are discarded. */
      const int t = t0 + lane < n_tiles ? t0 + lane : t0;
      const int ty = t / tiles_w, tx = t - ty * tiles_w;
      const int y0 = 2 * ty - s->pad_top, x0 = 2 * tx - s->pad_left;
      const int8_t *d[16];
      for (int i = 0; i < 4; i++) {
        const int iy = y0 + i;
        for (int j = 0; j < 4; j++) {
          const int ix = x0 + j;
          d[4 * i + j] = iy >= 0 && iy < s->in_h && ix >= 0 && ix < s->in_w ? in + (iy * s->in_w + ix) * cin : zero_px;
        }
      }
      for (int c = 0; c < cin; c += 8) tm_wino_input_tile(d, c, tv[lane & 3][c >> 3]);
      if ((lane & 3) == 3) tm_wino_pack_quad(tv, cin, xp, xi_step, lane >> 2);
      for (int k = 0; k < 4; k++) {
        const int oy = 2 * ty + (k >> 1), ox = 2 * tx + (k & 1);
        dst[k][lane] = t0 + lane < n_tiles && oy < s->out_h && ox < s->out_w ? out + (oy * s->out_w + ox) * n_out : discard;
      }
    }
    for (int g = 0; g < groups; g++) {
      const int c = 4 * g, nv = TM_MIN(4, n_out - c);
      const int16_t *wg = wp + (size_t)g * pairs * 8;
      if (quads == 2) tm_wino_products(xp, xi_step, wg, (size_t)groups * pairs * 8, pairs, m, 2);
      else tm_wino_products(xp, xi_step, wg, (size_t)groups * pairs * 8, pairs, m, 1);
      /* Channels past the last (a short last group) borrow the last channel's constants; they are not stored. */
      v128_t y[8][4];
      for (int j = 0; j < 4; j++) {
        const int ch = c + TM_MIN(j, nv - 1);
        const v128_t bias = wasm_i32x4_splat(q->bias[ch]);
        for (int h = 0; h < 2; h++) {
          v128_t r[4];
          tm_wino_output(m + 4 * h + j, 8, r);
          for (int k = 0; k < 4; k++) y[4 * h + j][k] = wasm_i32x4_add(wasm_i32x4_shr(r[k], 2), bias);
        }
        for (int k = 0; k < 4; k++) tm_wasm_rq_quads(&y[j][k], &y[4 + j][k], 2, q->mult[ch], q->shift[ch], zp, lo, hi, rq_mode ? rq_mode : tm_wasm_rq_wide_ch(q, ch));
      }
      for (int k = 0; k < 4; k++) tm_wasm_store_quads(dst[k], c, TM_WASM_TILE, nv, y[0][k], y[1][k], y[2][k], y[3][k], y[4][k], y[5][k], y[6][k], y[7][k]);
    }
  }
}
#endif

#endif /* TM_CONV_WINOGRAD_H */
