/*
 * float32 training kernels: the forward of the layers training runs at batch B, and their backward
 * (input, weight and bias gradients). NHWC activations, OHWI conv filters, [1][k_h][k_w][C*M] depthwise
 * filters, [units][K] fully-connected weights, as the TypeScript kernels of src/train/kernels (the reference these match).
 *
 * Unlike the inference kernels these do not reproduce TFLite's summation order: training only needs float
 * accuracy, so convolutions and fully-connected layers run as one matrix product (im2col + GEMM), blocked
 * for SIMD. The im2col works on TM_TRAIN_COLS output pixels at a time, so scratch stays small (a kernel's
 * scratch size comes from its tm_train_*_scratch function) and the block stays in cache.
 */
#ifndef TM_TRAIN_F32_H
#define TM_TRAIN_F32_H

#include "tm_common.h"

#ifndef TM_TRAIN_COLS
#define TM_TRAIN_COLS 64
#endif

/* The geometry of a window op at batch B (src/ops/conv_util.ts Window2D). */
typedef struct {
  int32_t batches, in_h, in_w, in_c;
  int32_t out_h, out_w;
  int32_t k_h, k_w;
  int32_t stride_h, stride_w;
  int32_t dil_h, dil_w;
  int32_t pad_top, pad_left;
} tm_train_window;

#define TM_F32_LOWEST (-3.40282347e+38f)
#if defined(__GNUC__)
#define TM_F32_NEG_INF (-__builtin_inff())
#else
#define TM_F32_NEG_INF TM_F32_LOWEST
#endif

/* ------------------------------------------------------------------------------------------------ */
/* The matrix product every layer reduces to                                                       */

#if TM_WASM_SIMD
/*
 * Four rows by eight columns: eight accumulators, two loads of b and four splats of a per step, which
 * fits the sixteen vector registers with room for the compiler.
 */
TM_HELPER void tm_train_tile_4x8(int K, const float *a, int a_m, int a_k, const float *b, int ldb, float *c, int ldc, int accumulate) {
  v128_t c00, c01, c10, c11, c20, c21, c30, c31;
  if (accumulate) {
    c00 = wasm_v128_load(c), c01 = wasm_v128_load(c + 4);
    c10 = wasm_v128_load(c + ldc), c11 = wasm_v128_load(c + ldc + 4);
    c20 = wasm_v128_load(c + 2 * ldc), c21 = wasm_v128_load(c + 2 * ldc + 4);
    c30 = wasm_v128_load(c + 3 * ldc), c31 = wasm_v128_load(c + 3 * ldc + 4);
  } else {
    c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = wasm_f32x4_splat(0.0f);
  }
  const float *a0 = a, *a1 = a + a_m, *a2 = a + 2 * a_m, *a3 = a + 3 * a_m;
  for (int k = 0; k < K; k++, b += ldb, a0 += a_k, a1 += a_k, a2 += a_k, a3 += a_k) {
    const v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
    v128_t x = wasm_v128_load32_splat(a0);
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(x, b0));
    c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(x, b1));
    x = wasm_v128_load32_splat(a1);
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(x, b0));
    c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(x, b1));
    x = wasm_v128_load32_splat(a2);
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(x, b0));
    c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(x, b1));
    x = wasm_v128_load32_splat(a3);
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(x, b0));
    c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(x, b1));
  }
  wasm_v128_store(c, c00), wasm_v128_store(c + 4, c01);
  wasm_v128_store(c + ldc, c10), wasm_v128_store(c + ldc + 4, c11);
  wasm_v128_store(c + 2 * ldc, c20), wasm_v128_store(c + 2 * ldc + 4, c21);
  wasm_v128_store(c + 3 * ldc, c30), wasm_v128_store(c + 3 * ldc + 4, c31);
}

/* One row by `vecs` (1 or 2) vectors of four columns: the edges of the 4x8 tiling. */
TM_HELPER void tm_train_tile_1xv(int vecs, int K, const float *a, int a_k, const float *b, int ldb, float *c, int accumulate) {
  v128_t c0 = accumulate ? wasm_v128_load(c) : wasm_f32x4_splat(0.0f);
  if (vecs == 2) {
    v128_t c1 = accumulate ? wasm_v128_load(c + 4) : wasm_f32x4_splat(0.0f);
    for (int k = 0; k < K; k++, b += ldb, a += a_k) {
      const v128_t x = wasm_v128_load32_splat(a);
      c0 = wasm_f32x4_add(c0, wasm_f32x4_mul(x, wasm_v128_load(b)));
      c1 = wasm_f32x4_add(c1, wasm_f32x4_mul(x, wasm_v128_load(b + 4)));
    }
    wasm_v128_store(c + 4, c1);
  } else {
    for (int k = 0; k < K; k++, b += ldb, a += a_k) c0 = wasm_f32x4_add(c0, wasm_f32x4_mul(wasm_v128_load32_splat(a), wasm_v128_load(b)));
  }
  wasm_v128_store(c, c0);
}
#endif

/* One entry of the product, for the columns SIMD leaves over (and every entry without SIMD). */
TM_HELPER void tm_train_dot(int K, const float *a, int a_k, const float *b, int ldb, float *c, int accumulate) {
  float s = accumulate ? *c : 0.0f;
  for (int k = 0; k < K; k++, a += a_k, b += ldb) s += *a * *b;
  *c = s;
}

/*
 * c[m][n] (+)= sum over k of a(m, k) * b[k][n], with a(m, k) = a[m * a_m + k * a_k]: the strides let one
 * routine take a as stored or transposed (a weight gradient sums over pixels, the rows of dZ). Rows of b
 * and c are contiguous; the columns are the SIMD lanes.
 */
static void tm_train_gemm(int M, int N, int K, const float *a, int a_m, int a_k, const float *b, int ldb, float *c, int ldc, int accumulate) {
  int m = 0;
#if TM_WASM_SIMD
  for (; m + 4 <= M; m += 4) {
    const float *am = a + m * a_m;
    float *cm = c + m * ldc;
    int n = 0;
    for (; n + 8 <= N; n += 8) tm_train_tile_4x8(K, am, a_m, a_k, b + n, ldb, cm + n, ldc, accumulate);
    for (int r = 0; r < 4; r++) {
      int e = n;
      if (e + 4 <= N) {
        tm_train_tile_1xv(1, K, am + r * a_m, a_k, b + e, ldb, cm + r * ldc + e, accumulate);
        e += 4;
      }
      for (; e < N; e++) tm_train_dot(K, am + r * a_m, a_k, b + e, ldb, cm + r * ldc + e, accumulate);
    }
  }
#endif
  for (; m < M; m++) {
    const float *am = a + m * a_m;
    float *cm = c + m * ldc;
    int n = 0;
#if TM_WASM_SIMD
    for (; n + 8 <= N; n += 8) tm_train_tile_1xv(2, K, am, a_k, b + n, ldb, cm + n, accumulate);
    if (n + 4 <= N) {
      tm_train_tile_1xv(1, K, am, a_k, b + n, ldb, cm + n, accumulate);
      n += 4;
    }
#endif
    for (; n < N; n++) tm_train_dot(K, am, a_k, b + n, ldb, cm + n, accumulate);
  }
}

/* out[j][i] = in[i][j] for an rows x cols matrix. */
static void tm_train_transpose(int rows, int cols, const float *in, float *out) {
  for (int i = 0; i < rows; i++) {
    for (int j = 0; j < cols; j++) out[j * rows + i] = in[i * cols + j];
  }
}

/* ------------------------------------------------------------------------------------------------ */
/* im2col over blocks of output pixels                                                              */

/*
 * n floats copied / zeroed. In WebAssembly memcpy and memset become memory.copy / memory.fill, which the
 * engine runs as a call out of the module: dear for the few floats of one tap, so copy in registers.
 * Written without a loop over single floats, which the compiler would turn back into memory.copy.
 */
TM_HELPER void tm_train_copy(float *dst, const float *src, int n) {
#if TM_WASM_SIMD
  int j = 0;
  for (; j + 4 <= n; j += 4) wasm_v128_store(dst + j, wasm_v128_load(src + j));
  if (j < n) dst[j] = src[j];
  if (j + 1 < n) dst[j + 1] = src[j + 1];
  if (j + 2 < n) dst[j + 2] = src[j + 2];
#else
  memcpy(dst, src, (size_t)n * sizeof(float));
#endif
}

TM_HELPER void tm_train_zero(float *dst, int n) {
#if TM_WASM_SIMD
  int j = 0;
  for (; j + 4 <= n; j += 4) wasm_v128_store(dst + j, wasm_f32x4_splat(0.0f));
  if (j < n) dst[j] = 0.0f;
  if (j + 1 < n) dst[j + 1] = 0.0f;
  if (j + 2 < n) dst[j + 2] = 0.0f;
#else
  memset(dst, 0, (size_t)n * sizeof(float));
#endif
}

/* A convolution whose columns are its input rows as they lie (1x1, stride 1, no padding): no im2col. */
TM_HELPER int tm_train_is_pointwise(const tm_train_window *w) {
  return w->k_h == 1 && w->k_w == 1 && w->stride_h == 1 && w->stride_w == 1 && w->pad_top == 0 && w->pad_left == 0 &&
         w->out_h == w->in_h && w->out_w == w->in_w;
}

/*
 * Columns of output pixels p0 .. p0 + n (pixels numbered over the whole batch): row p holds, tap by tap,
 * the input channels pick[0 .. n_pick) (pick NULL: channels 0 .. n_pick) of the input pixel under that
 * tap, zeros where the tap falls in the padding. x has x_c channels.
 */
static void tm_train_im2col(const tm_train_window *w, const float *x, int x_c, const int32_t *pick, int n_pick, int p0, int n, float *col) {
  const int plane = w->out_h * w->out_w;
  const int K = w->k_h * w->k_w * n_pick;
  /* Taps of one filter row are adjacent input pixels: where all lie inside, their channels are one run. */
  const int runs = !pick && n_pick == x_c && w->dil_w == 1;
  for (int p = 0; p < n; p++) {
    const int q = p0 + p, b = q / plane, oy = (q - b * plane) / w->out_w, ox = q - b * plane - oy * w->out_w;
    const int ix0 = ox * w->stride_w - w->pad_left;
    const int row_inside = ix0 >= 0 && ix0 + w->k_w <= w->in_w;
    float *row = col + p * K;
    for (int ky = 0; ky < w->k_h; ky++) {
      const int iy = oy * w->stride_h - w->pad_top + ky * w->dil_h;
      if (iy < 0 || iy >= w->in_h) {
        tm_train_zero(row, w->k_w * n_pick);
        row += w->k_w * n_pick;
        continue;
      }
      const float *line = x + (b * w->in_h + iy) * w->in_w * x_c;
      if (runs && row_inside) {
        tm_train_copy(row, line + ix0 * x_c, w->k_w * n_pick);
        row += w->k_w * n_pick;
        continue;
      }
      for (int kx = 0; kx < w->k_w; kx++, row += n_pick) {
        const int ix = ix0 + kx * w->dil_w;
        if (ix < 0 || ix >= w->in_w) {
          tm_train_zero(row, n_pick);
          continue;
        }
        const float *src = line + ix * x_c;
        if (pick) {
          for (int j = 0; j < n_pick; j++) row[j] = src[pick[j]];
        } else {
          tm_train_copy(row, src, n_pick);
        }
      }
    }
  }
}

/* The adjoint of tm_train_im2col (all channels): each column entry added back onto its input pixel. */
static void tm_train_col2im_add(const tm_train_window *w, const float *col, int p0, int n, float *dx) {
  const int plane = w->out_h * w->out_w, C = w->in_c;
  const int K = w->k_h * w->k_w * C;
  for (int p = 0; p < n; p++) {
    const int q = p0 + p, b = q / plane, oy = (q - b * plane) / w->out_w, ox = q - b * plane - oy * w->out_w;
    const float *row = col + p * K;
    for (int ky = 0; ky < w->k_h; ky++) {
      const int iy = oy * w->stride_h - w->pad_top + ky * w->dil_h;
      for (int kx = 0; kx < w->k_w; kx++, row += C) {
        const int ix = ox * w->stride_w - w->pad_left + kx * w->dil_w;
        if (iy < 0 || iy >= w->in_h || ix < 0 || ix >= w->in_w) continue;
        float *dst = dx + ((b * w->in_h + iy) * w->in_w + ix) * C;
        int c = 0;
#if TM_WASM_SIMD
        for (; c + 4 <= C; c += 4) wasm_v128_store(dst + c, wasm_f32x4_add(wasm_v128_load(dst + c), wasm_v128_load(row + c)));
#endif
        for (; c < C; c++) dst[c] += row[c];
      }
    }
  }
}

/* y[r][c] = clamp(y[r][c] + bias[c]) over rows x cols (bias NULL: none). */
static void tm_train_bias_act(int rows, int cols, const float *bias, float act_min, float act_max, float *y) {
  for (int r = 0; r < rows; r++, y += cols) {
    int c = 0;
#if TM_WASM_SIMD
    const v128_t lo = wasm_f32x4_splat(act_min), hi = wasm_f32x4_splat(act_max);
    for (; c + 4 <= cols; c += 4) {
      v128_t v = wasm_v128_load(y + c);
      if (bias) v = wasm_f32x4_add(v, wasm_v128_load(bias + c));
      wasm_v128_store(y + c, wasm_f32x4_pmin(wasm_f32x4_pmax(v, lo), hi));
    }
#endif
    for (; c < cols; c++) y[c] = tm_clamp_f32(bias ? y[c] + bias[c] : y[c], act_min, act_max);
  }
}

/* ------------------------------------------------------------------------------------------------ */
/* CONV_2D (groups = 1)                                                                              */

/* Floats of scratch any of the three CONV_2D kernels needs (n_pick <= in_c channels in the columns). */
TM_KERNEL int32_t tm_train_conv2d_scratch(const tm_train_window *w, int32_t cout) {
  const int32_t K = w->k_h * w->k_w * w->in_c;
  return K * cout + TM_TRAIN_COLS * K;
}

/* y = act(conv(x, W) + bias); W OHWI [cout][k_h][k_w][in_c]. */
TM_KERNEL void tm_train_conv2d_f32(const tm_train_window *w, int32_t cout, const float *x, const float *wt, const float *bias, float act_min, float act_max, float *y, float *scratch) {
  const int K = w->k_h * w->k_w * w->in_c, pixels = w->batches * w->out_h * w->out_w;
  float *wt_t = scratch, *col = scratch + K * cout;
  /* [K][cout]: output channels become the product's contiguous columns. */
  tm_train_transpose(cout, K, wt, wt_t);
  const int direct = tm_train_is_pointwise(w);
  for (int p0 = 0; p0 < pixels; p0 += TM_TRAIN_COLS) {
    const int n = TM_MIN(TM_TRAIN_COLS, pixels - p0);
    const float *a = direct ? x + p0 * K : col;
    if (!direct) tm_train_im2col(w, x, w->in_c, 0, w->in_c, p0, n, col);
    tm_train_gemm(n, cout, K, a, K, 1, wt_t, cout, y + p0 * cout, cout, 0);
    /* Before a batch normalisation there is neither bias nor activation: no pass at all. */
    if (bias || act_min > TM_F32_NEG_INF || act_max < -TM_F32_NEG_INF) tm_train_bias_act(n, cout, bias, act_min, act_max, y + p0 * cout);
  }
}

/*
 * dX (+)= the input gradient: dX[pixel under tap t of p] += sum over co of dZ[p][co] * W[co][t][:].
 * wt is the filter transposed to [tap][cout][in_c] (as src/train/kernels/conv.ts takes it); it is put back
 * to [cout][K] so each block's column gradients are one product dZ W with all K columns as lanes.
 */
TM_KERNEL void tm_train_conv2d_input_grad_f32(const tm_train_window *w, int32_t cout, const float *dz, const float *wt, float *dx, int32_t accumulate, float *scratch) {
  const int C = w->in_c, taps = w->k_h * w->k_w, K = taps * C, pixels = w->batches * w->out_h * w->out_w;
  float *wk = scratch, *dcol = scratch + K * cout;
  for (int t = 0; t < taps; t++) {
    for (int co = 0; co < cout; co++) tm_train_copy(wk + co * K + t * C, wt + (t * cout + co) * C, C);
  }
  if (tm_train_is_pointwise(w)) {
    /* The columns are dX's own rows: the product goes straight into them (no zeroing pass, no col2im pass). */
    tm_train_gemm(pixels, K, cout, dz, cout, 1, wk, K, dx, K, accumulate);
    return;
  }
  if (!accumulate) memset(dx, 0, (size_t)w->batches * w->in_h * w->in_w * C * sizeof(float));
  for (int p0 = 0; p0 < pixels; p0 += TM_TRAIN_COLS) {
    const int n = TM_MIN(TM_TRAIN_COLS, pixels - p0);
    tm_train_gemm(n, K, cout, dz + p0 * cout, cout, 1, wk, K, dcol, K, 0);
    tm_train_col2im_add(w, dcol, p0, n, dx);
  }
}

/*
 * dW[co][t][j] = sum over pixels of dZ[p][co] * X[pixel under t][pick[j]] (pick NULL: n_pick = x_c, all
 * channels): dZ transposed times the columns, block by block. When K leaves SIMD remainders and cout does
 * not (a first layer: K = 9), the transposed product dW^T = columns^T dZ keeps every lane busy instead.
 */
TM_KERNEL void tm_train_conv2d_weight_grad_f32(const tm_train_window *w, int32_t cout, const float *dz, const float *x, int32_t x_c, const int32_t *pick, int32_t n_pick, float *out, float *scratch) {
  const int K = w->k_h * w->k_w * n_pick, pixels = w->batches * w->out_h * w->out_w;
  const int direct = !pick && n_pick == x_c && tm_train_is_pointwise(w);
  const int transposed = (K & 3) != 0 && (cout & 3) == 0;
  float *dwt = scratch, *col = scratch + K * cout;
  if (pixels == 0) memset(out, 0, (size_t)cout * K * sizeof(float));
  for (int p0 = 0; p0 < pixels; p0 += TM_TRAIN_COLS) {
    const int n = TM_MIN(TM_TRAIN_COLS, pixels - p0);
    const float *b = direct ? x + p0 * K : col;
    if (!direct) tm_train_im2col(w, x, x_c, pick, n_pick, p0, n, col);
    if (transposed) tm_train_gemm(K, cout, n, b, 1, K, dz + p0 * cout, cout, dwt, cout, p0 > 0);
    else tm_train_gemm(cout, K, n, dz + p0 * cout, 1, cout, b, K, out, K, p0 > 0);
  }
  if (transposed && pixels > 0) tm_train_transpose(K, cout, dwt, out);
}

/* dB[c] = sum of dZ over every row of `channels` values. */
TM_KERNEL void tm_train_bias_grad_f32(int32_t n, int32_t channels, const float *dz, float *out) {
  memset(out, 0, (size_t)channels * sizeof(float));
  for (int i = 0; i < n; i += channels) {
    const float *row = dz + i;
    int c = 0;
#if TM_WASM_SIMD
    for (; c + 4 <= channels; c += 4) wasm_v128_store(out + c, wasm_f32x4_add(wasm_v128_load(out + c), wasm_v128_load(row + c)));
#endif
    for (; c < channels; c++) out[c] += row[c];
  }
}

/* ------------------------------------------------------------------------------------------------ */
/* FULLY_CONNECTED (weights [units][K])                                                              */

/* Floats of scratch the FULLY_CONNECTED kernels need. */
TM_KERNEL int32_t tm_train_fc_scratch(int32_t batches, int32_t K, int32_t units) {
  return TM_MAX(K * units, batches * K);
}

/* y[b] = act(W x[b] + bias). */
TM_KERNEL void tm_train_fc_f32(int32_t batches, int32_t K, int32_t units, const float *x, const float *wt, const float *bias, float act_min, float act_max, float *y, float *scratch) {
  tm_train_transpose(units, K, wt, scratch);
  tm_train_gemm(batches, units, K, x, K, 1, scratch, units, y, units, 0);
  tm_train_bias_act(batches, units, bias, act_min, act_max, y);
}

/* dX[b][k] (+)= sum over u of dZ[b][u] * W[u][k]. */
TM_KERNEL void tm_train_fc_input_grad_f32(int32_t batches, int32_t units, int32_t K, const float *dz, const float *wt, float *dx, int32_t accumulate) {
  tm_train_gemm(batches, K, units, dz, units, 1, wt, K, dx, K, accumulate);
}

/* out[u][j] = sum over b of dZ[b][u] * X[b][pick[j]], X rows of x_k values (pick NULL: all x_k). */
TM_KERNEL void tm_train_fc_weight_grad_f32(int32_t batches, int32_t units, const float *dz, const float *x, int32_t x_k, const int32_t *pick, int32_t n_pick, float *out, float *scratch) {
  const float *b = x;
  if (pick) {
    for (int r = 0; r < batches; r++) {
      for (int j = 0; j < n_pick; j++) scratch[r * n_pick + j] = x[r * x_k + pick[j]];
    }
    b = scratch;
  }
  if (batches == 0) memset(out, 0, (size_t)units * n_pick * sizeof(float));
  else tm_train_gemm(units, n_pick, batches, dz, 1, units, b, pick ? n_pick : x_k, out, n_pick, 0);
}

/* ------------------------------------------------------------------------------------------------ */
/* DEPTHWISE_CONV_2D (filter [1][k_h][k_w][C*M], output channel c*M + m reads input channel c)         */
/*
 * Multiplier 1 (every depthwise layer of the NAS space) runs register-blocked: each output (or input)
 * pixel lists its in-bounds taps once, then every run of 16 channels keeps its four f32x4 sums in
 * registers across the k x k taps and stores once, instead of a load-add-store of the pixel per tap.
 * Other multipliers, and windows over TM_TRAIN_DW_TAPS taps, take the plain per-tap loops.
 */

#define TM_TRAIN_DW_TAPS 64

/* Floats of scratch tm_train_depthwise_weight_grad_f32 needs. */
TM_KERNEL int32_t tm_train_depthwise_scratch(const tm_train_window *w, int32_t rows) {
  return w->k_h * w->k_w * rows;
}

#if TM_WASM_SIMD
/*
 * Four f32x4 sums over the n listed taps of a[a_off[t] + c .. +16] * b[b_off[t] + c .. +16], then the
 * remaining whole vectors one at a time; returns the channels it did (a multiple of 4). dst gets
 * act(sum + bias) (bias may be NULL), or with add_to the taps added to dst one by one, in list order.
 */
TM_HELPER int tm_train_dw_taps_simd(int C, int n, const int *a_off, const float *a, const int *b_off, const float *b,
                                    const float *bias, v128_t lo, v128_t hi, int add_to, float *dst) {
  int c = 0;
  for (; c + 16 <= C; c += 16) {
    v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
    if (add_to) { s0 = wasm_v128_load(dst + c); s1 = wasm_v128_load(dst + c + 4); s2 = wasm_v128_load(dst + c + 8); s3 = wasm_v128_load(dst + c + 12); }
    for (int t = 0; t < n; t++) {
      const float *p = a + a_off[t] + c, *f = b + b_off[t] + c;
      s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(p), wasm_v128_load(f)));
      s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(p + 4), wasm_v128_load(f + 4)));
      s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(wasm_v128_load(p + 8), wasm_v128_load(f + 8)));
      s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(wasm_v128_load(p + 12), wasm_v128_load(f + 12)));
    }
    if (!add_to) {
      if (bias) {
        s0 = wasm_f32x4_add(s0, wasm_v128_load(bias + c));
        s1 = wasm_f32x4_add(s1, wasm_v128_load(bias + c + 4));
        s2 = wasm_f32x4_add(s2, wasm_v128_load(bias + c + 8));
        s3 = wasm_f32x4_add(s3, wasm_v128_load(bias + c + 12));
      }
      s0 = wasm_f32x4_pmin(wasm_f32x4_pmax(s0, lo), hi);
      s1 = wasm_f32x4_pmin(wasm_f32x4_pmax(s1, lo), hi);
      s2 = wasm_f32x4_pmin(wasm_f32x4_pmax(s2, lo), hi);
      s3 = wasm_f32x4_pmin(wasm_f32x4_pmax(s3, lo), hi);
    }
    wasm_v128_store(dst + c, s0);
    wasm_v128_store(dst + c + 4, s1);
    wasm_v128_store(dst + c + 8, s2);
    wasm_v128_store(dst + c + 12, s3);
  }
  for (; c + 4 <= C; c += 4) {
    v128_t s = add_to ? wasm_v128_load(dst + c) : wasm_f32x4_splat(0.0f);
    for (int t = 0; t < n; t++) s = wasm_f32x4_add(s, wasm_f32x4_mul(wasm_v128_load(a + a_off[t] + c), wasm_v128_load(b + b_off[t] + c)));
    if (!add_to) {
      if (bias) s = wasm_f32x4_add(s, wasm_v128_load(bias + c));
      s = wasm_f32x4_pmin(wasm_f32x4_pmax(s, lo), hi);
    }
    wasm_v128_store(dst + c, s);
  }
  return c;
}
#endif

/* The same for channels [c, C), one float at a time. */
TM_HELPER void tm_train_dw_taps_scalar(int c, int C, int n, const int *a_off, const float *a, const int *b_off, const float *b,
                                       const float *bias, float act_min, float act_max, int add_to, float *dst) {
  for (; c < C; c++) {
    float s = add_to ? dst[c] : 0.0f;
    for (int t = 0; t < n; t++) s += a[a_off[t] + c] * b[b_off[t] + c];
    dst[c] = add_to ? s : tm_clamp_f32(bias ? s + bias[c] : s, act_min, act_max);
  }
}

/* The in-bounds taps of output pixel (b, oy, ox): input offsets (pixel * C) and filter offsets. Returns how many. */
TM_HELPER int tm_train_dw_out_taps(const tm_train_window *w, int b, int oy, int ox, int *x_off, int *f_off) {
  const int C = w->in_c;
  int n = 0;
  for (int ky = 0; ky < w->k_h; ky++) {
    const int iy = oy * w->stride_h - w->pad_top + ky * w->dil_h;
    if (iy < 0 || iy >= w->in_h) continue;
    for (int kx = 0; kx < w->k_w; kx++) {
      const int ix = ox * w->stride_w - w->pad_left + kx * w->dil_w;
      if (ix < 0 || ix >= w->in_w) continue;
      x_off[n] = ((b * w->in_h + iy) * w->in_w + ix) * C;
      f_off[n++] = (ky * w->k_w + kx) * C;
    }
  }
  return n;
}

/*
 * The taps whose output pixel reads input pixel (b, iy, ix): dZ offsets (pixel * C) and filter offsets,
 * in increasing output pixel (so decreasing tap) order: the order the per-tap loop adds them in.
 */
TM_HELPER int tm_train_dw_in_taps(const tm_train_window *w, int b, int iy, int ix, int *g_off, int *f_off) {
  const int C = w->in_c;
  int n = 0;
  for (int ky = w->k_h - 1; ky >= 0; ky--) {
    const int ty = iy + w->pad_top - ky * w->dil_h;
    if (ty < 0 || ty % w->stride_h) continue;
    const int oy = ty / w->stride_h;
    if (oy >= w->out_h) continue;
    for (int kx = w->k_w - 1; kx >= 0; kx--) {
      const int tx = ix + w->pad_left - kx * w->dil_w;
      if (tx < 0 || tx % w->stride_w) continue;
      const int ox = tx / w->stride_w;
      if (ox >= w->out_w) continue;
      g_off[n] = ((b * w->out_h + oy) * w->out_w + ox) * C;
      f_off[n++] = (ky * w->k_w + kx) * C;
    }
  }
  return n;
}

#if TM_WASM_SIMD
/* Widest filter the sliding-row forward takes (its filter row is read once per block, not held). */
#define TM_TRAIN_DW_ROW_K 16

/*
 * One filter row of four adjacent pixels: a window of four vectors (pixels C floats apart from v) slides one
 * pixel per tap while the filter vector steps by `wstep` floats (C forwards for the forward pass, -C for the
 * input gradient's mirrored taps); each pixel adds its products in tap order. Inlined: the sums stay in locals.
 */
TM_HELPER void tm_train_slide4(const float *v, const float *wr, int wstep, int kw, int C, v128_t *pa0, v128_t *pa1, v128_t *pa2, v128_t *pa3) {
  v128_t a0 = *pa0, a1 = *pa1, a2 = *pa2, a3 = *pa3;
  v128_t x0 = wasm_v128_load(v), x1 = wasm_v128_load(v + C), x2 = wasm_v128_load(v + 2 * C), x3 = wasm_v128_load(v + 3 * C);
  for (int k = 0; k < kw; k++) {
    const v128_t f = wasm_v128_load(wr + k * wstep);
    a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(x0, f));
    a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(x1, f));
    a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(x2, f));
    a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(x3, f));
    x0 = x1, x1 = x2, x2 = x3;
    if (k + 1 < kw) x3 = wasm_v128_load(v + (k + 4) * C);
  }
  *pa0 = a0; *pa1 = a1; *pa2 = a2; *pa3 = a3;
}

/*
 * Multiplier 1, stride and dilation 1: four adjacent output pixels of row (b, oy) from ox, whose taps all
 * lie inside the input columns, for every channel (C a multiple of 4). Along a filter row the four pixels
 * slide over the same input pixels: a window of four input vectors moves one pixel per tap, so each input
 * vector and each filter vector is loaded once per filter row instead of once per tap and pixel. Each
 * pixel still adds its taps in (ky, kx) order, from zero, then the bias: the per-tap loop's floats.
 */
TM_HELPER void tm_train_dw_row4(const tm_train_window *w, int b, int oy, int ox, int ky0, int ky1, const float *x, const float *wt, const float *bias, v128_t lo, v128_t hi, float *y) {
  const int C = w->in_c, kw = w->k_w;
  for (int c = 0; c < C; c += 4) {
    v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
    for (int ky = ky0; ky < ky1; ky++) {
      const float *xr = x + ((size_t)(b * w->in_h + oy - w->pad_top + ky) * w->in_w + ox - w->pad_left) * C + c;
      const float *wr = wt + ky * kw * C + c;
      tm_train_slide4(xr, wr, C, kw, C, &a0, &a1, &a2, &a3);
    }
    if (bias) {
      const v128_t bv = wasm_v128_load(bias + c);
      a0 = wasm_f32x4_add(a0, bv), a1 = wasm_f32x4_add(a1, bv), a2 = wasm_f32x4_add(a2, bv), a3 = wasm_f32x4_add(a3, bv);
    }
    float *o = y + ((size_t)(b * w->out_h + oy) * w->out_w + ox) * C + c;
    wasm_v128_store(o, wasm_f32x4_pmin(wasm_f32x4_pmax(a0, lo), hi));
    wasm_v128_store(o + C, wasm_f32x4_pmin(wasm_f32x4_pmax(a1, lo), hi));
    wasm_v128_store(o + 2 * C, wasm_f32x4_pmin(wasm_f32x4_pmax(a2, lo), hi));
    wasm_v128_store(o + 3 * C, wasm_f32x4_pmin(wasm_f32x4_pmax(a3, lo), hi));
  }
}
#endif

/*
 * Multiplier 1: y = act(bias + sum over taps in (ky, kx) order), the order of the per-tap loop. With SIMD,
 * stride and dilation 1 and C a multiple of 4, the columns whose taps all lie inside go four at a time
 * through tm_train_dw_row4; the rest list their taps pixel by pixel.
 */
static void tm_train_depthwise_m1_f32(const tm_train_window *w, const float *x, const float *wt, const float *bias, float act_min, float act_max, float *y) {
  const int C = w->in_c;
  int x_off[TM_TRAIN_DW_TAPS], f_off[TM_TRAIN_DW_TAPS];
#if TM_WASM_SIMD
  /* Interior columns [in0, in1): ox - pad_left >= 0 and ox - pad_left + k_w <= in_w. */
  int in0 = 0, in1 = 0;
  const v128_t lo = wasm_f32x4_splat(act_min), hi = wasm_f32x4_splat(act_max);
  if (w->stride_h == 1 && w->stride_w == 1 && w->dil_h == 1 && w->dil_w == 1 && (C & 3) == 0 && w->k_w <= TM_TRAIN_DW_ROW_K) {
    in0 = TM_MIN(w->pad_left, w->out_w);
    in1 = TM_MIN(w->in_w - w->k_w + w->pad_left + 1, w->out_w);
    if (in1 < in0) in1 = in0;
  }
#endif
  for (int b = 0; b < w->batches; b++) {
    for (int oy = 0; oy < w->out_h; oy++) {
      for (int ox = 0; ox < w->out_w; ox++) {
#if TM_WASM_SIMD
        if (ox >= in0 && ox + 4 <= in1) {
          const int ky0 = TM_MAX(0, w->pad_top - oy), ky1 = TM_MIN(w->k_h, w->in_h + w->pad_top - oy);
          tm_train_dw_row4(w, b, oy, ox, ky0, ky1, x, wt, bias, lo, hi, y);
          ox += 3;
          continue;
        }
#endif
        float *yp = y + ((size_t)(b * w->out_h + oy) * w->out_w + ox) * C;
        const int n = tm_train_dw_out_taps(w, b, oy, ox, x_off, f_off);
        int c = 0;
#if TM_WASM_SIMD
        c = tm_train_dw_taps_simd(C, n, x_off, x, f_off, wt, bias, lo, hi, 0, yp);
#endif
        tm_train_dw_taps_scalar(c, C, n, x_off, x, f_off, wt, bias, act_min, act_max, 0, yp);
      }
    }
  }
}

/*
 * Multiplier 1 over a pointwise window (1x1, stride 1, no padding: the scale and shift after a batch
 * normalisation): every pixel's channels times the filter, elementwise. out = act(a * w + bias), or with
 * add_to out + a * w: the floats of the tap loops, which add the one product to 0 or to dx.
 */
static void tm_train_depthwise_pointwise_f32(int pixels, int C, const float *a, const float *wt, const float *bias, float act_min, float act_max, int add_to, float *out) {
  for (int q = 0; q < pixels; q++, a += C, out += C) {
    int c = 0;
#if TM_WASM_SIMD
    const v128_t lo = wasm_f32x4_splat(act_min), hi = wasm_f32x4_splat(act_max);
    for (; c + 4 <= C; c += 4) {
      v128_t v = wasm_f32x4_mul(wasm_v128_load(a + c), wasm_v128_load(wt + c));
      if (add_to) {
        v = wasm_f32x4_add(wasm_v128_load(out + c), v);
      } else {
        if (bias) v = wasm_f32x4_add(v, wasm_v128_load(bias + c));
        v = wasm_f32x4_pmin(wasm_f32x4_pmax(v, lo), hi);
      }
      wasm_v128_store(out + c, v);
    }
#endif
    for (; c < C; c++) out[c] = add_to ? out[c] + a[c] * wt[c] : tm_clamp_f32(bias ? a[c] * wt[c] + bias[c] : a[c] * wt[c], act_min, act_max);
  }
}

TM_KERNEL void tm_train_depthwise_f32(const tm_train_window *w, int32_t M, const float *x, const float *wt, const float *bias, float act_min, float act_max, float *y) {
  const int C = w->in_c, cout = C * M, pixels = w->batches * w->out_h * w->out_w, plane = w->out_h * w->out_w;
  if (M == 1 && tm_train_is_pointwise(w)) {
    tm_train_depthwise_pointwise_f32(pixels, C, x, wt, bias, act_min, act_max, 0, y);
    return;
  }
  if (M == 1 && w->k_h * w->k_w <= TM_TRAIN_DW_TAPS) {
    tm_train_depthwise_m1_f32(w, x, wt, bias, act_min, act_max, y);
    return;
  }
  memset(y, 0, (size_t)pixels * cout * sizeof(float));
  for (int q = 0; q < pixels; q++) {
    const int b = q / plane, oy = (q - b * plane) / w->out_w, ox = q - b * plane - oy * w->out_w;
    float *dst = y + q * cout;
    for (int ky = 0; ky < w->k_h; ky++) {
      const int iy = oy * w->stride_h - w->pad_top + ky * w->dil_h;
      if (iy < 0 || iy >= w->in_h) continue;
      for (int kx = 0; kx < w->k_w; kx++) {
        const int ix = ox * w->stride_w - w->pad_left + kx * w->dil_w;
        if (ix < 0 || ix >= w->in_w) continue;
        const float *src = x + ((b * w->in_h + iy) * w->in_w + ix) * C;
        const float *f = wt + (ky * w->k_w + kx) * cout;
        for (int c = 0; c < C; c++) {
          for (int m = 0; m < M; m++) dst[c * M + m] += src[c] * f[c * M + m];
        }
      }
    }
  }
  tm_train_bias_act(pixels, cout, bias, act_min, act_max, y);
}

#if TM_WASM_SIMD
/*
 * The input gradient's counterpart of tm_train_dw_row4: four adjacent input pixels of row (b, iy) from ix,
 * every output pixel that reads them inside (stride and dilation 1, C a multiple of 4). Along a filter
 * row the output pixels that read them are base + j + u, u = 0 .. k_w, with tap k_w - 1 - u: a window of
 * four dZ vectors slides by one pixel per tap. Filter rows go from k_h - 1 down to 0 and u upwards: the
 * increasing output-pixel order of tm_train_dw_in_taps, added to the start value (0 or dX): the same floats.
 */
TM_HELPER void tm_train_dw_in_row4(const tm_train_window *w, int b, int iy, int ix, const float *dz, const float *wt, float *dx, int accumulate) {
  const int C = w->in_c, kw = w->k_w;
  const int ky_hi = TM_MIN(w->k_h - 1, iy + w->pad_top), ky_lo = TM_MAX(0, iy + w->pad_top - w->out_h + 1);
  const int base = ix + w->pad_left - (kw - 1);
  float *o = dx + ((size_t)(b * w->in_h + iy) * w->in_w + ix) * C;
  for (int c = 0; c < C; c += 4) {
    v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
    if (accumulate) a0 = wasm_v128_load(o + c), a1 = wasm_v128_load(o + C + c), a2 = wasm_v128_load(o + 2 * C + c), a3 = wasm_v128_load(o + 3 * C + c);
    for (int ky = ky_hi; ky >= ky_lo; ky--) {
      const float *gr = dz + ((size_t)(b * w->out_h + iy + w->pad_top - ky) * w->out_w + base) * C + c;
      const float *wr = wt + (ky * kw + kw - 1) * C + c;
      tm_train_slide4(gr, wr, -C, kw, C, &a0, &a1, &a2, &a3);
    }
    wasm_v128_store(o + c, a0);
    wasm_v128_store(o + C + c, a1);
    wasm_v128_store(o + 2 * C + c, a2);
    wasm_v128_store(o + 3 * C + c, a3);
  }
}
#endif

/*
 * Multiplier 1, gathered per input pixel: dX[.., c] (+)= the taps that read it, W * dZ, added to the
 * start value (0 or dX) in output-pixel order, as the per-tap scatter adds them: the same floats. With
 * SIMD, stride and dilation 1 and C a multiple of 4, the columns every tap reaches inside go four at a
 * time through tm_train_dw_in_row4.
 */
static void tm_train_depthwise_input_grad_m1_f32(const tm_train_window *w, const float *dz, const float *wt, float *dx, int accumulate) {
  const int C = w->in_c;
  int g_off[TM_TRAIN_DW_TAPS], f_off[TM_TRAIN_DW_TAPS];
#if TM_WASM_SIMD
  const v128_t lo = wasm_f32x4_splat(TM_F32_NEG_INF), hi = wasm_f32x4_splat(-TM_F32_NEG_INF);
  /* Columns [in0, in1) whose output pixels ix + pad_left - (k_w - 1) .. ix + pad_left all lie inside. */
  int in0 = 0, in1 = 0;
  if (w->stride_h == 1 && w->stride_w == 1 && w->dil_h == 1 && w->dil_w == 1 && (C & 3) == 0) {
    in0 = TM_MIN(TM_MAX(0, w->k_w - 1 - w->pad_left), w->in_w);
    in1 = TM_MIN(w->in_w, w->out_w - w->pad_left);
    if (in1 < in0) in1 = in0;
  }
#endif
  for (int b = 0; b < w->batches; b++) {
    for (int iy = 0; iy < w->in_h; iy++) {
      for (int ix = 0; ix < w->in_w; ix++) {
#if TM_WASM_SIMD
        if (ix >= in0 && ix + 4 <= in1) {
          tm_train_dw_in_row4(w, b, iy, ix, dz, wt, dx, accumulate);
          ix += 3;
          continue;
        }
#endif
        float *d = dx + ((size_t)(b * w->in_h + iy) * w->in_w + ix) * C;
        const int n = tm_train_dw_in_taps(w, b, iy, ix, g_off, f_off);
        int c = 0;
#if TM_WASM_SIMD
        c = tm_train_dw_taps_simd(C, n, g_off, dz, f_off, wt, 0, lo, hi, accumulate, d);
#endif
        tm_train_dw_taps_scalar(c, C, n, g_off, dz, f_off, wt, 0, TM_F32_NEG_INF, -TM_F32_NEG_INF, accumulate, d);
      }
    }
  }
}

/* dX[.., c] (+)= sum over taps and m of W[tap][c*M + m] * dZ[.., c*M + m]. */
TM_KERNEL void tm_train_depthwise_input_grad_f32(const tm_train_window *w, int32_t M, const float *dz, const float *wt, float *dx, int32_t accumulate) {
  const int C = w->in_c, cout = C * M, pixels = w->batches * w->out_h * w->out_w, plane = w->out_h * w->out_w;
  if (M == 1 && tm_train_is_pointwise(w)) {
    tm_train_depthwise_pointwise_f32(pixels, C, dz, wt, 0, TM_F32_NEG_INF, -TM_F32_NEG_INF, accumulate, dx);
    return;
  }
  if (M == 1 && w->k_h * w->k_w <= TM_TRAIN_DW_TAPS) {
    tm_train_depthwise_input_grad_m1_f32(w, dz, wt, dx, accumulate);
    return;
  }
  if (!accumulate) memset(dx, 0, (size_t)w->batches * w->in_h * w->in_w * C * sizeof(float));
  for (int q = 0; q < pixels; q++) {
    const int b = q / plane, oy = (q - b * plane) / w->out_w, ox = q - b * plane - oy * w->out_w;
    const float *g = dz + q * cout;
    for (int ky = 0; ky < w->k_h; ky++) {
      const int iy = oy * w->stride_h - w->pad_top + ky * w->dil_h;
      if (iy < 0 || iy >= w->in_h) continue;
      for (int kx = 0; kx < w->k_w; kx++) {
        const int ix = ox * w->stride_w - w->pad_left + kx * w->dil_w;
        if (ix < 0 || ix >= w->in_w) continue;
        float *dst = dx + ((b * w->in_h + iy) * w->in_w + ix) * C;
        const float *f = wt + (ky * w->k_w + kx) * cout;
        for (int c = 0; c < C; c++) {
          float s = 0.0f;
          for (int m = 0; m < M; m++) s += g[c * M + m] * f[c * M + m];
          dst[c] += s;
        }
      }
    }
  }
}

/* The output columns [*ox0, *ox1) whose tap kx reads an input column in bounds. */
TM_HELPER void tm_train_dw_cols(const tm_train_window *w, int kx, int *ox0, int *ox1) {
  const int off = kx * w->dil_w - w->pad_left; /* ix = ox * stride + off */
  int lo = off >= 0 ? 0 : (-off + w->stride_w - 1) / w->stride_w;
  int hi = w->in_w - 1 - off < 0 ? 0 : (w->in_w - 1 - off) / w->stride_w + 1;
  if (hi > w->out_w) hi = w->out_w;
  *ox0 = lo;
  *ox1 = hi < lo ? lo : hi;
}

/*
 * Multiplier 1, kept channels [j0, j0 + 4*nv) whose x channels start at xc and dZ channels at gc, both
 * consecutive: per tap, the sum over output pixels held in nv registers, then written as out[j*taps + tap].
 * One image at a time through all the taps (so its rows stay in cache), each tap's sums carried over
 * from the image before in sums[]: every tap still adds its pixels in the per-tap loop's order, the same floats.
 */
#if TM_WASM_SIMD
TM_HELPER void tm_train_dw_wgrad_run(const tm_train_window *w, const float *dz, const float *x, int x_c, int xc, int gc, int nv, int j0, float *out) {
  const int C = w->in_c, taps = w->k_h * w->k_w;
  float sums[TM_TRAIN_DW_TAPS * 16];
  memset(sums, 0, sizeof sums);
  for (int b = 0; b < w->batches; b++) {
    for (int ky = 0; ky < w->k_h; ky++) {
      for (int kx = 0; kx < w->k_w; kx++) {
        int ox0, ox1;
        tm_train_dw_cols(w, kx, &ox0, &ox1);
        float *acc = sums + (ky * w->k_w + kx) * 16;
        v128_t s0 = wasm_v128_load(acc), s1 = wasm_v128_load(acc + 4), s2 = wasm_v128_load(acc + 8), s3 = wasm_v128_load(acc + 12);
        for (int oy = 0; oy < w->out_h; oy++) {
          const int iy = oy * w->stride_h - w->pad_top + ky * w->dil_h;
          if (iy < 0 || iy >= w->in_h) continue;
          const float *g = dz + ((b * w->out_h + oy) * w->out_w + ox0) * C + gc;
          const float *p = x + ((b * w->in_h + iy) * w->in_w + ox0 * w->stride_w - w->pad_left + kx * w->dil_w) * x_c + xc;
          const int step = w->stride_w * x_c;
          if (nv == 4) {
            for (int ox = ox0; ox < ox1; ox++, g += C, p += step) {
              s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(p), wasm_v128_load(g)));
              s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(p + 4), wasm_v128_load(g + 4)));
              s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(wasm_v128_load(p + 8), wasm_v128_load(g + 8)));
              s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(wasm_v128_load(p + 12), wasm_v128_load(g + 12)));
            }
          } else {
            for (int ox = ox0; ox < ox1; ox++, g += C, p += step) s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(p), wasm_v128_load(g)));
          }
        }
        wasm_v128_store(acc, s0);
        wasm_v128_store(acc + 4, s1);
        wasm_v128_store(acc + 8, s2);
        wasm_v128_store(acc + 12, s3);
      }
    }
  }
  for (int t = 0; t < taps; t++) {
    for (int i = 0; i < 4 * nv; i++) out[(j0 + i) * taps + t] = sums[t * 16 + i];
  }
}
#endif

#if TM_WASM_SIMD
/*
 * Multiplier 1 over a pointwise window, every channel (C a multiple of 4): out[c] = the sum over pixels of
 * x dZ, per channel in pixel order as tm_train_dw_wgrad_run adds them (the same floats). Blocks of 64
 * pixels go through all the channel groups while their rows are in L1, so x and dZ stream once instead of
 * once per group of 16 channels.
 */
static void tm_train_dw_wgrad_pointwise(int pixels, int C, int x_c, const float *dz, const float *x, float *out) {
  tm_train_zero(out, C);
  for (int q0 = 0; q0 < pixels; q0 += 64) {
    const int n = TM_MIN(64, pixels - q0);
    int c = 0;
    for (; c + 16 <= C; c += 16) {
      v128_t s0 = wasm_v128_load(out + c), s1 = wasm_v128_load(out + c + 4), s2 = wasm_v128_load(out + c + 8), s3 = wasm_v128_load(out + c + 12);
      const float *g = dz + (size_t)q0 * C + c, *p = x + (size_t)q0 * x_c + c;
      for (int q = 0; q < n; q++, g += C, p += x_c) {
        s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(p), wasm_v128_load(g)));
        s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(p + 4), wasm_v128_load(g + 4)));
        s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(wasm_v128_load(p + 8), wasm_v128_load(g + 8)));
        s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(wasm_v128_load(p + 12), wasm_v128_load(g + 12)));
      }
      wasm_v128_store(out + c, s0);
      wasm_v128_store(out + c + 4, s1);
      wasm_v128_store(out + c + 8, s2);
      wasm_v128_store(out + c + 12, s3);
    }
    for (; c < C; c += 4) {
      v128_t s0 = wasm_v128_load(out + c);
      const float *g = dz + (size_t)q0 * C + c, *p = x + (size_t)q0 * x_c + c;
      for (int q = 0; q < n; q++, g += C, p += x_c) s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(p), wasm_v128_load(g)));
      wasm_v128_store(out + c, s0);
    }
  }
}
#endif

/* Does index j of list (NULL: the identity) start a run of n consecutive values? */
TM_HELPER int tm_train_dw_consecutive(const int32_t *list, int j, int n) {
  if (!list) return 1;
  for (int i = 1; i < n; i++) if (list[j + i] != list[j] + i) return 0;
  return 1;
}

/*
 * out[(j*M + m)*taps + tap] for kept channel j: x's channel pick[j] (pick NULL: j), filter channel
 * channels[j] (NULL: j). Multiplier 1 takes runs of 16 (then 4) kept channels consecutive in both x and
 * dZ through registers; the rest accumulate tap-major in scratch so the channel loop is contiguous, then
 * are transposed into rows.
 */
TM_KERNEL void tm_train_depthwise_weight_grad_f32(const tm_train_window *w, int32_t M, const float *dz, const float *x, int32_t x_c,
                                                  const int32_t *pick, const int32_t *channels, int32_t n_kept, float *out, float *scratch) {
  const int C = w->in_c, cout = C * M, taps = w->k_h * w->k_w;
  const int pixels = w->batches * w->out_h * w->out_w, plane = w->out_h * w->out_w;
  int done = 0; /* kept channels [0, done) written by the register path */
#if TM_WASM_SIMD
  if (M == 1 && !pick && !channels && (C & 3) == 0 && tm_train_is_pointwise(w)) {
    tm_train_dw_wgrad_pointwise(pixels, C, x_c, dz, x, out);
    return;
  }
  if (M == 1 && taps <= TM_TRAIN_DW_TAPS) {
    while (done + 4 <= n_kept) {
      const int nv = done + 16 <= n_kept && tm_train_dw_consecutive(pick, done, 16) && tm_train_dw_consecutive(channels, done, 16) ? 4 : 1;
      if (nv == 1 && !(tm_train_dw_consecutive(pick, done, 4) && tm_train_dw_consecutive(channels, done, 4))) break;
      tm_train_dw_wgrad_run(w, dz, x, x_c, pick ? pick[done] : done, channels ? channels[done] : done, nv, done, out);
      done += 4 * nv;
    }
  }
#endif
  if (done == n_kept) return;
  const int left = n_kept - done, left_rows = left * M;
  memset(scratch, 0, (size_t)taps * left_rows * sizeof(float));
  for (int q = 0; q < pixels; q++) {
    const int b = q / plane, oy = (q - b * plane) / w->out_w, ox = q - b * plane - oy * w->out_w;
    const float *g = dz + q * cout;
    for (int ky = 0; ky < w->k_h; ky++) {
      const int iy = oy * w->stride_h - w->pad_top + ky * w->dil_h;
      if (iy < 0 || iy >= w->in_h) continue;
      for (int kx = 0; kx < w->k_w; kx++) {
        const int ix = ox * w->stride_w - w->pad_left + kx * w->dil_w;
        if (ix < 0 || ix >= w->in_w) continue;
        const float *src = x + ((b * w->in_h + iy) * w->in_w + ix) * x_c;
        float *acc = scratch + (ky * w->k_w + kx) * left_rows;
        for (int j = 0; j < left; j++) {
          const float v = src[pick ? pick[done + j] : done + j];
          const float *gc = g + (channels ? channels[done + j] : done + j) * M;
          for (int m = 0; m < M; m++) acc[j * M + m] += v * gc[m];
        }
      }
    }
  }
  tm_train_transpose(taps, left_rows, scratch, out + (size_t)done * M * taps);
}

/* ------------------------------------------------------------------------------------------------ */
/* MAX_POOL_2D and AVERAGE_POOL_2D (window clipped to the input)                                     */

/* The window of output pixel q, clipped: rows [y0, y1), columns [x0, x1), batch b. */
TM_HELPER void tm_train_pool_window(const tm_train_window *w, int q, int *b, int *y0, int *y1, int *x0, int *x1) {
  const int plane = w->out_h * w->out_w;
  const int bb = q / plane, oy = (q - bb * plane) / w->out_w, ox = q - bb * plane - oy * w->out_w;
  const int iy = oy * w->stride_h - w->pad_top, ix = ox * w->stride_w - w->pad_left;
  *b = bb;
  *y0 = TM_MAX(0, iy), *y1 = TM_MIN(w->in_h, iy + w->k_h);
  *x0 = TM_MAX(0, ix), *x1 = TM_MIN(w->in_w, ix + w->k_w);
}

TM_KERNEL void tm_train_max_pool_f32(const tm_train_window *w, float act_min, float act_max, const float *x, float *y) {
  const int C = w->in_c, pixels = w->batches * w->out_h * w->out_w;
  for (int q = 0; q < pixels; q++) {
    int b, y0, y1, x0, x1;
    tm_train_pool_window(w, q, &b, &y0, &y1, &x0, &x1);
    float *dst = y + q * C;
    int c = 0;
#if TM_WASM_SIMD
    const v128_t lo = wasm_f32x4_splat(act_min), hi = wasm_f32x4_splat(act_max);
    for (; c + 4 <= C; c += 4) {
      v128_t best = wasm_f32x4_splat(TM_F32_LOWEST);
      for (int iy = y0; iy < y1; iy++) {
        for (int ix = x0; ix < x1; ix++) best = wasm_f32x4_pmax(best, wasm_v128_load(x + ((b * w->in_h + iy) * w->in_w + ix) * C + c));
      }
      wasm_v128_store(dst + c, wasm_f32x4_pmin(wasm_f32x4_pmax(best, lo), hi));
    }
#endif
    for (; c < C; c++) {
      float best = TM_F32_LOWEST;
      for (int iy = y0; iy < y1; iy++) {
        for (int ix = x0; ix < x1; ix++) {
          const float v = x[((b * w->in_h + iy) * w->in_w + ix) * C + c];
          if (v > best) best = v;
        }
      }
      dst[c] = tm_clamp_f32(best, act_min, act_max);
    }
  }
}

TM_KERNEL void tm_train_avg_pool_f32(const tm_train_window *w, float act_min, float act_max, const float *x, float *y) {
  const int C = w->in_c, pixels = w->batches * w->out_h * w->out_w;
  for (int q = 0; q < pixels; q++) {
    int b, y0, y1, x0, x1;
    tm_train_pool_window(w, q, &b, &y0, &y1, &x0, &x1);
    const float count = (float)((y1 - y0) * (x1 - x0));
    float *dst = y + q * C;
    for (int c = 0; c < C; c++) {
      float s = 0.0f;
      for (int iy = y0; iy < y1; iy++) {
        for (int ix = x0; ix < x1; ix++) s += x[((b * w->in_h + iy) * w->in_w + ix) * C + c];
      }
      dst[c] = tm_clamp_f32(s / count, act_min, act_max);
    }
  }
}

/* Each output gradient to the first tap (row-major) holding its window's maximum, as the forward chose. */
TM_KERNEL void tm_train_max_pool_input_grad_f32(const tm_train_window *w, const float *x, const float *dz, float *dx, int32_t accumulate) {
  const int C = w->in_c, pixels = w->batches * w->out_h * w->out_w;
  if (!accumulate) memset(dx, 0, (size_t)w->batches * w->in_h * w->in_w * C * sizeof(float));
  for (int q = 0; q < pixels; q++) {
    int b, y0, y1, x0, x1;
    tm_train_pool_window(w, q, &b, &y0, &y1, &x0, &x1);
    const float *g = dz + q * C;
    int c = 0;
#if TM_WASM_SIMD
    for (; c + 4 <= C; c += 4) {
      /* Per lane the best value and where it lies; a strictly greater value replaces it, so ties keep the first. */
      v128_t best = wasm_f32x4_splat(TM_F32_NEG_INF), at = wasm_i32x4_splat(-1);
      for (int iy = y0; iy < y1; iy++) {
        for (int ix = x0; ix < x1; ix++) {
          const int o = ((b * w->in_h + iy) * w->in_w + ix) * C + c;
          const v128_t v = wasm_v128_load(x + o), gt = wasm_f32x4_gt(v, best);
          best = wasm_v128_bitselect(v, best, gt);
          at = wasm_v128_bitselect(wasm_i32x4_add(wasm_i32x4_splat(o), wasm_i32x4_make(0, 1, 2, 3)), at, gt);
        }
      }
      int32_t where[4];
      wasm_v128_store(where, at);
      for (int l = 0; l < 4; l++) if (where[l] >= 0) dx[where[l]] += g[c + l];
    }
#endif
    for (; c < C; c++) {
      float best = TM_F32_NEG_INF;
      int where = -1;
      for (int iy = y0; iy < y1; iy++) {
        for (int ix = x0; ix < x1; ix++) {
          const int o = ((b * w->in_h + iy) * w->in_w + ix) * C + c;
          if (x[o] > best) best = x[o], where = o;
        }
      }
      if (where >= 0) dx[where] += g[c];
    }
  }
}

/* Each output gradient spread evenly over the taps of its window inside the input. */
TM_KERNEL void tm_train_avg_pool_input_grad_f32(const tm_train_window *w, const float *dz, float *dx, int32_t accumulate) {
  const int C = w->in_c, pixels = w->batches * w->out_h * w->out_w;
  if (!accumulate) memset(dx, 0, (size_t)w->batches * w->in_h * w->in_w * C * sizeof(float));
  for (int q = 0; q < pixels; q++) {
    int b, y0, y1, x0, x1;
    tm_train_pool_window(w, q, &b, &y0, &y1, &x0, &x1);
    const float inv = 1.0f / (float)((y1 - y0) * (x1 - x0));
    const float *g = dz + q * C;
    for (int iy = y0; iy < y1; iy++) {
      for (int ix = x0; ix < x1; ix++) {
        float *dst = dx + ((b * w->in_h + iy) * w->in_w + ix) * C;
        int c = 0;
#if TM_WASM_SIMD
        const v128_t s = wasm_f32x4_splat(inv);
        for (; c + 4 <= C; c += 4) wasm_v128_store(dst + c, wasm_f32x4_add(wasm_v128_load(dst + c), wasm_f32x4_mul(wasm_v128_load(g + c), s)));
#endif
        for (; c < C; c++) dst[c] += g[c] * inv;
      }
    }
  }
}

/* ------------------------------------------------------------------------------------------------ */
/* BATCH_NORMALIZE (training graphs): each channel normalised by the batch's own statistics           */
/*
 * Without SIMD (and for channel counts not a multiple of four) the arithmetic is the TypeScript kernel's
 * (src/ops/batch_normalize.ts), in double, in its order, so both backends give the same floats. With SIMD
 * the channels are the f32x4 lanes and the summation order changes: the statistics (and the backward's
 * gradient sums) come from one pass over x (and dy) instead of two (four), each per-channel sum in float
 * over blocks of TM_TRAIN_BN_ROWS rows and in double across blocks (a float sum over a whole batch of
 * pixels would lose digits), about a shift near the mean (tm_train_bn_pass); the elementwise pass runs in
 * float with per-channel constants. Results agree with the TypeScript kernel to float rounding. The large
 * layers are bound by memory bandwidth, so the passes saved are most of the gain.
 * scratch: 8 * channels doubles.
 */

#define TM_TRAIN_BN_ROWS 32

/* Per channel: mean and 1 / sqrt(biased variance + eps), two passes, in double. */
static void tm_train_bn_stats(int32_t n, int32_t channels, const float *x, double eps, double *mean, double *inv) {
  const double rows = (double)(n / channels);
  for (int c = 0; c < channels; c++) { mean[c] = 0.0; inv[c] = 0.0; }
  for (int i = 0; i < n; i += channels) for (int c = 0; c < channels; c++) mean[c] += (double)x[i + c];
  for (int c = 0; c < channels; c++) mean[c] /= rows;
  for (int i = 0; i < n; i += channels) {
    for (int c = 0; c < channels; c++) {
      const double d = (double)x[i + c] - mean[c];
      inv[c] += d * d;
    }
  }
  for (int c = 0; c < channels; c++) inv[c] = 1.0 / __builtin_sqrt(inv[c] / rows + eps);
}

#if TM_WASM_SIMD
/* d[0 .. 4) += the four lanes of v, in double. */
TM_HELPER void tm_train_bn_flush(v128_t v, double *d) {
  wasm_v128_store(d, wasm_f64x2_add(wasm_v128_load(d), wasm_f64x2_promote_low_f32x4(v)));
  wasm_v128_store(d + 2, wasm_f64x2_add(wasm_v128_load(d + 2), wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1))));
}

/*
 * Channels [c, c + 4 nv), rows [r0, r1), d = x - shift: sd += the sum of d, sdd += of d^2, and with g also
 * sg += of g, sgd += of g d. The f32x4 sums stay in registers over the block, then go on in double.
 */
TM_HELPER void tm_train_bn_sums(int r0, int r1, int C, int c, int nv, const float *x, const float *shift, const float *g, double *sd, double *sdd, double *sg, double *sgd) {
  v128_t m[4], a[4], aa[4], b[4], bb[4];
  for (int v = 0; v < nv; v++) {
    m[v] = wasm_v128_load(shift + c + 4 * v);
    a[v] = aa[v] = b[v] = bb[v] = wasm_f32x4_splat(0.0f);
  }
  for (int r = r0; r < r1; r++) {
    const float *xr = x + (size_t)r * C + c, *gr = g ? g + (size_t)r * C + c : 0;
    for (int v = 0; v < nv; v++) {
      const v128_t d = wasm_f32x4_sub(wasm_v128_load(xr + 4 * v), m[v]);
      a[v] = wasm_f32x4_add(a[v], d);
      aa[v] = wasm_f32x4_add(aa[v], wasm_f32x4_mul(d, d));
      if (g) {
        const v128_t e = wasm_v128_load(gr + 4 * v);
        b[v] = wasm_f32x4_add(b[v], e);
        bb[v] = wasm_f32x4_add(bb[v], wasm_f32x4_mul(e, d));
      }
    }
  }
  for (int v = 0; v < nv; v++) {
    tm_train_bn_flush(a[v], sd + c + 4 * v);
    tm_train_bn_flush(aa[v], sdd + c + 4 * v);
    if (g) tm_train_bn_flush(b[v], sg + c + 4 * v);
    if (g) tm_train_bn_flush(bb[v], sgd + c + 4 * v);
  }
}

/*
 * One pass over x (and g): per channel the float mean, inv = 1 / sqrt(biased variance + eps), and with g
 * sg = the sum of g and sgx = the sum of g (x - mean). The sums are taken about a shift s near the mean (the
 * mean of up to 64 rows spread over the batch), so the variance sum (x - s)^2 / n - (sum (x - s) / n)^2
 * cancels little, and moved to the mean after: sum g (x - mean) = sum g (x - s) - (mean - s) sum g.
 * scratch: 4 * C doubles (without g, 2 * C).
 */
static void tm_train_bn_pass(int rows, int C, const float *x, const float *g, double eps, float *mean_f, double *inv, double *sg, double *sgx, double *scratch) {
  double *sd = scratch, *sdd = scratch + C;
  const int step = rows > 64 ? rows / 64 : 1;
  int sampled = 0;
  for (int c = 0; c < C; c++) sd[c] = 0.0;
  for (int r = 0; r < rows; r += step, sampled++) for (int c = 0; c < C; c++) sd[c] += (double)x[(size_t)r * C + c];
  for (int c = 0; c < C; c++) {
    mean_f[c] = sampled ? (float)(sd[c] / sampled) : 0.0f;
    sd[c] = sdd[c] = 0.0;
    if (g) sg[c] = sgx[c] = 0.0;
  }
  /* A block of rows through every channel group while it is in L1: x and g stream from memory once. */
  for (int r0 = 0; r0 < rows; r0 += TM_TRAIN_BN_ROWS) {
    const int r1 = TM_MIN(rows, r0 + TM_TRAIN_BN_ROWS);
    int c = 0;
    if (g) {
      for (; c + 8 <= C; c += 8) tm_train_bn_sums(r0, r1, C, c, 2, x, mean_f, g, sd, sdd, sg, sgx);
    } else {
      for (; c + 16 <= C; c += 16) tm_train_bn_sums(r0, r1, C, c, 4, x, mean_f, 0, sd, sdd, 0, 0);
    }
    for (; c < C; c += 4) tm_train_bn_sums(r0, r1, C, c, 1, x, mean_f, g, sd, sdd, sg, sgx);
  }
  for (int c = 0; c < C; c++) {
    const double d = sd[c] / rows, mean = (double)mean_f[c] + d;
    inv[c] = 1.0 / __builtin_sqrt(sdd[c] / rows - d * d + eps);
    mean_f[c] = (float)mean;
    if (g) sgx[c] -= d * sg[c];
  }
}

/* Every row: out = k1 * (x - m) + k0 (+ out when add), or k1 * (x - m) + k2 * g + k0 with g; per-channel constants. */
static void tm_train_bn_affine(int rows, int C, const float *x, const float *m, const float *k1, const float *g, const float *k2, const float *k0, float *out, int add) {
  for (int r = 0; r < rows; r++, x += C, out += C, g = g ? g + C : 0) {
    for (int c = 0; c < C; c += 4) {
      v128_t v = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(x + c), wasm_v128_load(m + c)), wasm_v128_load(k1 + c));
      if (k0) v = wasm_f32x4_add(v, wasm_v128_load(k0 + c));
      if (g) v = wasm_f32x4_add(v, wasm_f32x4_mul(wasm_v128_load(g + c), wasm_v128_load(k2 + c)));
      if (add) v = wasm_f32x4_add(v, wasm_v128_load(out + c));
      wasm_v128_store(out + c, v);
    }
  }
}
#endif

TM_KERNEL void tm_train_bn_forward_f32(int32_t n, int32_t channels, const float *x, double eps, float *y, double *scratch) {
  double *mean = scratch, *inv = scratch + channels;
#if TM_WASM_SIMD
  if (channels % 4 == 0) {
    float *mean_f = (float *)(scratch + 4 * channels), *s = mean_f + channels;
    tm_train_bn_pass(n / channels, channels, x, 0, eps, mean_f, inv, 0, 0, scratch + 2 * channels);
    for (int c = 0; c < channels; c++) s[c] = (float)inv[c];
    tm_train_bn_affine(n / channels, channels, x, mean_f, s, 0, 0, 0, y, 0);
    return;
  }
#endif
  tm_train_bn_stats(n, channels, x, eps, mean, inv);
  for (int i = 0; i < n; i += channels) for (int c = 0; c < channels; c++) y[i + c] = (float)(((double)x[i + c] - mean[c]) * inv[c]);
}

/* dx (+)= s (dy - mean(dy) - x^ mean(dy x^)), x^ = (x - mean) s: through the batch statistics. */
TM_KERNEL void tm_train_bn_input_grad_f32(int32_t n, int32_t channels, const float *x, double eps, const float *gy, float *gx, int32_t accumulate, double *scratch) {
  double *mean = scratch, *inv = scratch + channels, *sg = scratch + 2 * channels, *sgx = scratch + 3 * channels;
  const double rows = (double)(n / channels);
#if TM_WASM_SIMD
  if (channels % 4 == 0) {
    /* dx = s dy + (-s^3 mean(dy (x - m))) (x - m) + (-s mean(dy)), the constants per channel. */
    float *mean_f = (float *)(scratch + 6 * channels), *k_dy = mean_f + channels, *k_x = k_dy + channels, *k0 = k_x + channels;
    tm_train_bn_pass(n / channels, channels, x, gy, eps, mean_f, inv, sg, sgx, scratch + 4 * channels);
    for (int c = 0; c < channels; c++) {
      k_dy[c] = (float)inv[c];
      k_x[c] = (float)(-inv[c] * inv[c] * inv[c] * sgx[c] / rows);
      k0[c] = (float)(-inv[c] * sg[c] / rows);
    }
    tm_train_bn_affine(n / channels, channels, x, mean_f, k_x, gy, k_dy, k0, gx, accumulate);
    return;
  }
#endif
  tm_train_bn_stats(n, channels, x, eps, mean, inv);
  for (int c = 0; c < channels; c++) { sg[c] = 0.0; sgx[c] = 0.0; }
  for (int i = 0; i < n; i += channels) {
    for (int c = 0; c < channels; c++) {
      const double g = (double)gy[i + c];
      sg[c] += g;
      sgx[c] += g * ((double)x[i + c] - mean[c]) * inv[c];
    }
  }
  for (int c = 0; c < channels; c++) { sg[c] /= rows; sgx[c] /= rows; }
  for (int i = 0; i < n; i += channels) {
    for (int c = 0; c < channels; c++) {
      const double xh = ((double)x[i + c] - mean[c]) * inv[c];
      const double v = inv[c] * ((double)gy[i + c] - sg[c] - xh * sgx[c]);
      gx[i + c] = accumulate ? (float)((double)gx[i + c] + v) : (float)v;
    }
  }
}

/* ------------------------------------------------------------------------------------------------ */
/* ADD / SUB of two float tensors of one shape (a residual connection) and its gradient               */

/* y = clamp(a + sign * b), sign +1 or -1: the TypeScript kernel's floats (its double sum of two floats rounds to the float sum). */
TM_KERNEL void tm_train_add_f32(int32_t n, const float *a, const float *b, float sign, float act_min, float act_max, float *y) {
  int i = 0;
#if TM_WASM_SIMD
  const v128_t s = wasm_f32x4_splat(sign), lo = wasm_f32x4_splat(act_min), hi = wasm_f32x4_splat(act_max);
  for (; i + 4 <= n; i += 4) {
    const v128_t v = wasm_f32x4_add(wasm_v128_load(a + i), wasm_f32x4_mul(s, wasm_v128_load(b + i)));
    wasm_v128_store(y + i, wasm_f32x4_pmin(wasm_f32x4_pmax(v, lo), hi));
  }
#endif
  for (; i < n; i++) y[i] = tm_clamp_f32(a[i] + sign * b[i], act_min, act_max);
}

/* g_out (+)= sign * g_in over n values (in place allowed): ADD / SUB's gradient where nothing broadcasts. */
TM_KERNEL void tm_train_signed_grad_f32(int32_t n, float sign, const float *gin, float *gout, int32_t accumulate) {
  int i = 0;
#if TM_WASM_SIMD
  const v128_t s = wasm_f32x4_splat(sign);
  for (; i + 4 <= n; i += 4) {
    const v128_t g = wasm_f32x4_mul(s, wasm_v128_load(gin + i));
    wasm_v128_store(gout + i, accumulate ? wasm_f32x4_add(wasm_v128_load(gout + i), g) : g);
  }
#endif
  for (; i < n; i++) gout[i] = accumulate ? gout[i] + sign * gin[i] : sign * gin[i];
}

/* ------------------------------------------------------------------------------------------------ */
/* Activation masks                                                                                  */

/* g_out (+)= g_in where lo < v < hi (v the activation's float values; in place allowed). */
TM_KERNEL void tm_train_clamp_grad_f32(int32_t n, const float *v, float lo, float hi, const float *gin, float *gout, int32_t accumulate) {
  int i = 0;
#if TM_WASM_SIMD
  const v128_t l = wasm_f32x4_splat(lo), h = wasm_f32x4_splat(hi);
  for (; i + 4 <= n; i += 4) {
    const v128_t x = wasm_v128_load(v + i);
    const v128_t g = wasm_v128_and(wasm_v128_load(gin + i), wasm_v128_and(wasm_f32x4_gt(x, l), wasm_f32x4_lt(x, h)));
    wasm_v128_store(gout + i, accumulate ? wasm_f32x4_add(wasm_v128_load(gout + i), g) : g);
  }
#endif
  for (; i < n; i++) {
    const float g = v[i] > lo && v[i] < hi ? gin[i] : 0.0f;
    gout[i] = accumulate ? gout[i] + g : g;
  }
}

/* The same on int8 codes (an int8 forward), lo and hi in codes. */
TM_KERNEL void tm_train_clamp_grad_s8(int32_t n, const int8_t *v, float lo, float hi, const float *gin, float *gout, int32_t accumulate) {
  for (int i = 0; i < n; i++) {
    const float c = (float)v[i];
    const float g = c > lo && c < hi ? gin[i] : 0.0f;
    gout[i] = accumulate ? gout[i] + g : g;
  }
}

/* The same from a 1-bit mask saved at forward time (bit i of byte i >> 3). */
TM_KERNEL void tm_train_clamp_grad_bits(int32_t n, const uint8_t *bits, const float *gin, float *gout, int32_t accumulate) {
  for (int i = 0; i < n; i++) {
    const float g = (bits[i >> 3] >> (i & 7)) & 1 ? gin[i] : 0.0f;
    gout[i] = accumulate ? gout[i] + g : g;
  }
}

#endif /* TM_TRAIN_F32_H */
