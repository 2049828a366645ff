import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Graph } from '../../src/graph/graph.js';
import { numElements } from '../../src/graph/graph.js';
import { buildMobileNetV2 } from '../../src/models/mobilenet_v2.js';
import type { MobileNetV2Config } from '../../src/models/mobilenet_v2.js';
import { compileTraining } from '../../src/train/compile.js';
import type { CompileOptions, TrainStep } from '../../src/train/program.js';
import { TrainingSession } from '../../src/train/session.js';
import { layersOf } from '../../src/train/graph_prep.js';
import { planTraining } from '../../src/train/index.js';
import { parseUpdateSpec as parseUpdate } from '../../src/train/update.js';
import type { UpdateSpec } from '../../src/train/update.js';
import { randomFloats, rng } from './helpers.js';

/** A MobileNetV2 small enough to train a few steps in a test. */
const SMALL: MobileNetV2Config = {
  name: 'mbv2-test', inputSize: 16, inputChannels: 3, classes: 4, stem: 4,
  stages: [{ t: 1, c: 4, n: 1, s: 1 }, { t: 3, c: 8, n: 2, s: 2 }], head: 16, seed: 5,
};

function backwardSteps(steps: TrainStep[]): Extract<TrainStep, { kind: 'backward' }>[] {
  return steps.filter((s): s is Extract<TrainStep, { kind: 'backward' }> => s.kind === 'backward');
}

/** Train `steps` steps from the same start; the trained constants' bytes. */
function trainedBytes(g: Graph, update: UpdateSpec, opts: CompileOptions, layout: 'planned' | 'separate', steps = 2): Uint8Array[] {
  const program = compileTraining(g, update, { batch: 2, optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 }, ...opts });
  const session = new TrainingSession(program, { layout, seed: 3 });
  const r = rng(9);
  for (let s = 0; s < steps; s++) session.step(randomFloats(r, 2 * 16 * 16 * 3), [s % 4, (s + 1) % 4]);
  return program.base.tensors.filter((t) => t.data).map((t) => t.data!);
}

test('pruning: no gradient computation for frozen weights, backprop stops at the earliest trained layer', () => {
  const g = buildMobileNetV2(SMALL);
  const layers = layersOf(g);
  const spec = parseUpdate('sparse:3:-2@0.5');
  const program = compileTraining(g, spec);
  const trained = new Set(program.update.params.map((p) => p.tensor));
  const bw = backwardSteps(program.steps);
  for (const s of bw) if ('param' in s.op) assert.ok(trained.has(s.op.param), `${s.label} computes a gradient of a frozen parameter`);
  const earliest = layers[layers.length - 3];
  for (const s of bw) assert.ok(s.op.node >= earliest.node, `${s.label} runs before the earliest trained layer`);
  assert.ok(!bw.some((s) => s.op.node === earliest.node && s.op.op.endsWith('_input')), 'no input gradient of the earliest trained layer');
  // Weight updates only where asked: one layer, half its input channels.
  const weights = program.update.params.filter((p) => p.role === 'weight');
  assert.equal(weights.length, 1);
  assert.equal(weights[0].channels!.length, layers[layers.length - 2].inChannels / 2);
  // Without pruning every weight gradient is computed (and dropped), down to the input.
  const all = compileTraining(g, spec, { prune: false });
  assert.equal(backwardSteps(all.steps).filter((s) => s.op.op.endsWith('_weight')).length, layers.length);
});

test('prune, reorder and compact saves change memory, never the trained weights', () => {
  const g = buildMobileNetV2(SMALL);
  const spec = parseUpdate('sparse:6:-1@1,-3@0.5,-5@0.25');
  const reference = trainedBytes(g, spec, {}, 'separate');
  const base = planTraining(g, spec).peakBytes;
  for (const off of [{ prune: false }, { reorder: false }, { compactSaves: false }] as CompileOptions[]) {
    const name = Object.keys(off)[0];
    assert.deepEqual(trainedBytes(g, spec, off, 'separate'), reference, `${name} off changed the result`);
    const peak = planTraining(g, spec, off).peakBytes;
    assert.ok(peak > base, `${name} off: ${peak} bytes, expected more than ${base}`);
  }
});

test('a step run inside the planned arena gives the result of every buffer apart (the lifetimes are right)', () => {
  const g = buildMobileNetV2(SMALL);
  for (const spec of ['full', 'bias', 'sparse:5:-1@1,-2@0.25,-4@0.5', 'last-k:3']) {
    for (const opts of [{}, { reorder: false }, { compactSaves: false }] as CompileOptions[]) {
      assert.deepEqual(trainedBytes(g, parseUpdate(spec), opts, 'planned', 3), trainedBytes(g, parseUpdate(spec), opts, 'separate', 3), `${spec} ${JSON.stringify(opts)}`);
    }
  }
});

test('memory: biases < weights and biases of the same layers < full; sparse below last-k', () => {
  const g = buildMobileNetV2();
  const peak = (s: string) => planTraining(g, parseUpdate(s)).peakBytes;
  assert.ok(peak('bias:1') < peak('last'), 'last-layer bias < last layer');
  assert.ok(peak('last') < peak('full'));
  assert.ok(peak('bias') < peak('full'));
  assert.ok(peak('bias:6') < peak('last-k:6'));
  assert.ok(peak('sparse:6:-1@1,-4@0.25') < peak('last-k:6'));
  const full = planTraining(g, { kind: 'full' });
  // Every trained element sits in SRAM: the full update holds all float weights.
  const weights = layersOf(g).reduce((s, l) => s + numElements(g.tensors[l.weight].shape) + numElements(g.tensors[l.bias].shape), 0);
  assert.equal(full.totals.parameter, 4 * weights);
  assert.ok(full.peakBytes >= full.lowerBound && full.lowerBound >= full.atPeak.parameter);
  // Optimizer state is counted: Adam holds two float32 values per trained element.
  const adam = planTraining(g, { kind: 'full' }, { optimizer: { kind: 'adam', lr: 1e-3 } });
  assert.equal(adam.totals.optimizer, 2 * 4 * weights);
});

test('the backward schedule is static: the same program twice is the same step list', () => {
  const g = buildMobileNetV2(SMALL);
  const a = compileTraining(g, { kind: 'full' }).steps.map((s) => s.label);
  const b = compileTraining(g, { kind: 'full' }).steps.map((s) => s.label);
  assert.deepEqual(a, b);
  // Each weight update follows its own gradient immediately: fused into the gradient step (no update steps).
  assert.equal(compileTraining(g, { kind: 'full' }).steps.filter((s) => s.kind === 'update').length, 0);
  assert.ok(compileTraining(g, { kind: 'full' }, { reorder: false }).steps.filter((s) => s.kind === 'update').length > 0);
});
