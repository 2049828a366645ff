/*
 * The C kernel library as one WebAssembly module (scripts/build_wasm.sh): the same kernels `tinyml compile`
 * emits for a microcontroller, each exported once under its own name. src/runtime/wasm lays a model's
 * constants and arena out in this module's memory at the memory plan's offsets and calls them in order.
 */
#define TM_WASM_EXPORT 1
#include "tm_common.h"
#include "tm_gemm.h"
#include "tm_conv2d.h"
#include "tm_conv_winograd.h"
#include "tm_depthwise_conv2d.h"
#include "tm_fully_connected.h"
#include "tm_elementwise.h"
#include "tm_pool2d.h"
#include "tm_mean.h"
#include "tm_softmax.h"
#include "tm_quantize.h"
#include "tm_pad.h"
#include "tm_transpose.h"
#include "tm_strided_slice.h"
#include "tm_concatenation.h"
#include "tm_lut.h"
#include "tm_train_f32.h"
#include "tm_conv_pointwise_inplace.h"

/* memmove for RESHAPE into its own buffer (the schedule calls it like a kernel). */
__attribute__((visibility("default"), used)) void tm_memmove(void *dst, const void *src, int32_t n) {
  memmove(dst, src, (size_t)n);
}

/*
 * A run of the schedule in one call from JavaScript: a call into the module from JavaScript costs about
 * 60 ns (measured: 414 calls of an empty kernel, 26 us), which a patch-based plan of hundreds of small
 * steps pays hundreds of times per inference. src/runtime/wasm/wasm_program.ts writes the run into the
 * module's memory, per kernel call: the kernel's index in the function table (where it put the export),
 * its argument count, then its arguments, all 32-bit (pointers, ints; calls with a float argument stay
 * calls from JavaScript). An indirect call checks the kernel's type against the count's all-i32 form, so
 * a wrong entry traps instead of running.
 */
typedef int32_t tm_i;
#define TM_RUN_MAX_ARGS 12
__attribute__((visibility("default"), used)) void tm_run_calls(const int32_t *p, const int32_t *end) {
  while (p < end) {
    const uintptr_t f = (uintptr_t)p[0];
    const int32_t n = p[1];
    const tm_i *a = p + 2;
    p = a + n;
    switch (n) {
      case 0: ((void (*)(void))f)(); break;
      case 1: ((void (*)(tm_i))f)(a[0]); break;
      case 2: ((void (*)(tm_i, tm_i))f)(a[0], a[1]); break;
      case 3: ((void (*)(tm_i, tm_i, tm_i))f)(a[0], a[1], a[2]); break;
      case 4: ((void (*)(tm_i, tm_i, tm_i, tm_i))f)(a[0], a[1], a[2], a[3]); break;
      case 5: ((void (*)(tm_i, tm_i, tm_i, tm_i, tm_i))f)(a[0], a[1], a[2], a[3], a[4]); break;
      case 6: ((void (*)(tm_i, tm_i, tm_i, tm_i, tm_i, tm_i))f)(a[0], a[1], a[2], a[3], a[4], a[5]); break;
      case 7: ((void (*)(tm_i, tm_i, tm_i, tm_i, tm_i, tm_i, tm_i))f)(a[0], a[1], a[2], a[3], a[4], a[5], a[6]); break;
      case 8: ((void (*)(tm_i, tm_i, tm_i, tm_i, tm_i, tm_i, tm_i, tm_i))f)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]); break;
      case 9: ((void (*)(tm_i, tm_i, tm_i, tm_i, tm_i, tm_i, tm_i, tm_i, tm_i))f)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]); break;
      case 10: ((void (*)(tm_i, tm_i, tm_i, tm_i, tm_i, tm_i, tm_i, tm_i, tm_i, tm_i))f)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]); break;
      case 11: ((void (*)(tm_i, tm_i, tm_i, tm_i, tm_i, tm_i, tm_i, tm_i, tm_i, tm_i, tm_i))f)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10]); break;
      case 12: ((void (*)(tm_i, tm_i, tm_i, tm_i, tm_i, tm_i, tm_i, tm_i, tm_i, tm_i, tm_i, tm_i))f)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11]); break;
      default: __builtin_trap();
    }
  }
}

/* The most arguments an entry of tm_run_calls may have (the runtime calls others from JavaScript). */
__attribute__((visibility("default"), used)) int32_t tm_run_max_args(void) { return TM_RUN_MAX_ARGS; }
