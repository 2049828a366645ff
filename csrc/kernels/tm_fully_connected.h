/*
 * FULLY_CONNECTED, int8: weights [n_out][depth], input rows of `depth` values. Same integer result as
 * TFLite Micro's reference_integer_ops::FullyConnected (bias folded with the input zero point; the weights'
 * zero point is 0, which the generator checks). Two rows at a time share each weight load.
 */
#ifndef TM_FULLY_CONNECTED_H
#define TM_FULLY_CONNECTED_H

#include "tm_common.h"
#include "tm_gemm.h"

TM_KERNEL void tm_fully_connected_s8(int rows, int depth, int n_out, const tm_requant_params *q, const int8_t *in, const int8_t *w, int8_t *out) {
  int r = 0;
  for (; r + 2 <= rows; r += 2) {
    tm_gemm_s8_2col(in + r * depth, in + (r + 1) * depth, w, depth, n_out, q, out + r * n_out, out + (r + 1) * n_out);
  }
  if (r < rows) tm_gemm_s8_1col(in + r * depth, w, depth, n_out, q, out + r * n_out);
}

#endif /* TM_FULLY_CONNECTED_H */
