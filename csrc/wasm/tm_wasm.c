/*
 * The C kernel library as one WebAssembly module (scripts/build_wasm.sh): the same kernels `tinyml compile`
 * emits for a microcontroller, each exported once under its own name. src/runtime/wasm lays a model's
 * constants and arena out in this module's memory at the memory plan's offsets and calls them in order.
 */
#define TM_WASM_EXPORT 1
#include "tm_common.h"
#include "tm_gemm.h"
#include "tm_conv2d.h"
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
