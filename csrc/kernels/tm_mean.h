/*
 * MEAN, int8, over any set of axes of a tensor of rank <= 4 (the generator pads shapes to 4-D and marks
 * the reduced axes). TFLite Micro's QuantizedMeanOrSum: the int32 sum minus count * input zero point,
 * times input_scale / output_scale with 1/count folded into the multiplier (the generator folds it as
 * the reference does), plus the output zero point. Integer arithmetic only; no scratch buffer (each
 * output's sum is taken in one pass over its reduced elements).
 */
#ifndef TM_MEAN_H
#define TM_MEAN_H

#include "tm_common.h"

typedef struct {
  int32_t in_dims[4];
  int32_t reduced[4];  /* 1 where the axis is reduced */
  int32_t count;       /* number of elements averaged */
  int32_t in_zp, out_zp;
  int32_t mult, shift; /* input_scale / output_scale / count */
} tm_mean_params;

TM_KERNEL void tm_mean_s8(const tm_mean_params *p, const int8_t *in, int8_t *out) {
  const int32_t *d = p->in_dims;
  const int32_t st[4] = {d[1] * d[2] * d[3], d[2] * d[3], d[3], 1};
  int32_t hi[4], len[4];
  for (int i = 0; i < 4; i++) {
    hi[i] = p->reduced[i] ? 1 : d[i];
    len[i] = p->reduced[i] ? d[i] : 1;
  }
  for (int32_t i0 = 0; i0 < hi[0]; i0++)
    for (int32_t i1 = 0; i1 < hi[1]; i1++)
      for (int32_t i2 = 0; i2 < hi[2]; i2++)
        for (int32_t i3 = 0; i3 < hi[3]; i3++) {
          const int8_t *base = in + i0 * st[0] + i1 * st[1] + i2 * st[2] + i3 * st[3];
          int32_t sum = 0;
          for (int32_t a = 0; a < len[0]; a++)
            for (int32_t b = 0; b < len[1]; b++)
              for (int32_t c = 0; c < len[2]; c++)
                for (int32_t e = 0; e < len[3]; e++) sum += base[a * st[0] + b * st[1] + c * st[2] + e * st[3]];
          const int32_t v = tm_mbqm(sum - p->in_zp * p->count, p->mult, p->shift) + p->out_zp;
          *out++ = (int8_t)tm_clamp(v, -128, 127);
        }
}

#endif /* TM_MEAN_H */
