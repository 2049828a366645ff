import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { Graph } from '../../src/graph/graph.js';
import { UnsupportedOpError } from '../../src/errors.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { OPS } from '../../src/ops/registry.js';
import { multiplyByQuantizedMultiplier, quantizeMultiplier } from '../../src/quant/fixedpoint.js';
import { asFloat32, asInt8, bytes, q, randFloat, randInt8, rng, run } from './conv_harness.js';

/*
 * MEAN against TFLite Micro's reference: the axes resolved (negatives wrapped, duplicates dropped), int8
 * through QuantizedMeanOrSum's integer requantisation with 1/count folded into the multiplier (64-bit
 * here via BigInt), float32 as a float32 running sum divided by the count. The int8 result is also
 * checked against the real-valued mean to within one step.
 */

interface MeanCase { shape: number[]; axes: number[]; keepDims: boolean; inScale: number; inZp: number; outScale: number; outZp: number }

function randomCase(r: ReturnType<typeof rng>): MeanCase {
  const rank = r.int(1, 4);
  const shape = Array.from({ length: rank }, () => r.int(1, 6));
  const axes: number[] = [];
  for (let i = r.int(1, rank + 1); i > 0; i--) {
    const a = r.int(0, rank - 1);
    axes.push(r.int(0, 1) ? a - rank : a); // negative spellings and duplicates on purpose
  }
  const same = r.int(0, 2) === 0;
  const inScale = Math.fround(r.float(0.01, 0.1));
  const inZp = r.int(-128, 127);
  return { shape, axes, keepDims: r.int(0, 1) === 1, inScale, inZp, outScale: same ? inScale : Math.fround(r.float(0.005, 0.1)), outZp: same ? inZp : r.int(-128, 127) };
}

function resolved(c: MeanCase): number[] {
  const rank = c.shape.length;
  return [...new Set(c.axes.map((a) => (a < 0 ? a + rank : a)))];
}

function outShape(c: MeanCase): number[] {
  const red = resolved(c);
  return c.shape.flatMap((d, i) => (red.includes(i) ? (c.keepDims ? [1] : []) : [d]));
}

function build(c: MeanCase, dtype: 'int8' | 'float32'): Graph {
  const int8 = dtype === 'int8';
  const gb = new GraphBuilder('mean');
  const x = gb.tensor('x', c.shape, dtype, int8 ? q(c.inScale, c.inZp) : null);
  const ax = gb.constant('axes', [c.axes.length], 'int32', Int32Array.from(c.axes));
  const y = gb.tensor('y', outShape(c), dtype, int8 ? q(c.outScale, c.outZp) : null);
  gb.node('MEAN', [x, ax], [y], { keepDims: c.keepDims }, int8 ? 2 : 1);
  return gb.input(x).output(y).build();
}

/** Sum over the reduced axes: entry per output element, in output order (input visited in row-major order). */
function groupedSums(c: MeanCase, x: ArrayLike<number>, add: (s: number, v: number) => number): { sums: number[]; count: number } {
  const red = resolved(c);
  const kept = c.shape.map((_, i) => i).filter((i) => !red.includes(i));
  const outCount = kept.reduce((a, i) => a * c.shape[i], 1);
  const sums = new Array<number>(outCount).fill(0);
  const idx = c.shape.map(() => 0);
  for (let i = 0; i < x.length; i++) {
    let o = 0;
    for (const k of kept) o = o * c.shape[k] + idx[k];
    sums[o] = add(sums[o], x[i]);
    for (let d = c.shape.length - 1; d >= 0; d--) {
      if (++idx[d] < c.shape[d]) break;
      idx[d] = 0;
    }
  }
  return { sums, count: red.reduce((a, i) => a * c.shape[i], 1) };
}

function refInt8(c: MeanCase, x: Int8Array): number[] {
  const { sums, count } = groupedSums(c, x, (s, v) => s + v);
  const base = quantizeMultiplier(c.inScale / c.outScale);
  let shift = 63 - (64 - count.toString(2).length); // 63 - CountLeadingZeros(uint64 count)
  shift = Math.min(shift, 32, 31 + base.shift);
  const multiplier = Number((BigInt(base.multiplier) << BigInt(shift)) / BigInt(count));
  return sums.map((s) => Math.min(127, Math.max(-128, multiplyByQuantizedMultiplier(s - c.inZp * count, multiplier, base.shift - shift) + c.outZp)));
}

test('MEAN int8: 300 random ranks, axis lists (negative, repeated), keep_dims, equal or different quantisation', () => {
  const r = rng(41);
  for (let i = 0; i < 300; i++) {
    const c = randomCase(r);
    const x = randInt8(r, c.shape.reduce((a, b) => a * b, 1));
    const got = Array.from(asInt8(run(build(c, 'int8'), [bytes(x)])));
    const want = refInt8(c, x);
    assert.deepEqual(got, want, JSON.stringify(c));
    // And it is the mean: within one output step of the real-valued answer (before clamping).
    const { sums, count } = groupedSums(c, x, (s, v) => s + v);
    sums.forEach((s, k) => {
      const real = ((s / count - c.inZp) * c.inScale) / c.outScale + c.outZp;
      if (real > -127 && real < 126) assert.ok(Math.abs(got[k] - real) <= 1, `${JSON.stringify(c)}: ${got[k]} vs ${real}`);
    });
  }
});

test('MEAN float32: 200 random cases equal a float32 running sum divided by the count', () => {
  const r = rng(42);
  for (let i = 0; i < 200; i++) {
    const c = randomCase(r);
    const x = randFloat(r, c.shape.reduce((a, b) => a * b, 1), -5, 5);
    const { sums, count } = groupedSums(c, x, (s, v) => Math.fround(s + v));
    const want = sums.map((s) => Math.fround(s / count));
    assert.deepEqual(Array.from(asFloat32(run(build(c, 'float32'), [bytes(x)]))), want, JSON.stringify(c));
  }
});

test('MEAN shape rule, scratch and refusals', () => {
  const c: MeanCase = { shape: [1, 3, 3, 8], axes: [1, 2], keepDims: true, inScale: 0.1, inZp: 0, outScale: 0.1, outZp: 0 };
  const g = build(c, 'int8');
  assert.deepEqual(OPS.MEAN.inferShapes(g.nodes[0] as never, g), [[1, 1, 1, 8]]);
  assert.equal(OPS.MEAN.scratchBytes!(g.nodes[0] as never, g), 8 * 4);
  const nk = build({ ...c, keepDims: false, axes: [-1, 3] }, 'int8');
  assert.deepEqual(OPS.MEAN.inferShapes(nk.nodes[0] as never, nk), [[1, 3, 3]]);
  const i16 = build(c, 'int8');
  i16.tensors[0].dtype = 'int16';
  assert.throws(() => new Interpreter(i16), UnsupportedOpError);
  const dyn = build(c, 'int8');
  dyn.tensors[1].data = null;
  assert.throws(() => OPS.MEAN.inferShapes(dyn.nodes[0] as never, dyn), UnsupportedOpError);
});
