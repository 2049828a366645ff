import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { csrcDir } from '../../codegen/kernels.js';

/** The committed build of the C kernel library (scripts/build_wasm.sh). */
export function kernelModulePath(): string {
  return join(csrcDir(), 'wasm', 'tm_kernels.wasm');
}

/** The module the interpreter loads: the committed one, or TINYML_KERNELS_WASM (to compare kernel builds). */
function modulePathInUse(): string {
  return process.env.TINYML_KERNELS_WASM || kernelModulePath();
}

let compiled: WebAssembly.Module | null | undefined;
let failure = '';

/**
 * The kernel library compiled once per process, or null where this JavaScript engine has no WebAssembly
 * SIMD (the module uses it throughout, so compiling it is the feature test).
 */
export function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(readFileSync(modulePathInUse()));
    } catch (e) {
      failure = (e as Error).message;
      compiled = null;
    }
  }
  return compiled;
}

/** Why the WebAssembly backend is unavailable ('' when it is available). */
export function kernelModuleProblem(): string {
  kernelModule();
  return failure;
}

/** The exports of one instance: its memory, where free memory starts, and the kernels by name. */
export interface KernelInstance {
  memory: WebAssembly.Memory;
  heapBase: number;
  kernel(name: string): (...args: number[]) => void;
  /** Whether the module exports this kernel (the C library has kernels the module leaves out). */
  has(name: string): boolean;
}

export function instantiateKernels(module: WebAssembly.Module): KernelInstance {
  // The one import: exp for the float softmax, JavaScript's, as the TypeScript kernel uses it.
  const instance = new WebAssembly.Instance(module, { env: { exp: Math.exp } });
  const ex = instance.exports as Record<string, unknown>;
  const memory = ex.memory as WebAssembly.Memory;
  const heapBase = (ex.__heap_base as WebAssembly.Global).value as number;
  return {
    memory, heapBase,
    has: (name) => typeof ex[name] === 'function',
    kernel(name) {
      const f = ex[name];
      if (typeof f !== 'function') throw new Error(`the WebAssembly kernel library has no function ${name}`);
      return f as (...args: number[]) => void;
    },
  };
}
