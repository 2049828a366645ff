import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { Graph } from '../../src/graph/graph.js';
import type { Activation, Padding } from '../../src/graph/options.js';
import { OPS } from '../../src/ops/registry.js';
import { actRange, asFloat32, asInt8, bytes, floatActRange, maxRelErr, outSize, padBefore, q, randFloat, randInt8, rng, run } from './conv_harness.js';

/*
 * AVERAGE_POOL_2D and MAX_POOL_2D against TFLite's reference loops: windows clipped to the input (the
 * average divides by the taps inside), the int8 average rounded half away from zero with integer
 * division, then the fused activation clamp.
 */

type PoolOp = 'AVERAGE_POOL_2D' | 'MAX_POOL_2D';

interface PoolCase {
  N: number; H: number; W: number; C: number;
  fH: number; fW: number; sH: number; sW: number;
  padding: Padding; act: Activation; scale: number; zp: number;
}

function randomCase(r: ReturnType<typeof rng>): PoolCase | null {
  const c: PoolCase = {
    N: r.int(1, 2), H: r.int(1, 10), W: r.int(1, 10), C: r.int(1, 5),
    fH: r.int(1, 4), fW: r.int(1, 4), sH: r.int(1, 3), sW: r.int(1, 3),
    padding: r.pick(['SAME', 'VALID'] as Padding[]),
    act: r.pick(['NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1'] as Activation[]),
    scale: Math.fround(r.float(0.01, 0.1)), zp: r.int(-128, 127),
  };
  return outSize(c.padding, c.H, c.fH, c.sH) > 0 && outSize(c.padding, c.W, c.fW, c.sW) > 0 ? c : null;
}

function build(op: PoolOp, c: PoolCase, dtype: 'int8' | 'float32'): Graph {
  const qq = dtype === 'int8' ? q(c.scale, c.zp) : null;
  const gb = new GraphBuilder('pool');
  const x = gb.tensor('x', [c.N, c.H, c.W, c.C], dtype, qq);
  const y = gb.tensor('y', [c.N, outSize(c.padding, c.H, c.fH, c.sH), outSize(c.padding, c.W, c.fW, c.sW), c.C], dtype, qq);
  gb.node(op, [x], [y], { padding: c.padding, strideH: c.sH, strideW: c.sW, filterH: c.fH, filterW: c.fW, activation: c.act }, dtype === 'int8' ? 2 : 1);
  return gb.input(x).output(y).build();
}

/** Calls `reduce(values inside the window)` for every output element, in output order. */
function windows(c: PoolCase, x: ArrayLike<number>, reduce: (vals: number[]) => number): number[] {
  const outH = outSize(c.padding, c.H, c.fH, c.sH);
  const outW = outSize(c.padding, c.W, c.fW, c.sW);
  const pt = padBefore(c.H, c.fH, c.sH, 1, outH);
  const pl = padBefore(c.W, c.fW, c.sW, 1, outW);
  const out: number[] = [];
  for (let b = 0; b < c.N; b++) for (let oy = 0; oy < outH; oy++) for (let ox = 0; ox < outW; ox++) for (let ch = 0; ch < c.C; ch++) {
    const vals: number[] = [];
    for (let fy = 0; fy < c.fH; fy++) for (let fx = 0; fx < c.fW; fx++) {
      const iy = oy * c.sH - pt + fy;
      const ix = ox * c.sW - pl + fx;
      if (iy >= 0 && iy < c.H && ix >= 0 && ix < c.W) vals.push(x[((b * c.H + iy) * c.W + ix) * c.C + ch]);
    }
    out.push(reduce(vals));
  }
  return out;
}

function intAverage(vals: number[]): number {
  const sum = vals.reduce((a, b) => a + b, 0);
  const n = vals.length;
  // C: (sum +- n/2) / n with truncating division.
  return (sum > 0 ? Math.trunc((sum + Math.trunc(n / 2)) / n) : Math.trunc((sum - Math.trunc(n / 2)) / n)) | 0;
}

for (const op of ['AVERAGE_POOL_2D', 'MAX_POOL_2D'] as PoolOp[]) {
  test(`${op} int8: 300 random windows, strides, paddings and activations equal the reference`, () => {
    const r = rng(op === 'MAX_POOL_2D' ? 31 : 32);
    for (let done = 0; done < 300;) {
      const c = randomCase(r);
      if (!c) continue;
      const x = randInt8(r, c.N * c.H * c.W * c.C);
      const [lo, hi] = actRange(c.act, c.scale, c.zp);
      const want = windows(c, x, (v) => Math.min(hi, Math.max(lo, op === 'MAX_POOL_2D' ? Math.max(...v) : intAverage(v))));
      assert.deepEqual(Array.from(asInt8(run(build(op, c, 'int8'), [bytes(x)]))), want, JSON.stringify(c));
      done++;
    }
  });

  test(`${op} float32: 150 random cases equal the reference in float32 arithmetic, bit for bit`, () => {
    const r = rng(op === 'MAX_POOL_2D' ? 33 : 34);
    for (let done = 0; done < 150;) {
      const c = randomCase(r);
      if (!c) continue;
      const x = randFloat(r, c.N * c.H * c.W * c.C, -8, 8);
      const [lo, hi] = floatActRange(c.act);
      const want = windows(c, x, (v) => {
        const p = op === 'MAX_POOL_2D' ? Math.max(...v) : Math.fround(v.reduce((a, b) => Math.fround(a + b), 0) / v.length);
        return Math.min(hi, Math.max(lo, p));
      });
      const got = asFloat32(run(build(op, c, 'float32'), [bytes(x)]));
      assert.deepEqual(got, Float32Array.from(want), `${JSON.stringify(c)}: max error ${maxRelErr(got, Float32Array.from(want))}`);
      done++;
    }
  });
}

test('pool shape rule keeps the channels; the average of -3 and -2 rounds to -3 (half away from zero)', () => {
  const c: PoolCase = { N: 1, H: 1, W: 2, C: 1, fH: 1, fW: 2, sH: 1, sW: 2, padding: 'VALID', act: 'NONE', scale: 0.1, zp: 0 };
  const g = build('AVERAGE_POOL_2D', c, 'int8');
  assert.deepEqual(OPS.AVERAGE_POOL_2D.inferShapes(g.nodes[0] as never, g), [[1, 1, 1, 1]]);
  assert.deepEqual(Array.from(asInt8(run(g, [bytes(new Int8Array([-3, -2]))]))), [-3]);
  assert.deepEqual(Array.from(asInt8(run(g, [bytes(new Int8Array([3, 2]))]))), [3]);
});
