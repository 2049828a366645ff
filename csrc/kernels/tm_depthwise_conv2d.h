/*
 * DEPTHWISE_CONV_2D, int8, NHWC with batch 1, filters [1][k_h][k_w][out_c], output channel
 * oc = ic * depth_mult + m. Same integer result as TFLite Micro's reference_integer_ops::DepthwiseConvPerChannel.
 * The bias is folded (bias - in_zp * sum of the channel's taps), so padded taps read as the zero point.
 *
 *   tm_depthwise_conv2d_s8          out-of-place: border pixels check bounds per tap; interior pixels with
 *                                   depth_mult 1 run a bounds-free loop over channels (four at a time with
 *                                   SMLABB/SMLATT on the DSP path).
 *   tm_depthwise_conv2d_inplace_s8  TinyEngine's in-place depthwise: the output overwrites the input (same
 *                                   arena offset), one channel at a time; the channel's input plane is first
 *                                   copied to `plane` (in_h * in_w bytes of the plan's scratch).
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

/* One output pixel, any position: taps outside the input read the zero point. */
TM_HELPER void tm_dw_pixel_border_s8(const tm_dw_shape *s, const tm_requant_params *q, const int8_t *in, const int8_t *w, int y0, int x0, int8_t *dst) {
  const int c_in = s->in_c, c_out = s->out_c, mult = s->depth_mult;
  for (int ic = 0; ic < c_in; ic++) {
    for (int m = 0; m < mult; m++) {
      const int oc = ic * mult + m;
      int32_t acc = q->bias[oc];
      for (int ky = 0; ky < s->k_h; ky++) {
        const int iy = y0 + ky * s->dil_h;
        for (int kx = 0; kx < s->k_w; kx++) {
          const int ix = x0 + kx * s->dil_w;
          const int32_t xv = (iy >= 0 && iy < s->in_h && ix >= 0 && ix < s->in_w) ? in[(iy * s->in_w + ix) * c_in + ic] : s->in_zp;
          acc += xv * w[(ky * s->k_w + kx) * c_out + oc];
        }
      }
      dst[oc] = tm_requant(acc, q->mult[oc], q->shift[oc], q->out_zp, q->act_min, q->act_max);
    }
  }
}

/* One interior output pixel with depth_mult 1: every tap in bounds, channels innermost. */
TM_HELPER void tm_dw_pixel_interior_s8(const tm_dw_shape *s, const tm_requant_params *q, const int8_t *src, const int8_t *w, int8_t *dst) {
  const int c = s->in_c;
  const int tap_dy = s->dil_h * s->in_w * c, tap_dx = s->dil_w * c;
  int ch = 0;
#if TM_DSP
  for (; ch + 4 <= c; ch += 4) {
    int32_t a0 = q->bias[ch], a1 = q->bias[ch + 1], a2 = q->bias[ch + 2], a3 = q->bias[ch + 3];
    for (int ky = 0; ky < s->k_h; ky++) {
      const int8_t *xr = src + ky * tap_dy + ch;
      const int8_t *wr = w + ky * s->k_w * c + ch;
      for (int kx = 0; kx < s->k_w; kx++) {
        const int32_t xv = tm_load32(xr + kx * tap_dx), wv = tm_load32(wr + kx * c);
        const int32_t x02 = __sxtb16(xv), x13 = __sxtb16(tm_ror8(xv));
        const int32_t w02 = __sxtb16(wv), w13 = __sxtb16(tm_ror8(wv));
        a0 = __smlabb(x02, w02, a0);
        a2 = __smlatt(x02, w02, a2);
        a1 = __smlabb(x13, w13, a1);
        a3 = __smlatt(x13, w13, a3);
      }
    }
    dst[ch] = tm_requant(a0, q->mult[ch], q->shift[ch], q->out_zp, q->act_min, q->act_max);
    dst[ch + 1] = tm_requant(a1, q->mult[ch + 1], q->shift[ch + 1], q->out_zp, q->act_min, q->act_max);
    dst[ch + 2] = tm_requant(a2, q->mult[ch + 2], q->shift[ch + 2], q->out_zp, q->act_min, q->act_max);
    dst[ch + 3] = tm_requant(a3, q->mult[ch + 3], q->shift[ch + 3], q->out_zp, q->act_min, q->act_max);
  }
#endif
  for (; ch < c; ch++) {
    int32_t acc = q->bias[ch];
    for (int ky = 0; ky < s->k_h; ky++) {
      const int8_t *xr = src + ky * tap_dy + ch;
      const int8_t *wr = w + ky * s->k_w * c + ch;
      for (int kx = 0; kx < s->k_w; kx++) acc += (int32_t)xr[kx * tap_dx] * (int32_t)wr[kx * c];
    }
    dst[ch] = tm_requant(acc, q->mult[ch], q->shift[ch], q->out_zp, q->act_min, q->act_max);
  }
}

TM_KERNEL void tm_depthwise_conv2d_s8(const tm_dw_shape *s, const tm_requant_params *q, const int8_t *in, const int8_t *w, int8_t *out) {
  const int span_y = (s->k_h - 1) * s->dil_h, span_x = (s->k_w - 1) * s->dil_w;
  for (int oy = 0; oy < s->out_h; oy++) {
    const int y0 = oy * s->stride_h - s->pad_top;
    const int rows_in = y0 >= 0 && y0 + span_y < s->in_h;
    for (int ox = 0; ox < s->out_w; ox++) {
      const int x0 = ox * s->stride_w - s->pad_left;
      int8_t *dst = out + (oy * s->out_w + ox) * s->out_c;
      if (s->depth_mult == 1 && rows_in && x0 >= 0 && x0 + span_x < s->in_w) {
        tm_dw_pixel_interior_s8(s, q, in + (y0 * s->in_w + x0) * s->in_c, w, dst);
      } else {
        tm_dw_pixel_border_s8(s, q, in, w, y0, x0, dst);
      }
    }
  }
}

/*
 * In place (depth_mult 1): writing channel c of every output pixel only touches bytes that hold channel c
 * of some input pixel (same channel count, so the same residue mod c), and channel c's input is safe in
 * `plane` by then; channels not yet processed are untouched.
 */
TM_KERNEL void tm_depthwise_conv2d_inplace_s8(const tm_dw_shape *s, const tm_requant_params *q, int8_t *buf, const int8_t *w, int8_t *plane) {
  const int c = s->in_c, h = s->in_h, wd = s->in_w;
  for (int ch = 0; ch < c; ch++) {
    for (int i = 0; i < h * wd; i++) plane[i] = buf[i * c + ch];
    for (int oy = 0; oy < s->out_h; oy++) {
      const int y0 = oy * s->stride_h - s->pad_top;
      for (int ox = 0; ox < s->out_w; ox++) {
        const int x0 = ox * s->stride_w - s->pad_left;
        int32_t acc = q->bias[ch];
        for (int ky = 0; ky < s->k_h; ky++) {
          const int iy = y0 + ky * s->dil_h;
          for (int kx = 0; kx < s->k_w; kx++) {
            const int ix = x0 + kx * s->dil_w;
            const int32_t xv = (iy >= 0 && iy < h && ix >= 0 && ix < wd) ? plane[iy * wd + ix] : s->in_zp;
            acc += xv * w[(ky * s->k_w + kx) * c + ch];
          }
        }
        buf[(oy * s->out_w + ox) * c + ch] = tm_requant(acc, q->mult[ch], q->shift[ch], q->out_zp, q->act_min, q->act_max);
      }
    }
  }
}

#endif /* TM_DEPTHWISE_CONV2D_H */
