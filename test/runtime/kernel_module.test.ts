import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { kernelModule, kernelModulePath, kernelModuleProblem, loadKernelModule } from '../../src/runtime/wasm/kernel_module.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { loadModel } from '../../src/model.js';
import { modelPath } from '../helpers/shared.js';

// The browser's way in (loadKernelModule: bytes or a URL) works in Node too, and a bad module is a reason, not a throw.
test('loadKernelModule: bad bytes give no module and say why; the committed bytes give the wasm backend', async () => {
  assert.equal(await loadKernelModule(new Uint8Array([0, 1, 2, 3])), false);
  assert.equal(kernelModule(), null);
  assert.notEqual(kernelModuleProblem(), '');
  assert.equal(await loadKernelModule(readFileSync(kernelModulePath())), true);
  assert.ok(kernelModule() instanceof WebAssembly.Module);
  assert.equal(kernelModuleProblem(), '');
  const interp = new Interpreter(loadModel(modelPath('mlperf_kws_dscnn_int8.tflite')), { backend: 'wasm' });
  interp.invoke();
  assert.equal(interp.backend, 'wasm');
});
