import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { Graph } from '../../src/graph/graph.js';
import type { Activation } from '../../src/graph/options.js';
import { ModelFormatError, UnsupportedOpError } from '../../src/errors.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { OPS } from '../../src/ops/registry.js';
import { actRange, asFloat32, asInt8, bytes, floatActRange, maxRelErr, q, randFloat, randInt8, requantRef, rng, run } from './conv_harness.js';

/*
 * FULLY_CONNECTED against the reference loop of TFLite's FullyConnected: each run of K inputs is a row,
 * sum (x - zp_in) * w plus bias, requantised. Per-tensor weights use TFLite's multiplier
 * double(float(input_scale * weight_scale)) / output_scale (GetQuantizedConvolutionMultipler multiplies
 * the two float scales in float); per-channel weights multiply in double.
 */

interface FcCase {
  lead: number[];
  K: number;
  units: number;
  keepNumDims: boolean;
  perChannel: boolean;
  withBias: boolean;
  act: Activation;
  inScale: number; inZp: number; outScale: number; outZp: number;
  wScales: number[];
}

function randomCase(r: ReturnType<typeof rng>, K: number): FcCase {
  const units = r.int(1, 20);
  const perChannel = r.int(0, 1) === 1;
  return {
    lead: r.pick([[1], [r.int(1, 5)], [2, r.int(1, 3)]]),
    K, units, keepNumDims: r.int(0, 1) === 1, perChannel, withBias: r.int(0, 3) !== 0,
    act: r.pick(['NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1'] as Activation[]),
    inScale: Math.fround(r.float(0.005, 0.05)), inZp: r.int(-128, 127),
    outScale: Math.fround(r.int(0, 4) === 0 ? r.float(0.0001, 0.001) : r.float(0.02, 0.3)), outZp: r.int(-128, 127),
    wScales: Array.from({ length: perChannel ? units : 1 }, () => Math.fround(r.float(0.001, 0.03))),
  };
}

function build(c: FcCase, dtype: 'int8' | 'float32', w: Int8Array | Float32Array, bias: Int32Array | Float32Array | null): Graph {
  const int8 = dtype === 'int8';
  const batches = c.lead.reduce((a, b) => a * b, 1);
  const gb = new GraphBuilder('fc');
  const x = gb.tensor('x', [...c.lead, c.K], dtype, int8 ? q(c.inScale, c.inZp) : null);
  const wt = gb.constant('w', [c.units, c.K], dtype, w, int8 ? q(c.wScales) : null);
  const bt = bias ? gb.constant('b', [c.units], int8 ? 'int32' : 'float32', bias) : -1;
  const y = gb.tensor('y', c.keepNumDims ? [...c.lead, c.units] : [batches, c.units], dtype, int8 ? q(c.outScale, c.outZp) : null);
  gb.node('FULLY_CONNECTED', [x, wt, bt], [y], { activation: c.act, keepNumDims: c.keepNumDims }, bias ? 5 : 6);
  return gb.input(x).output(y).build();
}

function checkInt8(c: FcCase, r: ReturnType<typeof rng>): void {
  const batches = c.lead.reduce((a, b) => a * b, 1);
  const x = randInt8(r, batches * c.K);
  const w = randInt8(r, c.units * c.K, -127, 127);
  const bias = c.withBias ? Int32Array.from({ length: c.units }, () => r.int(-30000, 30000)) : null;
  const [lo, hi] = actRange(c.act, c.outScale, c.outZp);
  const want = new Int8Array(batches * c.units);
  for (let b = 0; b < batches; b++) {
    for (let u = 0; u < c.units; u++) {
      let acc = bias ? bias[u] : 0;
      for (let k = 0; k < c.K; k++) acc += (x[b * c.K + k] - c.inZp) * w[u * c.K + k];
      const real = c.perChannel ? (c.inScale * c.wScales[u]) / c.outScale : Math.fround(c.inScale * c.wScales[0]) / c.outScale;
      want[b * c.units + u] = requantRef(acc, real, c.outZp, lo, hi);
    }
  }
  assert.deepEqual(asInt8(run(build(c, 'int8', w, bias), [bytes(x)])), want, JSON.stringify(c));
}

test('FULLY_CONNECTED int8: 300 random cases (batches, keep_num_dims, per-tensor and per-channel, no bias) equal the reference', () => {
  const r = rng(21);
  for (let i = 0; i < 300; i++) checkInt8(randomCase(r, r.int(1, 40)), r);
});

test('FULLY_CONNECTED int8: long rows (K = 2047, 2048, 4000) cross from the packed to the plain GEMM and agree', () => {
  const r = rng(22);
  for (const K of [2047, 2048, 4000]) checkInt8(randomCase(r, K), r);
});

test('FULLY_CONNECTED float32: 150 random cases equal the reference in float32 arithmetic, bit for bit', () => {
  const r = rng(23);
  for (let i = 0; i < 150; i++) {
    const c = randomCase(r, r.int(1, 40));
    const batches = c.lead.reduce((a, b) => a * b, 1);
    const x = randFloat(r, batches * c.K, -2, 2);
    const w = randFloat(r, c.units * c.K);
    const bias = c.withBias ? randFloat(r, c.units) : null;
    const [lo, hi] = floatActRange(c.act);
    const want = new Float32Array(batches * c.units);
    for (let b = 0; b < batches; b++) {
      for (let u = 0; u < c.units; u++) {
        // float32 arithmetic: each product and partial sum rounded, bias added last.
        let acc = 0;
        for (let k = 0; k < c.K; k++) acc = Math.fround(acc + Math.fround(x[b * c.K + k] * w[u * c.K + k]));
        acc = Math.fround(acc + (bias ? bias[u] : 0));
        want[b * c.units + u] = Math.min(hi, Math.max(lo, acc));
      }
    }
    const got = asFloat32(run(build(c, 'float32', w, bias), [bytes(x)]));
    assert.deepEqual(got, want, `${JSON.stringify(c)}: max error ${maxRelErr(got, want)}`);
  }
});

test('FULLY_CONNECTED shapes: [batches, units], or the input dims with keep_num_dims; a row length that does not divide is an error', () => {
  const r = rng(24);
  const c = { ...randomCase(r, 6), lead: [2, 3], units: 4 };
  const g = build({ ...c, keepNumDims: false }, 'float32', new Float32Array(24), null);
  assert.deepEqual(OPS.FULLY_CONNECTED.inferShapes(g.nodes[0] as never, g), [[6, 4]]);
  assert.equal(OPS.FULLY_CONNECTED.macs(g.nodes[0] as never, g), 6 * 4 * 6);
  const gk = build({ ...c, keepNumDims: true }, 'float32', new Float32Array(24), null);
  assert.deepEqual(OPS.FULLY_CONNECTED.inferShapes(gk.nodes[0] as never, gk), [[2, 3, 4]]);
  g.tensors[0].shape = [2, 7];
  assert.throws(() => OPS.FULLY_CONNECTED.inferShapes(g.nodes[0] as never, g), ModelFormatError);
});

test('FULLY_CONNECTED refuses weights with a non-zero zero point and int8 input with float weights', () => {
  const r = rng(25);
  const c = randomCase(r, 8);
  const g = build(c, 'int8', randInt8(r, c.units * 8), null);
  g.tensors[1].quant!.zeroPoint = [3];
  assert.throws(() => new Interpreter(g), UnsupportedOpError);
  const h = build(c, 'int8', randInt8(r, c.units * 8), null);
  h.tensors[1].dtype = 'float32';
  h.tensors[1].data = new Uint8Array(c.units * 8 * 4);
  assert.throws(() => new Interpreter(h), UnsupportedOpError);
});
