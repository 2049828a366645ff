import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * Where the C kernel library's files come from: csrc/ on disk in Node. The web bundle swaps this module
 * for csrc_source.browser.ts (same exports), which carries the files in the bundle.
 */

/** csrc/ of this package: beside src/ in the repo, beside dist/ once built. */
export function csrcDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = resolve(dir, 'csrc');
    if (existsSync(join(candidate, 'kernels', 'tm_common.h'))) return candidate;
    dir = resolve(dir, '..');
  }
  throw new Error('csrc/ (the C kernel library) not found beside the package');
}

/** A text file of the library, by its path under csrc/ (`kernels/tm_gemm.h`, `harness/tm_runner.c`). */
export function readCsrc(rel: string): string {
  return readFileSync(join(csrcDir(), rel), 'utf8');
}

/** The committed build of the C kernel library (scripts/build_wasm.sh). */
export function kernelModulePath(): string {
  return join(csrcDir(), 'wasm', 'tm_kernels.wasm');
}

/** The WebAssembly module's bytes: the committed one, or TINYML_KERNELS_WASM (to compare kernel builds). */
export function readKernelModuleBytes(): Uint8Array {
  return readFileSync(process.env.TINYML_KERNELS_WASM || kernelModulePath());
}
