/*
 * What the runner needs from where it runs: whole-file I/O, a console line, an event counter and an exit.
 * tm_platform_host.c implements it with stdio; tm_platform_semihost.c with Arm semihosting on a Cortex-M
 * (QEMU passes the calls to the host's files), counting instructions with SysTick under `-icount shift=0`.
 */
#ifndef TM_PLATFORM_H
#define TM_PLATFORM_H

#include <stdint.h>

/* Open a file for reading (write = 0) or for writing, truncating it; -1 on failure. */
int32_t tm_file_open(const char *path, int write);
int32_t tm_file_size(int32_t handle);
/* Bytes actually transferred. */
int32_t tm_file_read(int32_t handle, void *buf, uint32_t n);
int32_t tm_file_write(int32_t handle, const void *buf, uint32_t n);
void tm_file_close(int32_t handle);

void tm_print(const char *text);

/* A monotonic count (instructions under QEMU; 0 where there is nothing to count) and its unit. */
void tm_counter_start(void);
uint32_t tm_counter_read(void);
/* Unit of tm_counter_read ("instructions" under QEMU), or NULL where the platform has no counter. */
const char *tm_counter_unit(void);

/* Console lines are built by hand, not with printf (newlib's pulls kilobytes into a Cortex-M image): append
 * `text` or the decimal digits of `v` at dst, NUL-terminated, and return the new end. */
static inline char *tm_append_text(char *dst, const char *text) {
  while (*text) *dst++ = *text++;
  *dst = 0;
  return dst;
}

static inline char *tm_append_uint(char *dst, uint32_t v) {
  char digits[11];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10u);
    v /= 10u;
  } while (v);
  while (n) *dst++ = digits[--n];
  *dst = 0;
  return dst;
}

/* Run the model over every case in `inputs` (the cases' input tensors back to back), append the outputs. */
int tm_run(const char *inputs_path, const char *outputs_path);

#endif /* TM_PLATFORM_H */
