/*
 * SVDF (TFLite Micro's svdf.cc / svdf_common.cc): a rank-decomposed fully-connected layer over a window of
 * the last `memory` steps, kept in a variable state tensor [batch, filters * memory] (per filter, its
 * `memory` most recent features, oldest first) that persists across invokes. Each invoke shifts the whole
 * state one element left, writes each filter's new feature (input . weights_feature row) into its newest
 * slot, then dots each filter's window with its weights_time row and sums a unit's `rank` filters onto
 * its bias. Each sum is built in the reference's order (its per-filter scratch is summed filter after
 * filter, which is what adding each filter's dot to the running sum does), so no scratch buffer is needed.
 *
 * The output must not lie on the input or the state (the generator checks the plan).
 */
#ifndef TM_SVDF_H
#define TM_SVDF_H

#include "tm_common.h"

typedef struct {
  int32_t batch, input_size, filters, units, memory, rank;
} tm_svdf_shape;

/* float32 with the fused activation's clamp (+-FLT_MAX for none); bias may be NULL. */
TM_KERNEL void tm_svdf_f32(const tm_svdf_shape *s, const tm_float_act *act, const float *x, const float *wf, const float *wt, const float *bias, float *state, float *out) {
  const int32_t window = s->filters * s->memory;
  memmove(state, state + 1, ((size_t)s->batch * (size_t)window - 1u) * sizeof(float));
  for (int32_t b = 0; b < s->batch; b++)
    for (int32_t f = 0; f < s->filters; f++) {
      float dot = 0.0f;
      for (int32_t k = 0; k < s->input_size; k++) dot += wf[f * s->input_size + k] * x[b * s->input_size + k];
      state[b * window + f * s->memory + s->memory - 1] = dot;
    }
  for (int32_t b = 0; b < s->batch; b++)
    for (int32_t u = 0; u < s->units; u++) {
      float v = bias ? bias[u] : 0.0f;
      for (int32_t r = 0; r < s->rank; r++) {
        const int32_t f = u * s->rank + r;
        const float *w = wt + f * s->memory, *st = state + b * window + f * s->memory;
        float dot = 0.0f;
        for (int32_t m = 0; m < s->memory; m++) dot += w[m] * st[m];
        v += dot;
      }
      out[b * s->units + u] = tm_clamp_f32(v, act->act_min, act->act_max);
    }
}

/*
 * int8 (EvalIntegerSvdfReference) with int16 or int8 weights_time and state: the feature is requantised to
 * the state's scale and clamped to the state type before the state zero point is added (stored with the
 * type's wrap-around), the time dot product and bias are int32, and the result is requantised to the int8
 * output and clamped to int8 only: the reference's integer path applies no fused activation.
 */
typedef struct {
  int32_t in_zp, state_zp, out_zp;
  int32_t feature_mult, feature_shift;
  int32_t out_mult, out_shift;
  int32_t state_min, state_max;
} tm_svdf_q_params;

#define TM_SVDF_S8(name, T)                                                                                          \
  TM_KERNEL void name(const tm_svdf_shape *s, const tm_svdf_q_params *q, const int8_t *x, const int8_t *wf, const T *wt, \
                      const int32_t *bias, T *state, int8_t *out) {                                                     \
    const int32_t window = s->filters * s->memory;                                                                   \
    memmove(state, state + 1, ((size_t)s->batch * (size_t)window - 1u) * sizeof(T));                                 \
    for (int32_t b = 0; b < s->batch; b++)                                                                           \
      for (int32_t f = 0; f < s->filters; f++) {                                                                     \
        int32_t dot = 0;                                                                                             \
        for (int32_t k = 0; k < s->input_size; k++) dot += wf[f * s->input_size + k] * (x[b * s->input_size + k] - q->in_zp); \
        const int32_t v = tm_clamp(tm_mbqm(dot, q->feature_mult, q->feature_shift), q->state_min, q->state_max);    \
        state[b * window + f * s->memory + s->memory - 1] = (T)(q->state_zp + v);                                    \
      }                                                                                                              \
    for (int32_t b = 0; b < s->batch; b++)                                                                           \
      for (int32_t u = 0; u < s->units; u++) {                                                                       \
        uint32_t acc = bias ? (uint32_t)bias[u] : 0u;                                                                \
        for (int32_t r = 0; r < s->rank; r++) {                                                                      \
          const int32_t f = u * s->rank + r;                                                                         \
          const T *w = wt + f * s->memory, *st = state + b * window + f * s->memory;                                 \
          int32_t dot = 0;                                                                                           \
          for (int32_t m = 0; m < s->memory; m++) dot += w[m] * (st[m] - q->state_zp);                               \
          acc += (uint32_t)dot;                                                                                      \
        }                                                                                                            \
        out[b * s->units + u] = (int8_t)tm_clamp(tm_mbqm((int32_t)acc, q->out_mult, q->out_shift) + q->out_zp, -128, 127); \
      }                                                                                                              \
  }

TM_SVDF_S8(tm_svdf_s8_s16, int16_t)
TM_SVDF_S8(tm_svdf_s8_s8, int8_t)

#endif /* TM_SVDF_H */
