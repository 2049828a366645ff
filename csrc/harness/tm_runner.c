/*
 * The runner: reads the cases' inputs back to back from one file (each case is every model input in
 * order, raw little-endian bytes), runs each case from the model's starting state (model_reset_state:
 * a stateful model's cases stay independent), writes the outputs back to back to another file and prints
 * one line per case with the count taken around the case's model_invoke() calls.
 *
 * A model generated under a symbol prefix, or a bundle of several, is built with -DTM_MODEL_TABLE and a
 * generated tm_models.h listing them; a bundle also defines TM_CASE_COUNTS, and its inputs file then
 * holds, model after model, two little-endian uint32s (the case count, and the invokes per case: a
 * stateful model's expected output may be the one after several invokes on the same input) followed by
 * that many cases (the outputs follow suit). Otherwise each case is invoked once.
 */
#include <stdint.h>
#include <string.h>
#include "tm_platform.h"

/* One model as the runner drives it: the API of its model.h. */
typedef struct {
  void (*init)(void);
  void (*reset_state)(void);
  void (*invoke)(void);
  void *(*input)(int index);
  void *(*output)(int index);
  uint32_t (*input_bytes)(int index);
  uint32_t (*output_bytes)(int index);
  int num_inputs, num_outputs;
} tm_model;

#ifdef TM_MODEL_TABLE
#include "tm_models.h" /* TM_MODEL_COUNT and tm_models[] (models under symbol prefixes) */
#else
#include "model.h"
#define TM_MODEL_COUNT 1
static const tm_model tm_models[1] = {
  {model_init, model_reset_state, model_invoke, model_input, model_output, model_input_bytes, model_output_bytes, MODEL_NUM_INPUTS, MODEL_NUM_OUTPUTS},
};
#endif

#ifndef TM_CASE_COUNTS
#define TM_CASE_COUNTS 0 /* 1 (bundles): the inputs file gives each model its case count */
#endif

static int fail(const char *what, const char *path) {
  char line[200];
  char *p = tm_append_text(line, "tinyml: error: ");
  p = tm_append_text(p, what);
  p = tm_append_text(p, " ");
  if (strlen(path) < 120) tm_append_text(p, path);
  tm_print(line);
  return 1;
}

#ifdef TM_PROFILE
/*
 * Per-step counts of the first case, printed after it: where an inference spends its instructions. The
 * build that profiles passes the plan's step count (-DTM_PROFILE_MAX_STEPS=n); steps past the table are
 * reported as missing, never dropped silently.
 */
#ifndef TM_PROFILE_MAX_STEPS
#define TM_PROFILE_MAX_STEPS 1024
#endif
static uint32_t profile_counts[TM_PROFILE_MAX_STEPS];
static uint32_t profile_last;
static int profile_steps, profile_overflow;

void tm_profile_step(int step);
void tm_profile_step(int step) {
  const uint32_t now = tm_counter_read();
  if (step < TM_PROFILE_MAX_STEPS) {
    profile_counts[step] += now - profile_last;
    if (step + 1 > profile_steps) profile_steps = step + 1;
  } else {
    profile_overflow = 1;
  }
  profile_last = tm_counter_read();
}

static void profile_print(void) {
  if (profile_overflow) tm_print("tinyml: profile: more steps than TM_PROFILE_MAX_STEPS, the rest not counted");
  for (int s = 0; s < profile_steps; s++) {
    char line[64];
    char *p = tm_append_text(line, "tinyml: step ");
    p = tm_append_uint(p, (uint32_t)s);
    p = tm_append_text(p, " ");
    tm_append_uint(p, profile_counts[s]);
    tm_print(line);
  }
}
#endif

/* Run `cases` cases of model m, each invoked `invokes` times from the starting state; `first` numbers them in the log. */
static int run_model(const tm_model *m, int32_t in, int32_t out, uint32_t cases, uint32_t invokes, uint32_t first, const char *inputs_path, const char *outputs_path) {
  m->init();
  for (uint32_t c = 0; c < cases; c++) {
    m->reset_state();
    for (int i = 0; i < m->num_inputs; i++) {
      const uint32_t n = m->input_bytes(i);
      if ((uint32_t)tm_file_read(in, m->input(i), n) != n) return fail("short read from", inputs_path);
    }
#ifdef TM_PROFILE
    profile_last = tm_counter_read();
#endif
    const uint32_t t0 = tm_counter_read();
    for (uint32_t k = 0; k < invokes; k++) m->invoke();
    const uint32_t t1 = tm_counter_read();
#ifdef TM_PROFILE
    if (c == 0) profile_print();
#endif
    for (int i = 0; i < m->num_outputs; i++) {
      const uint32_t n = m->output_bytes(i);
      if ((uint32_t)tm_file_write(out, m->output(i), n) != n) return fail("short write to", outputs_path);
    }
    char line[96];
    char *p = tm_append_text(line, "tinyml: case ");
    p = tm_append_uint(p, first + c);
    if (tm_counter_unit()) {
      p = tm_append_text(p, " ");
      p = tm_append_text(p, tm_counter_unit());
      p = tm_append_text(p, " ");
      tm_append_uint(p, t1 - t0);
    } else {
      tm_append_text(p, " done");
    }
    tm_print(line);
  }
  return 0;
}

int tm_run(const char *inputs_path, const char *outputs_path) {
  const int32_t in = tm_file_open(inputs_path, 0);
  if (in < 0) return fail("cannot open inputs", inputs_path);
  const int32_t total = tm_file_size(in);
  uint32_t case_bytes = 0;
  for (int i = 0; i < tm_models[0].num_inputs; i++) case_bytes += tm_models[0].input_bytes(i);
  if (total <= 0 || (!TM_CASE_COUNTS && (uint32_t)total % case_bytes != 0)) {
    tm_file_close(in);
    return fail("inputs size is not a multiple of the model's input bytes:", inputs_path);
  }
  const int32_t out = tm_file_open(outputs_path, 1);
  if (out < 0) {
    tm_file_close(in);
    return fail("cannot create outputs", outputs_path);
  }
  tm_counter_start();
  uint32_t done = 0;
  for (int k = 0; k < TM_MODEL_COUNT; k++) {
    uint32_t cases = (uint32_t)total / case_bytes, invokes = 1;
    if (TM_CASE_COUNTS) {
      uint8_t count[8];
      if (tm_file_read(in, count, 8) != 8) return fail("short read (case count) from", inputs_path);
      cases = (uint32_t)count[0] | (uint32_t)count[1] << 8 | (uint32_t)count[2] << 16 | (uint32_t)count[3] << 24;
      invokes = (uint32_t)count[4] | (uint32_t)count[5] << 8 | (uint32_t)count[6] << 16 | (uint32_t)count[7] << 24;
    }
    if (run_model(&tm_models[k], in, out, cases, invokes, done, inputs_path, outputs_path)) return 1;
    done += cases;
  }
  tm_file_close(in);
  tm_file_close(out);
  return 0;
}
