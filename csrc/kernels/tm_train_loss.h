/*
 * The loss gradient of a training step on the device: softmax cross-entropy over int8 logits. The
 * Node trainer (src/train/kernels/loss.ts) does the same double arithmetic in the same order, and both
 * take e^x from tm_train_exp / detExp (src/train/kernels/det_exp.ts): libm's exp and V8's Math.exp
 * round differently, these two are the same sequence of IEEE double operations, so they agree to the bit.
 */
#ifndef TM_TRAIN_LOSS_H
#define TM_TRAIN_LOSS_H

#include <math.h>
#include "tm_common.h"

/* e^x for x <= 0 (the loss only exponentiates logits minus their maximum); 0 below e^-708. */
TM_HELPER double tm_train_exp(double x) {
  if (x < -708.0) return 0.0;
  if (x > 709.0) x = 709.0;
  const double k = floor(x * 1.4426950408889634 + 0.5);
  const double r = (x - k * 0.69314718036912382) - k * 1.9082149292705877e-10;
  double p = 2.08767569878680990e-09;
  p = p * r + 2.50521083854417188e-08;
  p = p * r + 2.75573192239858907e-07;
  p = p * r + 2.75573192239858883e-06;
  p = p * r + 2.48015873015873016e-05;
  p = p * r + 1.98412698412698413e-04;
  p = p * r + 1.38888888888888894e-03;
  p = p * r + 8.33333333333333322e-03;
  p = p * r + 4.16666666666666644e-02;
  p = p * r + 1.66666666666666657e-01;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  /* 2^k from its bits: exact, where pow/ldexp would be another library's routine. */
  union { double d; uint64_t u; } two;
  two.u = (uint64_t)((int64_t)k + 1023) << 52;
  return p * two.d;
}

/*
 * One sample's logits (int8, dequantised as the trainer dequantises: scale * (q - zp) rounded to float):
 * grad[j] = beta * (softmax(beta z)[j] - [j == label]) as float. Returns the arg-max class.
 */
TM_KERNEL int32_t tm_train_softmax_ce_grad_s8(int32_t classes, const int8_t *z, float scale, int32_t zp, double beta, int32_t label, float *grad) {
  float max = -3.40282347e+38f;
  int32_t arg = 0;
  for (int32_t j = 0; j < classes; j++) {
    const float v = scale * (float)(z[j] - zp);
    if (v > max) max = v, arg = j;
  }
  double sum = 0.0;
  for (int32_t j = 0; j < classes; j++) sum += tm_train_exp(beta * ((double)(scale * (float)(z[j] - zp)) - (double)max));
  for (int32_t j = 0; j < classes; j++) {
    const double p = tm_train_exp(beta * ((double)(scale * (float)(z[j] - zp)) - (double)max)) / sum;
    grad[j] = (float)(beta * (p - (j == label ? 1.0 : 0.0)));
  }
  return arg;
}

#endif /* TM_TRAIN_LOSS_H */
