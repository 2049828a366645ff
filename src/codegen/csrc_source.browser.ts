import CSRC_FILES from 'tinyml:csrc';

/*
 * csrc_source.ts for the browser: the web build (web/build.ts) maps that module onto this one and provides
 * `tinyml:csrc`, the library's text files (kernels/*.h, harness/*) by their path under csrc/. The
 * WebAssembly module is not among them: a page fetches it (loadKernelModule in runtime/wasm/kernel_module.ts).
 */

export function csrcDir(): string {
  throw new Error('csrc/ is not a folder in the browser: the C library\'s files are in the bundle (readCsrc)');
}

export function readCsrc(rel: string): string {
  const text = CSRC_FILES[rel];
  if (text === undefined) throw new Error(`the web bundle carries no csrc/${rel}`);
  return text;
}

const NO_MODULE_FILE = 'no file system in the browser: give the WebAssembly module with loadKernelModule(url or bytes)';

export function kernelModulePath(): string {
  throw new Error(NO_MODULE_FILE);
}

export function readKernelModuleBytes(): Uint8Array {
  throw new Error(NO_MODULE_FILE);
}
