/*
 * The training runner: streams samples from one file (each record: the model's int8 input, then the
 * label as a little-endian int32), takes one model_train_step per record, then writes the trained tensors
 * (whole, as the model stores them: model_trained_read in pieces, in order, back to back) to the output file. It prints one line per step with the
 * count around it, one for a model_predict on the first sample after training, and on a Cortex-M the stack high-water mark
 * (the stack is painted before the first step and scanned after the last).
 */
#include <stdint.h>
#include <string.h>
#include "tm_platform.h"
#include "model.h"

static void print_count(const char *what, uint32_t k, int32_t value, uint32_t count) {
  char line[128];
  char *p = tm_append_text(line, "tinyml: ");
  p = tm_append_text(p, what);
  p = tm_append_text(p, " ");
  p = tm_append_uint(p, k);
  p = tm_append_text(p, " -> ");
  if (value < 0) {
    p = tm_append_text(p, "-");
    value = -value;
  }
  p = tm_append_uint(p, (uint32_t)value);
  if (tm_counter_unit()) {
    p = tm_append_text(p, " ");
    p = tm_append_text(p, tm_counter_unit());
    p = tm_append_text(p, " ");
    tm_append_uint(p, count);
  }
  tm_print(line);
}

static int fail(const char *what) {
  char line[160];
  tm_append_text(tm_append_text(line, "tinyml: error: "), what);
  tm_print(line);
  return 1;
}

#if defined(__arm__)
extern uint32_t _ebss[];
#define TM_STACK_PAINT 0x5AC3A55Cu
/* Paint from the end of .bss to just below the current stack pointer. */
static void stack_paint(void) {
  uint32_t *sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  for (uint32_t *w = _ebss; w < sp - 64; w++) *w = TM_STACK_PAINT;
}
static uint32_t stack_used(uint32_t *top) {
  uint32_t *w = _ebss;
  while (w < top && *w == TM_STACK_PAINT) w++;
  return (uint32_t)((uintptr_t)top - (uintptr_t)w);
}
extern uint32_t _estack[];
#endif

#define TM_RECORD_BYTES (MODEL_INPUT_BYTES + 4u)

/* One record: its input straight into the model's input buffer (no copy of a sample beside the arena), then its label. */
static int read_sample(int32_t in, int32_t *label) {
  uint8_t raw[4];
  if ((uint32_t)tm_file_read(in, model_input(), MODEL_INPUT_BYTES) != MODEL_INPUT_BYTES) return 0;
  if (tm_file_read(in, raw, 4) != 4) return 0;
  *label = (int32_t)((uint32_t)raw[0] | (uint32_t)raw[1] << 8 | (uint32_t)raw[2] << 16 | (uint32_t)raw[3] << 24);
  return 1;
}

/* The trained tensors, a small piece at a time (the device keeps only their trained elements in SRAM). */
static __attribute__((noinline)) int write_trained(int32_t out) {
  uint8_t piece[128];
  for (int i = 0; i < model_trained_count(); i++) {
    const uint32_t bytes = model_trained_bytes(i);
    for (uint32_t at = 0; at < bytes; at += sizeof piece) {
      const uint32_t n = bytes - at < sizeof piece ? bytes - at : (uint32_t)sizeof piece;
      model_trained_read(i, at, n, piece);
      if ((uint32_t)tm_file_write(out, piece, n) != n) return 0;
    }
  }
  return 1;
}

int tm_run(const char *inputs_path, const char *outputs_path) {
  const int32_t in = tm_file_open(inputs_path, 0);
  if (in < 0) return fail("cannot open the samples");
  const int32_t total = tm_file_size(in);
  if (total <= 0 || (uint32_t)total % TM_RECORD_BYTES != 0) return fail("samples file is not whole records of input + int32 label");
  const uint32_t steps = (uint32_t)total / TM_RECORD_BYTES;
#if defined(__arm__)
  stack_paint();
#endif
  model_init();
  tm_counter_start();
  for (uint32_t k = 0; k < steps; k++) {
    int32_t label;
    if (!read_sample(in, &label)) return fail("short read of a sample");
    const uint32_t t0 = tm_counter_read();
    const int32_t predicted = model_train_step(model_input(), label);
    const uint32_t t1 = tm_counter_read();
    print_count("step", k, predicted, t1 - t0);
    if (predicted < 0) return fail("the training step failed (an update is not finite, or the label is out of range)");
  }
  tm_file_close(in);
  {
    /* Inference on the first sample again, with the trained weights. */
    const int32_t again = tm_file_open(inputs_path, 0);
    int32_t label;
    if (again < 0 || !read_sample(again, &label)) return fail("cannot read the first sample again");
    tm_file_close(again);
    const uint32_t t0 = tm_counter_read();
    const int8_t *logits = model_predict(model_input());
    const uint32_t t1 = tm_counter_read();
    int32_t best = 0;
    for (int32_t c = 1; c < MODEL_CLASSES; c++) if (logits[c] > logits[best]) best = c;
    print_count("predict", 0, best, t1 - t0);
  }
#if defined(__arm__)
  {
    char line[64];
    tm_append_uint(tm_append_text(line, "tinyml: stack bytes "), stack_used(_estack));
    tm_print(line);
  }
#endif
  const int32_t out = tm_file_open(outputs_path, 1);
  if (out < 0) return fail("cannot create the output file");
  if (!write_trained(out)) return fail("short write of a trained tensor");
  tm_file_close(out);
  return 0;
}
