/*
 * The three <string.h> functions the kernels use, for the freestanding WebAssembly build (no libc): with
 * bulk memory enabled the compiler turns each into one memory.copy / memory.fill instruction.
 */
#ifndef TM_WASM_STRING_H
#define TM_WASM_STRING_H
typedef __SIZE_TYPE__ size_t;
#define memcpy(d, s, n) __builtin_memcpy((d), (s), (n))
#define memmove(d, s, n) __builtin_memmove((d), (s), (n))
#define memset(d, c, n) __builtin_memset((d), (c), (n))
#endif
