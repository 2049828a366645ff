/*
 * The optimiser of a training step on the device: SGD (momentum, weight decay) on int8 / int32
 * parameters, one output channel ("row") at a time right after its gradient row, with quantisation-aware
 * scaling and stochastic rounding. It is src/train/optimizer.ts's stepRow + store written again: the
 * same double operations in the same order (IEEE double is exact to reproduce; on a Cortex-M4 the
 * compiler's soft-float double is correctly rounded too), and the rounding noise from the same
 * Mulberry32 stream as src/util/random.ts, drawn element by element in the same order.
 */
#ifndef TM_TRAIN_SGD_H
#define TM_TRAIN_SGD_H

#include <math.h>
#include "tm_common.h"

/* Mulberry32, as seededRandom: one state word, a double in [0, 1) per draw. */
TM_HELPER double tm_train_random(uint32_t *state) {
  uint32_t t = (*state += 0x6d2b79f5u);
  t = (t ^ (t >> 15)) * (t | 1u);
  t ^= t + (t ^ (t >> 7)) * (t | 61u);
  return (double)(t ^ (t >> 14)) / 4294967296.0;
}

/* How trained values are rounded back to integers (optimizer_spec.ts Rounding; 'shadow' is not compiled). */
#define TM_TRAIN_ROUND_STOCHASTIC 0
#define TM_TRAIN_ROUND_NEAREST 1

typedef struct {
  double lr, momentum, weight_decay;
  int32_t rounding;
} tm_train_sgd;

/* Where the trained elements of one parameter lie in its tensor (optimizer.ts paramLayout). */
#define TM_TRAIN_PARAM_BIAS 0
#define TM_TRAIN_PARAM_WEIGHT 1      /* [cout][taps][in_c] (conv OHWI, fully-connected [units][K]) */
#define TM_TRAIN_PARAM_DEPTHWISE 2   /* [taps][in_c * M] */

typedef struct {
  int32_t layout, rows, row_len;
  int32_t taps, in_c, n_kept, depth_multiplier;
  /* Kept input channels, ascending (NULL: all in_c). */
  const int32_t *kept;
  /* 8: int8 values (-127..127), 32: int32 values. */
  int32_t bits;
  /*
   * The trained elements only, compact in SRAM (the plan's parameter slot): weights [rows][row_len],
   * depthwise [row_len taps][rows], biases [rows]. With every channel kept that is the tensor's own layout.
   */
  void *values;
  /* Per row: dL/dW -> the optimiser's gradient, its step -> integer units, a stored value -> optimiser units. */
  const float *grad_scale, *step_scale, *value_scale;
  /* Momentum per trained element (NULL: plain SGD). */
  float *momentum;
} tm_train_param;

/* Index in `values` of element k of row r. */
TM_HELPER int32_t tm_train_param_index(const tm_train_param *p, int32_t r, int32_t k) {
  return p->layout == TM_TRAIN_PARAM_DEPTHWISE ? k * p->rows + r : r * p->row_len + k;
}

/* Flat index in the whole tensor of element k of row r. */
TM_HELPER int32_t tm_train_tensor_index(const tm_train_param *p, int32_t r, int32_t k) {
  if (p->layout == TM_TRAIN_PARAM_BIAS) return r;
  if (p->layout == TM_TRAIN_PARAM_WEIGHT) {
    const int32_t t = k / p->n_kept, j = k - t * p->n_kept;
    return (r * p->taps + t) * p->in_c + (p->kept ? p->kept[j] : j);
  }
  const int32_t M = p->depth_multiplier, j = r / M, m = r - j * M;
  return k * p->in_c * M + (p->kept ? p->kept[j] : j) * M + m;
}

/* Math.round: the nearest integer, halves upwards. */
TM_HELPER double tm_train_round_half_up(double v) {
  const double f = floor(v);
  return v - f >= 0.5 ? f + 1.0 : f;
}

/*
 * Row r of parameter p from its gradient grad[0 .. row_len) (real units); 1 when a step is not finite
 * (the Node trainer stops with a DivergenceError there), else 0.
 */
TM_KERNEL int32_t tm_train_sgd_row(const tm_train_sgd *o, const tm_train_param *p, int32_t r, const float *grad, uint32_t *rng) {
  const double gs = (double)p->grad_scale[r], ss = (double)p->step_scale[r], vs = (double)p->value_scale[r];
  const double lo = p->bits == 8 ? -127.0 : -2147483647.0, hi = -lo;
  for (int32_t k = 0; k < p->row_len; k++) {
    const int32_t i = tm_train_param_index(p, r, k);
    const double current = p->bits == 8 ? (double)((int8_t *)p->values)[i] : (double)((int32_t *)p->values)[i];
    const double gq = (double)grad[k] * gs + o->weight_decay * current * vs;
    double delta;
    if (p->momentum) {
      float *m = p->momentum + r * p->row_len + k;
      *m = (float)(o->momentum * (double)*m + gq);
      delta = -o->lr * (double)*m;
    } else {
      delta = -o->lr * gq;
    }
    if (!(delta - delta == 0.0)) return 1;
    const double v = current + delta * ss;
    double q = o->rounding == TM_TRAIN_ROUND_STOCHASTIC ? floor(v + tm_train_random(rng)) : tm_train_round_half_up(v);
    q = q < lo ? lo : q > hi ? hi : q;
    if (p->bits == 8) ((int8_t *)p->values)[i] = (int8_t)q;
    else ((int32_t *)p->values)[i] = (int32_t)q;
  }
  return 0;
}

/*
 * The inference kernels read a layer's bias with the input offset folded in (codegen/lower/requant.ts
 * foldedBias); after its weights or bias train, fold again: folded[c] = bias[c] - zp * sum of channel c's
 * `taps` weights at w[c * channel_stride + t * tap_stride] (bias NULL: none).
 */
TM_KERNEL void tm_train_refold_bias(int32_t channels, const int32_t *bias, const int8_t *w, int32_t zp, int32_t taps, int32_t channel_stride, int32_t tap_stride, int32_t *folded) {
  for (int32_t c = 0; c < channels; c++) {
    int32_t s = 0, t = 0;
#if TM_DSP
    /*
     * Contiguous taps (conv / fully-connected rows): four bytes a load, two SXTB16 and two SMLAD by
     * (1, 1). An integer sum is the same in any order, so this equals the scalar loop.
     */
    if (tap_stride == 1) {
      const int8_t *row = w + c * channel_stride;
      for (; t + 4 <= taps; t += 4) {
        int32_t x;
        memcpy(&x, row + t, 4);
        s = __smlad(__sxtb16(x), 0x00010001, s);
        s = __smlad(tm_sxtb16_ror8(x), 0x00010001, s);
      }
    }
#endif
    for (; t < taps; t++) s += w[c * channel_stride + t * tap_stride];
    folded[c] = (bias ? bias[c] : 0) - zp * s;
  }
}

/*
 * folded[c] = bias[c] - zp * sums[c], sums: the weights of channel c that never change (a frozen filter's,
 * or the Flash part of a split one), summed by the generator once instead of after every step (bias NULL: none).
 */
TM_KERNEL void tm_train_refold_sums(int32_t channels, const int32_t *bias, const int32_t *sums, int32_t zp, int32_t *folded) {
  for (int32_t c = 0; c < channels; c++) folded[c] = (bias ? bias[c] : 0) - zp * sums[c];
}

/*
 * A split layer's folded bias after tm_train_refold_bias over its Flash filter (kept columns zero there):
 * subtract zp times the kept weights' sum of each output channel. Integer sums, so the two parts add up
 * to the whole filter's sum exactly.
 */
TM_KERNEL void tm_train_refold_kept(const tm_train_param *p, int32_t zp, int32_t *folded) {
  const int8_t *v = (const int8_t *)p->values;
  if (p->layout == TM_TRAIN_PARAM_WEIGHT) {
    /* Row r is output channel r, its kept values contiguous: the SMLAD sum of tm_train_refold_bias, onto folded itself. */
    tm_train_refold_bias(p->rows, folded, v, zp, p->row_len, p->row_len, 1, folded);
    return;
  }
  for (int32_t r = 0; r < p->rows; r++) {
    int32_t s = 0;
    for (int32_t k = 0; k < p->row_len; k++) s += v[tm_train_param_index(p, r, k)];
    const int32_t c = p->layout == TM_TRAIN_PARAM_DEPTHWISE
      ? (p->kept ? p->kept[r / p->depth_multiplier] : r / p->depth_multiplier) * p->depth_multiplier + r % p->depth_multiplier
      : r;
    folded[c] -= zp * s;
  }
}

/* Load a parameter's trained elements from `initial` (its whole tensor, in Flash) into its SRAM slot. */
TM_KERNEL void tm_train_param_load(const tm_train_param *p, const void *initial) {
  for (int32_t r = 0; r < p->rows; r++) {
    for (int32_t k = 0; k < p->row_len; k++) {
      const int32_t i = tm_train_tensor_index(p, r, k), j = tm_train_param_index(p, r, k);
      if (p->bits == 8) ((int8_t *)p->values)[j] = ((const int8_t *)initial)[i];
      else ((int32_t *)p->values)[j] = ((const int32_t *)initial)[i];
    }
  }
}

/*
 * Bytes [first, first + count) of the trained tensor as a whole: `frozen` (the tensor in Flash, trained
 * entries ignored) with the trained elements laid over it from SRAM. For export in pieces of any size,
 * so the device never needs a whole tensor's worth of memory.
 */
TM_KERNEL void tm_train_param_read(const tm_train_param *p, const void *frozen, uint32_t first, uint32_t count, uint8_t *dst) {
  const uint32_t size = p->bits == 8 ? 1u : 4u, end = first + count;
  memcpy(dst, (const uint8_t *)frozen + first, count);
  for (int32_t r = 0; r < p->rows; r++) {
    if (p->layout == TM_TRAIN_PARAM_WEIGHT) {
      /* A weight row lies within its output channel's taps * in_c values: skip rows outside the range. */
      const uint32_t lo = (uint32_t)(r * p->taps * p->in_c) * size, hi = lo + (uint32_t)(p->taps * p->in_c) * size;
      if (hi <= first || lo >= end) continue;
    }
    for (int32_t k = 0; k < p->row_len; k++) {
      const uint32_t at = (uint32_t)tm_train_tensor_index(p, r, k) * size;
      if (at + size <= first || at >= end) continue;
      const uint8_t *src = (const uint8_t *)p->values + (uint32_t)tm_train_param_index(p, r, k) * size;
      for (uint32_t b = 0; b < size; b++) if (at + b >= first && at + b < end) dst[at + b - first] = src[b];
    }
  }
}

#endif /* TM_TRAIN_SGD_H */
