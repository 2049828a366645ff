import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arraySamples } from '../../src/data/samples.js';
import { makeDataset } from '../../src/data/dataset.js';
import { trainingView } from '../../src/data/training_view.js';
import { CostPool } from '../../src/nas/pool.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { compileTraining } from '../../src/train/compile.js';
import { TrainingSession } from '../../src/train/session.js';
import { seededRandom } from '../../src/util/random.js';
import type { Arch, SpaceConfig } from '../../src/nas/space.js';
import { archKey, sampleArch, subnetShape } from '../../src/nas/space.js';
import { buildSubnet, heInit } from '../../src/nas/subnet_graph.js';
import { Supernet } from '../../src/nas/supernet.js';
import { TINY, colourSamples } from './helpers.js';
import { SupernetTrainer } from '../../src/nas/train_supernet.js';
import { evolve } from '../../src/nas/evolution.js';
import { budgetLimits, screenSubnet } from '../../src/nas/resources.js';


/** TINY with the squeeze-and-excitation choice. */
const TINY_SE: SpaceConfig = { ...TINY, name: 'tiny-se-test', se: true };

function logitsOf(space: SpaceConfig, arch: Arch, net: Supernet, x: Float32Array): Float32Array {
  const it = new Interpreter(buildSubnet(space, arch, net.source()), { backend: 'js' });
  it.setInput(0, new Uint8Array(Float32Array.from(x).buffer));
  it.invoke();
  return new Float32Array(it.output(0).slice().buffer);
}

test('supernet: a subnet\'s kernels are the transformed centre of the shared 7x7, and gradients flow back through slice and transform', () => {
  const net = new Supernet(TINY_SE, 1, 16, 3);
  const rand = seededRandom(5);
  // Non-identity transforms, so the chain is exercised.
  for (const p of net.params.values()) if (p.name.includes('transform')) for (let i = 0; i < p.values.length; i++) p.values[i] += 0.1 * (rand() - 0.5);
  const arch: Arch = { width: 1, resolution: 16, depths: [2, 2], kernels: [3, 5, 7, 3], expands: [3, 6, 3, 6], se: [1, 0, 1, 1] };
  const shape = subnetShape(TINY_SE, arch);
  const src = net.source();
  for (const b of shape.blocks) {
    const layers: [string, number[]][] = [['dw', [1, b.kernel, b.kernel, b.midChannels]], ['project', [b.outChannels, 1, 1, b.midChannels]], ['expand', [b.midChannels, 1, 1, b.inChannels]]];
    if (b.seChannels) layers.push(['se_reduce', [b.seChannels, 1, 1, b.midChannels]], ['se_expand', [b.midChannels, 1, 1, b.seChannels]]);
    for (const [layer, dims] of layers) {
      const name = `s${b.stage}b${b.index}/${layer}/weights`;
      const shapeOf = [...dims];
      const r = Float32Array.from({ length: shapeOf.reduce((a, d) => a * d, 1) }, () => rand() - 0.5);
      const L = () => src({ name, shape: shapeOf, fanIn: 1, kind: 'weights' }).reduce((s, v, i) => s + v * r[i], 0);
      net.zeroGradients();
      net.accumulate(name, shapeOf, r);
      // Every shared tensor this layer reads: compare a few elements with central differences.
      const touched = [...net.params.values()].filter((p) => p.grad.some((g) => g !== 0));
      assert.ok(touched.length >= 1, name);
      for (const p of touched) {
        for (let k = 0; k < 6; k++) {
          const i = Math.floor(rand() * p.values.length);
          const keep = p.values[i];
          const h = 1e-2;
          p.values[i] = keep + h; const up = L();
          p.values[i] = keep - h; const down = L();
          p.values[i] = keep;
          const numeric = (up - down) / (2 * h);
          assert.ok(Math.abs(numeric - p.grad[i]) < 1e-3 * Math.max(1, Math.abs(numeric)), `${name} -> ${p.name}[${i}]: numeric ${numeric}, analytic ${p.grad[i]}`);
        }
      }
      if (layer === 'dw' && b.kernel < 7) assert.ok(touched.some((p) => p.name.includes(`transform${b.kernel}`)), `${name}: the transform learns`);
    }
  }
});

test('supernet: sorting hidden (and squeeze) channels by importance leaves the largest network\'s function unchanged', () => {
  const net = new Supernet(TINY_SE, 1, 16, 9);
  const rand = seededRandom(2);
  for (const p of net.params.values()) if (p.name.endsWith('/weights')) for (let i = 0; i < p.values.length; i++) p.values[i] += 0.05 * (rand() - 0.5);
  const x = Float32Array.from({ length: 16 * 16 * 3 }, () => rand());
  const before = logitsOf(TINY_SE, net.largest(), net, x);
  const smallBefore = logitsOf(TINY_SE, net.smallest(), net, x);
  net.sortChannels();
  const after = logitsOf(TINY_SE, net.largest(), net, x);
  before.forEach((v, i) => assert.ok(Math.abs(v - after[i]) < 1e-5, `${v} vs ${after[i]}`));
  // The smaller subnets now take the most important channels: a different network.
  const smallAfter = logitsOf(TINY_SE, net.smallest(), net, x);
  assert.ok(smallBefore.some((v, i) => Math.abs(v - smallAfter[i]) > 1e-6));
  // Importance is descending in every block.
  for (const b of subnetShape(TINY_SE, net.largest()).blocks) {
    assert.ok(b.seChannels > 0);
    const p = net.params.get(`s${b.stage}b${b.index}/project/weights`)!;
    const M = p.shape[3];
    const imp = Array.from({ length: M }, (_, c) => { let s = 0; for (let o = 0; o < p.shape[0]; o++) s += Math.abs(p.values[o * M + c]); return s; });
    for (let c = 1; c < M; c++) assert.ok(imp[c - 1] >= imp[c]);
  }
});

test('collected gradients are the gradients the engine would apply (SGD at lr 1 moves each weight by minus its gradient)', () => {
  const arch = sampleArch(TINY, seededRandom(4));
  const g = buildSubnet(TINY, arch, heInit(2));
  const x = Float32Array.from({ length: 4 * 16 * 16 * 3 }, (_, i) => ((i * 7919) % 255) / 255);
  const labels = [0, 1, 2, 3];
  const collect = new TrainingSession(compileTraining(g, { kind: 'full' }, { batch: 4 }), { collectGradients: true });
  const sgd = new TrainingSession(compileTraining(g, { kind: 'full' }, { batch: 4, optimizer: { kind: 'sgd', lr: 1 } }));
  const a = collect.step(x, labels);
  const b = sgd.step(x, labels);
  assert.equal(a.loss, b.loss);
  for (const [name, id] of collect.trainedParameters()) {
    const grad = collect.collectedGradient(id)!;
    const before = new Float32Array(g.tensors.find((t) => t.name === name)!.data!.slice().buffer);
    const after = new Float32Array(sgd.program.graph.tensors[id].data!.slice().buffer);
    for (let i = 0; i < grad.length; i += 7) assert.ok(Math.abs(before[i] - after[i] - grad[i]) < 1e-5 * Math.max(1, Math.abs(before[i])), `${name}[${i}]`);
  }
  // The collecting session's own parameters never move.
  const id = [...collect.trainedParameters().values()][0];
  assert.deepEqual(collect.program.graph.tensors[id].data, compileTraining(g, { kind: 'full' }, { batch: 4 }).graph.tensors[id].data);
});

test('sandwich training lowers the loss of the largest and the smallest subnets on a small set', async () => {
  const { x, labels } = colourSamples(32, 8);
  const net = new Supernet(TINY, 1, 16, 1);
  const trainer = new SupernetTrainer(net, arraySamples(x, labels, 4), { totalSteps: 40, batch: 16, randomPerStep: 1, lr: 3e-3, seed: 1 });
  const first = await trainer.step(0);
  let last = first;
  for (let s = 1; s < 40; s++) last = await trainer.step(s);
  assert.ok(last.largest.loss < 0.6 * first.largest.loss, `largest ${first.largest.loss} -> ${last.largest.loss}`);
  assert.ok(last.smallest.loss < 0.8 * first.smallest.loss, `smallest ${first.smallest.loss} -> ${last.smallest.loss}`);
  // A checkpoint restores the same network.
  const { meta, data } = net.serialise();
  const copy = new Supernet(TINY, 1, 16, 99);
  copy.restore(meta, data);
  const probe = x.subarray(0, 768);
  assert.deepEqual(logitsOf(TINY, net.largest(), copy, probe), logitsOf(TINY, net.largest(), net, probe));
  assert.throws(() => new Supernet(TINY, 1, 16, 1).restore({ ...meta, width: 0.5 }, data), /checkpoint is for/);
});

test('evolution keeps every candidate within the limits, returns the best it scored, and resumes to the same result', async () => {
  const limits = budgetLimits(24 * 1024, 64 * 1024, { maxMacs: 2_000_000 });
  const cost = async (archs: Arch[]) => archs.map((a) => screenSubnet(TINY, a, limits));
  // A synthetic score that prefers 5x5 kernels and big expand ratios: evolution has a gradient to climb.
  const one = (a: Arch) => a.kernels.filter((k) => k === 5).length + 0.5 * a.expands.filter((e) => e === 6).length + 0.01 * a.depths[1];
  const score = async (archs: Arch[]) => archs.map(one);
  const o = { population: 8, generations: 5, seed: 3 };
  const full = await evolve(TINY, { width: 1, resolution: 16 }, { cost, score }, o);
  assert.ok(full.history.every((c) => c.cost.fits && c.cost.macs <= 2_000_000));
  assert.equal(full.best.score, Math.max(...full.history.map((c) => c.score)));
  const first = full.history.slice(0, 8);
  assert.ok(full.best.score >= Math.max(...first.map((c) => c.score)));
  let saved: { generation: number; population: typeof first } | null = null;
  await evolve(TINY, { width: 1, resolution: 16 }, { cost, score, onGeneration: (g, _b, pop) => { if (g === 2) saved = { generation: g, population: [...pop] }; } }, { ...o, generations: 2 });
  const resumed = await evolve(TINY, { width: 1, resolution: 16 }, { cost, score, resume: saved! }, o);
  assert.equal(archKey(TINY, resumed.best.arch), archKey(TINY, full.best.arch));
});

test('data-parallel supernet training in two worker threads gives the one-thread result (within float rounding)', async () => {
  const rand = seededRandom(12);
  const n = 16;
  const pixels = Uint8Array.from({ length: n * 16 * 16 * 3 }, () => Math.floor(rand() * 256));
  const labels = Int32Array.from({ length: n }, (_, i) => i % 4);
  const ds = makeDataset({ source: 'test', count: n, height: 16, width: 16, channels: 3, pixels, labels, classNames: ['a', 'b', 'c', 'd'] });
  const opts = { totalSteps: 10, batch: 8, randomPerStep: 1, seed: 2 };
  const nets: Supernet[] = [];
  for (const workers of [1, 2]) {
    const net = new Supernet(TINY, 1, 16, 4);
    const trainer = new SupernetTrainer(net, trainingView(ds, { range: [0, 1] }), opts);
    const pool = new CostPool(workers);
    try {
      const executor = await pool.attachTraining(net, ds, [0, 1], opts);
      assert.equal(executor === null, workers === 1);
      for (let s = 0; s < 3; s++) await trainer.step(s, executor ?? undefined);
    } finally {
      await pool.close();
    }
    nets.push(net);
  }
  for (const [name, p] of nets[0].params) {
    const q = nets[1].params.get(name)!.values;
    p.values.forEach((v, i) => assert.ok(Math.abs(v - q[i]) < 1e-4 * Math.max(1, Math.abs(v)), `${name}[${i}]: ${v} vs ${q[i]}`));
  }
});
