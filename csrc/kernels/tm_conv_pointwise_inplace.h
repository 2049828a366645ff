/*
 * CONV_2D 1x1, stride 1, no padding, int8, batch 1, with the output over its input at the same address (the
 * planner's in-place pointwise, src/ops/conv2d_inplace.ts). Output pixel p needs input pixel p only, so the
 * ordinary pointwise kernel runs on a block of pixels into `scratch` and the block is then moved into `buf`:
 *   out_c <= in_c: blocks in pixel order; output pixels [p, p+n) end at (p+n)*out_c <= (p+n)*in_c, so they
 *                  land on input pixels already consumed;
 *   out_c >  in_c: blocks from the last; output pixel p starts at p*out_c >= p*in_c, so the block lands on
 *                  input pixels >= p, consumed (the buffer is planned for the larger output).
 * The arithmetic is the ordinary kernel's, so the bytes are too. scratch: `block` pixels of outputs (rounded
 * up to 16 bytes, keeping what follows aligned), then the ordinary kernel's own scratch.
 */
#ifndef TM_CONV_POINTWISE_INPLACE_H
#define TM_CONV_POINTWISE_INPLACE_H

#include "tm_conv2d.h"

/* The pixels [p, p + n) of `s` as a one-row layer of their own. */
TM_HELPER tm_conv_shape tm_pw_block_shape(const tm_conv_shape *s, int n) {
  tm_conv_shape b = *s;
  b.in_h = b.out_h = 1;
  b.in_w = b.out_w = (int16_t)n;
  return b;
}

/* Where the walk over blocks starts: the first block when narrowing, the last when widening. */
TM_HELPER int tm_pw_first_block(const tm_conv_shape *s, int block, int n_px) {
  return s->out_c > s->in_c ? ((n_px - 1) / block) * block : 0;
}

/* The walk every form shares; KERNEL(block_shape, in, out, kernel_scratch) is the ordinary kernel's call. */
#define TM_PW_INPLACE_WALK(KERNEL)                                                        \
  int8_t *out = (int8_t *)TM_ARENA_PTR(scratch);                                         \
  int8_t *kernel_scratch = scratch + ((block * s->out_c + 15) & ~15);                    \
  const int n_px = s->in_h * s->in_w, step = s->out_c > s->in_c ? -block : block;        \
  for (int p = tm_pw_first_block(s, block, n_px); p >= 0 && p < n_px; p += step) {       \
    const int n = TM_MIN(block, n_px - p);                                               \
    const tm_conv_shape b = tm_pw_block_shape(s, n);                                     \
    KERNEL(&b, buf + p * s->in_c, out, kernel_scratch);                                  \
    memmove(buf + p * s->out_c, out, (size_t)(n * s->out_c));                            \
  }

TM_KERNEL void tm_conv2d_1x1_inplace_s8(const tm_conv_shape *s, const tm_requant_params *q, int8_t *buf, const int8_t *w, int8_t *scratch, int32_t block) {
#define TM_PW_INT8(b, in, o, ks) tm_conv2d_1x1_s8(b, q, in, w, o, ks)
  TM_PW_INPLACE_WALK(TM_PW_INT8)
#undef TM_PW_INT8
}

#if !defined(TM_WASM_EXPORT)
/* Weights split into SMLAD pairs by the generator (tm_conv2d_1x1_w16_s8): the layers the Flash budget splits. */
TM_KERNEL void tm_conv2d_1x1_inplace_w16_s8(const tm_conv_shape *s, const tm_requant_params *q, int8_t *buf, const int32_t *wp, int8_t *scratch, int32_t block) {
#define TM_PW_W16(b, in, o, ks) tm_conv2d_1x1_w16_s8(b, q, in, wp, o, ks)
  TM_PW_INPLACE_WALK(TM_PW_W16)
#undef TM_PW_W16
}
#endif

#if TM_WASM_SIMD
/* The WebAssembly runtime's form: the same walk over tm_conv2d_1x1_packed_s8 (weights packed at load). */
TM_KERNEL void tm_conv2d_1x1_inplace_packed_s8(const tm_conv_shape *s, const tm_requant_params *q, int8_t *buf, const int8_t *w, int8_t *scratch, int32_t block, const int16_t *wp) {
#define TM_PW_PACKED(b, in, o, ks) tm_conv2d_1x1_packed_s8(b, q, in, w, o, ks, wp)
  TM_PW_INPLACE_WALK(TM_PW_PACKED)
#undef TM_PW_PACKED
}

/*
 * The same layer in one call over a copy of its input outside the arena (`copy`, in_h * in_w * in_c bytes,
 * kept with the layer's constants), as the in-place depthwise kernels run in the module: the block walk's
 * per-block call, requantisation set-up and memmove cost more than the copy in a patch plan's small layers.
 * The arithmetic is the ordinary kernel's, pixel by pixel, so the bytes are the walk's.
 */
TM_KERNEL void tm_conv2d_1x1_inplace_copy_packed_s8(const tm_conv_shape *s, const tm_requant_params *q, int8_t *buf, const int8_t *w, int8_t *scratch, int32_t block, const int16_t *wp, int8_t *copy) {
  (void)block;
  tm_wasm_copy(copy, buf, s->in_h * s->in_w * s->in_c);
  tm_conv2d_1x1_packed_s8(s, q, copy, w, buf, scratch, wp);
}
#endif

#endif /* TM_CONV_POINTWISE_INPLACE_H */
