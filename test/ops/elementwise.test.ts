/**
 * ADD, SUB, MUL and the broadcasting helper on hand-built graphs, against slow references written from
 * TFLite's reference kernels in BigInt (fixedpoint_ref.ts) with a naive N-D index walk for broadcasting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Activation } from '../../src/graph/options.js';
import { quantizeMultiplier, roundHalfAway } from '../../src/quant/fixedpoint.js';
import { forEachRun, planBroadcast } from '../../src/ops/broadcast.js';
import { UnsupportedOpError } from '../../src/errors.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { mbqm, naiveBroadcastOffsets } from './fixedpoint_ref.js';
import { constant, oneNodeGraph, randomInt8, rng, runGraph } from './harness.js';

const SHAPES: Array<[number[], number[]]> = [
  [[1, 4, 4, 8], [1, 4, 4, 8]],
  [[1, 4, 4, 8], [1, 1, 1, 8]], // squeeze-and-excitation
  [[1, 1, 1, 8], [1, 4, 4, 8]],
  [[1, 5, 3, 6], [1, 5, 3, 1]],
  [[2, 3, 4], []], // scalar
  [[1], [3, 2]],
  [[2, 1, 3], [4, 1]],
  [[1, 2, 3, 4, 5], [1, 2, 1, 4, 1]], // 5-D
  [[3, 1, 2, 1, 2, 2], [1, 4, 1, 3, 1, 1]], // 6-D
  [[0, 3], [1, 3]], // empty
];

const ACTS: Activation[] = ['NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1'];

function actRange(act: Activation, scale: number, zp: number): [number, number] {
  const q = (f: number) => zp + roundHalfAway(Math.fround(f / Math.fround(scale)));
  switch (act) {
    case 'RELU': return [Math.max(-128, q(0)), 127];
    case 'RELU6': return [Math.max(-128, q(0)), Math.min(127, q(6))];
    case 'RELU_N1_TO_1': return [Math.max(-128, q(-1)), Math.min(127, q(1))];
    default: return [-128, 127];
  }
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

interface Q { scale: number; zp: number }

function randomQ(r: () => number): Q {
  return { scale: Math.fround(0.005 + r() * 0.2), zp: Math.floor(r() * 256) - 128 };
}

/** reference_integer_ops AddFunc / reference_ops SubElementwise, with add_common.cc / sub_common.cc set-up. */
function addSubRef(x: number, y: number, q0: Q, q1: Q, qo: Q, act: Activation, isSub: boolean): number {
  const f = Math.fround;
  let r0: number; let r1: number; let ro: number;
  if (isSub) {
    const tw = f(2 * Math.max(q0.scale, q1.scale));
    r0 = f(q0.scale / tw); r1 = f(q1.scale / tw); ro = f(tw / f((1 << 20) * qo.scale));
  } else {
    const tw = 2 * Math.max(q0.scale, q1.scale);
    r0 = q0.scale / tw; r1 = q1.scale / tw; ro = tw / ((1 << 20) * qo.scale);
  }
  const m0 = quantizeMultiplier(r0); const m1 = quantizeMultiplier(r1); const mo = quantizeMultiplier(ro);
  const s0 = mbqm((x - q0.zp) * (1 << 20), m0.multiplier, m0.shift);
  const s1 = mbqm((y - q1.zp) * (1 << 20), m1.multiplier, m1.shift);
  const raw = isSub ? s0 - s1 : s0 + s1;
  const [lo, hi] = actRange(act, qo.scale, qo.zp);
  return clamp(mbqm(raw, mo.multiplier, mo.shift) + qo.zp, lo, hi);
}

function mulRef(x: number, y: number, q0: Q, q1: Q, qo: Q, act: Activation): number {
  const m = quantizeMultiplier(q0.scale * q1.scale / qo.scale);
  const [lo, hi] = actRange(act, qo.scale, qo.zp);
  return clamp(mbqm((x - q0.zp) * (y - q1.zp), m.multiplier, m.shift) + qo.zp, lo, hi);
}

for (const op of ['ADD', 'SUB', 'MUL'] as const) {
  test(`${op} int8 equals the reference over broadcast shapes, activations and random quantisation`, () => {
    const r = rng(op.length * 7 + op.charCodeAt(0));
    let checked = 0;
    for (const [s0, s1] of SHAPES) {
      for (const act of ACTS) {
        const q0 = randomQ(r); const q1 = randomQ(r);
        // MUL: sometimes make in0*in1/out >= 1 (version 3's rescale above one).
        const qo = op === 'MUL' && r() < 0.5 ? { scale: Math.fround(q0.scale * q1.scale / (1 + 3 * r())), zp: Math.floor(r() * 256) - 128 } : randomQ(r);
        const { out: outShape, o0, o1 } = naiveBroadcastOffsets(s0, s1);
        const n0 = s0.reduce((a, b) => a * b, 1); const n1 = s1.reduce((a, b) => a * b, 1);
        const a = randomInt8(r, n0); const b = randomInt8(r, n1);
        const g = oneNodeGraph(op, { activation: act }, [
          { shape: s0, dtype: 'int8', scale: q0.scale, zeroPoint: q0.zp },
          { shape: s1, dtype: 'int8', scale: q1.scale, zeroPoint: q1.zp },
        ], { shape: outShape, dtype: 'int8', scale: qo.scale, zeroPoint: qo.zp }, 2);
        const got = runGraph(g, [a, b]);
        const want = o0.map((i, k) => op === 'MUL'
          ? mulRef(a[i], b[o1[k]], q0, q1, qo, act)
          : addSubRef(a[i], b[o1[k]], q0, q1, qo, act, op === 'SUB'));
        assert.deepEqual(got, want, `${op} ${JSON.stringify([s0, s1])} ${act}`);
        checked += want.length;
      }
    }
    assert.ok(checked > 1000);
  });

  test(`${op} float32 equals float arithmetic, with broadcasting and a fused activation`, () => {
    const r = rng(99 + op.charCodeAt(1));
    for (const [s0, s1] of SHAPES) {
      for (const act of ACTS) {
        const { out: outShape, o0, o1 } = naiveBroadcastOffsets(s0, s1);
        const a = Array.from({ length: s0.reduce((x, y) => x * y, 1) }, () => Math.fround((r() - 0.5) * 20));
        const b = Array.from({ length: s1.reduce((x, y) => x * y, 1) }, () => Math.fround((r() - 0.5) * 20));
        const g = oneNodeGraph(op, { activation: act }, [{ shape: s0, dtype: 'float32' }, { shape: s1, dtype: 'float32' }],
          { shape: outShape, dtype: 'float32' });
        const [lo, hi] = act === 'RELU' ? [0, Infinity] : act === 'RELU6' ? [0, 6] : act === 'RELU_N1_TO_1' ? [-1, 1] : [-Infinity, Infinity];
        const f = (x: number, y: number) => Math.fround(op === 'ADD' ? x + y : op === 'SUB' ? x - y : x * y);
        assert.deepEqual(runGraph(g, [a, b]), o0.map((i, k) => clamp(f(a[i], b[o1[k]]), lo, hi)));
      }
    }
  });
}

test('ADD with a constant operand (a bias-like [C] vector) broadcasts it', () => {
  const q: Q = { scale: 0.05, zp: 3 };
  const c = [1, -2, 3, -4];
  const g = oneNodeGraph('ADD', { activation: 'NONE' }, [
    { shape: [1, 2, 2, 4], dtype: 'int8', scale: q.scale, zeroPoint: q.zp },
    constant({ shape: [4], dtype: 'int8', scale: q.scale, zeroPoint: q.zp }, c),
  ], { shape: [1, 2, 2, 4], dtype: 'int8', scale: q.scale, zeroPoint: q.zp }, 2);
  const x = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
  assert.deepEqual(runGraph(g, [x]), x.map((v, i) => addSubRef(v, c[i % 4], q, q, q, 'NONE', false)));
});

test('ADD in place (output over input 0) gives the same bytes, also with input 1 broadcast', () => {
  const r = rng(5);
  const q0 = randomQ(r); const q1 = randomQ(r); const qo = randomQ(r);
  const g = oneNodeGraph('ADD', { activation: 'RELU' }, [
    { shape: [1, 3, 3, 8], dtype: 'int8', scale: q0.scale, zeroPoint: q0.zp },
    { shape: [1, 1, 1, 8], dtype: 'int8', scale: q1.scale, zeroPoint: q1.zp },
  ], { shape: [1, 3, 3, 8], dtype: 'int8', scale: qo.scale, zeroPoint: qo.zp }, 2);
  const a = randomInt8(r, 72); const b = randomInt8(r, 8);
  assert.deepEqual(runGraph(g, [a, b], new Map([[2, 0]])), runGraph(g, [a, b]));
});

test('broadcast plans merge dimensions: same shape is one run, SE is H*W runs of C, scalar has stride 0', () => {
  const same = planBroadcast([1, 8, 8, 16], [1, 8, 8, 16], 'test');
  assert.equal(same.elementwise, true);
  assert.equal(same.runLength, 1024);
  const se = planBroadcast([1, 8, 8, 16], [1, 1, 1, 16], 'test');
  assert.deepEqual([se.runLength, se.stride0, se.stride1, Array.from(se.outerExtents), Array.from(se.outerStrides1)], [16, 1, 1, [64], [0]]);
  const scalar = planBroadcast([2, 3, 4], [1], 'test');
  assert.deepEqual([scalar.runLength, scalar.stride0, scalar.stride1, scalar.outerExtents.length], [24, 1, 0, 0]);
  assert.throws(() => planBroadcast([2, 3], [4, 3], 'node 7 (ADD)'), /do not broadcast/);
});

test('forEachRun visits exactly the offsets of a naive N-D walk', () => {
  for (const [s0, s1] of SHAPES) {
    const plan = planBroadcast(s0, s1, 'test');
    const { o0, o1 } = naiveBroadcastOffsets(s0, s1);
    const got0: number[] = []; const got1: number[] = []; const gotOut: number[] = [];
    for (let rep = 0; rep < 2; rep++) { // the odometer must reset between invocations
      got0.length = 0; got1.length = 0; gotOut.length = 0;
      forEachRun(plan, (a, b, o, len) => {
        for (let k = 0; k < len; k++) { got0.push(a + k * plan.stride0); got1.push(b + k * plan.stride1); gotOut.push(o + k); }
      });
      assert.deepEqual(got0, o0, JSON.stringify([s0, s1]));
      assert.deepEqual(got1, o1);
      assert.deepEqual(gotOut, o0.map((_, i) => i));
    }
  }
});

test('binary ops refuse dtypes they do not implement, at prepare time', () => {
  for (const dtype of ['uint8', 'bool'] as const) {
    const g = oneNodeGraph('ADD', { activation: 'NONE' }, [
      { shape: [4], dtype, scale: 0.1, zeroPoint: 0 }, { shape: [4], dtype, scale: 0.1, zeroPoint: 0 },
    ], { shape: [4], dtype, scale: 0.1, zeroPoint: 0 });
    assert.throws(() => runGraph(g, [[0, 0, 0, 0], [0, 0, 0, 0]]), (e: unknown) => e instanceof UnsupportedOpError && /ADD at node 0/.test(e.message));
  }
  const perChannel = oneNodeGraph('MUL', { activation: 'NONE' }, [
    { shape: [1, 2], dtype: 'int8', scale: [0.1, 0.2], zeroPoint: [0, 0] }, { shape: [1, 2], dtype: 'int8', scale: 0.1, zeroPoint: 0 },
  ], { shape: [1, 2], dtype: 'int8', scale: 0.1, zeroPoint: 0 });
  assert.throws(() => runGraph(perChannel, [[0, 0], [0, 0]]), /per-channel/);
  const tanhAct = oneNodeGraph('ADD', { activation: 'TANH' }, [
    { shape: [2], dtype: 'int8', scale: 0.1, zeroPoint: 0 }, { shape: [2], dtype: 'int8', scale: 0.1, zeroPoint: 0 },
  ], { shape: [2], dtype: 'int8', scale: 0.1, zeroPoint: 0 });
  assert.throws(() => runGraph(tanhAct, [[0, 0], [0, 0]]), UnsupportedOpError);
});

test('the interpreter refuses ADD version 4 (int64) before running anything', () => {
  const g = oneNodeGraph('ADD', { activation: 'NONE' }, [
    { shape: [2], dtype: 'int8', scale: 0.1, zeroPoint: 0 }, { shape: [2], dtype: 'int8', scale: 0.1, zeroPoint: 0 },
  ], { shape: [2], dtype: 'int8', scale: 0.1, zeroPoint: 0 }, 4);
  assert.throws(() => new Interpreter(g), /op version 4/);
});
