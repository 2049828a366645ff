/*
 * QUANTIZE and DEQUANTIZE between any of int8, uint8, int16, int32 and float32 (TFLite Micro's
 * quantize_common.cc and dequantize.cc; tm_quantize.h keeps the int8 <-> float32 pair the WebAssembly
 * backend also runs): AffineQuantize (round(x / scale) + zero point, the division in float, clamped),
 * Requantize ((q - in_zp) * in_scale / out_scale + out_zp), Dequantize (scale * (q - zp) in float).
 * Element i is read before it is written, walking forward (or backward when the output is wider).
 */
#ifndef TM_REQUANTIZE_H
#define TM_REQUANTIZE_H

#include "tm_common.h"

/* Element types (as tm_unary.h's TM_T_*). */
enum { TM_Q_S8 = 1, TM_Q_U8 = 2, TM_Q_S16 = 3, TM_Q_S32 = 4 };

typedef struct {
  int32_t in_type, out_type;
  int32_t in_zp, out_zp;
  int32_t mult, shift; /* Requantize: in_scale / out_scale */
  float scale;         /* AffineQuantize: the output scale; Dequantize: the input scale */
  int32_t lo, hi;      /* the output type's range */
} tm_requantize_params;

TM_HELPER int32_t tm_q_load(int32_t type, const void *p, int32_t i) {
  switch (type) {
    case TM_Q_S8: return ((const int8_t *)p)[i];
    case TM_Q_U8: return ((const uint8_t *)p)[i];
    case TM_Q_S16: return ((const int16_t *)p)[i];
    default: return ((const int32_t *)p)[i];
  }
}

TM_HELPER void tm_q_store(int32_t type, void *p, int32_t i, int32_t v) {
  switch (type) {
    case TM_Q_S8: ((int8_t *)p)[i] = (int8_t)v; break;
    case TM_Q_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case TM_Q_S16: ((int16_t *)p)[i] = (int16_t)v; break;
    default: ((int32_t *)p)[i] = v; break;
  }
}

/* Integer to integer; backward when the output element is wider, so an output over the input stays exact. */
TM_KERNEL void tm_requantize(const tm_requantize_params *p, int32_t n, const void *in, void *out) {
  const int backward = p->out_type > p->in_type;
  for (int32_t k = 0; k < n; k++) {
    const int32_t i = backward ? n - 1 - k : k;
    const int32_t x = (int32_t)((uint32_t)tm_q_load(p->in_type, in, i) - (uint32_t)p->in_zp);
    tm_q_store(p->out_type, out, i, tm_clamp(tm_mbqm(x, p->mult, p->shift) + p->out_zp, p->lo, p->hi));
  }
}

/* float32 to an integer type: static_cast as x86-64 does it (out of range or NaN: INT32_MIN), the add wrapping. */
TM_KERNEL void tm_affine_quantize(const tm_requantize_params *p, int32_t n, const float *in, void *out) {
  for (int32_t i = 0; i < n; i++) {
    const float r = tm_roundf(in[i] / p->scale);
    const int32_t q = (r >= -2147483648.0f && r < 2147483648.0f) ? (int32_t)r : INT32_MIN;
    tm_q_store(p->out_type, out, i, tm_clamp((int32_t)((uint32_t)q + (uint32_t)p->out_zp), p->lo, p->hi));
  }
}

/* An integer type to float32, backward (the output is at least as wide). */
TM_KERNEL void tm_dequantize(const tm_requantize_params *p, int32_t n, const void *in, float *out) {
  for (int32_t i = n - 1; i >= 0; i--) out[i] = p->scale * (float)(tm_q_load(p->in_type, in, i) - p->in_zp);
}

#endif /* TM_REQUANTIZE_H */
