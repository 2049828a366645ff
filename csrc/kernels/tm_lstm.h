/*
 * UNIDIRECTIONAL_SEQUENCE_LSTM (TFLite Micro's unidirectional_sequence_lstm.cc with lstm_eval.h), without
 * peepholes, projection or layer norm (TFLite Micro refuses those too). The output state h and the cell
 * state c are variable tensors kept across invokes. Each step, per the reference:
 *   forget, input, output gates = sigmoid(W x + b + R h), cell gate = act(W x + b + R h),
 *   c = forget * c + input * cell gate (clipped when cell_clip > 0), h = tanh(c) * output; out[t] = h.
 * Batch-major sequences run batch by batch (one row at a time); time-major ones step all rows together.
 * The four gates of a step live in the layer's scratch (planned into the arena from its size), gate after
 * gate in the reference's order: forget, input, cell, output.
 *
 * The output must not lie on the input or the states (the generator checks the plan).
 */
#ifndef TM_LSTM_H
#define TM_LSTM_H

#include "tm_unary.h"        /* the float gates' sigmoid and tanh, as the float LOGISTIC / TANH kernels */
#include "tm_sigmoid16.h"    /* the integer gates */
#include "tm_batch_matmul.h" /* tm_mbqm64 */

typedef struct {
  int32_t time_major, batch, steps, input_dim, units;
} tm_lstm_shape;

/* Calls STEP(x offset, out offset, state offset, rows) for every step of the sequence, in the reference's order. */
#define TM_LSTM_STEPS(s, STEP)                                                                                   \
  if ((s)->time_major) {                                                                                       \
    for (int32_t t = 0; t < (s)->steps; t++) STEP(t * (s)->batch * (s)->input_dim, t * (s)->batch * (s)->units, 0, (s)->batch); \
  } else {                                                                                                     \
    for (int32_t b = 0; b < (s)->batch; b++)                                                                   \
      for (int32_t t = 0; t < (s)->steps; t++)                                                                 \
        STEP((b * (s)->steps + t) * (s)->input_dim, (b * (s)->steps + t) * (s)->units, b * (s)->units, 1);      \
  }

/* Each gate's input weights [units, input], recurrent weights [units, units] and bias [units] (int32 or int64 for integer LSTMs). */
typedef struct {
  const void *w_forget, *w_input, *w_cell, *w_output;
  const void *r_forget, *r_input, *r_cell, *r_output;
  const void *b_forget, *b_input, *b_cell, *b_output;
} tm_lstm_weights;

/* float32: cell_act is a TM_UN_* code (TANH, RELU, RELU6) or -1 for none; cell_clip 0 for none. */
typedef struct {
  int32_t cell_act;
  float cell_clip;
} tm_lstm_f32_params;

TM_HELPER float tm_lstm_dot_f32(const float *v, const float *m, int32_t n) {
  float total = 0.0f;
  for (int32_t k = 0; k < n; k++) total += v[k] * m[k];
  return total;
}

TM_HELPER void tm_lstm_step_f32(const tm_lstm_shape *s, const tm_lstm_f32_params *p, const tm_lstm_weights *wt, const float *x, float *h, float *c,
                                float *gates, int32_t rows, float *out) {
  const float *const w[4] = {(const float *)wt->w_forget, (const float *)wt->w_input, (const float *)wt->w_cell, (const float *)wt->w_output};
  const float *const r[4] = {(const float *)wt->r_forget, (const float *)wt->r_input, (const float *)wt->r_cell, (const float *)wt->r_output};
  const float *const bias[4] = {(const float *)wt->b_forget, (const float *)wt->b_input, (const float *)wt->b_cell, (const float *)wt->b_output};
  const int32_t units = s->units, n = rows * units;
  const tm_unary_f32_params sigmoid = {TM_UN_LOGISTIC, 0.0f}, cell_act = {p->cell_act, 0.0f}, tanh_p = {TM_UN_TANH, 0.0f};
  for (int32_t k = 0; k < 4; k++) {
    float *g = gates + k * s->batch * units;
    for (int32_t row = 0; row < rows; row++)
      for (int32_t u = 0; u < units; u++) {
        const float from_input = tm_lstm_dot_f32(x + row * s->input_dim, w[k] + u * s->input_dim, s->input_dim) + bias[k][u];
        const float v = from_input + tm_lstm_dot_f32(h + row * units, r[k] + u * units, units);
        g[row * units + u] = k != 2 ? tm_unary_one_f32(&sigmoid, v) : (p->cell_act < 0 ? v : tm_unary_one_f32(&cell_act, v));
      }
  }
  const float *fg = gates, *ig = gates + s->batch * units, *cg = gates + 2 * s->batch * units, *og = gates + 3 * s->batch * units;
  for (int32_t i = 0; i < n; i++) {
    float cell = fg[i] * c[i] + ig[i] * cg[i];
    if (p->cell_clip > 0.0f) cell = TM_MAX(TM_MIN(p->cell_clip, cell), -p->cell_clip);
    c[i] = cell;
    h[i] = tm_unary_one_f32(&tanh_p, cell) * og[i];
  }
  memcpy(out, h, (size_t)n * sizeof(float));
}

/* `scratch`: 4 * batch * units floats. */
TM_KERNEL void tm_lstm_f32(const tm_lstm_shape *s, const tm_lstm_f32_params *p, const tm_lstm_weights *w, const float *x, float *h, float *c, float *scratch, float *out) {
#define TM_LSTM_F32_STEP(xo, yo, so, rows) tm_lstm_step_f32(s, p, w, x + (xo), h + (so), c + (so), scratch, (rows), out + (yo))
  TM_LSTM_STEPS(s, TM_LSTM_F32_STEP)
#undef TM_LSTM_F32_STEP
}

/*
 * int8 (int32 biases) and int16x8 (int16 activations, int64 biases): gate pre-activations are int16 at the
 * fixed scale 2^-12 (each of the two fully-connected products requantised to it, 64-bit for int16
 * activations, then added with int16 saturation), the gates come out of the int16 sigmoid/tanh at 2^-15,
 * the cell state is int16 at its power-of-two scale, and the products are requantised with 32-bit multipliers.
 */
typedef struct {
  int32_t in_zp, h_zp;
  int32_t w_mult[4], w_shift[4]; /* input -> gate scale, per gate */
  int32_t r_mult[4], r_shift[4]; /* recurrent -> gate scale */
  int32_t forget_cell_mult, forget_cell_shift;
  int32_t input_cell_mult, input_cell_shift;
  int32_t out_mult, out_shift;
  int32_t h_min, h_max;
  int32_t tanh_mult, tanh_shift; /* the cell state into tm_sigmoid_s16's units */
  int32_t clip;                  /* 0: none */
} tm_lstm_q_params;

TM_HELPER int16_t tm_sat16(int32_t v) {
  return (int16_t)tm_clamp(v, -32768, 32767);
}

/* One step of the integer LSTM; T is the activation type, B the bias type, WIDE 1 for the 64-bit requantisation. */
#define TM_LSTM_Q_STEP(name, T, B, WIDE)                                                                                   \
  TM_HELPER void name(const tm_lstm_shape *s, const tm_lstm_q_params *p, const tm_lstm_weights *wt, const T *x, T *h, int16_t *c, \
                      int16_t *gates, int32_t rows, T *out) {                                                              \
    const int8_t *const w[4] = {(const int8_t *)wt->w_forget, (const int8_t *)wt->w_input, (const int8_t *)wt->w_cell, (const int8_t *)wt->w_output}; \
    const int8_t *const r[4] = {(const int8_t *)wt->r_forget, (const int8_t *)wt->r_input, (const int8_t *)wt->r_cell, (const int8_t *)wt->r_output}; \
    const B *const bias[4] = {(const B *)wt->b_forget, (const B *)wt->b_input, (const B *)wt->b_cell, (const B *)wt->b_output}; \
    const int32_t units = s->units, n = rows * units;                                                                    \
    for (int32_t k = 0; k < 4; k++) {                                                                                    \
      int16_t *g = gates + k * s->batch * units;                                                                         \
      for (int32_t row = 0; row < rows; row++)                                                                           \
        for (int32_t u = 0; u < units; u++) {                                                                            \
          int64_t acc_in = bias[k][u], acc_h = 0;                                                                        \
          for (int32_t i = 0; i < s->input_dim; i++) acc_in += (int32_t)(x[row * s->input_dim + i] - p->in_zp) * w[k][u * s->input_dim + i]; \
          for (int32_t i = 0; i < units; i++) acc_h += (int32_t)(h[row * units + i] - p->h_zp) * r[k][u * units + i];   \
          const int32_t from_input = WIDE ? tm_mbqm64(acc_in, p->w_mult[k], p->w_shift[k]) : tm_mbqm((int32_t)(uint32_t)(uint64_t)acc_in, p->w_mult[k], p->w_shift[k]); \
          const int32_t from_state = WIDE ? tm_mbqm64(acc_h, p->r_mult[k], p->r_shift[k]) : tm_mbqm((int32_t)(uint32_t)(uint64_t)acc_h, p->r_mult[k], p->r_shift[k]); \
          g[row * units + u] = tm_sat16(tm_sat16(from_input) + tm_sat16(from_state));                                   \
        }                                                                                                                \
      /* Gate pre-activations are Q3.12: the power-of-two multiplier (0), the cell gate's tanh likewise. */               \
      tm_sigmoid_s16(k == 2 ? TM_SIGMOID16_TANH : TM_SIGMOID16_LOGISTIC, 0, 0, n, g, g);                                 \
    }                                                                                                                    \
    int16_t *fg = gates;                                                                                                 \
    const int16_t *ig = gates + s->batch * units, *cg = gates + 2 * s->batch * units, *og = gates + 3 * s->batch * units; \
    for (int32_t i = 0; i < n; i++) {                                                                                    \
      const int32_t kept = tm_sat16(tm_mbqm(fg[i] * c[i], p->forget_cell_mult, p->forget_cell_shift));                  \
      const int32_t added = tm_sat16(tm_mbqm(ig[i] * cg[i], p->input_cell_mult, p->input_cell_shift));                  \
      int32_t cell = tm_sat16(kept + added);                                                                            \
      if (p->clip > 0) cell = TM_MAX(TM_MIN(p->clip, cell), -p->clip);                                                  \
      c[i] = (int16_t)cell;                                                                                              \
    }                                                                                                                    \
    /* tanh(c) into the forget gate's buffer, which the cell update was its last reader. */                            \
    tm_sigmoid_s16(TM_SIGMOID16_TANH, p->tanh_mult, p->tanh_shift, n, c, fg);                                           \
    for (int32_t i = 0; i < n; i++) h[i] = (T)tm_clamp(p->h_zp + tm_mbqm(fg[i] * og[i], p->out_mult, p->out_shift), p->h_min, p->h_max); \
    memcpy(out, h, (size_t)n * sizeof(T));                                                                               \
  }

TM_LSTM_Q_STEP(tm_lstm_step_s8, int8_t, int32_t, 0)
TM_LSTM_Q_STEP(tm_lstm_step_s16, int16_t, int64_t, 1)

/* `scratch`: 4 * batch * units int16 gates. */
TM_KERNEL void tm_lstm_s8(const tm_lstm_shape *s, const tm_lstm_q_params *p, const tm_lstm_weights *w, const int8_t *x, int8_t *h, int16_t *c, int16_t *scratch, int8_t *out) {
#define TM_LSTM_S8_STEP(xo, yo, so, rows) tm_lstm_step_s8(s, p, w, x + (xo), h + (so), c + (so), scratch, (rows), out + (yo))
  TM_LSTM_STEPS(s, TM_LSTM_S8_STEP)
#undef TM_LSTM_S8_STEP
}

TM_KERNEL void tm_lstm_s16(const tm_lstm_shape *s, const tm_lstm_q_params *p, const tm_lstm_weights *w, const int16_t *x, int16_t *h, int16_t *c, int16_t *scratch, int16_t *out) {
#define TM_LSTM_S16_STEP(xo, yo, so, rows) tm_lstm_step_s16(s, p, w, x + (xo), h + (so), c + (so), scratch, (rows), out + (yo))
  TM_LSTM_STEPS(s, TM_LSTM_S16_STEP)
#undef TM_LSTM_S16_STEP
}

#endif /* TM_LSTM_H */
