/*
 * The forward pass of a layer whose weights a sparse update trains on some input channels only: those
 * channels' weights (the kept columns, tm_train_filter) live in SRAM, the rest of the filter in Flash. The
 * accumulator of every output is the Flash part's dot product plus the kept columns' one; integer sums are
 * the same in any order (mod 2^32), so splitting the sum gives the reference's result to the bit, and one
 * requantisation of the total follows as in the inference kernel.
 *
 * Convolutions: the Flash part is compact over the frozen channels, so no multiply is spent on the kept ones.
 * Per output pixel (DSP: per pair, as the inference kernel pairs them) the kept values' sums of a block of
 * output channels become that block's per-pixel bias, then an SMLAD core of tm_gemm.h runs the Flash rows
 * over the frozen values. Fully-connected layers: the Flash part keeps the tensor's layout (kept columns
 * zero) and the GEMM core of one row runs over it. Depthwise: the inference kernel runs over the Flash filter
 * (kept channels zero), then the kept channels (each output channel reads one input channel) are computed
 * again from SRAM over it.
 */
#ifndef TM_TRAIN_SPLIT_S8_H
#define TM_TRAIN_SPLIT_S8_H

#include "tm_train_grad_s8.h"
#include "tm_conv2d.h"
#include "tm_depthwise_conv2d.h"

/* Output channels whose kept-column sums are held at once (a blocking factor of the loop, on the stack). */
#define TM_TRAIN_SPLIT_BLOCK 16

/* bias[i] = q->bias[c0 + i] + the kept values x (kept_depth, contiguous) . kept row c0 + i, for n rows. */
TM_HELPER void tm_train_split_kept_sums(const tm_requant_params *q, const tm_train_filter *f, const int8_t *x, int32_t kept_depth, int32_t c0, int32_t n, int32_t *bias) {
#if TM_DSP
  /* Four kept rows share each load of x (the rows lie kept_depth apart, as tm_dot_1x4_s8 reads them). */
  const int32_t quads = n >> 2;
  for (int32_t k = 0; k < quads; k++) {
    const int32_t i = 4 * k;
    int32_t acc[4] = {q->bias[c0 + i], q->bias[c0 + i + 1], q->bias[c0 + i + 2], q->bias[c0 + i + 3]};
    tm_dot_1x4_s8(x, f->kept_w + (c0 + i) * kept_depth, kept_depth, acc);
    memcpy(bias + i, acc, sizeof acc);
  }
  for (int32_t i = 4 * quads; i < n; i++) bias[i] = tm_dot_1x1_s8(x, f->kept_w + (c0 + i) * kept_depth, kept_depth, q->bias[c0 + i]);
#else
  for (int32_t i = 0; i < n; i++) bias[i] = tm_dot_s8(x, f->kept_w + (c0 + i) * kept_depth, kept_depth, q->bias[c0 + i]);
#endif
}

/*
 * One column (an output pixel's receptive field, depth values) through every output channel: `gathered`
 * holds the column's kept values [taps][n_kept] when the caller gathered them, else (taps 1) they are read
 * from the column through f->kept.
 */
TM_HELPER void tm_train_split_column_s8(const tm_requant_params *q, const tm_train_filter *f, const int8_t *col, int32_t depth, int32_t n_out,
                                        const int8_t *gathered, int32_t kept_depth, int8_t *out) {
  int32_t bias[TM_TRAIN_SPLIT_BLOCK];
  for (int32_t c0 = 0; c0 < n_out; c0 += TM_TRAIN_SPLIT_BLOCK) {
    const int32_t n = n_out - c0 < TM_TRAIN_SPLIT_BLOCK ? n_out - c0 : TM_TRAIN_SPLIT_BLOCK;
    if (gathered) {
      tm_train_split_kept_sums(q, f, gathered, kept_depth, c0, n, bias);
    } else {
      for (int32_t i = 0; i < n; i++) {
        const int8_t *kw = f->kept_w + (c0 + i) * kept_depth;
        int32_t acc = q->bias[c0 + i];
        for (int32_t j = 0; j < kept_depth; j++) acc += (int32_t)col[f->kept[j]] * kw[j];
        bias[i] = acc;
      }
    }
    const tm_requant_params block = {bias, q->mult + c0, q->shift + c0, q->out_zp, q->act_min, q->act_max, q->fast};
    tm_gemm_s8_1col(col, f->w + c0 * depth, depth, n, &block, out + c0);
  }
}

/* Output pixel p's input column: the pixel itself for a plain 1x1 layer, else its window copied to colbuf. */
TM_HELPER const int8_t *tm_train_split_col(const tm_conv_shape *s, const int8_t *in, int32_t p, int pointwise, int8_t *colbuf) {
  const int oy = p / s->out_w, ox = p % s->out_w;
  if (pointwise) return in + ((oy * s->stride_h) * s->in_w + ox * s->stride_w) * s->in_c;
  tm_im2col_s8(s, in, oy, ox, colbuf);
  return colbuf;
}

/* The frozen and the kept values of one column (taps * in_c), each [taps][n]: what the two weight arrays multiply. */
TM_HELPER void tm_train_split_gather(const tm_conv_shape *s, const tm_train_filter *f, const int8_t *col, int8_t *frozen, int8_t *kept) {
  const int32_t taps = s->k_h * s->k_w;
  for (int32_t t = 0; t < taps; t++, col += s->in_c) {
    if (frozen) for (int32_t j = 0; j < f->n_frozen; j++) *frozen++ = col[f->frozen[j]];
    for (int32_t j = 0; j < f->n_kept; j++) *kept++ = col[f->kept[j]];
  }
}

#if TM_DSP
/*
 * The values of `channels` in one column ([taps][n_channels]) widened straight into lane `lane` of a
 * two-column widened buffer, in tm_widen_lane_s8's layout (groups of four as SXTB16 pairs, then the rest).
 */
TM_HELPER void tm_train_split_widen(const tm_conv_shape *s, const int32_t *channels, int32_t n_channels, const int8_t *col, int32_t *wide, int lane) {
  const int32_t n = s->k_h * s->k_w * n_channels, groups = n >> 2;
  int32_t t = 0, j = 0;
  uint32_t word = 0;
  int32_t *d = wide + 2 * lane;
  for (int32_t k = 0; k < n; k++) {
    const uint8_t v = (uint8_t)col[t * s->in_c + channels[j]];
    if (++j == n_channels) j = 0, t++;
    if (k < 4 * groups) {
      word |= (uint32_t)v << (8 * (k & 3));
      if ((k & 3) == 3) {
        d[0] = __sxtb16((int32_t)word);
        d[1] = tm_sxtb16_ror8((int32_t)word);
        d += 4;
        word = 0;
      }
    } else {
      wide[4 * groups + 2 * (k - 4 * groups) + lane] = (int8_t)v;
    }
  }
}

/* Channels c and c + 1 (when `pair`) of two pixels from a 2x2 core's accumulators, requantised and stored. */
TM_HELPER void tm_train_split_store_2x2(const tm_requant_params *q, const int32_t *acc, int32_t c, int32_t pair, int8_t *out0, int8_t *out1) {
  out0[c] = tm_requant_ch(q, acc[0], c);
  out1[c] = tm_requant_ch(q, acc[2], c);
  if (pair) {
    out0[c + 1] = tm_requant_ch(q, acc[1], c + 1);
    out1[c + 1] = tm_requant_ch(q, acc[3], c + 1);
  }
}

/*
 * Two output pixels at once, as the inference kernel pairs them: their frozen values widened in `wide`,
 * their kept values in ga / gb. Each pair of output channels starts from its own per-pixel bias (folded +
 * kept part) and runs the 2x2 SMLAD core over the compact Flash rows (frozen_depth values each).
 */
TM_HELPER void tm_train_split_pair_s8(const tm_requant_params *q, const tm_train_filter *f, const int32_t *wide, int32_t frozen_depth, int32_t n_out,
                                      const int8_t *ga, const int8_t *gb, int32_t kept_depth, int8_t *out0, int8_t *out1) {
  int32_t ba[TM_TRAIN_SPLIT_BLOCK], bb[TM_TRAIN_SPLIT_BLOCK];
  for (int32_t c0 = 0; c0 < n_out; c0 += TM_TRAIN_SPLIT_BLOCK) {
    const int32_t n = n_out - c0 < TM_TRAIN_SPLIT_BLOCK ? n_out - c0 : TM_TRAIN_SPLIT_BLOCK;
    tm_train_split_kept_sums(q, f, ga, kept_depth, c0, n, ba);
    tm_train_split_kept_sums(q, f, gb, kept_depth, c0, n, bb);
    for (int32_t i = 0; i < n; i += 2) {
      const int32_t c = c0 + i, pair = i + 1 < n;
      const int8_t *w0 = f->w + c * frozen_depth, *w1 = pair ? w0 + frozen_depth : w0;
      int32_t acc[4] = {ba[i], pair ? ba[i + 1] : ba[i], bb[i], pair ? bb[i + 1] : bb[i]};
      tm_dot_2x2_wide(wide, w0, w1, frozen_depth, acc);
      tm_train_split_store_2x2(q, acc, c, pair, out0, out1);
    }
  }
}
#endif

#if TM_DSP
/*
 * Two output pixels with both parts widened: fw (frozen values) and kw (kept values). Four output
 * channels at a time start from the folded bias through the inference kernel's 2x4 core over the Flash
 * rows, then continue over the kept rows with the 2x2 core; the last one or two channels take the 2x2
 * core for both parts.
 */
TM_HELPER void tm_train_split_pair_wide_s8(const tm_requant_params *q, const tm_train_filter *f, const int32_t *fw, int32_t frozen_depth,
                                           const int32_t *kw, int32_t kept_depth, int32_t n_out, int8_t *out0, int8_t *out1) {
  int32_t c = 0;
  const int8_t *wr = f->w, *kr = f->kept_w;
  const int32_t *ft = fw + 4 * (frozen_depth >> 2); /* the frozen leftover values' [a b] words */
  if (frozen_depth >= 4) {
    for (; c + 4 <= n_out; c += 4, wr += 4 * frozen_depth, kr += 4 * kept_depth) {
      tm_dsp_2x4_io io;
      io.bias = q->bias + c;
      tm_dsp_dot_2x4_groups(fw, wr, frozen_depth, &io);
      tm_dsp_2x4_leftover(ft, wr, frozen_depth, io.acc);
      tm_dot_2x2_wide(kw, kr, kr + kept_depth, kept_depth, io.acc);
      tm_dot_2x2_wide(kw, kr + 2 * kept_depth, kr + 3 * kept_depth, kept_depth, io.acc + 4);
      tm_dsp_2x4_store(q, io.acc, c, out0, out1);
    }
  }
  for (; c < n_out; c += 2, wr += 2 * frozen_depth, kr += 2 * kept_depth) {
    const int32_t pair = c + 1 < n_out, c1 = pair ? c + 1 : c;
    const int8_t *w1 = pair ? wr + frozen_depth : wr, *k1 = pair ? kr + kept_depth : kr;
    int32_t acc[4] = {q->bias[c], q->bias[c1], q->bias[c], q->bias[c1]};
    tm_dot_2x2_wide(fw, wr, w1, frozen_depth, acc);
    tm_dot_2x2_wide(kw, kr, k1, kept_depth, acc);
    tm_train_split_store_2x2(q, acc, c, pair, out0, out1);
  }
}
#endif

/*
 * CONV_2D over a split filter whose Flash part is compact (f->n_frozen > 0). Scratch: the layer's plan
 * scratch (scratch_bytes; the inference kernel sizes it for an im2col column unless the window is a plain
 * 1x1, then two widened columns). DSP: pixels in pairs, both parts widened when the scratch holds them (it
 * does unless a part's leftover values take a few more words), else the frozen values widened and the kept
 * ones gathered; otherwise one pixel at a time, its frozen then kept values gathered (depth bytes after the
 * column, which the generator checks).
 */
TM_KERNEL void tm_train_split_conv2d_s8(const tm_conv_shape *s, const tm_requant_params *q, const int8_t *in, const tm_train_filter *f, int8_t *out, int8_t *scratch, int32_t scratch_bytes) {
  const int32_t taps = s->k_h * s->k_w, depth = taps * s->in_c, kept_depth = taps * f->n_kept, frozen_depth = taps * f->n_frozen;
  const int pointwise = taps == 1 && s->pad_top == 0 && s->pad_left == 0;
  const int32_t col_bytes = pointwise ? 0 : (depth + 3) & ~3;
  int8_t *colbuf = (int8_t *)TM_ARENA_PTR(scratch);
  int8_t *after_col = colbuf + col_bytes;
  const int32_t pixels = s->out_h * s->out_w;
  int32_t p = 0;
#if TM_DSP
  const int32_t wide_bytes = 8 * ((frozen_depth >> 1) + (frozen_depth & 3)), kept_wide_bytes = 8 * ((kept_depth >> 1) + (kept_depth & 3));
  if (col_bytes + wide_bytes + kept_wide_bytes <= scratch_bytes) {
    /* Both parts widened: the Flash rows on the inference kernel's core, the kept rows on the 2x2 one. */
    int32_t *wide = (int32_t *)(void *)after_col, *kept_wide = (int32_t *)(void *)(after_col + wide_bytes);
    for (; p + 2 <= pixels; p += 2) {
      for (int32_t lane = 0; lane < 2; lane++) {
        const int8_t *col = tm_train_split_col(s, in, p + lane, pointwise, colbuf);
        tm_train_split_widen(s, f->frozen, f->n_frozen, col, wide, lane);
        tm_train_split_widen(s, f->kept, f->n_kept, col, kept_wide, lane);
      }
      tm_train_split_pair_wide_s8(q, f, wide, frozen_depth, kept_wide, kept_depth, s->out_c, out + p * s->out_c, out + (p + 1) * s->out_c);
    }
  } else if (col_bytes + wide_bytes + 2 * kept_depth <= scratch_bytes) {
    int32_t *wide = (int32_t *)(void *)after_col;
    int8_t *kept = after_col + wide_bytes;
    for (; p + 2 <= pixels; p += 2) {
      for (int32_t lane = 0; lane < 2; lane++) {
        const int8_t *col = tm_train_split_col(s, in, p + lane, pointwise, colbuf);
        tm_train_split_widen(s, f->frozen, f->n_frozen, col, wide, lane);
        tm_train_split_gather(s, f, col, 0, kept + lane * kept_depth);
      }
      tm_train_split_pair_s8(q, f, wide, frozen_depth, s->out_c, kept, kept + kept_depth, kept_depth, out + p * s->out_c, out + (p + 1) * s->out_c);
    }
  }
#else
  (void)scratch_bytes;
#endif
  for (; p < pixels; p++) {
    const int8_t *col = tm_train_split_col(s, in, p, pointwise, colbuf);
    tm_train_split_gather(s, f, col, after_col, after_col + frozen_depth);
    tm_train_split_column_s8(q, f, after_col, frozen_depth, s->out_c, after_col + frozen_depth, kept_depth, out + p * s->out_c);
  }
}

/* FULLY_CONNECTED over a split filter [n_out][depth]: the kept values read in place (no scratch). */
TM_KERNEL void tm_train_split_fully_connected_s8(int rows, int depth, int n_out, const tm_requant_params *q, const int8_t *in, const tm_train_filter *f, int8_t *out) {
  for (int r = 0; r < rows; r++) tm_train_split_column_s8(q, f, in + r * depth, depth, n_out, 0, f->n_kept, out + r * n_out);
}

/*
 * DEPTHWISE_CONV_2D, after the inference kernel ran over f->w: the kept input channels' outputs again,
 * from their weights in SRAM ([taps][n_kept * M]); padded taps read the input zero point, as the folded
 * bias expects.
 */
TM_KERNEL void tm_train_split_depthwise_s8(const tm_dw_shape *s, const tm_requant_params *q, const int8_t *in, const tm_train_filter *f, int8_t *out) {
  const int32_t M = s->depth_mult, rows = f->n_kept * M;
  for (int32_t r = 0; r < rows; r++) {
    const int32_t ic = f->kept[r / M], oc = ic * M + r % M;
    for (int oy = 0; oy < s->out_h; oy++) {
      for (int ox = 0; ox < s->out_w; ox++) {
        int32_t acc = q->bias[oc];
        const int y0 = oy * s->stride_h - s->pad_top, x0 = ox * s->stride_w - s->pad_left;
        for (int ky = 0; ky < s->k_h; ky++) {
          const int iy = y0 + ky * s->dil_h;
          for (int kx = 0; kx < s->k_w; kx++) {
            const int ix = x0 + kx * s->dil_w;
            const int32_t x = (iy >= 0 && iy < s->in_h && ix >= 0 && ix < s->in_w) ? in[(iy * s->in_w + ix) * s->in_c + ic] : s->in_zp;
            acc += x * f->kept_w[(ky * s->k_w + kx) * rows + r];
          }
        }
        out[(oy * s->out_w + ox) * s->out_c + oc] = tm_requant_ch(q, acc, oc);
      }
    }
  }
}

#endif /* TM_TRAIN_SPLIT_S8_H */
