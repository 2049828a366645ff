/*
 * QUANTIZE float32 -> int8 and DEQUANTIZE int8 -> float32: TFLite's reference AffineQuantize and
 * Dequantize, in float32 arithmetic (division, not a multiply by the reciprocal, so results match).
 * QUANTIZE reads element i before writing byte i <= 4i, so its output may overlay its float input at the
 * same offset (the planner's edge-quantize trick); DEQUANTIZE writes 4i >= i and runs backwards for the
 * same reason.
 */
#ifndef TM_QUANTIZE_H
#define TM_QUANTIZE_H

#include "tm_common.h"

TM_KERNEL void tm_quantize_f32_s8(int n, float scale, int32_t zp, const float *in, int8_t *out) {
  for (int i = 0; i < n; i++) {
    const float r = tm_roundf(in[i] / scale);
    /* static_cast<int32_t> as x86-64 does it: out of range or NaN gives INT32_MIN; the add wraps. */
    const int32_t q = (r >= -2147483648.0f && r < 2147483648.0f) ? (int32_t)r : INT32_MIN;
    out[i] = (int8_t)tm_clamp((int32_t)((uint32_t)q + (uint32_t)zp), -128, 127);
  }
}

TM_KERNEL void tm_dequantize_s8_f32(int n, float scale, int32_t zp, const int8_t *in, float *out) {
  for (int i = n - 1; i >= 0; i--) {
    const int8_t v = in[i];
    out[i] = scale * (float)((int32_t)v - zp);
  }
}

#endif /* TM_QUANTIZE_H */
