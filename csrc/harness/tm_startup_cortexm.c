/*
 * Bare-metal start for any Cortex-M with the generated linker script: the vector table, copying .data
 * from Flash, zeroing .bss, enabling the FPU, then main(); its return value leaves through tm_exit.
 * Faults print a line and exit with status 3 so a crash is never mistaken for a result.
 */
#include <stdint.h>
#include "tm_platform.h"

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[];
int main(void);
void tm_exit(int status);
void tm_systick_handler(void);

void tm_reset_handler(void);
void tm_fault_handler(void);

void tm_reset_handler(void) {
  const uint32_t *src = _sidata;
  for (uint32_t *dst = _sdata; dst < _edata;) *dst++ = *src++;
  for (uint32_t *dst = _sbss; dst < _ebss;) *dst++ = 0;
#if defined(__ARM_FP)
  /* CPACR: full access to CP10 and CP11 (the FPU) before any floating-point instruction. */
  *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
  __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
  tm_exit(main());
}

void tm_fault_handler(void) {
  tm_print("tinyml: error: CPU fault");
  tm_exit(3);
}

__attribute__((section(".isr_vector"), used)) const uintptr_t tm_vector_table[16] = {
  (uintptr_t)_estack,
  (uintptr_t)tm_reset_handler,
  (uintptr_t)tm_fault_handler, /* NMI */
  (uintptr_t)tm_fault_handler, /* HardFault */
  (uintptr_t)tm_fault_handler, /* MemManage */
  (uintptr_t)tm_fault_handler, /* BusFault */
  (uintptr_t)tm_fault_handler, /* UsageFault */
  0, 0, 0, 0,
  (uintptr_t)tm_fault_handler, /* SVCall */
  (uintptr_t)tm_fault_handler, /* DebugMonitor */
  0,
  (uintptr_t)tm_fault_handler, /* PendSV */
  (uintptr_t)tm_systick_handler,
};
