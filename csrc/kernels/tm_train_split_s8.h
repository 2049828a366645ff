/*
 * The forward pass of a layer whose weights a sparse update trains on some input channels only: those
 * channels' weights (the kept columns, tm_train_filter) live in SRAM, the rest of the filter in Flash with
 * the kept columns zero. The accumulator of every output is the Flash part's dot product plus the kept
 * columns' one; integer sums are the same in any order (mod 2^32), so splitting the sum gives the
 * reference's result to the bit, and one requantisation of the total follows as in the inference kernel.
 *
 * Convolutions and fully-connected layers: per output pixel, the kept columns' sums of a block of output
 * channels become that block's bias (folded bias + kept part), then the inference GEMM core runs the
 * Flash rows over the same column with that bias: the Flash part keeps the DSP inner loops. Depthwise: the
 * inference kernel runs over the Flash filter, then the kept channels (each output channel reads one input
 * channel) are computed again from SRAM over it.
 */
#ifndef TM_TRAIN_SPLIT_S8_H
#define TM_TRAIN_SPLIT_S8_H

#include "tm_train_grad_s8.h"
#include "tm_conv2d.h"
#include "tm_depthwise_conv2d.h"

/* Output channels whose kept-column sums are held at once (a blocking factor of the loop, on the stack). */
#define TM_TRAIN_SPLIT_BLOCK 16

/* Dot product of n int8 values (contiguous) with one row. */
TM_HELPER int32_t tm_train_split_dot(const int8_t *x, const int8_t *w, int32_t n, int32_t acc) {
#if TM_DSP
  return tm_dot_1x1_s8(x, w, n, acc);
#else
  return tm_dot_s8(x, w, n, acc);
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
    for (int32_t i = 0; i < n; i++) {
      const int8_t *kw = f->kept_w + (c0 + i) * kept_depth;
      int32_t acc = q->bias[c0 + i];
      if (gathered) {
        acc = tm_train_split_dot(gathered, kw, kept_depth, acc);
      } else {
        for (int32_t j = 0; j < kept_depth; j++) acc += (int32_t)col[f->kept[j]] * kw[j];
      }
      bias[i] = acc;
    }
    const tm_requant_params block = {bias, q->mult + c0, q->shift + c0, q->out_zp, q->act_min, q->act_max, q->fast};
    tm_gemm_s8_1col(col, f->w + c0 * depth, depth, n, &block, out + c0);
  }
}

/*
 * CONV_2D over a split filter. Scratch (the layer's plan scratch, which the inference kernel sizes for
 * two widened columns): the im2col column unless the window is a plain 1x1, then the kept values.
 */
TM_KERNEL void tm_train_split_conv2d_s8(const tm_conv_shape *s, const tm_requant_params *q, const int8_t *in, const tm_train_filter *f, int8_t *out, int8_t *scratch) {
  const int32_t taps = s->k_h * s->k_w, depth = taps * s->in_c, kept_depth = taps * f->n_kept;
  const int pointwise = taps == 1 && s->pad_top == 0 && s->pad_left == 0;
  int8_t *colbuf = (int8_t *)TM_ARENA_PTR(scratch);
  int8_t *gathered = pointwise ? colbuf : colbuf + ((depth + 3) & ~3);
  for (int oy = 0; oy < s->out_h; oy++) {
    for (int ox = 0; ox < s->out_w; ox++) {
      const int8_t *col;
      if (pointwise) {
        col = in + ((oy * s->stride_h) * s->in_w + ox * s->stride_w) * s->in_c;
      } else {
        tm_im2col_s8(s, in, oy, ox, colbuf);
        col = colbuf;
      }
      for (int32_t t = 0; t < taps; t++) {
        for (int32_t j = 0; j < f->n_kept; j++) gathered[t * f->n_kept + j] = col[t * s->in_c + f->kept[j]];
      }
      tm_train_split_column_s8(q, f, col, depth, s->out_c, gathered, kept_depth, out + (oy * s->out_w + ox) * s->out_c);
    }
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
