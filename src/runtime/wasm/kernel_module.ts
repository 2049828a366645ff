import { readKernelModuleBytes } from '../../codegen/csrc_source.js';

export { kernelModulePath } from '../../codegen/csrc_source.js';

let compiled: WebAssembly.Module | null | undefined;
let failure = '';

/**
 * The kernel library compiled once per process, or null where this JavaScript engine has no WebAssembly
 * SIMD (the module uses it throughout, so compiling it is the feature test). Node reads the committed
 * module on first use; a page gives it first with loadKernelModule (a browser has no file to read).
 */
export function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(readKernelModuleBytes() as BufferSource);
    } catch (e) {
      failure = (e as Error).message;
      compiled = null;
    }
  }
  return compiled;
}

/**
 * Compile the kernel library from its bytes or a URL (the page's tm_kernels.wasm) and use it from now on:
 * the browser's way in, compiled asynchronously as browsers want for a module of this size. Resolves to
 * whether the module compiled (false where the engine lacks WebAssembly SIMD; kernelModuleProblem says why).
 */
export async function loadKernelModule(source: string | URL | BufferSource): Promise<boolean> {
  try {
    const bytes = typeof source === 'string' || source instanceof URL ? await fetchBytes(source) : source;
    compiled = await WebAssembly.compile(bytes);
    failure = '';
  } catch (e) {
    failure = (e as Error).message;
    compiled = null;
  }
  return compiled !== null;
}

async function fetchBytes(url: string | URL): Promise<ArrayBuffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot fetch the WebAssembly kernel library ${String(url)}: HTTP ${res.status}`);
  return res.arrayBuffer();
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
  /**
   * The kernel's index in the module's function table (put there on first ask), for tm_run_calls; null
   * when the module exports no table (an older build: every call then goes from JavaScript).
   */
  tableIndex(name: string): number | null;
}

export function instantiateKernels(module: WebAssembly.Module): KernelInstance {
  // The one import: exp for the float softmax, JavaScript's, as the TypeScript kernel uses it.
  const instance = new WebAssembly.Instance(module, { env: { exp: Math.exp } });
  const ex = instance.exports as Record<string, unknown>;
  const memory = ex.memory as WebAssembly.Memory;
  const heapBase = (ex.__heap_base as WebAssembly.Global).value as number;
  const table = ex.__indirect_function_table instanceof WebAssembly.Table ? ex.__indirect_function_table : null;
  const slots = new Map<string, number>();
  return {
    memory, heapBase,
    tableIndex(name) {
      if (!table || typeof ex[name] !== 'function') return null;
      let i = slots.get(name);
      if (i === undefined) {
        i = table.grow(1);
        table.set(i, ex[name] as never);
        slots.set(name, i);
      }
      return i;
    },
    has: (name) => typeof ex[name] === 'function',
    kernel(name) {
      const f = ex[name];
      if (typeof f !== 'function') throw new Error(`the WebAssembly kernel library has no function ${name}`);
      return f as (...args: number[]) => void;
    },
  };
}
