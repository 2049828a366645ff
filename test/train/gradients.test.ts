import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Graph } from '../../src/graph/graph.js';
import { numElements } from '../../src/graph/graph.js';
import { compileTraining } from '../../src/train/compile.js';
import { TrainingSession } from '../../src/train/session.js';
import { paramLayout } from '../../src/train/optimizer.js';
import { GRADIENT_RULES } from '../../src/train/gradients.js';
import { Net, meanLoss, perturbed, randomFloats, rng, unitDirection } from './helpers.js';

/*
 * Every gradient rule against central finite differences of the loss (softmax cross-entropy), along
 * random unit directions in each parameter and in the input: small random float graphs, batch 2.
 */

/** Step sizes tried in turn: a ReLU kink crossed by the larger step is not crossed by the smaller one. */
const EPS = [1e-3, 2.5e-4];

function gradCheck(g: Graph, seed: number): number {
  const r = rng(seed);
  const inputId = g.inputs[0];
  const x = randomFloats(r, numElements(g.tensors[inputId].shape));
  const B = g.tensors[inputId].shape[0];
  const classes = g.tensors[g.outputs[0]].shape[1];
  const labels = Array.from({ length: B }, () => Math.floor(r() * classes));
  const program = compileTraining(g, { kind: 'full' }, { reorder: false, inputGradient: true, optimizer: { kind: 'sgd', lr: 0 }, rounding: 'nearest' });
  const session = new TrainingSession(program, { layout: 'separate' });
  const base = meanLoss(g, x, labels);
  const step = session.step(x, labels);
  assert.ok(Math.abs(step.loss - base) < 1e-4 * Math.max(1, base), `training forward loss ${step.loss} vs inference ${base}`);
  let checked = 0;
  const compare = (what: string, analytic: number, fdAt: (eps: number) => number) => {
    const fds: number[] = [];
    for (const eps of EPS) {
      const fd = fdAt(eps);
      fds.push(fd);
      if (Math.abs(analytic - fd) <= 1e-2 * Math.max(Math.abs(analytic), Math.abs(fd)) + 1e-4) { checked++; return; }
    }
    assert.fail(`${what}: analytic ${analytic} vs finite differences ${fds.join(', ')}`);
  };
  for (const p of program.update.params) {
    const grad = session.gradientOf(p.tensor)!;
    const { index } = paramLayout(program.graph, p);
    const n = numElements(g.tensors[p.tensor].shape);
    for (let k = 0; k < 2; k++) {
      const v = unitDirection(r, n);
      let analytic = 0;
      for (let e = 0; e < grad.length; e++) analytic += grad[e] * v[index[e]];
      compare(`${g.tensors[p.tensor].name}`, analytic, (eps) => (meanLoss(perturbed(g, p.tensor, v, eps), x, labels) - meanLoss(perturbed(g, p.tensor, v, -eps), x, labels)) / (2 * eps));
    }
  }
  const gx = session.gradientOf(inputId)!;
  for (let k = 0; k < 2; k++) {
    const v = unitDirection(r, x.length);
    let analytic = 0;
    for (let i = 0; i < x.length; i++) analytic += gx[i] * v[i];
    const at = (eps: number) => meanLoss(g, x.map((xi, i) => xi + eps * v[i]), labels);
    compare('input', analytic, (eps) => (at(eps) - at(-eps)) / (2 * eps));
  }
  return checked;
}

const cases: Record<string, (seed: number) => Graph> = {
  'CONV_2D 3x3 stride 2 SAME + RELU6': (seed) => {
    const n = new Net(rng(seed));
    const x = n.input([2, 5, 5, 3]);
    const c = n.conv(x, [2, 5, 5, 3], 4, 3, 3, { stride: 2, act: 'RELU6' });
    return n.finish(c.y, c.shape);
  },
  'CONV_2D 2x3 VALID dilation 2': (seed) => {
    const n = new Net(rng(seed));
    const x = n.input([2, 6, 7, 2]);
    const c = n.conv(x, [2, 6, 7, 2], 3, 2, 3, { padding: 'VALID', dilation: 2 });
    return n.finish(c.y, c.shape);
  },
  'DEPTHWISE_CONV_2D multiplier 2 stride 2 + RELU': (seed) => {
    const n = new Net(rng(seed));
    const x = n.input([2, 5, 5, 3]);
    const c = n.depthwise(x, [2, 5, 5, 3], 2, { stride: 2, act: 'RELU' });
    return n.finish(c.y, c.shape);
  },
  'FULLY_CONNECTED + RELU, FULLY_CONNECTED': (seed) => {
    const n = new Net(rng(seed));
    const x = n.input([2, 12]);
    const h = n.fc(x, 2, 12, 8, 'RELU');
    const o = n.fc(h.y, 2, 8, 5);
    return n.finish(o.y, o.shape);
  },
  'FULLY_CONNECTED flattening a 4-D input': (seed) => {
    const n = new Net(rng(seed));
    const x = n.input([2, 2, 2, 3]);
    const c = n.conv(x, [2, 2, 2, 3], 3, 1, 1, { act: 'RELU' });
    const o = n.fc(c.y, 2, 12, 4);
    return n.finish(o.y, o.shape);
  },
  'ADD (broadcast, fused RELU), SUB, MEAN keep_dims, fan-out': (seed) => {
    const n = new Net(rng(seed));
    const x = n.input([2, 4, 4, 3]);
    const a = n.conv(x, [2, 4, 4, 3], 4, 1, 1);
    const b = n.conv(x, [2, 4, 4, 3], 4, 3, 3);
    const m = n.mean(b.y, b.shape, [1, 2], true);
    const s = n.binary('ADD', a.y, m.y, a.shape, 'RELU');
    const d = n.binary('SUB', s, a.y, a.shape);
    return n.finish(d, a.shape);
  },
  'MUL (broadcast, and x * x)': (seed) => {
    const n = new Net(rng(seed));
    const x = n.input([2, 3, 3, 4]);
    const a = n.conv(x, [2, 3, 3, 4], 4, 1, 1);
    const m = n.mean(a.y, a.shape, [1, 2], true);
    const y = n.binary('MUL', a.y, m.y, a.shape);
    const z = n.binary('MUL', y, y, a.shape);
    return n.finish(z, a.shape);
  },
  'AVERAGE_POOL_2D and MAX_POOL_2D with partial windows': (seed) => {
    const n = new Net(rng(seed));
    const x = n.input([2, 5, 5, 3]);
    const c = n.conv(x, [2, 5, 5, 3], 4, 3, 3);
    const a = n.pool('AVERAGE_POOL_2D', c.y, c.shape, 2, 2, 'SAME');
    const m = n.pool('MAX_POOL_2D', a.y, a.shape, 2, 1, 'SAME');
    return n.finish(m.y, m.shape);
  },
  'RELU, RELU6, LOGISTIC, TANH': (seed) => {
    const n = new Net(rng(seed));
    const x = n.input([2, 3, 3, 4]);
    const c = n.conv(x, [2, 3, 3, 4], 4, 3, 3);
    const r1 = n.unary('RELU', c.y, c.shape);
    const c2 = n.conv(r1, c.shape, 4, 1, 1);
    const scaled = n.binary('ADD', c2.y, c2.y, c.shape);
    const r6 = n.unary('RELU6', scaled, c.shape);
    const s = n.unary('LOGISTIC', r6, c.shape);
    const c3 = n.conv(s, c.shape, 4, 1, 1);
    const t = n.unary('TANH', c3.y, c.shape);
    return n.finish(t, c.shape);
  },
  'MEAN, SOFTMAX inside, SQUEEZE, RESHAPE': (seed) => {
    const n = new Net(rng(seed));
    const x = n.input([2, 4, 4, 3]);
    const c = n.conv(x, [2, 4, 4, 3], 5, 3, 3, { act: 'RELU' });
    const m = n.mean(c.y, c.shape, [1, 2], false);
    const sm = n.softmax(m.y, [2, 5], 2);
    const p = n.pool('AVERAGE_POOL_2D', c.y, c.shape, 4, 1, 'VALID');
    const sq = n.squeeze(p.y, [2, 5], [1, 2]);
    const sum = n.binary('MUL', sm, sq, [2, 5]);
    const f = n.fc(sum, 2, 5, 4);
    return n.finish(f.y, f.shape);
  },
  'inverted residual block (expand, depthwise, project, ADD)': (seed) => {
    const n = new Net(rng(seed));
    const x = n.input([2, 6, 6, 4]);
    const e = n.conv(x, [2, 6, 6, 4], 8, 1, 1, { act: 'RELU6' });
    const d = n.depthwise(e.y, e.shape, 1, { act: 'RELU6' });
    const p = n.conv(d.y, d.shape, 4, 1, 1);
    const s = n.binary('ADD', x, p.y, [2, 6, 6, 4]);
    const pool = n.pool('AVERAGE_POOL_2D', s, [2, 6, 6, 4], 6, 1, 'VALID');
    const flat = n.reshape(pool.y, [2, 4]);
    const f = n.fc(flat, 2, 4, 3);
    return n.finish(f.y, f.shape);
  },
  'BATCH_NORMALIZE after CONV_2D, scale and shift as a 1x1 DEPTHWISE + RELU6 (batch statistics)': (seed) => {
    const n = new Net(rng(seed));
    const x = n.input([2, 4, 4, 3]);
    const c = n.conv(x, [2, 4, 4, 3], 4, 3, 3);
    const normed = n.b.tensor('normalised', c.shape, 'float32');
    n.b.node('BATCH_NORMALIZE', [c.y], [normed], { epsilon: 1e-3 });
    const d = n.depthwise(normed, c.shape, 1, { k: 1, act: 'RELU6' });
    return n.finish(d.y, d.shape);
  },
};

for (const [name, make] of Object.entries(cases)) {
  test(`gradient check: ${name}`, () => {
    for (const seed of [1, 2]) assert.ok(gradCheck(make(seed), seed * 31) > 0);
  });
}

test('every rule in the table is exercised by a gradient check', () => {
  const covered = new Set<string>();
  for (const make of Object.values(cases)) for (const n of make(1).nodes) covered.add(n.op);
  for (const op of Object.keys(GRADIENT_RULES)) assert.ok(covered.has(op), `no gradient check covers ${op}`);
});
