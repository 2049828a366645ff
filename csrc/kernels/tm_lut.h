/*
 * Any int8 -> int8 function of one value (RELU, RELU6, LOGISTIC, TANH, HARD_SWISH, ... on int8): a
 * 256-entry table the generator computes with the interpreter's own arithmetic, indexed by q + 128.
 * In place is fine: each element is read before it is written.
 */
#ifndef TM_LUT_H
#define TM_LUT_H

#include "tm_common.h"

TM_KERNEL void tm_lut_s8(const int8_t *table, int32_t n, const int8_t *in, int8_t *out) {
  for (int32_t i = 0; i < n; i++) out[i] = table[(int32_t)in[i] + 128];
}

#endif /* TM_LUT_H */
