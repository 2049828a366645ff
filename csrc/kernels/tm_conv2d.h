/*
 * CONV_2D, int8, NHWC with batch 1, filters [out_c][k_h][k_w][in_c] (TFLite's layout), per-channel
 * requantisation. Same integer result as TFLite Micro's reference_integer_ops::ConvPerChannel.
 *
 * Two paths, chosen by the generator from the layer's shape; both work in `scratch`, a buffer of the
 * layer's own size in the arena (the memory plan places it; src/ops/conv2d.ts sizes it), never the stack:
 *   tm_conv2d_1x1_s8   pointwise, no padding: each output pixel is one input pixel's channel vector, so the
 *                      convolution is a matrix multiply straight off the input (no copy); scratch holds the
 *                      two widened columns of the DSP path.
 *   tm_conv2d_s8       any kernel: im2col columns (padded taps hold the input zero point, which the folded
 *                      bias cancels), two at a time through the same matrix-multiply core.
 */
#ifndef TM_CONV2D_H
#define TM_CONV2D_H

#include "tm_common.h"
#include "tm_gemm.h"

typedef struct {
  int16_t in_h, in_w, in_c;
  int16_t out_h, out_w, out_c;
  int16_t k_h, k_w;
  int16_t stride_h, stride_w;
  int16_t dil_h, dil_w;
  int16_t pad_top, pad_left;
  int32_t in_zp;
} tm_conv_shape;

#if TM_WASM_SIMD
/* Input pixel of output pixel p of a pointwise convolution. */
TM_HELPER const int8_t *tm_pw_pixel(const tm_conv_shape *s, const int8_t *in, int p) {
  const int oy = p / s->out_w, ox = p - oy * s->out_w;
  return in + ((oy * s->stride_h) * s->in_w + ox * s->stride_w) * s->in_c;
}

/*
 * Pointwise convolution, WebAssembly SIMD: eight pixels at a time through the pixel-lane GEMM (tm_gemm.h),
 * each tile's input pixels packed once for all output channels. Returns 0 when a column is too deep for it.
 */
TM_HELPER int tm_wasm_pointwise_s8(const tm_conv_shape *s, const tm_requant_params *q, const int8_t *in, const int8_t *w, int8_t *out) {
  const int depth = s->in_c, n_out = s->out_c, n_px = s->out_h * s->out_w;
  if (depth > TM_WASM_TILE_DEPTH) return 0;
  int16_t xp[TM_WASM_TILE_DEPTH * TM_WASM_TILE] __attribute__((aligned(16)));
  for (int p = 0; p < n_px; p += TM_WASM_TILE) {
    const int n = TM_MIN(TM_WASM_TILE, n_px - p);
    const int8_t *rows[TM_WASM_TILE];
    int8_t *dst[TM_WASM_TILE];
    for (int i = 0; i < TM_WASM_TILE; i++) {
      rows[i] = tm_pw_pixel(s, in, p + (i < n ? i : 0));
      dst[i] = out + (p + i) * n_out;
    }
    tm_wasm_pack8(rows, depth, xp);
    tm_wasm_tile_gemm(xp, w, depth, n_out, q, dst, n);
  }
  return 1;
}
#endif

TM_KERNEL void tm_conv2d_1x1_s8(const tm_conv_shape *s, const tm_requant_params *q, const int8_t *in, const int8_t *w, int8_t *out, int8_t *scratch) {
#if TM_WASM_SIMD
  if (tm_wasm_pointwise_s8(s, q, in, w, out)) return;
#endif
  int32_t *wide = (int32_t *)TM_ARENA_PTR(scratch);
  const int depth = s->in_c, n_out = s->out_c;
  const int8_t *pending = 0;
  int8_t *pending_out = 0;
  for (int oy = 0; oy < s->out_h; oy++) {
    const int8_t *row = in + (oy * s->stride_h) * s->in_w * depth;
    for (int ox = 0; ox < s->out_w; ox++) {
      const int8_t *col = row + ox * s->stride_w * depth;
      int8_t *dst = out + (oy * s->out_w + ox) * n_out;
      if (pending) {
        tm_gemm_cols(pending, col, w, depth, n_out, q, pending_out, dst, wide);
        pending = 0;
      } else {
        pending = col;
        pending_out = dst;
      }
    }
  }
  if (pending) tm_gemm_cols(pending, 0, w, depth, n_out, q, pending_out, 0, wide);
}

/* Gather one output pixel's receptive field into `col` (k_h * k_w * in_c bytes), zero point where padded. */
TM_HELPER void tm_im2col_s8(const tm_conv_shape *s, const int8_t *in, int oy, int ox, int8_t *col) {
  const int c = s->in_c;
  const int y0 = oy * s->stride_h - s->pad_top, x0 = ox * s->stride_w - s->pad_left;
  for (int ky = 0; ky < s->k_h; ky++) {
    const int iy = y0 + ky * s->dil_h;
    /* A window row inside the input is one run of k_w * in_c bytes (NHWC): one copy, not one per tap. */
    if (s->dil_w == 1 && iy >= 0 && iy < s->in_h && x0 >= 0 && x0 + s->k_w <= s->in_w) {
      memcpy(col, in + (iy * s->in_w + x0) * c, (size_t)(s->k_w * c));
      col += s->k_w * c;
      continue;
    }
    for (int kx = 0; kx < s->k_w; kx++) {
      const int ix = x0 + kx * s->dil_w;
      if (iy >= 0 && iy < s->in_h && ix >= 0 && ix < s->in_w) {
        memcpy(col, in + (iy * s->in_w + ix) * c, (size_t)c);
      } else {
        memset(col, (int)(int8_t)s->in_zp, (size_t)c);
      }
      col += c;
    }
  }
}

#if TM_WASM_SIMD
/*
 * memcpy / memset of a few bytes, inline: a variable-length memcpy compiles to memory.copy, which engines
 * run as a call out of the module, a large cost beside an im2col row of 9 to 200 bytes.
 */
TM_HELPER void tm_wasm_copy(int8_t *dst, const int8_t *src, int n) {
  for (; n >= 16; n -= 16, dst += 16, src += 16) wasm_v128_store(dst, wasm_v128_load(src));
  if (n & 8) { memcpy(dst, src, 8); dst += 8; src += 8; }
  if (n & 4) { memcpy(dst, src, 4); dst += 4; src += 4; }
  if (n & 2) { memcpy(dst, src, 2); dst += 2; src += 2; }
  if (n & 1) *dst = *src;
}

TM_HELPER void tm_wasm_fill(int8_t *dst, int8_t v, int n) {
  const v128_t x = wasm_i8x16_splat(v);
  for (; n >= 16; n -= 16, dst += 16) wasm_v128_store(dst, x);
  for (; n > 0; n--) *dst++ = v;
}

/*
 * Values of an im2col column the tile packs: the depth rounded up to 8, so the packing runs in vectors only
 * (no value-by-value tail). The columns are TM_WASM_TILE_DEPTH bytes apart, so the extra bytes are there;
 * whatever they hold meets the packed weights' zeros past the depth or is never read by the GEMM. (Packed
 * weights only: the unpacked tile reads one byte of the next weight row past an odd depth.)
 */
#define TM_WASM_COLS_PACKED(depth) (((depth) + 7) & ~7)

/* tm_im2col_s8 with the inline copies. */
TM_HELPER void tm_wasm_im2col_s8(const tm_conv_shape *s, const int8_t *in, int oy, int ox, int8_t *col) {
  const int c = s->in_c;
  const int y0 = oy * s->stride_h - s->pad_top, x0 = ox * s->stride_w - s->pad_left;
  for (int ky = 0; ky < s->k_h; ky++) {
    const int iy = y0 + ky * s->dil_h;
    if (s->dil_w == 1 && iy >= 0 && iy < s->in_h && x0 >= 0 && x0 + s->k_w <= s->in_w) {
      tm_wasm_copy(col, in + (iy * s->in_w + x0) * c, s->k_w * c);
      col += s->k_w * c;
      continue;
    }
    for (int kx = 0; kx < s->k_w; kx++, col += c) {
      const int ix = x0 + kx * s->dil_w;
      if (iy >= 0 && iy < s->in_h && ix >= 0 && ix < s->in_w) tm_wasm_copy(col, in + (iy * s->in_w + ix) * c, c);
      else tm_wasm_fill(col, (int8_t)s->in_zp, c);
    }
  }
}

/*
 * Any-kernel convolution, WebAssembly SIMD: eight output pixels at a time, im2col into eight columns on the
 * module's stack, packed once and run through the pixel-lane GEMM (tm_gemm.h) for every output channel.
 * Returns 0 when a column is too deep for it.
 */
TM_HELPER int tm_wasm_conv_s8(const tm_conv_shape *s, const tm_requant_params *q, const int8_t *in, const int8_t *w, int8_t *out) {
  const int depth = s->k_h * s->k_w * s->in_c, n_out = s->out_c, n_px = s->out_h * s->out_w;
  if (depth > TM_WASM_TILE_DEPTH) return 0;
  int16_t xp[TM_WASM_TILE_DEPTH * TM_WASM_TILE] __attribute__((aligned(16)));
  int8_t cols[TM_WASM_TILE][TM_WASM_TILE_DEPTH] __attribute__((aligned(16)));
  for (int p = 0; p < n_px; p += TM_WASM_TILE) {
    const int n = TM_MIN(TM_WASM_TILE, n_px - p);
    const int8_t *rows[TM_WASM_TILE];
    int8_t *dst[TM_WASM_TILE];
    for (int i = 0; i < TM_WASM_TILE; i++) {
      if (i < n) tm_wasm_im2col_s8(s, in, (p + i) / s->out_w, (p + i) % s->out_w, cols[i]);
      rows[i] = cols[i < n ? i : 0];
      dst[i] = out + (p + i) * n_out;
    }
    tm_wasm_pack8(rows, depth, xp);
    tm_wasm_tile_gemm(xp, w, depth, n_out, q, dst, n);
  }
  return 1;
}
#endif

#if TM_DSP
/*
 * One output pixel's receptive field straight into lane `lane` of the interleaved widened pair (the
 * layout of tm_widen_lane_s8), without the int8 column: when in_c is a multiple of four every group of four
 * column values lies within one input pixel, so each group is one word load and two SXTB16 from the input,
 * and a padded tap is the zero point's pairs. Other depths gather the int8 column into `col` first.
 */
TM_HELPER void tm_im2col_wide_s8(const tm_conv_shape *s, const int8_t *in, int oy, int ox, int8_t *col, int32_t *wide, int lane) {
  const int c = s->in_c;
  if (c & 3) {
    tm_im2col_s8(s, in, oy, ox, col);
    tm_widen_lane_s8(col, s->k_h * s->k_w * c, wide, lane);
    return;
  }
  const int32_t zp_pair = (int32_t)(((uint32_t)(s->in_zp & 0xffff) << 16) | (uint32_t)(s->in_zp & 0xffff));
  const int groups = c >> 2;
  const int y0 = oy * s->stride_h - s->pad_top, x0 = ox * s->stride_w - s->pad_left;
  int32_t *d = wide + 2 * lane;
  for (int ky = 0; ky < s->k_h; ky++) {
    const int iy = y0 + ky * s->dil_h;
    const int row_in = iy >= 0 && iy < s->in_h;
    /* A window row inside the input is one run of k_w * in_c bytes (NHWC). */
    if (row_in && s->dil_w == 1 && x0 >= 0 && x0 + s->k_w <= s->in_w) {
      const int8_t *src = in + (iy * s->in_w + x0) * c;
      for (int g = groups * s->k_w; g > 0; g--, src += 4, d += 4) {
        const int32_t v = tm_load32(src);
        d[0] = __sxtb16(v);
        d[1] = tm_sxtb16_ror8(v);
      }
      continue;
    }
    for (int kx = 0; kx < s->k_w; kx++) {
      const int ix = x0 + kx * s->dil_w;
      if (row_in && ix >= 0 && ix < s->in_w) {
        const int8_t *src = in + (iy * s->in_w + ix) * c;
        for (int g = groups; g > 0; g--, src += 4, d += 4) {
          const int32_t v = tm_load32(src);
          d[0] = __sxtb16(v);
          d[1] = tm_sxtb16_ror8(v);
        }
      } else {
        for (int g = groups; g > 0; g--, d += 4) d[0] = d[1] = zp_pair;
      }
    }
  }
}
#endif

/* Scratch of tm_conv2d_s8: DSP, one column (rounded up to a word) then the interleaved widened pair; portable, two columns. */
TM_KERNEL void tm_conv2d_s8(const tm_conv_shape *s, const tm_requant_params *q, const int8_t *in, const int8_t *w, int8_t *out, int8_t *scratch) {
  const int depth = s->k_h * s->k_w * s->in_c, n_out = s->out_c;
#if TM_DSP
  /* One column at a time into one lane of the interleaved widened pair; pairs go through the widened core. */
  int8_t *TM_RESTRICT col = (int8_t *)TM_ARENA_PTR(scratch);
  int32_t *TM_RESTRICT wide = (int32_t *)(void *)(col + ((depth + 3) & ~3));
  int lane = 0;
  int8_t *pending_out = 0;
  for (int oy = 0; oy < s->out_h; oy++) {
    for (int ox = 0; ox < s->out_w; ox++) {
      int8_t *dst = out + (oy * s->out_w + ox) * n_out;
      tm_im2col_wide_s8(s, in, oy, ox, col, wide, lane);
      if (lane) {
        tm_gemm_wide_2col(wide, w, depth, n_out, q, pending_out, dst);
        lane = 0;
      } else {
        lane = 1;
        pending_out = dst;
      }
    }
  }
  if (lane) {
    /* The odd last pixel: both lanes hold its column and both results land on its output. */
    tm_im2col_wide_s8(s, in, s->out_h - 1, s->out_w - 1, col, wide, 1);
    tm_gemm_wide_2col(wide, w, depth, n_out, q, pending_out, pending_out);
  }
#else
#if TM_WASM_SIMD
  if (tm_wasm_conv_s8(s, q, in, w, out)) return;
#endif
  int8_t *cols[2] = {(int8_t *)TM_ARENA_PTR(scratch), scratch + depth};
  int pending = 0;
  int8_t *pending_out = 0;
  for (int oy = 0; oy < s->out_h; oy++) {
    for (int ox = 0; ox < s->out_w; ox++) {
      int8_t *dst = out + (oy * s->out_w + ox) * n_out;
      tm_im2col_s8(s, in, oy, ox, cols[pending]);
      if (pending) {
        tm_gemm_s8_2col(cols[0], cols[1], w, depth, n_out, q, pending_out, dst);
        pending = 0;
      } else {
        pending = 1;
        pending_out = dst;
      }
    }
  }
  if (pending) tm_gemm_s8_1col(cols[0], w, depth, n_out, q, pending_out);
#endif
}

#if TM_WASM_SIMD
/*
 * The WebAssembly runtime's forms of the two kernels: the same arguments and `wp`, the weights packed for
 * the tile (tm_wasm_tile_gemm_packed; src/runtime/wasm/packed_weights.ts packs them once, at load). A
 * column too deep for the tile goes to the kernel above.
 */
TM_KERNEL void tm_conv2d_1x1_packed_s8(const tm_conv_shape *s, const tm_requant_params *q, const int8_t *in, const int8_t *w, int8_t *out, int8_t *scratch, const int16_t *wp) {
  const int depth = s->in_c, n_out = s->out_c, n_px = s->out_h * s->out_w;
  if (depth > TM_WASM_TILE_DEPTH) {
    tm_conv2d_1x1_s8(s, q, in, w, out, scratch);
    return;
  }
  const int rq_mode = tm_wasm_rq_mode(q, n_out, (depth + 1) >> 1);
  int16_t xp[TM_WASM_TILE_DEPTH * TM_WASM_TILE] __attribute__((aligned(16)));
  int oy = 0, ox = 0; /* the next pixel, walked without divisions (an integer division costs tens of cycles) */
  for (int p = 0; p < n_px; p += TM_WASM_TILE) {
    const int n = TM_MIN(TM_WASM_TILE, n_px - p);
    const int8_t *rows[TM_WASM_TILE];
    int8_t *dst[TM_WASM_TILE];
    if (n <= 2) {
      /*
       * One or two last pixels: the depth along the lanes (tm_wasm_gemm_2col, eight values a multiply) takes
       * a quarter of the multiplies of the half-empty pixel-lane tile, whose lanes would be mostly idle.
       */
      const int8_t *c0 = in + ((oy * s->stride_h) * s->in_w + ox * s->stride_w) * depth;
      if (++ox == s->out_w) { ox = 0; oy++; }
      const int8_t *c1 = n == 2 ? in + ((oy * s->stride_h) * s->in_w + ox * s->stride_w) * depth : 0;
      tm_wasm_gemm_2col(c0, c1, w, depth, n_out, q, out + p * n_out, n == 2 ? out + (p + 1) * n_out : 0);
      break;
    }
    for (int i = 0; i < TM_WASM_TILE; i++) {
      if (i < n) {
        rows[i] = in + ((oy * s->stride_h) * s->in_w + ox * s->stride_w) * depth;
        if (++ox == s->out_w) { ox = 0; oy++; }
      } else {
        rows[i] = rows[0];
      }
      dst[i] = out + (p + i) * n_out;
    }
    tm_wasm_pack8(rows, depth, xp);
    tm_wasm_tile_gemm_packed(xp, wp, (depth + 1) >> 1, n_out, q, dst, n, rq_mode);
  }
}

TM_KERNEL void tm_conv2d_packed_s8(const tm_conv_shape *s, const tm_requant_params *q, const int8_t *in, const int8_t *w, int8_t *out, int8_t *scratch, const int16_t *wp) {
  const int depth = s->k_h * s->k_w * s->in_c, n_out = s->out_c, n_px = s->out_h * s->out_w;
  if (depth > TM_WASM_TILE_DEPTH) {
    tm_conv2d_s8(s, q, in, w, out, scratch);
    return;
  }
  const int rq_mode = tm_wasm_rq_mode(q, n_out, (depth + 1) >> 1);
  int16_t xp[TM_WASM_TILE_DEPTH * TM_WASM_TILE] __attribute__((aligned(16)));
  int8_t cols[TM_WASM_TILE][TM_WASM_TILE_DEPTH] __attribute__((aligned(16)));
  int oy = 0, ox = 0; /* the next pixel, walked without divisions (an integer division costs tens of cycles) */
  for (int p = 0; p < n_px; p += TM_WASM_TILE) {
    const int n = TM_MIN(TM_WASM_TILE, n_px - p);
    const int8_t *rows[TM_WASM_TILE];
    int8_t *dst[TM_WASM_TILE];
    for (int i = 0; i < TM_WASM_TILE; i++) {
      if (i < n) {
        tm_wasm_im2col_s8(s, in, oy, ox, cols[i]);
        if (++ox == s->out_w) { ox = 0; oy++; }
      }
      rows[i] = cols[i < n ? i : 0];
      dst[i] = out + (p + i) * n_out;
    }
    tm_wasm_pack8(rows, TM_WASM_COLS_PACKED(depth), xp);
    tm_wasm_tile_gemm_packed(xp, wp, (depth + 1) >> 1, n_out, q, dst, n, rq_mode);
  }
}

/*
 * Shallow convolutions (a window row of k_w * in_c <= 16 bytes, dil_w 1, e.g. the 3x3 stride-2 first layer
 * on an RGB image): a window row is one contiguous run of the input, so the tile is packed straight from the
 * input, one 16-byte load per pixel and window row, with no im2col copy. Each window row takes
 * TM_WASM_ROW_PAIRS(s) depth pairs (its odd last value meets a zero weight), so the weights come packed
 * with each row padded to an even length (src/runtime/wasm/packed_weights.ts, packRowWeights).
 */
#define TM_WASM_ROW_PAIRS(s) (((s)->k_w * (s)->in_c + 1) >> 1)

/*
 * Window row ky of eight pixels (`src[i]`, 16 readable bytes each) into depth pairs ky * row_pairs and on:
 * the transposition of tm_wasm_pack8 on one 16-byte chunk. A row's stores may run up to one pair into the
 * next row's, which the next row overwrites (rows are packed in order; xp has room past the last).
 */
TM_HELPER void tm_wasm_pack8_row(const int8_t *const src[TM_WASM_TILE], int row_pairs, int16_t *dst) {
  for (int h = 0; h < 2; h++) {
    const v128_t r0 = wasm_v128_load(src[4 * h]), r1 = wasm_v128_load(src[4 * h + 1]);
    const v128_t r2 = wasm_v128_load(src[4 * h + 2]), r3 = wasm_v128_load(src[4 * h + 3]);
    const v128_t t01l = wasm_i16x8_shuffle(r0, r1, 0, 8, 1, 9, 2, 10, 3, 11), t23l = wasm_i16x8_shuffle(r2, r3, 0, 8, 1, 9, 2, 10, 3, 11);
    v128_t u = wasm_i32x4_shuffle(t01l, t23l, 0, 4, 1, 5);
    wasm_v128_store(dst + 8 * h, wasm_i16x8_extend_low_i8x16(u));
    wasm_v128_store(dst + 16 + 8 * h, wasm_i16x8_extend_high_i8x16(u));
    if (row_pairs <= 2) continue;
    u = wasm_i32x4_shuffle(t01l, t23l, 2, 6, 3, 7);
    wasm_v128_store(dst + 32 + 8 * h, wasm_i16x8_extend_low_i8x16(u));
    wasm_v128_store(dst + 48 + 8 * h, wasm_i16x8_extend_high_i8x16(u));
    if (row_pairs <= 4) continue;
    const v128_t t01h = wasm_i16x8_shuffle(r0, r1, 4, 12, 5, 13, 6, 14, 7, 15), t23h = wasm_i16x8_shuffle(r2, r3, 4, 12, 5, 13, 6, 14, 7, 15);
    u = wasm_i32x4_shuffle(t01h, t23h, 0, 4, 1, 5);
    wasm_v128_store(dst + 64 + 8 * h, wasm_i16x8_extend_low_i8x16(u));
    wasm_v128_store(dst + 80 + 8 * h, wasm_i16x8_extend_high_i8x16(u));
    if (row_pairs <= 6) continue;
    u = wasm_i32x4_shuffle(t01h, t23h, 2, 6, 3, 7);
    wasm_v128_store(dst + 96 + 8 * h, wasm_i16x8_extend_low_i8x16(u));
    wasm_v128_store(dst + 112 + 8 * h, wasm_i16x8_extend_high_i8x16(u));
  }
}

/*
 * Output pixel (oy, ox)'s window rows: where the first starts and how far apart they are. A window inside
 * the input whose last 16-byte load stays inside it is read in place; any other (padded taps, or the input's
 * last bytes) is gathered into `local`, 16 bytes per window row, the zero point where padded.
 */
TM_HELPER const int8_t *tm_wasm_window_rows(const tm_conv_shape *s, const int8_t *in, const int8_t *in_end, int oy, int ox, int8_t *local, int *row_step) {
  const int c = s->in_c, y0 = oy * s->stride_h - s->pad_top, x0 = ox * s->stride_w - s->pad_left;
  const int span_y = (s->k_h - 1) * s->dil_h;
  const int8_t *first = in + (y0 * s->in_w + x0) * c;
  if (y0 >= 0 && y0 + span_y < s->in_h && x0 >= 0 && x0 + s->k_w <= s->in_w && first + span_y * s->in_w * c + 16 <= in_end) {
    *row_step = s->dil_h * s->in_w * c;
    return first;
  }
  tm_wasm_fill(local, (int8_t)s->in_zp, 16 * s->k_h);
  for (int ky = 0; ky < s->k_h; ky++) {
    const int iy = y0 + ky * s->dil_h;
    if (iy < 0 || iy >= s->in_h) continue;
    const int kx0 = TM_MAX(0, -x0), kx1 = TM_MIN(s->k_w, s->in_w - x0);
    if (kx1 > kx0) tm_wasm_copy(local + 16 * ky + kx0 * c, in + (iy * s->in_w + x0 + kx0) * c, (kx1 - kx0) * c);
  }
  *row_step = 16;
  return local;
}

TM_KERNEL void tm_conv2d_rows_packed_s8(const tm_conv_shape *s, const tm_requant_params *q, const int8_t *in, const int8_t *w, int8_t *out, int8_t *scratch, const int16_t *wp) {
  const int row_pairs = TM_WASM_ROW_PAIRS(s), pairs = s->k_h * row_pairs, n_out = s->out_c, n_px = s->out_h * s->out_w;
  /* wp has this layout only for such shapes (the loader checks the same); the portable kernel takes any other. */
  if (s->dil_w != 1 || s->k_w * s->in_c > 16 || 16 * s->k_h > TM_WASM_TILE_DEPTH) {
    tm_conv2d_s8(s, q, in, w, out, scratch);
    return;
  }
  const int rq_mode = tm_wasm_rq_mode(q, n_out, pairs);
  const int c = s->in_c, in_size = s->in_h * s->in_w * c, span_y = (s->k_h - 1) * s->dil_h;
  const int row_step = s->dil_h * s->in_w * c, last_row = (s->k_h - 1) * row_step, x_step = s->stride_w * c;
  const int8_t *in_end = in + in_size;
  /* Output columns whose windows lie within the input's width; rows are tested once per output row. */
  int x_lo = 0, x_hi = 0;
  while (x_lo < s->out_w && x_lo * s->stride_w < s->pad_left) x_lo++;
  for (x_hi = x_lo; x_hi < s->out_w && x_hi * s->stride_w - s->pad_left + s->k_w <= s->in_w;) x_hi++;
  int16_t xp[(TM_WASM_TILE_DEPTH + 8) * TM_WASM_TILE] __attribute__((aligned(16)));
  int8_t local[TM_WASM_TILE][TM_WASM_TILE_DEPTH] __attribute__((aligned(16)));
  /* The next pixel and its window's offset in the input, walked without multiplications. */
  int oy = 0, ox = 0, y0 = -s->pad_top, off = (y0 * s->in_w - s->pad_left) * c;
  int row_in = y0 >= 0 && y0 + span_y < s->in_h;
  for (int p = 0; p < n_px; p += TM_WASM_TILE) {
    const int n = TM_MIN(TM_WASM_TILE, n_px - p);
    const int8_t *src[TM_WASM_TILE];
    int step[TM_WASM_TILE];
    int8_t *dst[TM_WASM_TILE];
    for (int i = 0; i < TM_WASM_TILE; i++) {
      if (i < n) {
        if (row_in && ox >= x_lo && ox < x_hi && off + last_row + 16 <= in_size) {
          src[i] = in + off;
          step[i] = row_step;
        } else {
          src[i] = tm_wasm_window_rows(s, in, in_end, oy, ox, local[i], &step[i]);
        }
        off += x_step;
        if (++ox == s->out_w) {
          ox = 0;
          oy++;
          y0 += s->stride_h;
          off = (y0 * s->in_w - s->pad_left) * c;
          row_in = y0 >= 0 && y0 + span_y < s->in_h;
        }
      } else {
        src[i] = src[0];
        step[i] = step[0];
      }
      dst[i] = out + (p + i) * n_out;
    }
    for (int ky = 0; ky < s->k_h; ky++) {
      tm_wasm_pack8_row(src, row_pairs, xp + 16 * ky * row_pairs);
      for (int i = 0; i < TM_WASM_TILE; i++) src[i] += step[i];
    }
    tm_wasm_tile_gemm_packed(xp, wp, pairs, n_out, q, dst, n, rq_mode);
  }
}
#endif

/*
 * CONV_2D float32, the same floats as TFLite Micro's reference_ops::Conv: each output sums its in-bounds
 * taps in the reference's order (filter row, column, input channel) and then adds the bias. The weights
 * come transposed by the generator, [k_h][k_w][in_c][out_c], so output channels are the SIMD lanes: each
 * lane keeps the reference's order, and the result is bit-identical to it.
 */
TM_KERNEL void tm_conv2d_f32(const tm_conv_shape *s, const tm_float_params *p, const float *in, const float *wt, float *out) {
  const int cin = s->in_c, cout = s->out_c;
  for (int oy = 0; oy < s->out_h; oy++) {
    const int y0 = oy * s->stride_h - s->pad_top;
    for (int ox = 0; ox < s->out_w; ox++) {
      const int x0 = ox * s->stride_w - s->pad_left;
      float *dst = out + (oy * s->out_w + ox) * cout;
      int oc = 0;
#if TM_WASM_SIMD
      const v128_t lo = wasm_f32x4_splat(p->act_min), hi = wasm_f32x4_splat(p->act_max);
      for (; oc + 8 <= cout; oc += 8) {
        v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0;
        for (int ky = 0; ky < s->k_h; ky++) {
          const int iy = y0 + ky * s->dil_h;
          if (iy < 0 || iy >= s->in_h) continue;
          for (int kx = 0; kx < s->k_w; kx++) {
            const int ix = x0 + kx * s->dil_w;
            if (ix < 0 || ix >= s->in_w) continue;
            const float *x = in + (iy * s->in_w + ix) * cin;
            const float *w = wt + ((ky * s->k_w + kx) * cin) * cout + oc;
            for (int ic = 0; ic < cin; ic++, w += cout) {
              const v128_t xv = wasm_f32x4_splat(x[ic]);
              a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(xv, wasm_v128_load(w)));
              a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(xv, wasm_v128_load(w + 4)));
            }
          }
        }
        a0 = wasm_f32x4_add(a0, wasm_v128_load(p->bias + oc));
        a1 = wasm_f32x4_add(a1, wasm_v128_load(p->bias + oc + 4));
        wasm_v128_store(dst + oc, wasm_f32x4_pmin(wasm_f32x4_pmax(a0, lo), hi));
        wasm_v128_store(dst + oc + 4, wasm_f32x4_pmin(wasm_f32x4_pmax(a1, lo), hi));
      }
#endif
      for (; oc < cout; oc++) {
        float acc = 0.0f;
        for (int ky = 0; ky < s->k_h; ky++) {
          const int iy = y0 + ky * s->dil_h;
          if (iy < 0 || iy >= s->in_h) continue;
          for (int kx = 0; kx < s->k_w; kx++) {
            const int ix = x0 + kx * s->dil_w;
            if (ix < 0 || ix >= s->in_w) continue;
            const float *x = in + (iy * s->in_w + ix) * cin;
            const float *w = wt + ((ky * s->k_w + kx) * cin) * cout + oc;
            for (int ic = 0; ic < cin; ic++) acc += x[ic] * w[ic * cout];
          }
        }
        dst[oc] = tm_clamp_f32(acc + p->bias[oc], p->act_min, p->act_max);
      }
    }
  }
}

#if TM_DSP
/*
 * Pointwise on the DSP path with the weights already split into SMLAD pairs by the generator (int16 in
 * Flash, twice the int8 size): the weight word of a pair is what SXTB16 of the int8 word made at run time,
 * so a group of four depth values of two rows is one LDM of both columns' pairs, two LDRD of weights and
 * eight SMLAD: 11 instructions for 16 multiply-accumulates instead of 16. Taken for a depth (in_c, or
 * k_h * k_w * in_c) that is a multiple of 4 and an even out_c. wp: per pair of rows, per group of four values k..k+3, the words
 * [r0 (k, k+2), r0 (k+1, k+3), r1 (k, k+2), r1 (k+1, k+3)], each (low, high) 16-bit halves.
 */
#define TM_DSP_W16_GROUP                  \
  "ldm r0!, {r4, r5, r6, r7}\n\t"         \
  "ldrd r8, r9, [r1], #8\n\t"             \
  "smlad r10, r4, r8, r10\n\t"            \
  "smlad r10, r5, r9, r10\n\t"            \
  "smlad r12, r6, r8, r12\n\t"            \
  "smlad r12, r7, r9, r12\n\t"            \
  "ldrd r8, r9, [r1], #8\n\t"             \
  "smlad r11, r4, r8, r11\n\t"            \
  "smlad r11, r5, r9, r11\n\t"            \
  "smlad lr, r6, r8, lr\n\t"              \
  "smlad lr, r7, r9, lr\n\t"

/*
 * acc[0..3] += {col a . row 0, col a . row 1, col b . row 0, col b . row 1} over acc[4] (>= 1) groups; x
 * the two interleaved widened columns (tm_widen_lane_s8), w the row pair's words. Naked for the reason
 * tm_dsp_dot_2x2_groups is (every allocatable register is live in the loop).
 */
__attribute__((naked, noipa, unused)) static void tm_dsp_dot_2x2_w16(TM_ASM_ARG const int32_t *x, TM_ASM_ARG const int32_t *w, TM_ASM_ARG int32_t *acc) {
  __asm__ volatile(
    "push {r2, r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t"
    "ldm r2, {r10, r11, r12, lr}\n\t"
    "ldr r3, [r2, #16]\n\t"
    "lsrs r3, r3, #1\n\t"
    "bcc 2f\n\t"
    TM_DSP_W16_GROUP
    "2:\n\t"
    "beq 3f\n"
    "1:\n\t"
    TM_DSP_W16_GROUP
    TM_DSP_W16_GROUP
    "subs r3, r3, #1\n\t"
    "bne 1b\n"
    "3:\n\t"
    "pop {r2}\n\t"
    "stm r2, {r10, r11, r12, lr}\n\t"
    "pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n\t");
}

#define TM_DSP_W16_PASS                  \
  "lsrs r3, r3, #3\n\t"                 \
  "bcc 2f\n\t"                          \
  TM_DSP_W16_GROUP                       \
  "2:\n\t"                              \
  "beq 3f\n"                             \
  "1:\n\t"                              \
  TM_DSP_W16_GROUP                       \
  TM_DSP_W16_GROUP                       \
  "subs r3, r3, #1\n\t"                 \
  "bne 1b\n"                             \
  "3:\n\t"

/*
 * Two row pairs in one call (io->acc as tm_dsp_dot_2x4_groups: {a r0, a r1, b r0, b r1, a r2, a r3, b r2,
 * b r3}, from io->bias[0..3]): the call and register saves are paid once per eight outputs. depth >= 4.
 */
__attribute__((naked, noipa, unused)) static void tm_dsp_dot_2x4_w16(TM_ASM_ARG const int32_t *x, TM_ASM_ARG const int32_t *w, TM_ASM_ARG int32_t depth, TM_ASM_ARG tm_dsp_2x4_io *io) {
  __asm__ volatile(
    /* stack: [sp] = x, [sp, #4] = w, [sp, #8] = depth, [sp, #12] = io, then the saved registers */
    "push {r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t"
    "ldr r4, [r3]\n\t"
    "ldrd r10, r11, [r4]\n\t"
    "mov r12, r10\n\t"
    "mov lr, r11\n\t"
    "mov r3, r2\n\t"
    TM_DSP_W16_PASS
    "ldr r3, [sp, #12]\n\t"
    "add r3, r3, #4\n\t"
    "stm r3, {r10, r11, r12, lr}\n\t"
    "ldm sp, {r0, r1, r3}\n\t"
    "add r1, r1, r3, lsl #2\n\t"
    "ldr r4, [sp, #12]\n\t"
    "ldr r4, [r4]\n\t"
    "ldrd r10, r11, [r4, #8]\n\t"
    "mov r12, r10\n\t"
    "mov lr, r11\n\t"
    TM_DSP_W16_PASS
    "ldr r3, [sp, #12]\n\t"
    "add r3, r3, #20\n\t"
    "stm r3, {r10, r11, r12, lr}\n\t"
    "add sp, sp, #16\n\t"
    "pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n\t");
}

/* Two widened columns (the second may repeat the first) through every row pair; out1 NULL for a lone pixel. */
#define TM_DSP_W16_2X4_DEPTH 32
TM_HELPER void tm_gemm_w16_2col(const int32_t *TM_RESTRICT x, const int32_t *wp, int depth, int n_out, const tm_requant_params *q, int8_t *out0, int8_t *out1) {
  int c = 0;
  /* Shallow layers keep one call per row pair: the second pass's set-up outweighs the saved call (measured). */
  if (depth >= TM_DSP_W16_2X4_DEPTH)
  for (; c + 4 <= n_out; c += 4, wp += 2 * depth) {
    tm_dsp_2x4_io io;
    io.bias = q->bias + c;
    tm_dsp_dot_2x4_w16(x, wp, depth, &io);
    /* All eight results before any store (an int8 store may alias the constant tables). */
    const int8_t a0 = tm_requant_ch(q, io.acc[0], c), b0 = tm_requant_ch(q, io.acc[2], c);
    const int8_t a1 = tm_requant_ch(q, io.acc[1], c + 1), b1 = tm_requant_ch(q, io.acc[3], c + 1);
    const int8_t a2 = tm_requant_ch(q, io.acc[4], c + 2), b2 = tm_requant_ch(q, io.acc[6], c + 2);
    const int8_t a3 = tm_requant_ch(q, io.acc[5], c + 3), b3 = tm_requant_ch(q, io.acc[7], c + 3);
    out0[c] = a0; out0[c + 1] = a1; out0[c + 2] = a2; out0[c + 3] = a3;
    if (out1) {
      out1[c] = b0; out1[c + 1] = b1; out1[c + 2] = b2; out1[c + 3] = b3;
    }
  }
  for (; c < n_out; c += 2, wp += depth) {
    int32_t acc[5] = {q->bias[c], q->bias[c + 1], q->bias[c], q->bias[c + 1], depth >> 2};
    tm_dsp_dot_2x2_w16(x, wp, acc);
    const int8_t a0 = tm_requant_ch(q, acc[0], c), a1 = tm_requant_ch(q, acc[1], c + 1);
    const int8_t b0 = tm_requant_ch(q, acc[2], c), b1 = tm_requant_ch(q, acc[3], c + 1);
    out0[c] = a0;
    out0[c + 1] = a1;
    if (out1) {
      out1[c] = b0;
      out1[c + 1] = b1;
    }
  }
}

/* Scratch: the two widened columns (as tm_conv2d_1x1_s8). */
TM_KERNEL void tm_conv2d_1x1_w16_s8(const tm_conv_shape *s, const tm_requant_params *q, const int8_t *in, const int32_t *wp, int8_t *out, int8_t *scratch) {
  int32_t *wide = (int32_t *)TM_ARENA_PTR(scratch);
  const int depth = s->in_c, n_out = s->out_c;
  int lane = 0;
  int8_t *pending_out = 0;
  for (int oy = 0; oy < s->out_h; oy++) {
    const int8_t *row = in + (oy * s->stride_h) * s->in_w * depth;
    for (int ox = 0; ox < s->out_w; ox++) {
      int8_t *dst = out + (oy * s->out_w + ox) * n_out;
      tm_widen_lane_s8(row + ox * s->stride_w * depth, depth, wide, lane);
      if (lane) {
        tm_gemm_w16_2col(wide, wp, depth, n_out, q, pending_out, dst);
        lane = 0;
      } else {
        lane = 1;
        pending_out = dst;
      }
    }
  }
  if (lane) {
    /* The odd last pixel: lane 1 repeats it, its results are dropped. */
    const int last = s->out_h * s->out_w - 1;
    tm_widen_lane_s8(in + ((last / s->out_w) * s->stride_h * s->in_w + (last % s->out_w) * s->stride_w) * depth, depth, wide, 1);
    tm_gemm_w16_2col(wide, wp, depth, n_out, q, pending_out, 0);
  }
}

/* tm_conv2d_s8's DSP path with split weights (k_h * k_w * in_c % 4 == 0, even out_c); the same scratch. */
TM_KERNEL void tm_conv2d_w16_s8(const tm_conv_shape *s, const tm_requant_params *q, const int8_t *in, const int32_t *wp, int8_t *out, int8_t *scratch) {
  const int depth = s->k_h * s->k_w * s->in_c, n_out = s->out_c;
  int8_t *TM_RESTRICT col = (int8_t *)TM_ARENA_PTR(scratch);
  int32_t *TM_RESTRICT wide = (int32_t *)(void *)(col + ((depth + 3) & ~3));
  int lane = 0;
  int8_t *pending_out = 0;
  for (int oy = 0; oy < s->out_h; oy++) {
    for (int ox = 0; ox < s->out_w; ox++) {
      int8_t *dst = out + (oy * s->out_w + ox) * n_out;
      tm_im2col_wide_s8(s, in, oy, ox, col, wide, lane);
      if (lane) {
        tm_gemm_w16_2col(wide, wp, depth, n_out, q, pending_out, dst);
        lane = 0;
      } else {
        lane = 1;
        pending_out = dst;
      }
    }
  }
  if (lane) {
    tm_im2col_wide_s8(s, in, s->out_h - 1, s->out_w - 1, col, wide, 1);
    tm_gemm_w16_2col(wide, wp, depth, n_out, q, pending_out, 0);
  }
}

/* Largest window row (k_w * in_c bytes) tm_conv2d_rowpad_w16_s8 takes: a border row is gathered on the stack. */
#define TM_DSP_ROWPAD_MAX 16

/*
 * One output pixel's window into lane `lane` of the widened pair, each window row (k_w * in_c bytes) padded
 * to a multiple of four with values whose weights are 0 (the generator pads the weights alike): a row
 * inside the input is word loads and SXTB16 straight from it, its last partial word read byte by byte so
 * nothing past the row is read.
 */
TM_HELPER void tm_widen_rows_padded_s8(const tm_conv_shape *s, const int8_t *in, int oy, int ox, int32_t *wide, int lane) {
  const int c = s->in_c, row = s->k_w * c, full = row >> 2, tail = row & 3;
  const int y0 = oy * s->stride_h - s->pad_top, x0 = ox * s->stride_w - s->pad_left;
  int32_t *d = wide + 2 * lane;
  for (int ky = 0; ky < s->k_h; ky++) {
    const int iy = y0 + ky * s->dil_h;
    const int row_in = iy >= 0 && iy < s->in_h;
    int8_t buf[TM_DSP_ROWPAD_MAX];
    const int8_t *src;
    if (row_in && s->dil_w == 1 && x0 >= 0 && x0 + s->k_w <= s->in_w) {
      src = in + (iy * s->in_w + x0) * c;
    } else {
      for (int kx = 0; kx < s->k_w; kx++) {
        const int ix = x0 + kx * s->dil_w;
        if (row_in && ix >= 0 && ix < s->in_w) memcpy(buf + kx * c, in + (iy * s->in_w + ix) * c, (size_t)c);
        else memset(buf + kx * c, (int)(int8_t)s->in_zp, (size_t)c);
      }
      src = buf;
    }
    for (int g = 0; g < full; g++, d += 4) {
      const int32_t v = tm_load32(src + 4 * g);
      d[0] = __sxtb16(v);
      d[1] = tm_sxtb16_ror8(v);
    }
    if (tail) {
      int32_t v = 0;
      memcpy(&v, src + 4 * full, (size_t)tail);
      d[0] = __sxtb16(v);
      d[1] = tm_sxtb16_ror8(v);
      d += 4;
    }
  }
}

/*
 * Any kernel whose window rows are not a multiple of four bytes (a first conv over RGB or grayscale:
 * 3x3x3, 3x3x1) with split weights: each window row padded to whole words (a third more multiplies for
 * 3x3, against the leftover values' scalar loop and the im2col copy). Scratch: the widened pair only,
 * 4 * k_h * ceil4(k_w * in_c) bytes (the generator checks the plan's scratch covers it).
 */
TM_KERNEL void tm_conv2d_rowpad_w16_s8(const tm_conv_shape *s, const tm_requant_params *q, const int8_t *in, const int32_t *wp, int8_t *out, int8_t *scratch) {
  const int depth = s->k_h * ((s->k_w * s->in_c + 3) & ~3), n_out = s->out_c;
  int32_t *TM_RESTRICT wide = (int32_t *)TM_ARENA_PTR(scratch);
  int lane = 0;
  int8_t *pending_out = 0;
  for (int oy = 0; oy < s->out_h; oy++) {
    for (int ox = 0; ox < s->out_w; ox++) {
      int8_t *dst = out + (oy * s->out_w + ox) * n_out;
      tm_widen_rows_padded_s8(s, in, oy, ox, wide, lane);
      if (lane) {
        tm_gemm_w16_2col(wide, wp, depth, n_out, q, pending_out, dst);
        lane = 0;
      } else {
        lane = 1;
        pending_out = dst;
      }
    }
  }
  if (lane) {
    tm_widen_rows_padded_s8(s, in, s->out_h - 1, s->out_w - 1, wide, 1);
    tm_gemm_w16_2col(wide, wp, depth, n_out, q, pending_out, 0);
  }
}
#endif

#if !TM_DSP && !defined(TM_WASM_EXPORT) /* the wasm runtime never lowers to them */
/*
 * The split-weight kernels without the DSP extension (a Cortex-M project built for another core, or with
 * TM_PORTABLE): the generator chose them for the target, so they must build anywhere; plain C over the
 * same weight layout (tm_w16_weight), the same integers.
 */
TM_KERNEL void tm_conv2d_1x1_w16_s8(const tm_conv_shape *s, const tm_requant_params *q, const int8_t *in, const int32_t *wp, int8_t *out, int8_t *scratch) {
  (void)scratch;
  const int depth = s->in_c;
  for (int oy = 0; oy < s->out_h; oy++) {
    for (int ox = 0; ox < s->out_w; ox++) {
      const int8_t *x = in + (oy * s->stride_h * s->in_w + ox * s->stride_w) * depth;
      int8_t *dst = out + (oy * s->out_w + ox) * s->out_c;
      for (int c = 0; c < s->out_c; c++) {
        int32_t acc = q->bias[c];
        for (int k = 0; k < depth; k++) acc += (int32_t)x[k] * tm_w16_weight(wp, 2, c, k, depth);
        dst[c] = tm_requant_ch(q, acc, c);
      }
    }
  }
}

TM_KERNEL void tm_conv2d_w16_s8(const tm_conv_shape *s, const tm_requant_params *q, const int8_t *in, const int32_t *wp, int8_t *out, int8_t *scratch) {
  const int depth = s->k_h * s->k_w * s->in_c;
  int8_t *col = (int8_t *)TM_ARENA_PTR(scratch);
  for (int oy = 0; oy < s->out_h; oy++) {
    for (int ox = 0; ox < s->out_w; ox++) {
      tm_im2col_s8(s, in, oy, ox, col);
      int8_t *dst = out + (oy * s->out_w + ox) * s->out_c;
      for (int c = 0; c < s->out_c; c++) {
        int32_t acc = q->bias[c];
        for (int k = 0; k < depth; k++) acc += (int32_t)col[k] * tm_w16_weight(wp, 2, c, k, depth);
        dst[c] = tm_requant_ch(q, acc, c);
      }
    }
  }
}

TM_KERNEL void tm_conv2d_rowpad_w16_s8(const tm_conv_shape *s, const tm_requant_params *q, const int8_t *in, const int32_t *wp, int8_t *out, int8_t *scratch) {
  (void)scratch;
  const int c_in = s->in_c, row = (s->k_w * c_in + 3) & ~3, depth = s->k_h * row;
  for (int oy = 0; oy < s->out_h; oy++) {
    for (int ox = 0; ox < s->out_w; ox++) {
      const int y0 = oy * s->stride_h - s->pad_top, x0 = ox * s->stride_w - s->pad_left;
      int8_t *dst = out + (oy * s->out_w + ox) * s->out_c;
      for (int c = 0; c < s->out_c; c++) {
        int32_t acc = q->bias[c];
        for (int ky = 0; ky < s->k_h; ky++) {
          const int iy = y0 + ky * s->dil_h;
          for (int kx = 0; kx < s->k_w; kx++) {
            const int ix = x0 + kx * s->dil_w;
            const int inside = iy >= 0 && iy < s->in_h && ix >= 0 && ix < s->in_w;
            for (int ci = 0; ci < c_in; ci++) {
              const int32_t xv = inside ? in[(iy * s->in_w + ix) * c_in + ci] : s->in_zp;
              acc += xv * tm_w16_weight(wp, 2, c, ky * row + kx * c_in + ci, depth);
            }
          }
        }
        dst[c] = tm_requant_ch(q, acc, c);
      }
    }
  }
}
#endif

#endif /* TM_CONV2D_H */
