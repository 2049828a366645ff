import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Graph } from '../../src/graph/graph.js';
import { numElements } from '../../src/graph/graph.js';
import { compileTraining } from '../../src/train/compile.js';
import type { TrainingBackend } from '../../src/train/session.js';
import { TrainingSession, defaultTrainingBackend } from '../../src/train/session.js';
import { WasmTrainInstance, wasmTrainingProblem } from '../../src/train/wasm_kernels.js';
import { trainFloat } from '../../src/train/trainer.js';
import { buildFashionCnn, FASHION_CNN } from '../../src/models/fashion_cnn.js';
import { arraySamples, loadDatasetFolder, trainingView, UNIT_RANGE } from '../../src/data/index.js';
import { SHARED } from '../helpers/shared.js';
import { Net, randomFloats, rng } from './helpers.js';

/*
 * Training sessions on the WebAssembly kernels against sessions on the TypeScript kernels: the same
 * losses, logits and gradients within float rounding, on small nets of every layer the C library takes
 * and on fashion-cnn with real Fashion-MNIST batches.
 */

const skip = wasmTrainingProblem() || false;

function relativeGap(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  let gap = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    gap = Math.max(gap, Math.abs(a[i] - b[i]));
  }
  return gap / Math.max(scale, 1e-12);
}

/** One step on each backend with every gradient kept (no update): loss, logits and gradients compared. */
function compareStep(g: Graph, seed: number, what: string): void {
  const r = rng(seed);
  const x = randomFloats(r, numElements(g.tensors[g.inputs[0]].shape));
  const B = g.tensors[g.inputs[0]].shape[0];
  const classes = g.tensors[g.outputs[0]].shape[1];
  const labels = Array.from({ length: B }, () => Math.floor(r() * classes));
  const program = compileTraining(g, { kind: 'full' }, { reorder: false, inputGradient: true, optimizer: { kind: 'sgd', lr: 0 }, rounding: 'nearest' });
  const run = (backend: TrainingBackend) => {
    const s = new TrainingSession(program, { backend });
    assert.equal(s.backend, backend);
    const logits = s.logits(x);
    const step = s.step(x, labels);
    const grads = [...program.update.params.map((p) => ({ name: g.tensors[p.tensor].name, grad: Float32Array.from(s.gradientOf(p.tensor)!) })), { name: 'input', grad: Float32Array.from(s.gradientOf(g.inputs[0])!) }];
    return { logits, step, grads };
  };
  const w = run('wasm');
  const j = run('js');
  assert.ok(relativeGap(w.logits, j.logits) < 1e-5, `${what}: logits differ by ${relativeGap(w.logits, j.logits)}`);
  assert.ok(Math.abs(w.step.loss - j.step.loss) <= 1e-5 * Math.abs(j.step.loss), `${what}: loss ${w.step.loss} on wasm, ${j.step.loss} on js`);
  w.grads.forEach((gw, k) => {
    const gap = relativeGap(gw.grad, j.grads[k].grad);
    assert.ok(gap < 1e-4, `${what}: gradient of ${gw.name} differs by ${gap} of its largest value`);
  });
}

const nets: Record<string, (seed: number) => Graph> = {
  'CONV_2D 3x3 stride 2 SAME + RELU6, then 2x3 VALID dilation 2': (seed) => {
    const n = new Net(rng(seed));
    const x = n.input([3, 9, 11, 3]);
    const a = n.conv(x, [3, 9, 11, 3], 13, 3, 3, { stride: 2, act: 'RELU6' });
    const b = n.conv(a.y, a.shape, 6, 2, 3, { padding: 'VALID', dilation: 2 });
    return n.finish(b.y, b.shape);
  },
  'DEPTHWISE_CONV_2D multipliers 1 and 2, strides 1 and 2': (seed) => {
    const n = new Net(rng(seed));
    const x = n.input([2, 7, 7, 5]);
    const a = n.depthwise(x, [2, 7, 7, 5], 2, { stride: 2, act: 'RELU' });
    const b = n.depthwise(a.y, a.shape, 1, { padding: 'VALID', act: 'RELU6' });
    return n.finish(b.y, b.shape);
  },
  'MAX_POOL_2D and AVERAGE_POOL_2D with partial windows, pointwise CONV_2D, FULLY_CONNECTED': (seed) => {
    const n = new Net(rng(seed));
    const x = n.input([2, 9, 9, 4]);
    const c = n.conv(x, [2, 9, 9, 4], 8, 1, 1, { act: 'RELU' });
    const m = n.pool('MAX_POOL_2D', c.y, c.shape, 2, 2, 'SAME');
    const a = n.pool('AVERAGE_POOL_2D', m.y, m.shape, 3, 1, 'SAME');
    const flat = n.reshape(a.y, [2, numElements(a.shape) / 2]);
    const h = n.fc(flat, 2, numElements(a.shape) / 2, 11, 'RELU');
    const o = n.fc(h.y, 2, 11, 5);
    return n.finish(o.y, o.shape);
  },
  'residual ADD and SUB of same-shaped tensors (RELU6 fused), on the module': (seed) => {
    const n = new Net(rng(seed));
    const x = n.input([2, 6, 6, 8]);
    const a = n.conv(x, [2, 6, 6, 8], 8, 1, 1, { act: 'RELU6' });
    const s = n.binary('ADD', x, a.y, [2, 6, 6, 8], 'RELU6');
    const b = n.depthwise(s, [2, 6, 6, 8], 1, { act: 'RELU' });
    const d = n.binary('SUB', s, b.y, [2, 6, 6, 8]);
    const flat = n.reshape(d, [2, 6 * 6 * 8]);
    const o = n.fc(flat, 2, 6 * 6 * 8, 5);
    return n.finish(o.y, o.shape);
  },
};

for (const [name, build] of Object.entries(nets)) {
  test(`wasm and js sessions agree: ${name}`, { skip }, () => {
    for (const seed of [1, 2]) compareStep(build(seed), seed, `${name}, seed ${seed}`);
  });
}

const FASHION = join(SHARED, 'datasets', 'fashion-mnist');

function fashionBatches(count: number, batch: number): { x: Float32Array; labels: Int32Array }[] {
  if (!existsSync(FASHION)) throw new Error(`Fashion-MNIST not found at ${FASHION}: this test trains on ../shared/datasets/fashion-mnist (set TINYML_SHARED to where shared/ is)`);
  const data = loadDatasetFolder(FASHION, { shape: { height: 28, width: 28, channels: 1 }, trainLimit: count * batch, testLimit: 10, seed: 1 });
  const train = trainingView(data.train, { range: UNIT_RANGE });
  return Array.from({ length: count }, (_, k) => {
    const x = new Float32Array(batch * train.sampleSize);
    const labels = new Int32Array(batch);
    for (let b = 0; b < batch; b++) labels[b] = train.read(k * batch + b, x, b * train.sampleSize);
    return { x, labels };
  });
}

test('fashion-cnn: two Adam steps on real batches give the same losses on wasm and js', { skip }, () => {
  const batches = fashionBatches(2, 32);
  const losses = (backend: TrainingBackend) => {
    // Each backend trains its own copy of the parameters (a program per session).
    const p = compileTraining(buildFashionCnn(FASHION_CNN), { kind: 'full' }, { batch: 32, optimizer: { kind: 'adam', lr: 1e-3 }, rounding: 'stochastic' });
    const s = new TrainingSession(p, { backend, seed: 3 });
    return batches.map((b) => s.step(b.x, b.labels));
  };
  const w = losses('wasm');
  const j = losses('js');
  w.forEach((r, k) => {
    assert.ok(Number.isFinite(r.loss) && r.loss > 0, `step ${k + 1}: loss ${r.loss}`);
    assert.ok(Math.abs(r.loss - j[k].loss) <= 1e-4 * j[k].loss, `step ${k + 1}: loss ${r.loss} on wasm, ${j[k].loss} on js`);
  });
});

test('the trainer runs on wasm by default where WebAssembly SIMD runs, and on js when asked', { skip }, () => {
  assert.equal(defaultTrainingBackend(), 'wasm');
  const n = new Net(rng(3));
  const x = n.input([1, 9, 8, 3]);
  const c = n.conv(x, [1, 9, 8, 3], 4, 3, 3, { stride: 2, act: 'RELU' });
  const g = n.finish(c.y, c.shape);
  const classes = g.tensors[g.outputs[0]].shape[1];
  const data = arraySamples(randomFloats(rng(4), 8 * 9 * 8 * 3), Array.from({ length: 8 }, (_, i) => i % classes), classes);
  const wasm = trainFloat(g, data, { batchSize: 4, epochs: 1 });
  const js = trainFloat(g, data, { batchSize: 4, epochs: 1, backend: 'js' });
  assert.equal(wasm.backend, 'wasm');
  assert.equal(js.backend, 'js');
  assert.ok(Math.abs(wasm.history[0].loss - js.history[0].loss) <= 1e-4 * js.history[0].loss);
});

test('sessions sharing one WebAssembly instance take turns with the results of sessions apart; one that grew the memory detaches the earlier', { skip }, () => {
  // A program per session: each trains its own copy of the parameters.
  const program = (name: string, seed: number) => compileTraining(nets[name](seed), { kind: 'full' }, { optimizer: { kind: 'sgd', lr: 0.1 } });
  const small = () => program('DEPTHWISE_CONV_2D multipliers 1 and 2, strides 1 and 2', 1);
  const big = () => program('CONV_2D 3x3 stride 2 SAME + RELU6, then 2x3 VALID dilation 2', 2);
  const inputs = (p: ReturnType<typeof small>, seed: number) => {
    const r = rng(seed);
    const g = p.graph;
    const x = randomFloats(r, numElements(g.tensors[g.inputs[0]].shape));
    const classes = g.tensors[g.outputs[0]].shape[1];
    return { x, labels: Array.from({ length: p.batch }, () => Math.floor(r() * classes)) };
  };
  const [a, b] = [inputs(small(), 5), inputs(big(), 6)];
  // Apart: each its own instance; shared: the big one first (no growth), steps interleaved.
  const apart = [new TrainingSession(big()), new TrainingSession(small())];
  const shared = new WasmTrainInstance();
  const turns = [new TrainingSession(big(), { wasmInstance: shared }), new TrainingSession(small(), { wasmInstance: shared })];
  for (let k = 0; k < 3; k++) {
    for (const [i, d] of [[0, b], [1, a]] as const) {
      assert.equal(turns[i].step(d.x, d.labels).loss, apart[i].step(d.x, d.labels).loss, `step ${k + 1} of session ${i}`);
    }
  }
  // A session laid out on a memory too small for the next one: that one grows it, the first is detached.
  const grown = new WasmTrainInstance();
  const first = new TrainingSession(small(), { wasmInstance: grown });
  assert.equal(first.detached, false);
  const n = new Net(rng(7));
  const c = n.conv(n.input([2, 64, 64, 8]), [2, 64, 64, 8], 16, 3, 3, { act: 'RELU' });
  const large = compileTraining(n.finish(c.y, c.shape), { kind: 'full' }, { optimizer: { kind: 'sgd', lr: 0.1 } });
  const second = new TrainingSession(large, { wasmInstance: grown });
  assert.equal(first.detached, true);
  assert.equal(second.detached, false);
  assert.throws(() => first.step(a.x, a.labels), /memory grew for another session sharing it/);
  const l = inputs(large, 8);
  assert.ok(Number.isFinite(second.step(l.x, l.labels).loss));
});
