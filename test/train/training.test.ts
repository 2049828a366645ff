import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Graph } from '../../src/graph/graph.js';
import { GraphBuilder } from '../../src/graph/builder.js';
import { UnsupportedOpError } from '../../src/errors.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { roundHalfAway } from '../../src/quant/fixedpoint.js';
import { loadModelBytes } from '../../src/model.js';
import { arraySamples } from '../../src/data/samples.js';
import { evaluate } from '../../src/train/validation.js';
import { exportTflite, quantizeTrained } from '../../src/train/export.js';
import { trainFloat, trainInt8 } from '../../src/train/trainer.js';
import type { Progress } from '../../src/train/trainer.js';
import { DivergenceError, TrainingBudgetError } from '../../src/train/errors.js';
import { compileTraining } from '../../src/train/compile.js';
import { TrainingSession } from '../../src/train/session.js';
import { parseUpdateSpec } from '../../src/train/update.js';
import { chooseUpdate } from '../../src/train/auto.js';
import { planTraining } from '../../src/train/index.js';
import { patternData, randomFloats, rng, smallCnn } from './helpers.js';

const H = 8;
const W = 8;
const CLASSES = 3;

function dataset(seed: number, count: number) {
  const d = patternData(seed, count, H, W, CLASSES);
  return arraySamples(d.values, d.labels, CLASSES);
}

let cached: { float: Graph; int8: Graph } | null = null;

/** A float CNN trained on the patterns, and its int8 post-training quantisation (shared by the tests below). */
function trainedModels(): { float: Graph; int8: Graph } {
  if (cached) return cached;
  const g = smallCnn(4, H, W, 1, CLASSES);
  const train = dataset(1, 240);
  const r = trainFloat(g, train, { epochs: 6, batchSize: 16, optimizer: { kind: 'adam', lr: 0.02 } });
  cached = { float: r.graph, int8: quantizeTrained(r.graph, train, 64) };
  return cached;
}

test('float training from scratch lowers the loss; the int8 export keeps the accuracy and round-trips as .tflite', () => {
  const g = smallCnn(4, H, W, 1, CLASSES);
  const train = dataset(1, 240);
  const test = dataset(2, 90);
  const before = evaluate(g, test);
  const progress: Progress[] = [];
  const r = trainFloat(g, train, { epochs: 6, batchSize: 16, optimizer: { kind: 'adam', lr: 0.02 }, validation: test, onProgress: (p) => progress.push(p) });
  assert.ok(progress.length > 0 && progress.every((p) => p.samplesPerSecond > 0 && Number.isFinite(p.loss)));
  const first = r.history[0].loss;
  const last = r.history[r.history.length - 1];
  assert.ok(last.loss < first / 2, `loss ${first} -> ${last.loss}`);
  assert.ok(last.validationAccuracy! > 0.9 && last.validationAccuracy! > before.accuracy, `validation accuracy ${before.accuracy} -> ${last.validationAccuracy}`);
  assert.equal(evaluate(g, test).loss, before.loss, 'the caller\'s graph is untouched');
  const int8 = quantizeTrained(r.graph, train, 64);
  const q = evaluate(int8, test);
  assert.ok(q.accuracy > 0.85, `int8 accuracy ${q.accuracy}`);
  const reloaded = loadModelBytes(exportTflite(int8), 'reloaded');
  assert.equal(evaluate(reloaded, test).accuracy, q.accuracy);
});

test('int8 step: the forward is bit-exact with inference and only the selected parameters change', () => {
  const { int8 } = trainedModels();
  const spec = parseUpdateSpec('sparse:2:-2@0.5');
  const program = compileTraining(int8, spec, { optimizer: { kind: 'sgd', lr: 0.5 } });
  const session = new TrainingSession(program, { seed: 2 });
  const x = dataset(3, 1);
  const sample = new Float32Array(H * W);
  const label = x.read(0, sample, 0);
  // Forward: the training session's int8 logits are the interpreter's.
  const logits = program.head.logits;
  session.logits(sample);
  const interp = new Interpreter(int8, { preserveAll: true });
  interp.setInput(0, quantised(int8, sample));
  interp.invoke();
  assert.deepEqual(new Int8Array(interp.tensor(logits).slice().buffer), Int8Array.from(session.activationValues(logits) as Int8Array));
  const before = int8.tensors.map((t) => t.data);
  for (let s = 0; s < 3; s++) session.step(sample, [label]);
  const trained = new Map(program.update.params.map((p) => [p.tensor, p]));
  let changed = 0;
  program.base.tensors.forEach((t, id) => {
    if (!t.data) return;
    const same = Buffer.compare(Buffer.from(t.data), Buffer.from(before[id]!)) === 0;
    const p = trained.get(id);
    if (!p) { assert.ok(same, `frozen ${t.name} changed`); return; }
    if (!same) changed++;
    if (p.channels) {
      // Only weights reading the kept input channels may move.
      const kept = new Set(p.channels);
      const a = new Int8Array(t.data.buffer, t.data.byteOffset, t.data.length);
      const b = new Int8Array(before[id]!.buffer, before[id]!.byteOffset, before[id]!.length);
      const inC = t.shape[t.shape.length - 1];
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) assert.ok(kept.has(i % inC), `${t.name}[${i}] outside the kept channels changed`);
    }
  });
  assert.ok(changed >= 2, `only ${changed} trained tensors changed`);
  assert.deepEqual(int8.tensors.map((t) => t.data), before, 'the caller\'s model is untouched');
});

function quantised(g: Graph, x: Float32Array): Uint8Array {
  const t = g.tensors[g.inputs[0]];
  const q = Int8Array.from(x, (v) => Math.max(-128, Math.min(127, roundHalfAway(v / t.quant!.scale[0]) + t.quant!.zeroPoint[0])));
  return new Uint8Array(q.buffer);
}

test('QAS: the int8 bias step is lr * G / s_b (G_b scaled by s_b^-2: the float step in real units); without QAS lr * s_b * G, lost to rounding', () => {
  const { int8 } = trainedModels();
  const x = new Float32Array(H * W);
  // A wrong label: the trained model is confident, so its gradient is large.
  const label = (dataset(5, 1).read(0, x, 0) + 1) % CLASSES;
  const spec = parseUpdateSpec('bias:1');
  // The real-unit gradient, from a probe that keeps gradients and does not move.
  const probe = new TrainingSession(compileTraining(int8, spec, { reorder: false, optimizer: { kind: 'sgd', lr: 0 }, rounding: 'nearest' }));
  probe.step(x, [label]);
  const bias = probe.program.update.params[0];
  const G = Float64Array.from(probe.gradientOf(bias.tensor)!);
  const s = int8.tensors[bias.tensor].quant!.scale;
  const lr = 0.2;
  const stepWith = (qas: boolean): Int32Array => {
    const p = compileTraining(int8, spec, { optimizer: { kind: 'sgd', lr }, rounding: 'nearest' });
    const before = Int32Array.from(new Int32Array(p.base.tensors[bias.tensor].data!.slice().buffer));
    new TrainingSession(p, { qas }).step(x, [label]);
    const after = new Int32Array(p.base.tensors[bias.tensor].data!.slice().buffer);
    return after.map((v, i) => v - before[i]);
  };
  const withQas = stepWith(true);
  const without = stepWith(false);
  G.forEach((g, c) => {
    const sc = s.length === 1 ? s[0] : s[c];
    assert.equal(withQas[c], Math.round(-lr * g * Math.fround(1 / sc)) || 0, `channel ${c}`);
    assert.equal(without[c], Math.round(-lr * (g * Math.fround(sc))) || 0);
  });
  assert.ok(withQas.some((d) => Math.abs(d) > 10), 'QAS moves the bias');
  assert.ok(without.every((d) => d === 0), 'without QAS the step is far below one unit');
});

test('int8 fine-tuning with QAS and sparse update recovers accuracy of a damaged classifier', () => {
  const { int8 } = trainedModels();
  const train = dataset(6, 120);
  const test = dataset(7, 90);
  // Damage: zero the classifier weights (the int8 tensor), so only training brings the accuracy back.
  const damaged: Graph = { ...int8, tensors: int8.tensors.map((t) => ({ ...t })) };
  const fcW = damaged.tensors.findIndex((t) => t.name.startsWith('fw'));
  damaged.tensors[fcW] = { ...damaged.tensors[fcW], data: new Uint8Array(damaged.tensors[fcW].data!.length) };
  const start = evaluate(damaged, test).accuracy;
  const r = trainInt8(damaged, train, { update: parseUpdateSpec('sparse:2:-1@1'), epochs: 3, batchSize: 4, optimizer: { kind: 'sgd', lr: 0.1 } });
  const end = evaluate(r.graph, test).accuracy;
  assert.ok(end > 0.85 && end > start + 0.3, `accuracy ${start} -> ${end}`);
});

test('a diverging run stops with DivergenceError and returns nothing', () => {
  const g = smallCnn(4, H, W, 1, CLASSES);
  assert.throws(() => trainFloat(g, dataset(1, 64), { epochs: 3, batchSize: 8, optimizer: { kind: 'sgd', lr: 1e9 } }), DivergenceError);
});

test('budgets: an explicit configuration that does not fit, and an auto choice under a budget nothing fits, say the smallest that would', () => {
  const { int8 } = trainedModels();
  const data = dataset(8, 32);
  const full = planTraining(int8, { kind: 'full' }).peakBytes;
  assert.throws(() => trainInt8(int8, data, { update: { kind: 'full' }, budgetBytes: full - 1 }), (e: unknown) => e instanceof TrainingBudgetError && e.smallestBytes === full);
  const err = (() => { try { chooseUpdate(int8, data, { budgetBytes: 64 }); } catch (e) { return e; } return null; })();
  assert.ok(err instanceof TrainingBudgetError, String(err));
  assert.ok(err.smallestBytes > 64 && /smallest budget that fits is \d+ bytes/.test(err.message), err.message);
  // The smallest it names does fit.
  const ok = chooseUpdate(int8, data, { budgetBytes: err.smallestBytes, evaluations: 10 });
  assert.ok(ok.peakBytes <= err.smallestBytes);
});

test('auto: the chosen configuration fits the budget and scores at least the best bias-only and last-k choices', () => {
  const { int8 } = trainedModels();
  const data = dataset(9, 32);
  const budget = Math.round((planTraining(int8, parseUpdateSpec('last-k:2')).peakBytes + planTraining(int8, { kind: 'full' }).peakBytes) / 2);
  const r = chooseUpdate(int8, data, { budgetBytes: budget, evaluations: 60 });
  assert.ok(r.peakBytes <= budget);
  assert.equal(planTraining(int8, r.spec).peakBytes, r.peakBytes);
  for (const c of [r.bestBiasOnly, r.bestLastK]) if (c) assert.ok(r.score >= c.score);
});

test('a model with an op we cannot train through: a clear error, unless training starts after it', () => {
  const b = new GraphBuilder('hard-swish');
  const r = rng(3);
  const x = b.tensor('x', [1, 4], 'float32');
  const w1 = b.constant('w1', [4, 4], 'float32', randomFloats(r, 16));
  const h = b.tensor('h', [1, 4], 'float32');
  const hs = b.tensor('hs', [1, 4], 'float32');
  const w2 = b.constant('w2', [3, 4], 'float32', randomFloats(r, 12));
  const y = b.tensor('y', [1, 3], 'float32');
  b.node('FULLY_CONNECTED', [x, w1, -1], [h], { activation: 'NONE', keepNumDims: false });
  b.node('HARD_SWISH', [h], [hs], {});
  b.node('FULLY_CONNECTED', [hs, w2, -1], [y], { activation: 'NONE', keepNumDims: false });
  const g = b.input(x).output(y).build();
  assert.throws(() => compileTraining(g, { kind: 'full' }), (e: unknown) => e instanceof UnsupportedOpError && /HARD_SWISH/.test(e.message));
  assert.doesNotThrow(() => compileTraining(g, { kind: 'last-k', k: 1 }));
});
