import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/model.js';
import { compileModel } from '../../src/compiler/compile_model.js';
import { int8Io } from '../../src/compiler/int8_io.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { InputError } from '../../src/errors.js';
import { manifests, modelPath, readBin } from '../helpers/shared.js';
import { compareOutput } from '../helpers/compare.js';
import { buildFor, firstDifference } from '../codegen/harness.js';

const mcunet = () => manifests().find((m) => m.id === 'mcunet_vww1_int8_floatio')!;

/**
 * `--io int8` on mcunet-vww1 (float input and output around an int8 network): the int8 input is exactly what
 * the dropped QUANTIZE wrote and the int8 output what the dropped DEQUANTIZE read, so running the int8 model
 * on the quantised input must give those bytes, and dequantising them TFLite Micro's float outputs.
 */
test('--io int8: mcunet-vww1 without its float boundary gives the original\'s int8 tensors and, dequantised, the reference outputs', () => {
  const m = mcunet();
  const g = loadModel(modelPath(m));
  const { graph, droppedInputs, droppedOutputs } = int8Io(g);
  assert.equal(droppedInputs, 1);
  assert.equal(droppedOutputs, 1);
  assert.equal(graph.nodes.length, g.nodes.length - 2);
  const inT = graph.tensors[graph.inputs[0]];
  const outT = graph.tensors[graph.outputs[0]];
  assert.equal(inT.dtype, 'int8');
  assert.deepEqual(inT.shape, g.tensors[g.inputs[0]].shape);
  assert.equal(outT.dtype, 'int8');

  const int8 = compileModel(g, { io: 'int8' });
  const float = compileModel(g);
  // The float input (4 bytes a value) was the whole patch-based peak: dropping it must lower the arena.
  assert.ok(int8.plan.arenaBytes < float.plan.arenaBytes * 0.6, `${int8.plan.arenaBytes} vs ${float.plan.arenaBytes}`);

  const original = new Interpreter(g, { preserveAll: true, backend: 'js' });
  const io = new Interpreter(int8);
  for (const c of m.cases) {
    original.setInput(0, readBin(m, c.inputs[0]));
    original.invoke();
    const q = original.tensor(graph.inputs[0]);
    io.setInput(0, q);
    io.invoke();
    const got = io.output(0);
    assert.deepEqual(got, original.tensor(graph.outputs[0]), `${c.name}: int8 output`);
    // DEQUANTIZE as TFLite computes it: float(scale) * (q - zero point).
    const scale = Math.fround(outT.quant!.scale[0]);
    const deq = new Float32Array(Array.from(new Int8Array(got.buffer, got.byteOffset, got.length), (v) => Math.fround(scale * (v - outT.quant!.zeroPoint[0]))));
    assert.equal(compareOutput(m, m.outputs[0], new Uint8Array(deq.buffer), readBin(m, c.outputs[0])), null, `${c.name}: dequantised output`);
  }
});

test('--io int8: models without a float boundary are unchanged, float models are refused naming the tensor and its reader', () => {
  const resnet = loadModel(modelPath(manifests().find((m) => m.id === 'mlperf_ic_resnet8_int8')!));
  assert.equal(int8Io(resnet).graph, resnet);
  assert.equal(compileModel(resnet, { io: 'int8' }).plan.arenaBytes, compileModel(resnet).plan.arenaBytes);
  const float = loadModel(modelPath(manifests().find((m) => m.id === 'mlperf_vww_mobilenetv1_float')!));
  assert.throws(() => compileModel(float, { io: 'int8' }), (e: Error) => e instanceof InputError && /--io int8: input "input_1" is float32, read by CONV_2D \(node 0\)/.test(e.message));
});

test('--io int8: generated C for mcunet-vww1 takes int8 in and gives the int8 outputs (host, ASan/UBSan)', () => {
  const m = mcunet();
  const g = loadModel(modelPath(m));
  const c = compileModel(g, { io: 'int8' });
  const original = new Interpreter(g, { preserveAll: true, backend: 'js' });
  const cases = m.cases.map((k) => {
    original.setInput(0, readBin(m, k.inputs[0]));
    original.invoke();
    return { input: original.tensor(c.model.inputs[0]).slice(), output: original.tensor(c.model.outputs[0]).slice() };
  });
  const built = buildFor(c.graph, c.plan, 'host', 'mps2-an386');
  try {
    const r = built.run(cases.map((k) => [k.input]), [cases[0].output.length]);
    cases.forEach((k, i) => assert.equal(firstDifference(r.outputs[i][0], k.output), null, m.cases[i].name));
  } finally {
    built.cleanup();
  }
});
