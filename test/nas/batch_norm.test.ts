import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arraySamples } from '../../src/data/samples.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { compileTraining } from '../../src/train/compile.js';
import { TrainingSession } from '../../src/train/session.js';
import { writeTflite } from '../../src/tflite/writer.js';
import { UnsupportedOpError } from '../../src/errors.js';
import { seededRandom } from '../../src/util/random.js';
import type { Arch, SpaceConfig } from '../../src/nas/space.js';
import { MBV2_CIFAR, sampleArch } from '../../src/nas/space.js';
import { buildSubnet, deployGraph } from '../../src/nas/subnet_graph.js';
import { Supernet } from '../../src/nas/supernet.js';
import { SupernetTrainer } from '../../src/nas/train_supernet.js';
import { inferenceSubnet, recalibrate } from '../../src/nas/batch_norm.js';
import { TINY, colourSamples } from './helpers.js';

/** Two stages at 16x16 with batch normalisation and squeeze-and-excitation. */
const TINY_BN: SpaceConfig = { ...TINY, name: 'tiny-bn-test', se: true, batchNorm: true };

function probabilities(g: ReturnType<typeof buildSubnet>, x: Float32Array): Float32Array {
  const it = new Interpreter(g, { backend: 'js' });
  it.setInput(0, new Uint8Array(Float32Array.from(x).buffer));
  it.invoke();
  return new Float32Array(it.output(0).slice().buffer);
}

function softmaxRows(logits: Float32Array, classes: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length / classes; r++) {
    const row = logits.subarray(r * classes, (r + 1) * classes);
    const m = Math.max(...row);
    let s = 0;
    for (let k = 0; k < classes; k++) s += Math.exp(row[k] - m);
    for (let k = 0; k < classes; k++) out[r * classes + k] = Math.exp(row[k] - m) / s;
  }
  return out;
}

/** A supernet whose weights and batch-norm parameters are off their initial values. */
function perturbedNet(seed: number): Supernet {
  const net = new Supernet(TINY_BN, 1, 16, seed);
  const rand = seededRandom(seed);
  for (const p of net.params.values()) for (let i = 0; i < p.values.length; i++) p.values[i] += 0.1 * (rand() - 0.5);
  return net;
}

test('batch normalisation folds exactly: the inference graph with one batch\'s statistics gives the training graph\'s outputs on that batch', () => {
  const net = perturbedNet(3);
  const rand = seededRandom(4);
  const n = 16;
  const sample = 16 * 16 * 3;
  const x = Float32Array.from({ length: n * sample }, () => rand());
  const samples = arraySamples(x, new Int32Array(n), 4);
  for (const arch of [net.largest(), net.smallest(), sampleArch(TINY_BN, seededRandom(5), { width: 1, resolution: 16 })]) {
    const train = buildSubnet(TINY_BN, arch, net.source(), undefined, { kind: 'train' });
    assert.ok(train.nodes.some((nd) => nd.op === 'BATCH_NORMALIZE'));
    const session = new TrainingSession(compileTraining(train, { kind: 'full' }, { batch: n }), { collectGradients: true });
    const expected = softmaxRows(session.logits(x), 4);
    // One batch of all n images: the re-calibrated statistics are exactly the training graph's.
    const folded = inferenceSubnet(TINY_BN, arch, net.source(), samples, { images: n, batch: n });
    assert.ok(!folded.nodes.some((nd) => nd.op === 'BATCH_NORMALIZE'), 'folded away');
    assert.equal(folded.nodes.length, buildSubnet(TINY_BN, arch, net.source()).nodes.length);
    for (let i = 0; i < n; i++) {
      const p = probabilities(folded, x.subarray(i * sample, (i + 1) * sample));
      p.forEach((v, k) => assert.ok(Math.abs(v - expected[i * 4 + k]) < 1e-4, `image ${i} class ${k}: ${v} vs ${expected[i * 4 + k]}`));
    }
  }
  // Averaged over batches: the mean of per-batch statistics (compared at the stem, whose input no
  // normalisation touched; deeper layers see each batch normalised by its own statistics).
  const two = recalibrate(TINY_BN, net.largest(), net.source(), samples, { images: n, batch: n / 2, seed: 1 });
  const one = recalibrate(TINY_BN, net.largest(), net.source(), samples, { images: n, batch: n });
  assert.deepEqual([...one.keys()], [...two.keys()]);
  for (const name of ['stem']) {
    const s = one.get(name)!;
    const t = two.get(name)!;
    s.mean.forEach((m, c) => assert.ok(Math.abs(m - t.mean[c]) < 1e-4, `${name} mean ${c}: ${m} vs ${t.mean[c]}`));
    s.variance.forEach((v, c) => assert.ok(t.variance[c] <= v * 1.0001 + 1e-6, `${name}: the within-batch variance cannot exceed the whole set's`));
  }
});

test('a supernet with batch normalisation: sorting channels moves their scale and shift along, the largest network unchanged; sandwich training learns', async () => {
  const net = perturbedNet(7);
  const n = 32;
  const { x, samples } = colourSamples(n, 8);
  const largest: Arch = net.largest();
  const before = probabilities(inferenceSubnet(TINY_BN, largest, net.source(), samples, { images: n, batch: n }), x.subarray(0, 768));
  net.sortChannels();
  const after = probabilities(inferenceSubnet(TINY_BN, largest, net.source(), samples, { images: n, batch: n }), x.subarray(0, 768));
  before.forEach((v, i) => assert.ok(Math.abs(v - after[i]) < 1e-5, `${v} vs ${after[i]}`));
  const trainer = new SupernetTrainer(net, samples, { totalSteps: 30, batch: 16, randomPerStep: 1, lr: 3e-3, seed: 1 });
  const first = await trainer.step(0);
  let last = first;
  for (let s = 1; s < 30; s++) last = await trainer.step(s);
  assert.ok(last.largest.loss < 0.5 * first.largest.loss, `largest ${first.largest.loss} -> ${last.largest.loss}`);
  assert.ok(last.smallest.loss < 0.8 * first.smallest.loss, `smallest ${first.smallest.loss} -> ${last.smallest.loss}`);
});

test('the training-only op never reaches a .tflite; the deploy graph of a batch-normalised space has no trace of it', () => {
  const arch = sampleArch(MBV2_CIFAR, seededRandom(1), { width: 0.25, resolution: 32 });
  const train = buildSubnet(MBV2_CIFAR, arch, undefined, undefined, { kind: 'train' });
  assert.throws(() => writeTflite(train), (e: unknown) => e instanceof UnsupportedOpError && /BATCH_NORMALIZE at node \d+: not a TFLite builtin/.test(e.message));
  const g = deployGraph(MBV2_CIFAR, arch);
  assert.ok(g.nodes.every((nd) => nd.op !== 'BATCH_NORMALIZE'));
  assert.ok(writeTflite(g).byteLength > 1000);
});
