#!/usr/bin/env bash
# Rebuilds csrc/wasm/tm_kernels.wasm from the C kernel library (Debian: clang, lld). The result is committed,
# so installing the package needs no C toolchain; a test checks the committed file equals a fresh build.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-csrc/wasm/tm_kernels.wasm}"
CLANG="${CLANG:-clang}"
# -disable-lsr: LLVM's loop strength reduction rewrites a loop's addresses as separate sums, which the
# WebAssembly backend cannot fold into the loads' constant offsets; V8 then spends an address addition on
# each load of the GEMM loops (measured: VWW default 0.968x, IC 0.985x, KWS 0.988x of the time without it).
"$CLANG" --target=wasm32 -msimd128 -mbulk-memory -mnontrapping-fptoint -msign-ext -O3 -std=c99 -mllvm -disable-lsr \
  -nostdlib -fvisibility=hidden -ffp-contract=off -fno-math-errno \
  -Icsrc/wasm/include -Icsrc/kernels \
  -Wall -Wextra -Werror -Wno-unused-function \
  -Wl,--no-entry -Wl,--export-dynamic -Wl,--export=__heap_base -Wl,--export-table -Wl,--growable-table -Wl,--stack-first -Wl,-z,stack-size=65536 \
  -Wl,--strip-all ${TM_WASM_CFLAGS:-} \
  -o "$out" csrc/wasm/tm_wasm.c
