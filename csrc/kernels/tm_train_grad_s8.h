/*
 * Backward kernels of an int8 model's training step on the device. They read int8 activations and
 * weights where they lie, dequantised on the fly exactly as the Node trainer dequantises (scale * (q - zp),
 * one float rounding), write float32 gradients, and compute a weight gradient one output channel (row) at
 * a time so only that row needs memory (the optimiser applies it at once: tm_train_sgd.h).
 *
 * The numeric contract with tm_train_f32.h (what the trainer's WebAssembly backend runs): every gradient
 * element is the same float sum in the same order, each product and each sum rounded to float. That
 * library's GEMM keeps the scalar order in its SIMD lanes (one lane is one output element, summed from
 * 0 along k), so the plain loops here, built with -ffp-contract=off, give the same bits:
 *   weight and bias gradients: summed over output pixels in ascending order (a tap in the padding adds a
 *     product with 0, which never changes a sum that starts at +0);
 *   CONV_2D input gradient: per output pixel and tap, the sum over output channels, added onto the input
 *     pixel, pixels ascending (its im2col / col2im order);
 *   FULLY_CONNECTED input gradient: the sum over units continues from the value already there.
 */
#ifndef TM_TRAIN_GRAD_S8_H
#define TM_TRAIN_GRAD_S8_H

#include "tm_train_f32.h"

/* How an int8 tensor's codes become floats: one scale and zero point (activations). */
typedef struct {
  float scale;
  int32_t zp;
} tm_train_dequant;

/*
 * An int8 filter as the training step holds it. When a sparse update trains some of its input channels,
 * only those channels' weights (the kept columns) live in SRAM, compact: conv / fully-connected
 * [cout][taps][n_kept], depthwise [taps][n_kept * M]. The rest stays in Flash (`w`): for a convolution
 * compact too, [cout][taps][n_frozen] over the frozen channels, so no multiply is spent on the kept ones;
 * otherwise (n_frozen 0) the tensor's own layout with the kept entries zero. kept_w NULL: `w` is the whole
 * filter (frozen in Flash, or trained whole in SRAM). Every weight of one input channel lies in one of the
 * arrays, so a gradient sum never mixes them and keeps its order.
 */
typedef struct {
  const int8_t *w;
  const int8_t *kept_w;
  const int32_t *kept; /* kept input channels, ascending */
  const int32_t *slot; /* per input channel: its index in kept, or -1 - its index in frozen */
  int32_t n_kept;
  const int32_t *frozen; /* the other input channels, ascending (when w is compact) */
  int32_t n_frozen;
} tm_train_filter;

/*
 * Where input channel c's weights start (times M for depthwise), and `unit`: the stride of one input
 * channel in that array (in_c in the tensor, n_kept in SRAM, n_frozen in a compact Flash part), so a tap is unit * M further and an output
 * channel of a conv taps * unit further.
 */
TM_HELPER const int8_t *tm_train_column(const tm_train_filter *f, int32_t c, int32_t in_c, int32_t M, int32_t *unit) {
  if (f->kept_w) {
    const int32_t s = f->slot[c];
    if (s >= 0) {
      *unit = f->n_kept;
      return f->kept_w + s * M;
    }
    if (f->n_frozen) {
      *unit = f->n_frozen;
      return f->w + (-1 - s) * M;
    }
  }
  *unit = in_c;
  return f->w + c * M;
}

TM_HELPER float tm_train_deq(const tm_train_dequant *d, int8_t q) {
  return d->scale * (float)((int32_t)q - d->zp);
}

/*
 * Bytes [first, first + count) of a convolution's split int8 filter as the whole tensor [cout][taps][in_c]:
 * each input channel's weights from the array that holds them (export).
 */
TM_KERNEL void tm_train_filter_read(const tm_train_filter *f, int32_t in_c, uint32_t first, uint32_t count, uint8_t *dst) {
  for (uint32_t b = first; b < first + count; b++) {
    const int32_t c = (int32_t)(b % (uint32_t)in_c), rt = (int32_t)(b / (uint32_t)in_c), s = f->slot[c];
    const int8_t v = s >= 0 ? f->kept_w[rt * f->n_kept + s] : f->n_frozen ? f->w[rt * f->n_frozen - 1 - s] : f->w[b];
    dst[b - first] = (uint8_t)v;
  }
}

/* Output pixel q of window w: batch and position. */
TM_HELPER void tm_train_pixel(const tm_train_window *w, int32_t q, int32_t *b, int32_t *oy, int32_t *ox) {
  const int32_t plane = w->out_h * w->out_w;
  *b = q / plane;
  *oy = (q - *b * plane) / w->out_w;
  *ox = q - *b * plane - *oy * w->out_w;
}

/* Bias gradient of channel c: dZ summed over every row of `channels` values. */
TM_KERNEL float tm_train_bias_grad_row(int32_t n, int32_t channels, const float *dz, int32_t c) {
  float s = 0.0f;
  for (int32_t i = c; i < n; i += channels) s += dz[i];
  return s;
}

/*
 * Tap (ky, kx) of tm_train_conv2d_weight_row_s8, four output pixels at a time: each out[j] stays in a
 * register across four products instead of a load and store per pixel. Its sum still runs over the pixels
 * in ascending order with the same products, so the bits are unchanged.
 */
TM_HELPER void tm_train_tap_weight_row_s8(const tm_train_window *w, int32_t cout, int32_t co, const float *dz, const int8_t *x, const tm_train_dequant *xq,
                                          int32_t x_c, const int32_t *pick, int32_t n_pick, int32_t ky, int32_t kx, float *out) {
  const int32_t pixels = w->batches * w->out_h * w->out_w;
  const float scale = xq->scale;
  const int32_t zp = xq->zp;
  const int8_t *src[4];
  float g[4];
  for (int32_t j = 0; j < n_pick; j++) out[j] = 0.0f;
  for (int32_t q0 = 0; q0 < pixels;) {
    /* Up to four output pixels whose input pixel lies inside the image (a padding tap adds a product with 0). */
    int32_t n = 0;
    for (; q0 < pixels && n < 4; q0++) {
      int32_t b, oy, ox;
      tm_train_pixel(w, q0, &b, &oy, &ox);
      const int32_t iy = oy * w->stride_h - w->pad_top + ky * w->dil_h, ix = ox * w->stride_w - w->pad_left + kx * w->dil_w;
      if (iy < 0 || iy >= w->in_h || ix < 0 || ix >= w->in_w) continue;
      src[n] = x + ((b * w->in_h + iy) * w->in_w + ix) * x_c;
      g[n] = dz[q0 * cout + co];
      n++;
    }
    if (n == 4) {
      const int8_t *s0 = src[0], *s1 = src[1], *s2 = src[2], *s3 = src[3];
      const float g0 = g[0], g1 = g[1], g2 = g[2], g3 = g[3];
      for (int32_t j = 0; j < n_pick; j++) {
        const int32_t k = pick ? pick[j] : j;
        float a = out[j];
        a += g0 * (scale * (float)((int32_t)s0[k] - zp));
        a += g1 * (scale * (float)((int32_t)s1[k] - zp));
        a += g2 * (scale * (float)((int32_t)s2[k] - zp));
        a += g3 * (scale * (float)((int32_t)s3[k] - zp));
        out[j] = a;
      }
      continue;
    }
    for (int32_t p = 0; p < n; p++) {
      for (int32_t j = 0; j < n_pick; j++) out[j] += g[p] * (scale * (float)((int32_t)src[p][pick ? pick[j] : j] - zp));
    }
  }
}

/* out[t * n_pick + j] = sum over pixels of dZ[p][co] * X[pixel under tap t][pick[j]] (pick NULL: channel j). */
TM_KERNEL void tm_train_conv2d_weight_row_s8(const tm_train_window *w, int32_t cout, int32_t co, const float *dz, const int8_t *x, const tm_train_dequant *xq,
                                            int32_t x_c, const int32_t *pick, int32_t n_pick, float *out) {
  for (int32_t ky = 0; ky < w->k_h; ky++) {
    for (int32_t kx = 0; kx < w->k_w; kx++) tm_train_tap_weight_row_s8(w, cout, co, dz, x, xq, x_c, pick, n_pick, ky, kx, out + (ky * w->k_w + kx) * n_pick);
  }
}

/* sums[p] = sum over o ascending of g[p][o] * (ws[o * s_step] * f[o * C]), for P = 8 pixels at once (C: f's row stride). */
TM_HELPER void tm_train_pointwise_column8(int32_t cout, int32_t C, const int8_t *f, const float *ws, int32_t s_step, const float *const *g, float *sums) {
  const float *g0 = g[0], *g1 = g[1], *g2 = g[2], *g3 = g[3], *g4 = g[4], *g5 = g[5], *g6 = g[6], *g7 = g[7];
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f, s4 = 0.0f, s5 = 0.0f, s6 = 0.0f, s7 = 0.0f;
  for (int32_t o = 0; o < cout; o++, f += C, ws += s_step) {
    const float v = *ws * (float)*f;
    s0 += g0[o] * v;
    s1 += g1[o] * v;
    s2 += g2[o] * v;
    s3 += g3[o] * v;
    s4 += g4[o] * v;
    s5 += g5[o] * v;
    s6 += g6[o] * v;
    s7 += g7[o] * v;
  }
  sums[0] = s0, sums[1] = s1, sums[2] = s2, sums[3] = s3, sums[4] = s4, sums[5] = s5, sums[6] = s6, sums[7] = s7;
}

/* The same for 4 pixels. */
TM_HELPER void tm_train_pointwise_column4(int32_t cout, int32_t C, const int8_t *f, const float *ws, int32_t s_step, const float *const *g, float *sums) {
  const float *g0 = g[0], *g1 = g[1], *g2 = g[2], *g3 = g[3];
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
  for (int32_t o = 0; o < cout; o++, f += C, ws += s_step) {
    const float v = *ws * (float)*f;
    s0 += g0[o] * v;
    s1 += g1[o] * v;
    s2 += g2[o] * v;
    s3 += g3[o] * v;
  }
  sums[0] = s0, sums[1] = s1, sums[2] = s2, sums[3] = s3;
}

/*
 * The 1x1 case of tm_train_conv2d_input_grad_s8, up to eight output pixels at a time: each dequantised
 * weight w_scale[o] * f[o][c] is formed once and multiplied into several per-pixel sums instead of being
 * re-formed per pixel (the hot loop of a pointwise layer's backward pass). Every sum is still taken over
 * o ascending with the same products, and a 1x1 window sends each output pixel to its own input pixel,
 * so no input pixel's additions change order: the bits equal the one-pixel-at-a-time loop.
 */
TM_HELPER void tm_train_pointwise_input_grad_s8(const tm_train_window *w, int32_t cout, const float *dz, const tm_train_filter *wf, const float *w_scale, int32_t per_channel,
                                                float *dx) {
  const int32_t C = w->in_c, pixels = w->batches * w->out_h * w->out_w, s_step = per_channel ? 1 : 0;
  float *dst[8];
  const float *g[8];
  float sums[8];
  for (int32_t q0 = 0; q0 < pixels;) {
    /* Gather up to eight output pixels whose input pixel lies inside the image (a padding tap adds nothing). */
    int32_t n = 0;
    for (; q0 < pixels && n < 8; q0++) {
      int32_t b, oy, ox;
      tm_train_pixel(w, q0, &b, &oy, &ox);
      const int32_t iy = oy * w->stride_h - w->pad_top, ix = ox * w->stride_w - w->pad_left;
      if (iy < 0 || iy >= w->in_h || ix < 0 || ix >= w->in_w) continue;
      dst[n] = dx + ((b * w->in_h + iy) * w->in_w + ix) * C;
      g[n] = dz + q0 * cout;
      n++;
    }
    for (int32_t c = 0; c < C; c++) {
      int32_t unit;
      const int8_t *col = tm_train_column(wf, c, C, 1, &unit);
      int32_t p = 0;
      for (; n - p >= 8; p += 8) {
        tm_train_pointwise_column8(cout, unit, col, w_scale, s_step, g + p, sums);
        for (int32_t i = 0; i < 8; i++) dst[p + i][c] += sums[i];
      }
      for (; n - p >= 4; p += 4) {
        tm_train_pointwise_column4(cout, unit, col, w_scale, s_step, g + p, sums);
        for (int32_t i = 0; i < 4; i++) dst[p + i][c] += sums[i];
      }
      for (; p < n; p++) {
        float s = 0.0f;
        const int8_t *f = col;
        const float *ws = w_scale;
        for (int32_t o = 0; o < cout; o++, f += unit, ws += s_step) s += g[p][o] * (*ws * (float)*f);
        dst[p][c] += s;
      }
    }
  }
}

/*
 * dX (+)= the CONV_2D input gradient; wf: the filter [cout][k_h][k_w][in_c] int8 (kept columns in SRAM
 * when split) with a scale per output channel (weights are symmetric: zero point 0).
 */
TM_KERNEL void tm_train_conv2d_input_grad_s8(const tm_train_window *w, int32_t cout, const float *dz, const tm_train_filter *wf, const float *w_scale, int32_t per_channel,
                                            float *dx, int32_t accumulate) {
  const int32_t C = w->in_c, taps = w->k_h * w->k_w, pixels = w->batches * w->out_h * w->out_w;
  if (!accumulate) memset(dx, 0, (size_t)w->batches * w->in_h * w->in_w * C * sizeof(float));
  if (taps == 1) {
    tm_train_pointwise_input_grad_s8(w, cout, dz, wf, w_scale, per_channel, dx);
    return;
  }
  for (int32_t q = 0; q < pixels; q++) {
    int32_t b, oy, ox;
    tm_train_pixel(w, q, &b, &oy, &ox);
    const float *g = dz + q * cout;
    for (int32_t ky = 0; ky < w->k_h; ky++) {
      const int32_t iy = oy * w->stride_h - w->pad_top + ky * w->dil_h;
      for (int32_t kx = 0; kx < w->k_w; kx++) {
        const int32_t ix = ox * w->stride_w - w->pad_left + kx * w->dil_w;
        if (iy < 0 || iy >= w->in_h || ix < 0 || ix >= w->in_w) continue;
        float *dst = dx + ((b * w->in_h + iy) * w->in_w + ix) * C;
        const int32_t tap = ky * w->k_w + kx;
        for (int32_t c = 0; c < C; c++) {
          int32_t unit;
          const int8_t *f = tm_train_column(wf, c, C, 1, &unit) + tap * unit;
          const int32_t o_step = taps * unit;
          float s = 0.0f;
          for (int32_t o = 0; o < cout; o++) s += g[o] * (w_scale[per_channel ? o : 0] * (float)f[o * o_step]);
          dst[c] += s;
        }
      }
    }
  }
}

/* dX[.., c] (+)= sum over taps and m of W[tap][c*M + m] * dZ[.., c*M + m] (tm_train_depthwise_input_grad_f32's order). */
TM_KERNEL void tm_train_depthwise_input_grad_s8(const tm_train_window *w, int32_t M, const float *dz, const tm_train_filter *wf, const float *w_scale, int32_t per_channel,
                                               float *dx, int32_t accumulate) {
  const int32_t C = w->in_c, cout = C * M, pixels = w->batches * w->out_h * w->out_w;
  if (!accumulate) memset(dx, 0, (size_t)w->batches * w->in_h * w->in_w * C * sizeof(float));
  for (int32_t q = 0; q < pixels; q++) {
    int32_t b, oy, ox;
    tm_train_pixel(w, q, &b, &oy, &ox);
    const float *g = dz + q * cout;
    for (int32_t ky = 0; ky < w->k_h; ky++) {
      const int32_t iy = oy * w->stride_h - w->pad_top + ky * w->dil_h;
      if (iy < 0 || iy >= w->in_h) continue;
      for (int32_t kx = 0; kx < w->k_w; kx++) {
        const int32_t ix = ox * w->stride_w - w->pad_left + kx * w->dil_w;
        if (ix < 0 || ix >= w->in_w) continue;
        float *dst = dx + ((b * w->in_h + iy) * w->in_w + ix) * C;
        const int32_t tap = ky * w->k_w + kx;
        for (int32_t c = 0; c < C; c++) {
          int32_t unit;
          const int8_t *col = tm_train_column(wf, c, C, M, &unit);
          const int8_t *f = col + tap * unit * M;
          if (M == 1) {
            dst[c] += g[c] * (w_scale[per_channel ? c : 0] * (float)f[0]);
            continue;
          }
          float s = 0.0f;
          for (int32_t m = 0; m < M; m++) s += g[c * M + m] * (w_scale[per_channel ? c * M + m : 0] * (float)f[m]);
          dst[c] += s;
        }
      }
    }
  }
}

/*
 * Row r = j * M + m of the depthwise weight gradient: out[tap] = sum over pixels of X[..][pick[j]] *
 * dZ[..][channels[j] * M + m] (pick / channels NULL: j).
 */
TM_KERNEL void tm_train_depthwise_weight_row_s8(const tm_train_window *w, int32_t M, int32_t r, const float *dz, const int8_t *x, const tm_train_dequant *xq, int32_t x_c,
                                               const int32_t *pick, const int32_t *channels, float *out) {
  const int32_t cout = w->in_c * M, pixels = w->batches * w->out_h * w->out_w, j = r / M, m = r - j * M;
  const int32_t xc = pick ? pick[j] : j, gc = (channels ? channels[j] : j) * M + m;
  for (int32_t ky = 0; ky < w->k_h; ky++) {
    for (int32_t kx = 0; kx < w->k_w; kx++) {
      float s = 0.0f;
      for (int32_t q = 0; q < pixels; q++) {
        int32_t b, oy, ox;
        tm_train_pixel(w, q, &b, &oy, &ox);
        const int32_t iy = oy * w->stride_h - w->pad_top + ky * w->dil_h, ix = ox * w->stride_w - w->pad_left + kx * w->dil_w;
        if (iy < 0 || iy >= w->in_h || ix < 0 || ix >= w->in_w) continue;
        s += tm_train_deq(xq, x[((b * w->in_h + iy) * w->in_w + ix) * x_c + xc]) * dz[q * cout + gc];
      }
      out[ky * w->k_w + kx] = s;
    }
  }
}

/* dX[b][k] (+)= sum over u of dZ[b][u] * W[u][k], continuing from dX's value when accumulating. */
TM_KERNEL void tm_train_fc_input_grad_s8(int32_t batches, int32_t units, int32_t K, const float *dz, const tm_train_filter *wf, const float *w_scale, int32_t per_channel,
                                        float *dx, int32_t accumulate) {
  for (int32_t b = 0; b < batches; b++) {
    for (int32_t k = 0; k < K; k++) {
      int32_t unit;
      const int8_t *col = tm_train_column(wf, k, K, 1, &unit);
      float s = accumulate ? dx[b * K + k] : 0.0f;
      for (int32_t u = 0; u < units; u++) s += dz[b * units + u] * (w_scale[per_channel ? u : 0] * (float)col[u * unit]);
      dx[b * K + k] = s;
    }
  }
}

/* Row u of the fully-connected weight gradient: out[j] = sum over b of dZ[b][u] * X[b][pick[j]]. */
TM_KERNEL void tm_train_fc_weight_row_s8(int32_t batches, int32_t units, int32_t u, const float *dz, const int8_t *x, const tm_train_dequant *xq, int32_t x_k,
                                        const int32_t *pick, int32_t n_pick, float *out) {
  for (int32_t j = 0; j < n_pick; j++) {
    float s = 0.0f;
    for (int32_t b = 0; b < batches; b++) s += dz[b * units + u] * tm_train_deq(xq, x[b * x_k + (pick ? pick[j] : j)]);
    out[j] = s;
  }
}

/* MAX_POOL_2D over int8: each output gradient to the first tap (row-major) holding its window's maximum. */
TM_KERNEL void tm_train_max_pool_input_grad_s8(const tm_train_window *w, const int8_t *x, const float *dz, float *dx, int32_t accumulate) {
  const int32_t C = w->in_c, pixels = w->batches * w->out_h * w->out_w;
  if (!accumulate) memset(dx, 0, (size_t)w->batches * w->in_h * w->in_w * C * sizeof(float));
  for (int32_t q = 0; q < pixels; q++) {
    int b, y0, y1, x0, x1;
    tm_train_pool_window(w, q, &b, &y0, &y1, &x0, &x1);
    for (int32_t c = 0; c < C; c++) {
      int32_t best = -129, where = -1;
      for (int iy = y0; iy < y1; iy++) {
        for (int ix = x0; ix < x1; ix++) {
          const int32_t o = ((b * w->in_h + iy) * w->in_w + ix) * C + c;
          if (x[o] > best) best = x[o], where = o;
        }
      }
      if (where >= 0) dx[where] += dz[q * C + c];
    }
  }
}

/* lo < v < hi as bits (bit i of byte i >> 3), saved at forward time for a clamp's backward. */
TM_KERNEL void tm_train_save_mask_s8(int32_t n, const int8_t *v, float lo, float hi, uint8_t *bits) {
  memset(bits, 0, (size_t)(n + 7) / 8);
  for (int32_t i = 0; i < n; i++) if ((float)v[i] > lo && (float)v[i] < hi) bits[i >> 3] |= (uint8_t)(1u << (i & 7));
}

/* Channels `channels` of the last dimension (c entries) into a compact buffer. */
TM_KERNEL void tm_train_save_channels_s8(int32_t n, int32_t c, const int8_t *v, const int32_t *channels, int32_t k, int8_t *out) {
  for (int32_t p = 0, o = 0; p < n; p += c, o += k) {
    for (int32_t j = 0; j < k; j++) out[o + j] = v[p + channels[j]];
  }
}

#endif /* TM_TRAIN_GRAD_S8_H */
