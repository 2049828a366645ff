/*
 * DEPTHWISE_CONV_2D, int8, NHWC with batch 1, filters [1][k_h][k_w][out_c], output channel
 * oc = ic * depth_mult + m. Same integer result as TFLite Micro's reference_integer_ops::DepthwiseConvPerChannel.
 * The bias is folded (bias - in_zp * sum of the channel's taps), so padded taps read as the zero point.
 *
 *   tm_depthwise_conv2d_s8          out-of-place, pixel by pixel: interior windows (depth_mult 1) read their
 *                                   taps at fixed offsets, border windows through tap pointers that send padded
 *                                   taps to a zero-point row; four channels at a time with SMLABB/SMLATT on
 *                                   the DSP path, the window unrolled once specialised. The zero-point row and
 *                                   the tap pointers live in the layer's plan scratch (any window, any depth).
 *                                   3x3 windows (multiplier 1) on Cortex-M take tm_dsp_dw3x3_s8: one asm
 *                                   block per window, border windows included (a shifted block against a
 *                                   zero-ringed weight grid), its tables on the stack, no plan scratch.
 *   tm_depthwise_conv2d_inplace_s8  TinyEngine's in-place depthwise: the output overwrites the input (same
 *                                   arena offset), one channel at a time; the channel's input plane is first
 *                                   copied to the plan's scratch, followed by the channel's taps as int32.
 *   tm_depthwise_conv2d_groups_inplace_s8  the same with four planes of scratch where the plan had room:
 *                                   3x3 layers that tm_dsp_dw3x3_s8 takes go four channels at a time on
 *                                   Cortex-M, the group's four planes copied to the scratch and read by the
 *                                   same asm block.
 *
 * Scratch sizes (src/ops/depthwise_conv2d.ts computes the same): out-of-place, in_c rounded up to 8 bytes
 * then 8 bytes per tap pointer (room for 64-bit hosts); in place, in_h * in_w rounded up to 4, then 4 bytes
 * per tap; the groups form, 4 * in_h * in_w or that, whichever is more.
 */
#ifndef TM_DEPTHWISE_CONV2D_H
#define TM_DEPTHWISE_CONV2D_H

#include "tm_common.h"
#include "tm_gemm.h"

typedef struct {
  int16_t in_h, in_w, in_c;
  int16_t out_h, out_w, out_c;
  int16_t depth_mult;
  int16_t k_h, k_w;
  int16_t stride_h, stride_w;
  int16_t dil_h, dil_w;
  int16_t pad_top, pad_left;
  int32_t in_zp;
} tm_dw_shape;

/* The window's taps as pointers to channel 0 of each input pixel; taps outside point at a zero-point row. */
TM_HELPER void tm_dw_taps(const tm_dw_shape *s, const int8_t *in, int y0, int x0, const int8_t *zp_row, const int8_t **taps) {
  int t = 0;
  for (int ky = 0; ky < s->k_h; ky++) {
    const int iy = y0 + ky * s->dil_h;
    const int row_in = iy >= 0 && iy < s->in_h;
    for (int kx = 0; kx < s->k_w; kx++) {
      const int ix = x0 + kx * s->dil_w;
      taps[t++] = (row_in && ix >= 0 && ix < s->in_w) ? in + (iy * s->in_w + ix) * s->in_c : zp_row;
    }
  }
}

#if TM_WASM_SIMD
/* Requantise eight channels' accumulators (two i32x4) into dst[0..7]. */
TM_HELPER void tm_wasm_requant8(const tm_requant_params *q, int ch, v128_t lo, v128_t hi, int8_t *dst) {
  v128_t rl, rh;
  if (tm_wasm_requant4(q, ch, lo, &rl) && tm_wasm_requant4(q, ch + 4, hi, &rh)) {
    wasm_v128_store64_lane(dst, wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(rl, rh), rl), 0);
    return;
  }
  int32_t a[8];
  wasm_v128_store(a, lo);
  wasm_v128_store(a + 4, hi);
  for (int j = 0; j < 8; j++) dst[j] = tm_requant_ch(q, a[j], ch + j);
}
#endif

/*
 * Four channels' accumulators += one tap (depth_mult 1): SMLABB/SMLATT on SXTB16-split words. One asm
 * block per tap keeps the split values from being hoisted across the unrolled taps (GCC otherwise
 * schedules all of them early and spills).
 */
#if TM_DSP
#define TM_DW_MAC4(xv, wv)                                                                             \
  do {                                                                                                 \
    int32_t t0_, t1_;                                                                                  \
    __asm__("sxtb16 %[t0], %[x]\n\t"                                                                  \
            "sxtb16 %[t1], %[w]\n\t"                                                                  \
            "smlabb %[a0], %[t0], %[t1], %[a0]\n\t"                                                   \
            "smlatt %[a2], %[t0], %[t1], %[a2]\n\t"                                                   \
            "sxtb16 %[t0], %[x], ror #8\n\t"                                                          \
            "sxtb16 %[t1], %[w], ror #8\n\t"                                                          \
            "smlabb %[a1], %[t0], %[t1], %[a1]\n\t"                                                   \
            "smlatt %[a3], %[t0], %[t1], %[a3]"                                                        \
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [t0] "=&r"(t0_), [t1] "=&r"(t1_) \
            : [x] "r"(xv), [w] "r"(wv));                                                               \
  } while (0)
#endif

/* One output pixel (depth_mult 1) from tap pointers: border pixels. */
TM_HELPER void tm_dw_pixel_taps_s8(const tm_dw_shape *s, const tm_requant_params *q, const int8_t *const *TM_RESTRICT taps, const int8_t *w, int8_t *TM_RESTRICT dst) {
  const int c = s->in_c, n_taps = s->k_h * s->k_w;
  int ch = 0;
#if TM_DSP
  for (; ch + 4 <= c; ch += 4) {
    int32_t a0 = q->bias[ch], a1 = q->bias[ch + 1], a2 = q->bias[ch + 2], a3 = q->bias[ch + 3];
    for (int t = 0; t < n_taps; t++) {
      const int32_t xv = tm_load32(taps[t] + ch), wv = tm_load32(w + t * c + ch);
      TM_DW_MAC4(xv, wv);
    }
    dst[ch] = tm_requant_ch(q, a0, ch);
    dst[ch + 1] = tm_requant_ch(q, a1, ch + 1);
    dst[ch + 2] = tm_requant_ch(q, a2, ch + 2);
    dst[ch + 3] = tm_requant_ch(q, a3, ch + 3);
  }
#endif
  for (; ch < c; ch++) {
    int32_t acc = q->bias[ch];
    for (int t = 0; t < n_taps; t++) acc += (int32_t)taps[t][ch] * (int32_t)w[t * c + ch];
    dst[ch] = tm_requant_ch(q, acc, ch);
  }
}

/* One interior output pixel (depth_mult 1): taps at fixed offsets from `src`, constants once specialised. */
TM_HELPER void tm_dw_pixel_interior_s8(const tm_dw_shape *s, const tm_requant_params *q, const int8_t *src, const int8_t *w, int8_t *dst) {
  const int c = s->in_c;
  const int tap_dy = s->dil_h * s->in_w * c, tap_dx = s->dil_w * c;
  int ch = 0;
#if TM_DSP
  for (; ch + 4 <= c; ch += 4) {
    int32_t a0 = q->bias[ch], a1 = q->bias[ch + 1], a2 = q->bias[ch + 2], a3 = q->bias[ch + 3];
    /* Fully unrolled once specialised: every tap's offsets become immediates. */
    TM_UNROLL(8)
    for (int ky = 0; ky < s->k_h; ky++) {
      const int8_t *xr = src + ky * tap_dy + ch;
      const int8_t *wr = w + ky * s->k_w * c + ch;
      TM_UNROLL(8)
      for (int kx = 0; kx < s->k_w; kx++) {
        const int32_t xv = tm_load32(xr + kx * tap_dx), wv = tm_load32(wr + kx * c);
        TM_DW_MAC4(xv, wv);
      }
    }
    dst[ch] = tm_requant_ch(q, a0, ch);
    dst[ch + 1] = tm_requant_ch(q, a1, ch + 1);
    dst[ch + 2] = tm_requant_ch(q, a2, ch + 2);
    dst[ch + 3] = tm_requant_ch(q, a3, ch + 3);
  }
#endif
  for (; ch < c; ch++) {
    int32_t acc = q->bias[ch];
    for (int ky = 0; ky < s->k_h; ky++) {
      const int8_t *xr = src + ky * tap_dy + ch;
      const int8_t *wr = w + ky * s->k_w * c + ch;
      for (int kx = 0; kx < s->k_w; kx++) acc += (int32_t)xr[kx * tap_dx] * (int32_t)wr[kx * c];
    }
    dst[ch] = tm_requant_ch(q, acc, ch);
  }
}

#if TM_DSP
/*
 * One interior output pixel with a depth multiplier that is a multiple of four: four outputs of one input
 * channel at a time, the input value against a weight word's SXTB16 halves, every tap at a fixed offset.
 */
TM_HELPER void tm_dw_pixel_mult4_interior_s8(const tm_dw_shape *s, const tm_requant_params *q, const int8_t *src, const int8_t *w, int8_t *dst) {
  const int c_in = s->in_c, c_out = s->out_c, mult = s->depth_mult;
  const int tap_dy = s->dil_h * s->in_w * c_in, tap_dx = s->dil_w * c_in;
  for (int ic = 0; ic < c_in; ic++) {
    for (int m = 0; m < mult; m += 4) {
      const int oc = ic * mult + m;
      int32_t a0 = q->bias[oc], a1 = q->bias[oc + 1], a2 = q->bias[oc + 2], a3 = q->bias[oc + 3];
      TM_UNROLL(8)
      for (int ky = 0; ky < s->k_h; ky++) {
        TM_UNROLL(8)
        for (int kx = 0; kx < s->k_w; kx++) {
          const int32_t xv = src[ky * tap_dy + kx * tap_dx + ic], wv = tm_load32(w + (ky * s->k_w + kx) * c_out + oc);
          const int32_t w02 = __sxtb16(wv), w13 = tm_sxtb16_ror8(wv);
          a0 = __smlabb(xv, w02, a0);
          a2 = __smlabt(xv, w02, a2);
          a1 = __smlabb(xv, w13, a1);
          a3 = __smlabt(xv, w13, a3);
        }
      }
      dst[oc] = tm_requant_ch(q, a0, oc);
      dst[oc + 1] = tm_requant_ch(q, a1, oc + 1);
      dst[oc + 2] = tm_requant_ch(q, a2, oc + 2);
      dst[oc + 3] = tm_requant_ch(q, a3, oc + 3);
    }
  }
}
#endif

/* One output pixel with depth_mult > 1 from tap pointers: each input value feeds depth_mult outputs. */
TM_HELPER void tm_dw_pixel_mult_s8(const tm_dw_shape *s, const tm_requant_params *q, const int8_t *const *TM_RESTRICT taps, const int8_t *w, int8_t *TM_RESTRICT dst) {
  const int c_in = s->in_c, c_out = s->out_c, mult = s->depth_mult, n_taps = s->k_h * s->k_w;
#if TM_WASM_SIMD
  /* Eight outputs of one input channel at a time: the input value splat against eight weights. */
  if ((mult & 7) == 0) {
    for (int ic = 0; ic < c_in; ic++) {
      for (int m = 0; m < mult; m += 8) {
        const int oc = ic * mult + m;
        v128_t lo = wasm_v128_load(q->bias + oc), hi = wasm_v128_load(q->bias + oc + 4);
        for (int t = 0; t < n_taps; t++) {
          const v128_t xv = wasm_i16x8_splat(taps[t][ic]), wv = wasm_i16x8_load8x8(w + t * c_out + oc);
          lo = wasm_i32x4_add(lo, wasm_i32x4_extmul_low_i16x8(xv, wv));
          hi = wasm_i32x4_add(hi, wasm_i32x4_extmul_high_i16x8(xv, wv));
        }
        tm_wasm_requant8(q, oc, lo, hi, dst + oc);
      }
    }
    return;
  }
#endif
#if TM_DSP
  /* Four outputs of one input channel at a time: the input value against a weight word's SXTB16 halves. */
  if ((mult & 3) == 0) {
    for (int ic = 0; ic < c_in; ic++) {
      for (int m = 0; m < mult; m += 4) {
        const int oc = ic * mult + m;
        int32_t a0 = q->bias[oc], a1 = q->bias[oc + 1], a2 = q->bias[oc + 2], a3 = q->bias[oc + 3];
        for (int t = 0; t < n_taps; t++) {
          const int32_t xv = taps[t][ic], wv = tm_load32(w + t * c_out + oc);
          const int32_t w02 = __sxtb16(wv), w13 = tm_sxtb16_ror8(wv);
          a0 = __smlabb(xv, w02, a0);
          a2 = __smlabt(xv, w02, a2);
          a1 = __smlabb(xv, w13, a1);
          a3 = __smlabt(xv, w13, a3);
        }
        dst[oc] = tm_requant_ch(q, a0, oc);
        dst[oc + 1] = tm_requant_ch(q, a1, oc + 1);
        dst[oc + 2] = tm_requant_ch(q, a2, oc + 2);
        dst[oc + 3] = tm_requant_ch(q, a3, oc + 3);
      }
    }
    return;
  }
#endif
  for (int ic = 0; ic < c_in; ic++) {
    for (int m = 0; m < mult; m++) {
      const int oc = ic * mult + m;
      int32_t acc = q->bias[oc];
      for (int t = 0; t < n_taps; t++) acc += (int32_t)taps[t][ic] * (int32_t)w[t * c_out + oc];
      dst[oc] = tm_requant_ch(q, acc, oc);
    }
  }
}

/* Output range [lo, hi) along one axis whose windows lie inside the input (no padded taps). */
TM_HELPER void tm_interior_range(int out_n, int in_n, int k, int stride, int dil, int pad, int *lo, int *hi) {
  int a = (pad + stride - 1) / stride;
  int b = (in_n - 1 - (k - 1) * dil + pad) / stride + 1;
  if (in_n - 1 - (k - 1) * dil + pad < 0) b = 0;
  a = TM_MIN(a, out_n);
  b = TM_MAX(a, TM_MIN(b, out_n));
  *lo = a;
  *hi = b;
}

/* One channel's requantisation, worked out once for all of its output pixels. */
typedef struct {
  int32_t mult, shift, round, e;
} tm_dw_channel_q;

TM_HELPER tm_dw_channel_q tm_dw_channel_params(const tm_requant_params *q, int ch) {
  tm_dw_channel_q r;
  r.mult = q->mult[ch];
  r.shift = q->shift[ch];
  r.e = -r.shift;
  r.round = q->fast ? (int32_t)1 << (r.e - 1) : 0;
#if TM_DSP
  if (q->fast) r.round = tm_requant_dsp_k(q, r.e);
#endif
  return r;
}

TM_HELPER int8_t tm_dw_requant(const tm_requant_params *q, const tm_dw_channel_q *cq, int32_t acc) {
#if TM_DSP
  if (q->fast) return tm_requant_dsp(q, acc, cq->mult, cq->e, cq->round);
#endif
  return tm_requant(acc, cq->mult, cq->shift, q->out_zp, q->act_min, q->act_max);
}

#if TM_WASM_SIMD
/*
 * Eight consecutive interior output pixels of one channel read from a plane (src_stride 1), stride 1 or 2:
 * the pixels are the lanes, each tap a splat. `p` is pixel 0's window origin. With stride 2 the loads read
 * one byte past pixel 7's window, so the caller keeps a ninth interior pixel after these eight.
 */
TM_HELPER void tm_wasm_dw_plane8(const tm_requant_params *q, const tm_dw_channel_q *cq, const int8_t *p, int stride_w, int dy, int dx, int kh, int kw, const int32_t *taps, int32_t bias, int8_t *out, int dst_stride) {
  v128_t lo = wasm_i32x4_splat(bias), hi = lo;
  for (int ky = 0; ky < kh; ky++) {
    for (int kx = 0; kx < kw; kx++) {
      const int8_t *x = p + ky * dy + kx * dx;
      const v128_t xv = stride_w == 1 ? wasm_i16x8_load8x8(x)
        : wasm_i16x8_extend_low_i8x16(wasm_i8x16_shuffle(wasm_v128_load(x), wasm_v128_load(x), 0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14));
      const v128_t tv = wasm_i16x8_splat((int16_t)taps[ky * kw + kx]);
      lo = wasm_i32x4_add(lo, wasm_i32x4_extmul_low_i16x8(xv, tv));
      hi = wasm_i32x4_add(hi, wasm_i32x4_extmul_high_i16x8(xv, tv));
    }
  }
  const v128_t zp = wasm_i32x4_splat(q->out_zp), amin = wasm_i32x4_splat(q->act_min), amax = wasm_i32x4_splat(q->act_max);
  const int wide = tm_wasm_rq_wide_ok(cq->mult, -cq->shift, q->out_zp, q->act_min, q->act_max);
  const v128_t rl = tm_wasm_rq_uniform(lo, cq->mult, cq->shift, zp, amin, amax, wide);
  const v128_t rh = tm_wasm_rq_uniform(hi, cq->mult, cq->shift, zp, amin, amax, wide);
  int8_t b[16];
  wasm_v128_store(b, wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(rl, rh), rl));
  for (int i = 0; i < 8; i++) out[i * dst_stride] = b[i];
}
#endif

/*
 * One channel of a depthwise convolution (depth_mult 1), reading the channel at src[i * src_stride] and
 * writing dst[i * dst_stride] for pixel i: the channel's taps and requantisation are worked out once for
 * all its pixels, interior windows are fully unrolled (immediate offsets once specialised), border windows
 * sum only their valid taps against the unfolded bias. This is TinyEngine's per-channel order, which the
 * in-place kernel needs; for out-of-place layers the four-channel SIMD order above is faster.
 */
TM_HELPER void tm_dw_channel_s8(const tm_dw_shape *s, const tm_requant_params *q, int ch, const int8_t *src, int src_stride, int8_t *dst, int dst_stride, const int8_t *w, int32_t *taps) {
  const int c = s->in_c, h = s->in_h, wd = s->in_w, kh = s->k_h, kw = s->k_w;
  int y_lo, y_hi, x_lo, x_hi;
  tm_interior_range(s->out_h, h, kh, s->stride_h, s->dil_h, s->pad_top, &y_lo, &y_hi);
  tm_interior_range(s->out_w, wd, kw, s->stride_w, s->dil_w, s->pad_left, &x_lo, &x_hi);
  int32_t tap_sum = 0;
  TM_UNROLL(64)
  for (int t = 0; t < kh * kw; t++) tap_sum += taps[t] = w[t * c + ch];
  const int32_t bias = q->bias[ch];
  const int32_t bias_raw = bias + s->in_zp * tap_sum; /* for windows that skip their padded taps */
  const tm_dw_channel_q cq = tm_dw_channel_params(q, ch);
  const int dy = s->dil_h * wd * src_stride, dx = s->dil_w * src_stride;
  for (int oy = 0; oy < s->out_h; oy++) {
    const int y0 = oy * s->stride_h - s->pad_top;
    const int row_in = oy >= y_lo && oy < y_hi;
    int8_t *out = dst + oy * s->out_w * dst_stride;
    for (int ox = 0; ox < s->out_w; ox++, out += dst_stride) {
      const int x0 = ox * s->stride_w - s->pad_left;
#if TM_WASM_SIMD
      if (row_in && src_stride == 1 && cq.shift <= 0 && ox >= x_lo && (s->stride_w == 1 || s->stride_w == 2) && ox + 8 + (s->stride_w - 1) <= x_hi) {
        tm_wasm_dw_plane8(q, &cq, src + y0 * wd + x0, s->stride_w, dy, dx, kh, kw, taps, bias, out, dst_stride);
        ox += 7;
        out += 7 * dst_stride;
        continue;
      }
#endif
      int32_t acc;
      if (row_in && ox >= x_lo && ox < x_hi) {
        const int8_t *p = src + (y0 * wd + x0) * src_stride;
        acc = bias;
        TM_UNROLL(8)
        for (int ky = 0; ky < kh; ky++) {
          TM_UNROLL(8)
          for (int kx = 0; kx < kw; kx++) acc += (int32_t)p[ky * dy + kx * dx] * taps[ky * kw + kx];
        }
      } else if (s->dil_h == 1 && s->dil_w == 1) {
        const int ky0 = TM_MAX(0, -y0), ky1 = TM_MIN(kh, h - y0);
        const int kx0 = TM_MAX(0, -x0), kx1 = TM_MIN(kw, wd - x0);
        acc = bias_raw;
        for (int ky = ky0; ky < ky1; ky++) {
          const int8_t *p = src + ((y0 + ky) * wd + x0) * src_stride;
          const int32_t *t = taps + ky * kw;
          for (int kx = kx0; kx < kx1; kx++) acc += ((int32_t)p[kx * src_stride] - s->in_zp) * t[kx];
        }
      } else {
        acc = bias_raw;
        for (int ky = 0; ky < kh; ky++) {
          const int iy = y0 + ky * s->dil_h;
          if (iy < 0 || iy >= h) continue;
          for (int kx = 0; kx < kw; kx++) {
            const int ix = x0 + kx * s->dil_w;
            if (ix >= 0 && ix < wd) acc += ((int32_t)src[(iy * wd + ix) * src_stride] - s->in_zp) * taps[ky * kw + kx];
          }
        }
      }
      *out = tm_dw_requant(q, &cq, acc);
    }
  }
}

#if TM_WASM_SIMD
/* Largest window the SIMD path takes (its tap pairs' weights live on the module's stack). */
#define TM_WASM_DW_TAPS 49

/*
 * Eight channels c..c+7 of one output pixel from its taps (`taps[t] + c`, an even count), requantised with
 * k[0], k[1]. Two taps at a time: their bytes interleave into channel pairs, and i32x4.dot_i16x8_s against
 * the pre-interleaved weights `wp` (per tap pair, channels 0-3 then 4-7) does both taps' products per lane.
 */
TM_HELPER void tm_wasm_dw8(const tm_requant_params *q, const tm_wasm_rq4 *k, const int8_t *const *taps, int pairs, const int16_t *wp, int c, int8_t *dst) {
  v128_t lo = wasm_v128_load(q->bias + c), hi = wasm_v128_load(q->bias + c + 4);
  for (int p = 0; p < pairs; p++, wp += 16) {
    const v128_t x = wasm_i8x16_shuffle(wasm_v128_load64_zero(taps[2 * p] + c), wasm_v128_load64_zero(taps[2 * p + 1] + c),
                                        0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    lo = wasm_i32x4_add(lo, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(x), wasm_v128_load(wp)));
    hi = wasm_i32x4_add(hi, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(x), wasm_v128_load(wp + 8)));
  }
  const v128_t rl = tm_wasm_rq4_apply(&k[0], lo), rh = tm_wasm_rq4_apply(&k[1], hi);
  wasm_v128_store64_lane(dst + c, wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(rl, rh), rl), 0);
}

/* tm_wasm_dw8 for an interior window: its taps at fixed offsets `off` from the window's origin. */
TM_HELPER void tm_wasm_dw8_at(const tm_requant_params *q, const tm_wasm_rq4 *k, const int8_t *origin, const int32_t *off, int pairs, const int16_t *wp, int c, int8_t *dst) {
  const int8_t *x0 = origin + c;
  v128_t lo = wasm_v128_load(q->bias + c), hi = wasm_v128_load(q->bias + c + 4);
  for (int p = 0; p < pairs; p++, wp += 16) {
    const v128_t x = wasm_i8x16_shuffle(wasm_v128_load64_zero(x0 + off[2 * p]), wasm_v128_load64_zero(x0 + off[2 * p + 1]),
                                        0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    lo = wasm_i32x4_add(lo, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(x), wasm_v128_load(wp)));
    hi = wasm_i32x4_add(hi, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(x), wasm_v128_load(wp + 8)));
  }
  const v128_t rl = tm_wasm_rq4_apply(&k[0], lo), rh = tm_wasm_rq4_apply(&k[1], hi);
  wasm_v128_store64_lane(dst + c, wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(rl, rh), rl), 0);
}

/*
 * Sixteen channels c..c+15 (two groups of eight, weights at wp0 and wp1): one 16-byte load per tap serves
 * both groups. x0 and x1 give tap 2p's and tap 2p+1's channel c.
 */
#define TM_WASM_DW16_BODY(X0, X1)                                                                                   \
  do {                                                                                                              \
    v128_t a0 = wasm_v128_load(q->bias + c), a1 = wasm_v128_load(q->bias + c + 4);                                  \
    v128_t a2 = wasm_v128_load(q->bias + c + 8), a3 = wasm_v128_load(q->bias + c + 12);                             \
    for (int p = 0; p < pairs; p++, wp0 += 16, wp1 += 16) {                                                          \
      const v128_t v0 = wasm_v128_load(X0), v1 = wasm_v128_load(X1);                                                \
      const v128_t lo = wasm_i8x16_shuffle(v0, v1, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);           \
      const v128_t hi = wasm_i8x16_shuffle(v0, v1, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);    \
      a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(lo), wasm_v128_load(wp0)));          \
      a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(lo), wasm_v128_load(wp0 + 8)));     \
      a2 = wasm_i32x4_add(a2, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(hi), wasm_v128_load(wp1)));          \
      a3 = wasm_i32x4_add(a3, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(hi), wasm_v128_load(wp1 + 8)));     \
    }                                                                                                               \
    const v128_t r0 = tm_wasm_rq4_apply(&k[0], a0), r1 = tm_wasm_rq4_apply(&k[1], a1);                              \
    const v128_t r2 = tm_wasm_rq4_apply(&k[2], a2), r3 = tm_wasm_rq4_apply(&k[3], a3);                              \
    wasm_v128_store(dst + c, wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(r0, r1), wasm_i16x8_narrow_i32x4(r2, r3))); \
  } while (0)

TM_HELPER void tm_wasm_dw16(const tm_requant_params *q, const tm_wasm_rq4 *k, const int8_t *const *taps, int pairs, const int16_t *wp0, const int16_t *wp1, int c, int8_t *dst) {
  TM_WASM_DW16_BODY(taps[2 * p] + c, taps[2 * p + 1] + c);
}

TM_HELPER void tm_wasm_dw16_at(const tm_requant_params *q, const tm_wasm_rq4 *k, const int8_t *origin, const int32_t *off, int pairs, const int16_t *wp0, const int16_t *wp1, int c, int8_t *dst) {
  const int8_t *x = origin + c;
  TM_WASM_DW16_BODY(x + off[2 * p], x + off[2 * p + 1]);
}

/*
 * Two horizontally adjacent interior pixels of a layer of exactly eight channels, the windows `step` bytes
 * apart: each tap of the pair is one vector (one load when the windows are 8 bytes apart, as at stride 1),
 * so the pair costs what one pixel of sixteen channels does. Their outputs are adjacent, 16 bytes at dst.
 */
TM_HELPER v128_t tm_wasm_load8x2(const int8_t *p, int step) {
  return step == 8 ? wasm_v128_load(p) : wasm_v128_load64_lane(p + step, wasm_v128_load64_zero(p), 1);
}

TM_HELPER void tm_wasm_dw8x2_at(const tm_requant_params *q, const tm_wasm_rq4 *k, const int8_t *origin, int step, const int32_t *off, int pairs, const int16_t *wp, int8_t *dst) {
  v128_t a0 = wasm_v128_load(q->bias), a1 = wasm_v128_load(q->bias + 4), a2 = a0, a3 = a1;
  for (int p = 0; p < pairs; p++, wp += 16) {
    const v128_t v0 = tm_wasm_load8x2(origin + off[2 * p], step), v1 = tm_wasm_load8x2(origin + off[2 * p + 1], step);
    const v128_t lo = wasm_i8x16_shuffle(v0, v1, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const v128_t hi = wasm_i8x16_shuffle(v0, v1, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const v128_t w0 = wasm_v128_load(wp), w1 = wasm_v128_load(wp + 8);
    a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(lo), w0));
    a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(lo), w1));
    a2 = wasm_i32x4_add(a2, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(hi), w0));
    a3 = wasm_i32x4_add(a3, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(hi), w1));
  }
  const v128_t r0 = tm_wasm_rq4_apply(&k[0], a0), r1 = tm_wasm_rq4_apply(&k[1], a1);
  const v128_t r2 = tm_wasm_rq4_apply(&k[0], a2), r3 = tm_wasm_rq4_apply(&k[1], a3);
  wasm_v128_store(dst, wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(r0, r1), wasm_i16x8_narrow_i32x4(r2, r3)));
}

/*
 * Depth multiplier 1, WebAssembly SIMD: channels in chunks whose requantisation constants and interleaved
 * weights are worked out once, every pixel within a chunk, eight channels per step (interior windows at
 * fixed offsets, border windows through tap pointers). An odd last tap pairs with a zero weight. Returns 0
 * when a channel shifts left or the window is too large (the general path handles those).
 */
/* Whether the SIMD path takes the layer (else the general path does). */
TM_HELPER int tm_wasm_dw_takes(const tm_dw_shape *s, const tm_requant_params *q) {
  return s->depth_mult == 1 && s->k_h * s->k_w <= TM_WASM_DW_TAPS && tm_wasm_right_shifts(q, s->in_c);
}

/*
 * A chunk's requantisation constants (two per group of eight channels) and its weights interleaved per tap
 * pair (per group: pairs x [channel][2] int16, channels c0.. in steps of eight).
 */
TM_HELPER void tm_wasm_dw_prepare_chunk(const tm_dw_shape *s, const tm_requant_params *q, const int8_t *w, int c0, tm_wasm_rq4 *k, int16_t *wp) {
  const int c = s->in_c, n_taps = s->k_h * s->k_w, pairs = (n_taps + 1) >> 1;
  const int groups8 = (TM_MIN(c, c0 + TM_WASM_CHUNK) - c0) >> 3;
  tm_wasm_rq_table(q, c0, 2 * groups8, 2 * pairs, k);
  for (int g = 0; g < groups8; g++)
    for (int p = 0; p < pairs; p++)
      for (int j = 0; j < 8; j++) {
        const int ch = c0 + 8 * g + j;
        int16_t *d = wp + (g * pairs + p) * 16 + 2 * j;
        d[0] = w[2 * p * c + ch];
        d[1] = 2 * p + 1 < n_taps ? w[(2 * p + 1) * c + ch] : 0;
      }
}

/* Every pixel of channels c0 .. c0 + TM_WASM_CHUNK - 1 with the chunk's constants and interleaved weights. */
TM_HELPER void tm_wasm_dw_run_chunk(const tm_dw_shape *s, const tm_requant_params *q, const int8_t *in, const int8_t *w, int8_t *out, const int8_t *zp_row, int c0, const tm_wasm_rq4 *k, const int16_t *wp) {
  const int c = s->in_c, n_taps = s->k_h * s->k_w, pairs = (n_taps + 1) >> 1;
  const int span_y = (s->k_h - 1) * s->dil_h, span_x = (s->k_w - 1) * s->dil_w;
  const int c1 = TM_MIN(c, c0 + TM_WASM_CHUNK), groups8 = (c1 - c0) >> 3;
  const int8_t *taps[TM_WASM_DW_TAPS + 1];
  int32_t off[TM_WASM_DW_TAPS + 1];
  for (int ky = 0, t = 0; ky < s->k_h; ky++)
    for (int kx = 0; kx < s->k_w; kx++, t++) off[t] = (ky * s->dil_h * s->in_w + kx * s->dil_w) * c;
  off[n_taps] = off[0];
  for (int oy = 0; oy < s->out_h; oy++) {
    const int y0 = oy * s->stride_h - s->pad_top;
    const int rows_in = y0 >= 0 && y0 + span_y < s->in_h;
    for (int ox = 0; ox < s->out_w; ox++) {
      const int x0 = ox * s->stride_w - s->pad_left;
      int8_t *dst = out + (oy * s->out_w + ox) * c;
      const int interior = rows_in && x0 >= 0 && x0 + span_x < s->in_w;
      const int8_t *origin = in + (y0 * s->in_w + x0) * c;
      if (interior && c == 8 && ox + 1 < s->out_w && x0 + s->stride_w + span_x < s->in_w) {
        tm_wasm_dw8x2_at(q, k, origin, s->stride_w * 8, off, pairs, wp, dst);
        ox++;
        continue;
      }
      if (interior) {
        int g = 0;
        for (; g + 2 <= groups8; g += 2) tm_wasm_dw16_at(q, &k[2 * g], origin, off, pairs, wp + g * pairs * 16, wp + (g + 1) * pairs * 16, c0 + 8 * g, dst);
        for (; g < groups8; g++) tm_wasm_dw8_at(q, &k[2 * g], origin, off, pairs, wp + g * pairs * 16, c0 + 8 * g, dst);
        if (8 * groups8 == c1 - c0) continue;
        for (int t = 0; t < n_taps; t++) taps[t] = origin + off[t];
      } else {
        tm_dw_taps(s, in, y0, x0, zp_row, taps);
        taps[n_taps] = taps[0];
        int g = 0;
        for (; g + 2 <= groups8; g += 2) tm_wasm_dw16(q, &k[2 * g], taps, pairs, wp + g * pairs * 16, wp + (g + 1) * pairs * 16, c0 + 8 * g, dst);
        for (; g < groups8; g++) tm_wasm_dw8(q, &k[2 * g], taps, pairs, wp + g * pairs * 16, c0 + 8 * g, dst);
      }
      for (int ch = c0 + 8 * groups8; ch < c1; ch++) {
        int32_t acc = q->bias[ch];
        for (int t = 0; t < n_taps; t++) acc += (int32_t)taps[t][ch] * (int32_t)w[t * c + ch];
        dst[ch] = tm_requant_ch(q, acc, ch);
      }
    }
  }
}

TM_HELPER int tm_wasm_depthwise_s8(const tm_dw_shape *s, const tm_requant_params *q, const int8_t *in, const int8_t *w, int8_t *out, const int8_t *zp_row) {
  if (!tm_wasm_dw_takes(s, q)) return 0;
  tm_wasm_rq4 k[TM_WASM_CHUNK / 4];
  int16_t wp[(TM_WASM_DW_TAPS + 1) / 2 * TM_WASM_CHUNK * 2] __attribute__((aligned(16)));
  for (int c0 = 0; c0 < s->in_c; c0 += TM_WASM_CHUNK) {
    tm_wasm_dw_prepare_chunk(s, q, w, c0, k, wp);
    tm_wasm_dw_run_chunk(s, q, in, w, out, zp_row, c0, k, wp);
  }
  return 1;
}
#endif

#if TM_DSP
/* Largest window the DSP path below takes (its split weights live on the stack, 8 bytes per tap). */
#define TM_DSP_DW_TAPS 49

/*
 * The border windows of four channels ch..ch+3 over their valid taps only: a padded tap adds
 * (zp - zp) * w = 0, so each valid one adds (x - zp) * w to the raw (unfolded) bias. wp holds the group's
 * SXTB16-split weights, two words per tap.
 */
TM_HELPER void tm_dsp_dw_border4(const tm_dw_shape *s, const tm_requant_params *q, const int8_t *in, const int32_t *wp, const int32_t *bias_raw, const int32_t *mult, const int32_t *e, const int32_t *round, int y_lo, int y_hi, int x_lo, int x_hi, int ch, int8_t *out) {
  const int c = s->in_c;
  const int32_t zp_pair = (int32_t)(((uint32_t)(s->in_zp & 0xffff) << 16) | (uint32_t)(s->in_zp & 0xffff));
  for (int oy = 0; oy < s->out_h; oy++) {
    const int y0 = oy * s->stride_h - s->pad_top;
    const int row_in = oy >= y_lo && oy < y_hi;
    const int ky0 = TM_MAX(0, -y0), ky1 = TM_MIN(s->k_h, s->in_h - y0);
    for (int ox = 0; ox < s->out_w; ox++) {
      if (row_in && ox == x_lo && x_hi > x_lo) {
        ox = x_hi - 1;
        continue;
      }
      const int x0 = ox * s->stride_w - s->pad_left;
      const int kx0 = TM_MAX(0, -x0), kx1 = TM_MIN(s->k_w, s->in_w - x0);
      int32_t a0 = bias_raw[0], a1 = bias_raw[1], a2 = bias_raw[2], a3 = bias_raw[3];
      for (int ky = ky0; ky < ky1; ky++) {
        const int8_t *xr = in + ((y0 + ky) * s->in_w + x0) * c + ch;
        const int32_t *wt = wp + 2 * ky * s->k_w;
        for (int kx = kx0; kx < kx1; kx++) {
          const int32_t xv = tm_load32(xr + kx * c);
          const int32_t x02 = __ssub16(__sxtb16(xv), zp_pair), x13 = __ssub16(tm_sxtb16_ror8(xv), zp_pair);
          a0 = __smlabb(x02, wt[2 * kx], a0);
          a2 = __smlatt(x02, wt[2 * kx], a2);
          a1 = __smlabb(x13, wt[2 * kx + 1], a1);
          a3 = __smlatt(x13, wt[2 * kx + 1], a3);
        }
      }
      int8_t *dst = out + (oy * s->out_w + ox) * c + ch;
      dst[0] = tm_requant_dsp(q, a0, mult[0], e[0], round[0]);
      dst[1] = tm_requant_dsp(q, a1, mult[1], e[1], round[1]);
      dst[2] = tm_requant_dsp(q, a2, mult[2], e[2], round[2]);
      dst[3] = tm_requant_dsp(q, a3, mult[3], e[3], round[3]);
    }
  }
}

/*
 * 3x3 windows (depth multiplier 1, undilated, any stride, at most one padded row or column per side), four
 * channels at a time through every pixel, the window in hand-scheduled asm (GCC spilled the C form):
 *  - the group's weights are split by SXTB16 and doubled once, into a 5x5 grid of taps whose outer ring is
 *    zero; a border window loads a 3x3 block shifted inside the input (one row down at the top, one column
 *    right at the left edge, ...) against the grid shifted the same way, so a tap that falls outside the
 *    input meets a zero weight instead of a branch, and its zero point goes into that case's bias
 *    (zp * its weights: the folded bias assumed it). Every window costs the interior's 72 instructions;
 *  - the bias is doubled too, so the accumulator holds 2 acc and the requantisation needs no QADD (exact:
 *    the layer is taken only when its biases bound |acc| below 2^30, tm_dw3_bounded, so 2 acc fits in 32
 *    bits and equals QADD's result);
 *  - with a fused ReLU-like bound (act_min >= out_zp) the requantisation drops its sign correction too
 *    (tm_dw3_requant), so an output costs SMMLAR, ASR, SSAT and STRB.
 * The taps are read at register offsets (channel and row strides), so patch stages whose widths differ
 * share the code. About 106 instructions per window of four channels, border windows included (the
 * general path: ~120 interior, ~200 border, measured on KWS).
 */
#define TM_DW3_TAP(addr, woff)                    \
  "ldr %[x], " addr "\n\t"                        \
  "ldrd %[w0], %[w1], [%[wp], #" woff "]\n\t"     \
  "sxtb16 %[t], %[x]\n\t"                         \
  "sxtb16 %[x], %[x], ror #8\n\t"                 \
  "smlabb %[a0], %[t], %[w0], %[a0]\n\t"          \
  "smlatt %[a2], %[t], %[w0], %[a2]\n\t"          \
  "smlabb %[a1], %[x], %[w1], %[a1]\n\t"          \
  "smlatt %[a3], %[x], %[w1], %[a3]\n\t"

/* The weight grid: 5x5 taps of two split words, the kernel's 3x3 in the middle (tap (ky, kx) at row ky + 1, column kx + 1). */
#define TM_DW3_GRID 50
#define TM_DW3_AT(ky, kx) (2 * (5 * ((ky) + 1) + (kx) + 1))

/* One requantised output from 2 acc: SMMLAR adds the zero point and rounding term zr (tm_requant_zp_pre). */
TM_HELPER int8_t tm_dw3_requant(const tm_requant_params *q, int32_t acc2, int32_t m, int e, int32_t zr) {
  int32_t v = tm_smmlar(acc2, m, zr);
  /*
   * The sign correction turns floor((x + 2^(e-1)) / 2^e) into floor((x + 2^(e-1) - 1) / 2^e) for x < 0:
   * both are at most 0, so both outputs are at most zp, and act_min >= zp clamps them alike.
   */
  if (q->act_min < q->out_zp) v += acc2 >> 31;
  v >>= e;
  if (q->act_min == -128 || q->act_max == 127) v = __ssat(v, 8);
  if (q->act_min != -128) v = TM_MAX(v, q->act_min);
  if (q->act_max != 127) v = TM_MIN(v, q->act_max);
  return (int8_t)v;
}

/*
 * n windows of one output row with the same shift: p is the first's 3x3 block in the input (at channel
 * ch), advancing by `step`, its pixels c bytes apart; wg the grid at the block's tap (0, 0); b2 the case's
 * doubled bias; k the group's multipliers, shifts and rounding terms; the outputs oc bytes apart (c too,
 * but 4 when the in-place kernel reads a group's copied plane).
 */
TM_HELPER void tm_dw3_run(const tm_requant_params *q, const int8_t *p, int n, int step, int c, int rs, const int32_t *wg, const int32_t *b2, const int32_t *k, int8_t *dst, int oc) {
  const int back = step - 2 * rs;
  for (int8_t *end = dst + n * oc; dst != end; dst += oc) {
    int32_t a0, a1, a2, a3, x, t, w0, w1;
    __asm__("ldrd %[a0], %[a1], [%[bp]]\n\t"
            "ldrd %[a2], %[a3], [%[bp], #8]\n\t"
            TM_DW3_TAP("[%[r]]", "0") TM_DW3_TAP("[%[r], %[c]]", "8") TM_DW3_TAP("[%[r], %[c], lsl #1]", "16")
            "add %[r], %[r], %[rs]\n\t"
            TM_DW3_TAP("[%[r]]", "40") TM_DW3_TAP("[%[r], %[c]]", "48") TM_DW3_TAP("[%[r], %[c], lsl #1]", "56")
            "add %[r], %[r], %[rs]\n\t"
            TM_DW3_TAP("[%[r]]", "80") TM_DW3_TAP("[%[r], %[c]]", "88") TM_DW3_TAP("[%[r], %[c], lsl #1]", "96")
            : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [x] "=&r"(x), [t] "=&r"(t), [w0] "=&r"(w0), [w1] "=&r"(w1), [r] "+&r"(p)
            : [c] "r"(c), [rs] "r"(rs), [wp] "r"(wg), [bp] "r"(b2)
            : "memory");
    p += back;
    if (q->act_min == -128 && q->out_zp == -128 && q->act_max == 127) {
      /* The common case (ReLU at zero point -128) in asm too: GCC spilled the output pointer here. */
#define TM_DW3_RQ(a, o)                                  \
  "ldrd %[w0], %[w1], [%[kp], #" #o "*12]\n\t"          \
  "ldr %[t], [%[kp], #" #o "*12+8]\n\t"                 \
  "smmlar %[" #a "], %[" #a "], %[w0], %[w1]\n\t"       \
  "asr %[" #a "], %[" #a "], %[t]\n\t"                  \
  "ssat %[" #a "], #8, %[" #a "]\n\t"                   \
  "strb %[" #a "], [%[dst], #" #o "]\n\t"
      __asm__ volatile(TM_DW3_RQ(a0, 0) TM_DW3_RQ(a1, 1) TM_DW3_RQ(a2, 2) TM_DW3_RQ(a3, 3)
              : [a0] "+&r"(a0), [a1] "+&r"(a1), [a2] "+&r"(a2), [a3] "+&r"(a3), [t] "=&r"(t), [w0] "=&r"(w0), [w1] "=&r"(w1)
              : [kp] "r"(k), [dst] "r"(dst)
              : "memory");
#undef TM_DW3_RQ
      continue;
    }
    dst[0] = tm_dw3_requant(q, a0, k[0], k[2], k[1]);
    dst[1] = tm_dw3_requant(q, a1, k[3], k[5], k[4]);
    dst[2] = tm_dw3_requant(q, a2, k[6], k[8], k[7]);
    dst[3] = tm_dw3_requant(q, a3, k[9], k[11], k[10]);
  }
}

/* The load shift of a window starting at y0 (or x0) on an axis of n: 1 past a padded start, -1 past a padded end. */
TM_HELPER int tm_dw3_shift(int y0, int n) {
  return y0 < 0 ? 1 : (y0 + 3 > n ? -1 : 0);
}

/* Whether tm_dsp_dw3x3_s8 takes the layer: every window misses at most one row and one column, on one side. */
TM_HELPER int tm_dw3_takes(const tm_dw_shape *s, const tm_requant_params *q) {
  if (s->depth_mult != 1 || (s->in_c & 3) || s->k_h != 3 || s->k_w != 3 || s->dil_h != 1 || s->dil_w != 1 || q->fast != 2) return 0;
  if (s->in_h < 3 || s->in_w < 3 || s->pad_top > 1 || s->pad_left > 1) return 0;
  return (s->out_h - 1) * s->stride_h - s->pad_top <= s->in_h - 2 && (s->out_w - 1) * s->stride_w - s->pad_left <= s->in_w - 2;
}

/*
 * Group ch..ch+3: the weight grid's middle, the nine shift cases' doubled biases b2 (case (dy + 1) * 3 +
 * dx + 1) and the requantisation constants k (per channel: mult, zr, e). The left-out taps' sums are
 * formed on the split, doubled weights with SADD16 (at most five taps of 2 * 128: no 16-bit overflow).
 */
TM_HELPER void tm_dw3_prepare(const tm_dw_shape *s, const tm_requant_params *q, const int8_t *w, int ch, int32_t *wg, int32_t *b2, int32_t *k) {
  const int c = s->in_c;
  int32_t v[18];
  TM_UNROLL(9)
  for (int t = 0; t < 9; t++) {
    const int32_t wv = tm_load32(w + t * c + ch);
    const int32_t w02 = __sxtb16(wv), w13 = tm_sxtb16_ror8(wv);
    wg[TM_DW3_AT(t / 3, t % 3)] = v[2 * t] = __sadd16(w02, w02);
    wg[TM_DW3_AT(t / 3, t % 3) + 1] = v[2 * t + 1] = __sadd16(w13, w13);
  }
  int32_t b[4];
  TM_UNROLL(4)
  for (int j = 0; j < 4; j++) {
    b[j] = 2 * q->bias[ch + j];
    k[3 * j] = q->mult[ch + j];
    k[3 * j + 2] = -q->shift[ch + j];
    k[3 * j + 1] = tm_requant_zp_round(k[3 * j + 2], q->out_zp);
  }
  const int32_t zp = s->in_zp;
  TM_UNROLL(2)
  for (int h = 0; h < 2; h++) {
    /* h = 0: channels 0 and 2 (the SXTB16 halves), h = 1: channels 1 and 3. */
    const int32_t *u = v + h;
    const int32_t r0 = __sadd16(__sadd16(u[0], u[2]), u[4]), r2 = __sadd16(__sadd16(u[12], u[14]), u[16]);
    const int32_t c0 = __sadd16(__sadd16(u[0], u[6]), u[12]), c2 = __sadd16(__sadd16(u[4], u[10]), u[16]);
    const int32_t miss[9] = {
      __ssub16(__sadd16(r2, c2), u[16]), r2, __ssub16(__sadd16(r2, c0), u[12]),
      c2, 0, c0,
      __ssub16(__sadd16(r0, c2), u[4]), r0, __ssub16(__sadd16(r0, c0), u[0]),
    };
    TM_UNROLL(9)
    for (int i = 0; i < 9; i++) {
      b2[4 * i + h] = __smlabb(zp, miss[i], b[h]);
      b2[4 * i + h + 2] = __smlabt(zp, miss[i], b[h + 2]);
    }
  }
}

/*
 * Whether 2 acc fits in 32 bits for every channel: acc = raw bias + sum (x - zp) w, the raw bias is the
 * folded one plus zp * sum w, so |acc| <= |folded bias| + 9 * 128 * 128 + 9 * 255 * 128 < 2^30 below.
 */
TM_HELPER int tm_dw3_bounded(const tm_requant_params *q, int c) {
  for (int ch = 0; ch < c; ch++)
    if (q->bias[ch] >= (1 << 28) || q->bias[ch] <= -(1 << 28)) return 0;
  return 1;
}

/*
 * Group ch..ch+3 (wg, b2, k prepared) over every output row: `in` is the group's channel 0 of input pixel
 * (0, 0), pixels ic bytes apart; `out` the group's channel 0 of output pixel (0, 0), pixels oc bytes apart.
 */
TM_HELPER void tm_dw3_group(const tm_dw_shape *s, const tm_requant_params *q, const int8_t *in, int ic, int8_t *out, int oc, const int32_t *wg, const int32_t *b2, const int32_t *k, int x_lo, int x_hi) {
  const int rs = s->in_w * ic, step = s->stride_w * ic;
  for (int oy = 0; oy < s->out_h; oy++) {
    const int y0 = oy * s->stride_h - s->pad_top, dy = tm_dw3_shift(y0, s->in_h);
    const int8_t *row = in + (y0 + dy) * rs;
    const int32_t *wr = wg + TM_DW3_AT(dy, 0), *br = b2 + 12 * (dy + 1);
    int8_t *dst = out + oy * s->out_w * oc;
    /* Interior windows, then the left and right border ones (loads shifted one column right, dx = 1, or left). */
    tm_dw3_run(q, row + (x_lo * s->stride_w - s->pad_left) * ic, x_hi - x_lo, step, ic, rs, wr, br + 4, k, dst + x_lo * oc, oc);
    /* The two borders share one call site (not unrolled): every layer inlines its own copy of the kernel. */
    TM_UNROLL(1)
    for (int dx = 1; dx >= -1; dx -= 2) {
      const int lo = dx > 0 ? 0 : x_hi, hi = dx > 0 ? x_lo : s->out_w;
      if (lo < hi) tm_dw3_run(q, row + (lo * s->stride_w - s->pad_left + dx) * ic, hi - lo, step, ic, rs, wr + 2 * dx, br + 4 * (dx + 1), k, dst + lo * oc, oc);
    }
  }
}

TM_HELPER int tm_dsp_dw3x3_s8(const tm_dw_shape *s, const tm_requant_params *q, const int8_t *in, const int8_t *w, int8_t *out) {
  if (!tm_dw3_takes(s, q)) return 0;
  const int c = s->in_c;
  int32_t wg[TM_DW3_GRID], b2[36], k[12];
  if (!tm_dw3_bounded(q, c)) return 0;
  memset(wg, 0, sizeof wg);
  int x_lo, x_hi;
  tm_interior_range(s->out_w, s->in_w, 3, s->stride_w, 1, s->pad_left, &x_lo, &x_hi);
  for (int ch = 0; ch < c; ch += 4) {
    tm_dw3_prepare(s, q, w, ch, wg, b2, k);
    tm_dw3_group(s, q, in + ch, c, out + ch, c, wg, b2, k, x_lo, x_hi);
  }
  return 1;
}

/*
 * In place, four channels at a time: group ch..ch+3's input (in_h * in_w words) is first copied to
 * `plane`, then the 3x3 block reads it there (pixels 4 bytes apart) and writes the group's outputs over
 * buf, where they only touch bytes of channels ch..ch+3 (same channel count in and out), already saved.
 * Same windows and arithmetic as tm_dsp_dw3x3_s8, so the same bytes; the plan's scratch holds the 4 planes
 * (src/ops/depthwise_conv2d.ts, depthwiseInPlace: widerScratchBytes), word-aligned as every arena buffer.
 */
TM_HELPER int tm_dsp_dw3x3_inplace_s8(const tm_dw_shape *s, const tm_requant_params *q, int8_t *buf, const int8_t *w, int8_t *plane) {
  if (!tm_dw3_takes(s, q)) return 0;
  const int c = s->in_c, n = s->in_h * s->in_w;
  int32_t wg[TM_DW3_GRID], b2[36], k[12];
  if (!tm_dw3_bounded(q, c)) return 0;
  memset(wg, 0, sizeof wg);
  int x_lo, x_hi;
  tm_interior_range(s->out_w, s->in_w, 3, s->stride_w, 1, s->pad_left, &x_lo, &x_hi);
  int32_t *group = (int32_t *)TM_ARENA_PTR((void *)plane);
  for (int ch = 0; ch < c; ch += 4) {
    tm_dw3_prepare(s, q, w, ch, wg, b2, k);
    const int8_t *src = buf + ch;
    for (int i = 0; i < n; i++, src += c) group[i] = tm_load32(src);
    tm_dw3_group(s, q, plane, 4, buf + ch, c, wg, b2, k, x_lo, x_hi);
  }
  return 1;
}

/*
 * Depth multiplier 1 on the DSP path, four channels at a time through every pixel: the group's weights are
 * split by SXTB16 once (not once per pixel) and its bias and requantisation constants read once, so an
 * interior tap costs a load and two SXTB16 of the input, one LDRD of split weights and four SMLAxy.
 * Returns 0 when it does not apply (a depth multiplier, channels not a multiple of four, a larger window,
 * a layer without the fast requantisation, a 3x3 layer with under a quarter of its windows interior).
 */
TM_HELPER int tm_dsp_depthwise_s8(const tm_dw_shape *s, const tm_requant_params *q, const int8_t *in, const int8_t *w, int8_t *out, const int8_t *zp_row, const int8_t **taps) {
  const int c = s->in_c, n_taps = s->k_h * s->k_w;
  if (s->depth_mult != 1 || (c & 3) || n_taps > TM_DSP_DW_TAPS || !q->fast) return 0;
  const int tap_dy = s->dil_h * s->in_w * c, tap_dx = s->dil_w * c;
  int y_lo, y_hi, x_lo, x_hi;
  tm_interior_range(s->out_h, s->in_h, s->k_h, s->stride_h, s->dil_h, s->pad_top, &y_lo, &y_hi);
  tm_interior_range(s->out_w, s->in_w, s->k_w, s->stride_w, s->dil_w, s->pad_left, &x_lo, &x_hi);
  /*
   * Undilated windows take their border windows here too, over their valid taps only (a 7x7 window on a
   * 5x5 map is mostly padding): with the group's split weights and constants at hand this beats the tap
   * pointers pixel by pixel even for 3x3 (KWS's 25x5 maps, 45 % border: -15 % per layer, measured).
   * Dilated layers with under a quarter interior windows are cheaper pixel by pixel throughout.
   */
  const int own_border = s->dil_h == 1 && s->dil_w == 1;
  if (!own_border && 4 * (y_hi - y_lo) * (x_hi - x_lo) < s->out_h * s->out_w) return 0;
  int32_t wp[2 * TM_DSP_DW_TAPS];
  for (int ch = 0; ch < c; ch += 4) {
    int32_t bias[4], bias_raw[4], mult[4], e[4], round[4], wsum[4] = {0, 0, 0, 0};
    for (int t = 0; t < n_taps; t++) {
      const int32_t wv = tm_load32(w + t * c + ch);
      wp[2 * t] = __sxtb16(wv);
      wp[2 * t + 1] = tm_sxtb16_ror8(wv);
      for (int j = 0; j < 4; j++) wsum[j] += w[t * c + ch + j];
    }
    for (int j = 0; j < 4; j++) {
      bias[j] = q->bias[ch + j];
      bias_raw[j] = bias[j] + s->in_zp * wsum[j];
      mult[j] = q->mult[ch + j];
      e[j] = -q->shift[ch + j];
      round[j] = tm_requant_dsp_k(q, e[j]);
    }
    for (int oy = y_lo; oy < y_hi; oy++) {
      const int y0 = oy * s->stride_h - s->pad_top;
      for (int ox = x_lo; ox < x_hi; ox++) {
        const int x0 = ox * s->stride_w - s->pad_left;
        int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3];
        /* Fully unrolled once specialised: every tap's offsets become immediates. */
        const int8_t *src = in + (y0 * s->in_w + x0) * c + ch;
        TM_UNROLL(8)
        for (int ky = 0; ky < s->k_h; ky++) {
          TM_UNROLL(8)
          for (int kx = 0; kx < s->k_w; kx++) {
            const int32_t xv = tm_load32(src + ky * tap_dy + kx * tap_dx);
            const int32_t *wt = wp + 2 * (ky * s->k_w + kx);
            const int32_t x02 = __sxtb16(xv), x13 = tm_sxtb16_ror8(xv);
            a0 = __smlabb(x02, wt[0], a0);
            a2 = __smlatt(x02, wt[0], a2);
            a1 = __smlabb(x13, wt[1], a1);
            a3 = __smlatt(x13, wt[1], a3);
          }
        }
        int8_t *dst = out + (oy * s->out_w + ox) * c + ch;
        dst[0] = tm_requant_dsp(q, a0, mult[0], e[0], round[0]);
        dst[1] = tm_requant_dsp(q, a1, mult[1], e[1], round[1]);
        dst[2] = tm_requant_dsp(q, a2, mult[2], e[2], round[2]);
        dst[3] = tm_requant_dsp(q, a3, mult[3], e[3], round[3]);
      }
    }
    if (own_border) tm_dsp_dw_border4(s, q, in, wp, bias_raw, mult, e, round, y_lo, y_hi, x_lo, x_hi, ch, out);
  }
  if (own_border) return 1;
  for (int oy = 0; oy < s->out_h; oy++) {
    const int y0 = oy * s->stride_h - s->pad_top;
    const int row_in = oy >= y_lo && oy < y_hi;
    for (int ox = 0; ox < s->out_w; ox++) {
      if (row_in && ox == x_lo && x_hi > x_lo) {
        ox = x_hi - 1;
        continue;
      }
      tm_dw_taps(s, in, y0, ox * s->stride_w - s->pad_left, zp_row, taps);
      tm_dw_pixel_taps_s8(s, q, taps, w, out + (oy * s->out_w + ox) * c);
    }
  }
  return 1;
}
#endif

TM_KERNEL void tm_depthwise_conv2d_s8(const tm_dw_shape *s, const tm_requant_params *q, const int8_t *in, const int8_t *w, int8_t *out, int8_t *scratch) {
  const int span_y = (s->k_h - 1) * s->dil_h, span_x = (s->k_w - 1) * s->dil_w;
  int8_t *zp_row = (int8_t *)TM_ARENA_PTR(scratch);
  const int8_t **TM_RESTRICT taps = (const int8_t **)(void *)(zp_row + ((s->in_c + 7) & ~7));
  memset(zp_row, (int)(int8_t)s->in_zp, (size_t)s->in_c);
#if TM_WASM_SIMD
  if (tm_wasm_depthwise_s8(s, q, in, w, out, zp_row)) return;
#endif
#if TM_DSP
  if (tm_dsp_dw3x3_s8(s, q, in, w, out)) return;
  if (tm_dsp_depthwise_s8(s, q, in, w, out, zp_row, taps)) return;
#endif
  for (int oy = 0; oy < s->out_h; oy++) {
    const int y0 = oy * s->stride_h - s->pad_top;
    const int rows_in = y0 >= 0 && y0 + span_y < s->in_h;
    for (int ox = 0; ox < s->out_w; ox++) {
      const int x0 = ox * s->stride_w - s->pad_left;
      int8_t *dst = out + (oy * s->out_w + ox) * s->out_c;
      if (s->depth_mult == 1 && rows_in && x0 >= 0 && x0 + span_x < s->in_w) {
        tm_dw_pixel_interior_s8(s, q, in + (y0 * s->in_w + x0) * s->in_c, w, dst);
#if TM_DSP
      } else if ((s->depth_mult & 3) == 0 && rows_in && x0 >= 0 && x0 + span_x < s->in_w) {
        tm_dw_pixel_mult4_interior_s8(s, q, in + (y0 * s->in_w + x0) * s->in_c, w, dst);
#endif
      } else {
        tm_dw_taps(s, in, y0, x0, zp_row, taps);
        if (s->depth_mult == 1) tm_dw_pixel_taps_s8(s, q, taps, w, dst);
        else tm_dw_pixel_mult_s8(s, q, taps, w, dst);
      }
    }
  }
}

#if TM_WASM_SIMD
/*
 * The WebAssembly runtime's form: the same call with `state`, a zeroed buffer of tm_depthwise_state_bytes
 * kept with the layer's constants (src/runtime/wasm/packed_weights.ts), which the first call fills with the
 * constants and interleaved weights that tm_wasm_depthwise_s8 otherwise works out on every call (they depend
 * on the channels, window, requantisation and weights, not on the input's size). Layout: a word saying
 * whether it is filled (1) or that the SIMD path does not take the layer (2), padded to 16 bytes; the
 * constants of all groups of eight; the interleaved weights.
 */
TM_KERNEL int32_t tm_depthwise_state_bytes(int32_t channels, int32_t taps) {
  const int32_t groups8 = channels >> 3, pairs = (taps + 1) >> 1;
  return 16 + groups8 * 2 * (int32_t)sizeof(tm_wasm_rq4) + groups8 * pairs * 16 * (int32_t)sizeof(int16_t);
}

TM_KERNEL void tm_depthwise_conv2d_prepared_s8(const tm_dw_shape *s, const tm_requant_params *q, const int8_t *in, const int8_t *w, int8_t *out, int8_t *scratch, uint8_t *state) {
  int32_t *filled = (int32_t *)(void *)state;
  const int pairs = (s->k_h * s->k_w + 1) >> 1;
  tm_wasm_rq4 *k = (tm_wasm_rq4 *)(void *)(state + 16);
  int16_t *wp = (int16_t *)(void *)(k + 2 * (s->in_c >> 3));
  if (!*filled) {
    *filled = tm_wasm_dw_takes(s, q) ? 1 : 2;
    if (*filled == 1)
      for (int c0 = 0; c0 < s->in_c; c0 += TM_WASM_CHUNK) tm_wasm_dw_prepare_chunk(s, q, w, c0, k + c0 / 4, wp + (c0 / 8) * pairs * 16);
  }
  if (*filled != 1) {
    tm_depthwise_conv2d_s8(s, q, in, w, out, scratch);
    return;
  }
  int8_t *zp_row = (int8_t *)TM_ARENA_PTR(scratch);
  memset(zp_row, (int)(int8_t)s->in_zp, (size_t)s->in_c);
  for (int c0 = 0; c0 < s->in_c; c0 += TM_WASM_CHUNK) tm_wasm_dw_run_chunk(s, q, in, w, out, zp_row, c0, k + c0 / 4, wp + (c0 / 8) * pairs * 16);
}
#endif

/*
 * In place (depth_mult 1): writing channel c of every output pixel only touches bytes that hold channel c
 * of some input pixel (same channel count, so the same residue mod c), and channel c's input is safe in
 * `plane` (the first in_h * in_w bytes of the plan's scratch) by then; channels not yet processed are untouched.
 */
TM_KERNEL void tm_depthwise_conv2d_inplace_s8(const tm_dw_shape *s, const tm_requant_params *q, int8_t *buf, const int8_t *w, int8_t *plane) {
  const int c = s->in_c, n = s->in_h * s->in_w;
  int32_t *taps = (int32_t *)(void *)(plane + ((n + 3) & ~3));
  for (int ch = 0; ch < c; ch++) {
    const int8_t *src = buf + ch;
    for (int i = 0; i < n; i++, src += c) plane[i] = *src;
    tm_dw_channel_s8(s, q, ch, plane, 1, buf + ch, c, w, taps);
  }
}

/*
 * The same in place with the plan's wider scratch (4 * in_h * in_w bytes, at least the channel-by-channel
 * kernel's): on Cortex-M, 3x3 layers go four channels at a time (tm_dsp_dw3x3_inplace_s8); any other layer,
 * or a build without DSP, channel by channel.
 */
TM_KERNEL void tm_depthwise_conv2d_groups_inplace_s8(const tm_dw_shape *s, const tm_requant_params *q, int8_t *buf, const int8_t *w, int8_t *planes) {
#if TM_DSP
  if (tm_dsp_dw3x3_inplace_s8(s, q, buf, w, planes)) return;
#endif
  tm_depthwise_conv2d_inplace_s8(s, q, buf, w, planes);
}

#if TM_WASM_SIMD
/*
 * The WebAssembly runtime's form of the in-place kernel. The arena is the microcontroller's plan, and the
 * bytes must be the plan's; but in Node memory outside the arena costs nothing, so the input is copied into
 * `copy` (kept with the layer's constants: the input, then the ordinary kernel's scratch) and the ordinary,
 * prepared kernel writes over `buf`. Same bytes as channel by channel, the speed of the out-of-place kernel.
 */
TM_KERNEL void tm_depthwise_conv2d_inplace_prepared_s8(const tm_dw_shape *s, const tm_requant_params *q, int8_t *buf, const int8_t *w, int8_t *plane, int8_t *copy, uint8_t *state) {
  const size_t n = (size_t)s->in_h * s->in_w * s->in_c;
  (void)plane;
  memcpy(copy, buf, n);
  tm_depthwise_conv2d_prepared_s8(s, q, copy, w, buf, copy + ((n + 15) & ~(size_t)15), state);
}
#endif

/*
 * DEPTHWISE_CONV_2D float32 (reference_ops::DepthwiseConv): each output channel sums its taps in order,
 * skipping taps outside the input; with SIMD, four channels per lane group (each lane keeps the
 * reference's order, so the result is the scalar one).
 */
TM_KERNEL void tm_depthwise_conv2d_f32(const tm_dw_shape *s, const tm_float_params *p, const float *in, const float *w, float *out) {
  const int c_in = s->in_c, c_out = s->out_c, mult = s->depth_mult;
  for (int oy = 0; oy < s->out_h; oy++) {
    const int y0 = oy * s->stride_h - s->pad_top;
    for (int ox = 0; ox < s->out_w; ox++) {
      const int x0 = ox * s->stride_w - s->pad_left;
      float *dst = out + (oy * s->out_w + ox) * c_out;
      int oc = 0;
#if TM_WASM_SIMD
      if (mult == 1) {
        const v128_t lo = wasm_f32x4_splat(p->act_min), hi = wasm_f32x4_splat(p->act_max);
        for (; oc + 4 <= c_out; oc += 4) {
          v128_t acc = wasm_f32x4_splat(0.0f);
          for (int ky = 0; ky < s->k_h; ky++) {
            const int iy = y0 + ky * s->dil_h;
            if (iy < 0 || iy >= s->in_h) continue;
            for (int kx = 0; kx < s->k_w; kx++) {
              const int ix = x0 + kx * s->dil_w;
              if (ix < 0 || ix >= s->in_w) continue;
              acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(in + (iy * s->in_w + ix) * c_in + oc), wasm_v128_load(w + (ky * s->k_w + kx) * c_out + oc)));
            }
          }
          acc = wasm_f32x4_add(acc, wasm_v128_load(p->bias + oc));
          wasm_v128_store(dst + oc, wasm_f32x4_pmin(wasm_f32x4_pmax(acc, lo), hi));
        }
      }
#endif
      for (; oc < c_out; oc++) {
        const int ic = oc / mult;
        float acc = 0.0f;
        for (int ky = 0; ky < s->k_h; ky++) {
          const int iy = y0 + ky * s->dil_h;
          if (iy < 0 || iy >= s->in_h) continue;
          for (int kx = 0; kx < s->k_w; kx++) {
            const int ix = x0 + kx * s->dil_w;
            if (ix >= 0 && ix < s->in_w) acc += in[(iy * s->in_w + ix) * c_in + ic] * w[(ky * s->k_w + kx) * c_out + oc];
          }
        }
        dst[oc] = tm_clamp_f32(acc + p->bias[oc], p->act_min, p->act_max);
      }
    }
  }
}

#endif /* TM_DEPTHWISE_CONV2D_H */
