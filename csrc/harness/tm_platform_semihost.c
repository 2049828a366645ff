/*
 * The runner on a Cortex-M under a debugger or QEMU: Arm semihosting (BKPT 0xAB) for files, console,
 * command line and exit status; SysTick on the processor clock for the count. Under QEMU with
 * `-icount shift=0` every instruction advances the virtual clock by 1 ns, so SysTick ticks (at
 * TM_CPU_HZ) times 1e9 / TM_CPU_HZ is the number of instructions executed, to within one tick.
 */
#include <stdint.h>
#include <string.h>
#include "tm_platform.h"

#ifndef TM_CPU_HZ
#define TM_CPU_HZ 25000000u
#endif

enum {
  SYS_OPEN = 0x01, SYS_CLOSE = 0x02, SYS_WRITE0 = 0x04, SYS_WRITE = 0x05, SYS_READ = 0x06,
  SYS_FLEN = 0x0C, SYS_GET_CMDLINE = 0x15, SYS_EXIT = 0x18, SYS_EXIT_EXTENDED = 0x20,
};
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

static int32_t semihost(int32_t op, const void *arg) {
  register int32_t r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

int32_t tm_file_open(const char *path, int write) {
  const uint32_t args[3] = {(uint32_t)(uintptr_t)path, write ? 5u : 1u /* "wb" : "rb" */, (uint32_t)strlen(path)};
  return semihost(SYS_OPEN, args);
}

int32_t tm_file_size(int32_t h) {
  const uint32_t args[1] = {(uint32_t)h};
  return semihost(SYS_FLEN, args);
}

int32_t tm_file_read(int32_t h, void *buf, uint32_t n) {
  const uint32_t args[3] = {(uint32_t)h, (uint32_t)(uintptr_t)buf, n};
  return (int32_t)n - semihost(SYS_READ, args); /* the call returns the bytes NOT read */
}

int32_t tm_file_write(int32_t h, const void *buf, uint32_t n) {
  const uint32_t args[3] = {(uint32_t)h, (uint32_t)(uintptr_t)buf, n};
  return (int32_t)n - semihost(SYS_WRITE, args);
}

void tm_file_close(int32_t h) {
  const uint32_t args[1] = {(uint32_t)h};
  semihost(SYS_CLOSE, args);
}

void tm_print(const char *text) {
  semihost(SYS_WRITE0, text);
  semihost(SYS_WRITE0, "\n");
}

void tm_exit(int status) {
  const uint32_t args[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status};
  semihost(SYS_EXIT_EXTENDED, args);
  /* A host without the extended call: plain SYS_EXIT reports success or failure only. */
  semihost(SYS_EXIT, (const void *)(uintptr_t)(status == 0 ? ADP_STOPPED_APPLICATION_EXIT : 0x20023));
  for (;;) {}
}

/* SysTick: 24-bit down-counter on the processor clock; the interrupt counts wrap-arounds. */
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
static volatile uint32_t systick_wraps;

void tm_systick_handler(void);
void tm_systick_handler(void) { systick_wraps++; }

void tm_counter_start(void) {
  SYST_RVR = 0x00FFFFFFu;
  SYST_CVR = 0;
  SYST_CSR = 7u; /* enable, interrupt on wrap, processor clock */
  while (SYST_CVR == 0) {} /* the first clock edge reloads the counter */
  systick_wraps = 0;
}

uint32_t tm_counter_read(void) {
  uint32_t wraps, value;
  do {
    wraps = systick_wraps;
    value = SYST_CVR;
  } while (wraps != systick_wraps);
  const uint32_t ticks = (wraps << 24) + (0x00FFFFFFu - value);
  return ticks * (1000000000u / TM_CPU_HZ);
}

const char *tm_counter_unit(void) { return "instructions"; }

/* argv from the semihosting command line: "program inputs outputs". */
int main(void) {
  static char cmdline[512];
  uint32_t args[2] = {(uint32_t)(uintptr_t)cmdline, sizeof cmdline};
  if (semihost(SYS_GET_CMDLINE, args) != 0) {
    tm_print("tinyml: error: no semihosting command line");
    return 2;
  }
  char *argv[4] = {0, 0, 0, 0};
  int argc = 0;
  for (char *p = cmdline; *p && argc < 4;) {
    while (*p == ' ') *p++ = 0;
    if (!*p) break;
    argv[argc++] = p;
    while (*p && *p != ' ') p++;
  }
  if (argc != 3) {
    tm_print("tinyml: error: usage: PROGRAM INPUTS OUTPUTS (semihosting command line)");
    return 2;
  }
  return tm_run(argv[1], argv[2]);
}
