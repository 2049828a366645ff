import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/model.js';
import { Interpreter, defaultBackend } from '../../src/runtime/interpreter.js';
import { randomTensorBytes } from '../../src/runtime/tensor_io.js';
import { instantiateKernels, kernelModule, kernelModulePath } from '../../src/runtime/wasm/kernel_module.js';
import { buildWasmProgram } from '../../src/runtime/wasm/wasm_program.js';
import { compileModel } from '../../src/compiler/compile_model.js';
import { parseStructs, structLayout } from '../../src/runtime/wasm/c_layout.js';
import { REPO_ROOT, SHARED, requireShared } from '../helpers/shared.js';
import { skipWithout } from '../helpers/tools.js';
import { oneNodeGraph } from '../ops/harness.js';

test('the committed WebAssembly kernel library equals a fresh build of csrc/ (npm run build:wasm)', { skip: skipWithout('clang') }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-wasm-'));
  try {
    const fresh = join(dir, 'tm_kernels.wasm');
    const r = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'build_wasm.sh'), fresh], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(readFileSync(fresh).equals(readFileSync(kernelModulePath())), 'csrc/wasm/tm_kernels.wasm is stale: run npm run build:wasm and commit it');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('struct layouts are read from the C headers with wasm32 alignment', () => {
  const [s, v] = parseStructs('typedef struct { int16_t a, b; /* c */ int32_t c; const int8_t *p; int8_t d; int32_t e[3]; } t_x; typedef struct { v128_t a; } t_v;');
  assert.ok('problem' in v && /v128_t/.test(v.problem));
  assert.ok('fields' in s);
  assert.deepEqual([...s.fields.values()].map((f) => [f.name, f.offset, f.count]), [['a', 0, 1], ['b', 2, 1], ['c', 4, 1], ['p', 8, 1], ['d', 12, 1], ['e', 16, 3]]);
  assert.equal(s.size, 28);
  const conv = structLayout('tm_conv_shape');
  assert.equal(conv.fields.get('in_zp')!.offset, 28);
  assert.equal(conv.size, 32);
  assert.equal(structLayout('tm_requant_params').fields.get('fast')!.offset, 24);
});

test('WebAssembly SIMD is here, so wasm is the default backend', () => {
  assert.equal(defaultBackend(), 'wasm');
});

test('the wasm backend gives the js backend\'s bytes on random inputs, and names the nodes it leaves to TypeScript', () => {
  requireShared();
  for (const name of ['mcunet_vww1_int8_floatio', 'mlperf_ic_resnet8_int8', 'tflm_magic_wand_float']) {
    const g = loadModel(join(SHARED, 'models', `${name}.tflite`));
    const wasm = new Interpreter(g, { backend: 'wasm' });
    const js = new Interpreter(g, { backend: 'js' });
    for (let seed = 1; seed <= 3; seed++) {
      g.inputs.forEach((id, i) => {
        const bytes = randomTensorBytes(g.tensors[id], seed * 10 + i);
        wasm.setInput(i, bytes);
        js.setInput(i, bytes);
      });
      wasm.invoke();
      js.invoke();
      g.outputs.forEach((_, i) => assert.deepEqual(wasm.output(i), js.output(i), `${name} seed ${seed} output ${i}`));
    }
    assert.deepEqual(wasm.jsFallbacks, [], `${name}: every node runs in WebAssembly`);
  }
});

test('a node the C library lacks runs on its TypeScript kernel inside the wasm arena, named with the reason', () => {
  const g = oneNodeGraph('SQUARE', {}, [{ shape: [1, 37], dtype: 'float32' }], { shape: [1, 37], dtype: 'float32' });
  g.inputs = [0];
  g.outputs = [1];
  const wasm = new Interpreter(g, { backend: 'wasm' });
  const js = new Interpreter(g, { backend: 'js' });
  assert.deepEqual(wasm.jsFallbacks.map((f) => [f.op, f.node]), [['SQUARE', 0]]);
  assert.match(wasm.jsFallbacks[0].reason, /no C kernel/);
  const x = new Uint8Array(Float32Array.from({ length: 37 }, (_, i) => i / 7 - 2).buffer);
  wasm.setInput(0, x);
  js.setInput(0, x);
  wasm.invoke();
  js.invoke();
  assert.deepEqual(wasm.output(0), js.output(0));
});

test('int8 activations whose kernel is a table (RELU, RELU6, LOGISTIC, TANH, HARD_SWISH) run in WebAssembly through one lookup kernel, byte-identical', () => {
  const ops = [['RELU', -128, 0.06], ['RELU6', 3, 0.05], ['LOGISTIC', -128, 1 / 256], ['TANH', 0, 1 / 128], ['HARD_SWISH', -20, 0.04]] as const;
  for (const [op, zp, scale] of ops) {
    const g = oneNodeGraph(op, {}, [{ shape: [3, 50], dtype: 'int8', scale: 0.05, zeroPoint: 3 }], { shape: [3, 50], dtype: 'int8', scale, zeroPoint: op === 'RELU6' ? 3 : zp });
    g.inputs = [0];
    g.outputs = [1];
    const wasm = new Interpreter(g, { backend: 'wasm' });
    const js = new Interpreter(g, { backend: 'js' });
    assert.deepEqual(wasm.jsFallbacks, [], op);
    const x = Uint8Array.from({ length: 150 }, (_, i) => (i * 37 + 11) & 0xff);
    wasm.setInput(0, x);
    js.setInput(0, x);
    wasm.invoke();
    js.invoke();
    assert.deepEqual(wasm.output(0), js.output(0), op);
  }
});

test('the int8 shared models run wholly in the WebAssembly module under their default and memory plans (no step falls back to TypeScript)', () => {
  requireShared();
  for (const name of ['mlperf_kws_dscnn_int8', 'tflm_person_detect_int8', 'mlperf_vww_mobilenetv1_int8']) {
    const g = loadModel(join(SHARED, 'models', `${name}.tflite`));
    for (const objective of [undefined, 'memory'] as const) {
      const it = new Interpreter(g, { backend: 'wasm', ...(objective ? { objective } : {}) });
      assert.deepEqual(it.jsFallbacks.map((f) => `${f.op} (node ${f.node}): ${f.reason}`), [], `${name} ${objective ?? 'default'}`);
    }
  }
});

test('in-place pointwise layers run in the module as one call of the ordinary kernel over a copy, not block by block', () => {
  requireShared();
  // VWW's default plan puts its pointwise layers in place; its vector cases check the bytes.
  const c = compileModel(loadModel(join(SHARED, 'models', 'mlperf_vww_mobilenetv1_int8.tflite')));
  const called = buildWasmProgram(c.graph, c.plan, instantiateKernels(kernelModule()!)).calledKernels;
  assert.ok(called.has('tm_conv2d_1x1_inplace_copy_packed_s8'), [...called].join(', '));
  assert.ok(!called.has('tm_conv2d_1x1_inplace_packed_s8') && !called.has('tm_conv2d_1x1_inplace_s8'), [...called].join(', '));
});

test('in-place depthwise layers run in the module as the prepared ordinary kernel over a copy, whichever Cortex-M form (one channel or four) the plan gave them', () => {
  requireShared();
  // KWS's memory plan widens some in-place layers' scratch (the four-channel form) and not others.
  const c = compileModel(loadModel(join(SHARED, 'models', 'mlperf_kws_dscnn_int8.tflite')), { objective: 'memory' });
  const called = buildWasmProgram(c.graph, c.plan, instantiateKernels(kernelModule()!)).calledKernels;
  assert.ok(called.has('tm_depthwise_conv2d_inplace_prepared_s8'), [...called].join(', '));
  assert.ok(!called.has('tm_depthwise_conv2d_inplace_s8') && !called.has('tm_depthwise_conv2d_groups_inplace_s8'), [...called].join(', '));
});
