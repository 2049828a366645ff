import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { Graph } from '../../src/graph/graph.js';
import type { Activation, Padding } from '../../src/graph/options.js';
import { ModelFormatError, UnsupportedOpError } from '../../src/errors.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { OPS } from '../../src/ops/registry.js';
import {
  actRange, asFloat32, asInt8, bytes, floatActRange, maxRelErr, outSize, padBefore, q, randFloat, randInt8, requantRef, rng, run,
} from './conv_harness.js';

/*
 * CONV_2D and DEPTHWISE_CONV_2D against slow references that follow TFLite's reference loops literally
 * (ConvPerChannel / DepthwiseConvPerChannel: skip taps outside the input, sum (x - zp_in) * w, add bias,
 * requantise per channel). Random shapes cover strides, dilation, SAME/VALID, groups, depth multipliers,
 * per-tensor and per-channel filters, every fused activation and multipliers above 1.
 */

const ACTS: Activation[] = ['NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1'];

interface ConvCase {
  N: number; H: number; W: number; C: number;
  cout: number; kH: number; kW: number;
  /** Input channels per filter (C for ordinary convolution, C / groups otherwise). */
  cinPer: number;
  sH: number; sW: number; dH: number; dW: number;
  padding: Padding;
  act: Activation;
  perChannel: boolean;
  withBias: boolean;
  inScale: number; inZp: number; outScale: number; outZp: number;
  fScales: number[];
}

function randomConvCase(r: ReturnType<typeof rng>, depthwise: boolean): ConvCase | null {
  const C = r.pick([1, 2, 3, 4, 6, 8]);
  const M = depthwise ? r.pick([1, 1, 2, 3]) : 1;
  const groups = !depthwise && C % 2 === 0 && r.int(0, 3) === 0 ? 2 : 1;
  const cout = depthwise ? C * M : groups * r.int(1, 5);
  const c: ConvCase = {
    N: r.int(1, 2), H: r.int(1, 9), W: r.int(1, 9), C,
    cout, kH: r.int(1, 4), kW: r.int(1, 4), cinPer: depthwise ? 1 : C / groups,
    sH: r.int(1, 3), sW: r.int(1, 3), dH: r.pick([1, 1, 2]), dW: r.pick([1, 1, 2]),
    padding: r.pick(['SAME', 'VALID'] as Padding[]),
    act: r.pick(ACTS),
    perChannel: r.int(0, 1) === 1,
    withBias: r.int(0, 3) !== 0,
    inScale: Math.fround(r.float(0.005, 0.05)), inZp: r.int(-128, 127),
    // Sometimes a tiny output scale, so the effective multiplier exceeds 1 (a left shift).
    outScale: Math.fround(r.int(0, 4) === 0 ? r.float(0.00005, 0.0005) : r.float(0.01, 0.2)),
    outZp: r.int(-128, 127),
    fScales: [],
  };
  const n = c.perChannel ? cout : 1;
  for (let i = 0; i < n; i++) c.fScales.push(Math.fround(r.float(0.001, 0.03)));
  if (outSize(c.padding, c.H, c.kH, c.sH, c.dH) <= 0 || outSize(c.padding, c.W, c.kW, c.sW, c.dW) <= 0) return null;
  return c;
}

function geometry(c: ConvCase) {
  const outH = outSize(c.padding, c.H, c.kH, c.sH, c.dH);
  const outW = outSize(c.padding, c.W, c.kW, c.sW, c.dW);
  return { outH, outW, padT: padBefore(c.H, c.kH, c.sH, c.dH, outH), padL: padBefore(c.W, c.kW, c.sW, c.dW, outW) };
}

/**
 * The reference loop nest. `tap(oc, ky, kx, ic)` indexes the filter; for depthwise the input channel of
 * output channel oc is oc / M and the filter is [1, kH, kW, cout].
 */
function refConv(c: ConvCase, depthwise: boolean, x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number> | null,
  sink: (i: number, acc: number, oc: number) => void, inOffset: number, add: (a: number, b: number) => number = (a, b) => a + b): void {
  const { outH, outW, padT, padL } = geometry(c);
  const groups = depthwise ? 1 : c.C / c.cinPer;
  const perGroup = c.cout / groups;
  const M = c.cout / c.C;
  for (let b = 0; b < c.N; b++) for (let oy = 0; oy < outH; oy++) for (let ox = 0; ox < outW; ox++) for (let oc = 0; oc < c.cout; oc++) {
    let acc = 0;
    for (let ky = 0; ky < c.kH; ky++) for (let kx = 0; kx < c.kW; kx++) {
      const iy = oy * c.sH - padT + ky * c.dH;
      const ix = ox * c.sW - padL + kx * c.dW;
      if (iy < 0 || iy >= c.H || ix < 0 || ix >= c.W) continue;
      if (depthwise) {
        const ic = Math.floor(oc / M);
        acc = add(acc, (x[((b * c.H + iy) * c.W + ix) * c.C + ic] + inOffset) * w[(ky * c.kW + kx) * c.cout + oc]);
      } else {
        const g = Math.floor(oc / perGroup);
        for (let ic = 0; ic < c.cinPer; ic++) {
          acc = add(acc, (x[((b * c.H + iy) * c.W + ix) * c.C + g * c.cinPer + ic] + inOffset) * w[((oc * c.kH + ky) * c.kW + kx) * c.cinPer + ic]);
        }
      }
    }
    if (bias) acc = add(acc, bias[oc]);
    sink(((b * outH + oy) * outW + ox) * c.cout + oc, acc, oc);
  }
}

function build(c: ConvCase, depthwise: boolean, dtype: 'int8' | 'float32', w: Int8Array | Float32Array, bias: Int32Array | Float32Array | null): Graph {
  const { outH, outW } = geometry(c);
  const gb = new GraphBuilder(depthwise ? 'dw' : 'conv');
  const int8 = dtype === 'int8';
  const x = gb.tensor('x', [c.N, c.H, c.W, c.C], dtype, int8 ? q(c.inScale, c.inZp) : null);
  const wShape = depthwise ? [1, c.kH, c.kW, c.cout] : [c.cout, c.kH, c.kW, c.cinPer];
  const wt = gb.constant('w', wShape, dtype, w, int8 ? q(c.fScales, 0, depthwise ? 3 : 0) : null);
  const bt = bias ? gb.constant('b', [c.cout], int8 ? 'int32' : 'float32', bias, int8 ? q(c.fScales.map((s) => c.inScale * s), 0) : null) : -1;
  const y = gb.tensor('y', [c.N, outH, outW, c.cout], dtype, int8 ? q(c.outScale, c.outZp) : null);
  const base = { padding: c.padding, strideH: c.sH, strideW: c.sW, dilationH: c.dH, dilationW: c.dW, activation: c.act };
  if (depthwise) gb.node('DEPTHWISE_CONV_2D', [x, wt, bt], [y], { ...base, depthMultiplier: c.cout / c.C }, int8 ? 3 : 1);
  else gb.node('CONV_2D', [x, wt, bt], [y], base, int8 ? 3 : 1);
  return gb.input(x).output(y).build();
}

function checkInt8(seed: number, depthwise: boolean, cases: number): void {
  const r = rng(seed);
  let done = 0;
  while (done < cases) {
    const c = randomConvCase(r, depthwise);
    if (!c) continue;
    const { outH, outW } = geometry(c);
    const wLen = depthwise ? c.kH * c.kW * c.cout : c.cout * c.kH * c.kW * c.cinPer;
    const x = randInt8(r, c.N * c.H * c.W * c.C);
    const w = randInt8(r, wLen, -127, 127);
    const bias = c.withBias ? Int32Array.from({ length: c.cout }, () => r.int(-20000, 20000)) : null;
    const [lo, hi] = actRange(c.act, c.outScale, c.outZp);
    const want = new Int8Array(c.N * outH * outW * c.cout);
    refConv(c, depthwise, x, w, bias, (i, acc, oc) => {
      const real = (c.inScale * c.fScales[c.perChannel ? oc : 0]) / c.outScale;
      want[i] = requantRef(acc, real, c.outZp, lo, hi);
    }, -c.inZp);
    const got = asInt8(run(build(c, depthwise, 'int8', w, bias), [bytes(x)]));
    assert.deepEqual(got, want, `case ${done}: ${JSON.stringify(c)}`);
    done++;
  }
}

function checkFloat(seed: number, depthwise: boolean, cases: number): void {
  const r = rng(seed);
  let done = 0;
  while (done < cases) {
    const c = randomConvCase(r, depthwise);
    if (!c) continue;
    const { outH, outW } = geometry(c);
    const wLen = depthwise ? c.kH * c.kW * c.cout : c.cout * c.kH * c.kW * c.cinPer;
    const x = randFloat(r, c.N * c.H * c.W * c.C, -3, 3);
    const w = randFloat(r, wLen);
    const bias = c.withBias ? randFloat(r, c.cout) : null;
    const [lo, hi] = floatActRange(c.act);
    const want = new Float32Array(c.N * outH * outW * c.cout);
    // float32 arithmetic: each product and partial sum rounded, in the reference's loop order.
    const f32add = (a: number, b: number) => Math.fround(a + Math.fround(b));
    refConv(c, depthwise, x, w, bias, (i, acc) => { want[i] = Math.min(hi, Math.max(lo, acc)); }, 0, f32add);
    const got = asFloat32(run(build(c, depthwise, 'float32', w, bias), [bytes(x)]));
    assert.deepEqual(got, want, `case ${done}: ${JSON.stringify(c)}: max error ${maxRelErr(got, want)}`);
    done++;
  }
}

test('CONV_2D int8: 300 random shapes, strides, dilations, paddings, groups and activations equal the reference loops', () => {
  checkInt8(11, false, 300);
});

test('CONV_2D float32: 150 random cases equal the reference loops in float32 arithmetic, bit for bit', () => {
  checkFloat(12, false, 150);
});

test('DEPTHWISE_CONV_2D int8: 300 random cases (depth multipliers 1-3, 3x3 fast path and others) equal the reference loops', () => {
  checkInt8(13, true, 300);
});

test('DEPTHWISE_CONV_2D float32: 150 random cases equal the reference loops in float32 arithmetic, bit for bit', () => {
  checkFloat(14, true, 150);
});

test('CONV_2D int8: a filter longer than the packed GEMM allows (K = 3*3*256) and a 1x1 GEMM with odd channel counts', () => {
  const r = rng(15);
  for (const c of [
    { N: 1, H: 4, W: 5, C: 256, cout: 5, kH: 3, kW: 3, cinPer: 256 },
    { N: 2, H: 7, W: 3, C: 13, cout: 11, kH: 1, kW: 1, cinPer: 13 },
  ]) {
    const cc: ConvCase = {
      ...c, sH: 1, sW: 1, dH: 1, dW: 1, padding: 'SAME', act: 'NONE', perChannel: true, withBias: true,
      inScale: Math.fround(0.02), inZp: -128, outScale: Math.fround(0.5), outZp: 3,
      fScales: Array.from({ length: c.cout }, () => Math.fround(r.float(0.001, 0.01))),
    };
    const { outH, outW } = geometry(cc);
    const x = randInt8(r, c.N * c.H * c.W * c.C);
    const w = randInt8(r, c.cout * c.kH * c.kW * c.cinPer, -127, 127);
    const bias = Int32Array.from({ length: c.cout }, () => r.int(-5000, 5000));
    const want = new Int8Array(c.N * outH * outW * c.cout);
    refConv(cc, false, x, w, bias, (i, acc, oc) => {
      want[i] = requantRef(acc, (cc.inScale * cc.fScales[oc]) / cc.outScale, cc.outZp, -128, 127);
    }, 128);
    assert.deepEqual(asInt8(run(build(cc, false, 'int8', w, bias), [bytes(x)])), want);
  }
});

function simpleConv(inDtype: 'int8' | 'int16' | 'float32', wDtype: 'int8' | 'int16' | 'float32', act: Activation = 'NONE'): Graph {
  const gb = new GraphBuilder('conv');
  const qq = inDtype === 'float32' ? null : q(0.1, 0);
  const x = gb.tensor('x', [1, 4, 4, 2], inDtype, qq);
  const w = gb.constant('w', [3, 3, 3, 2], wDtype, wDtype === 'int8' ? new Int8Array(54) : new Float32Array(54), wDtype === 'int8' ? q(0.1) : null);
  const y = gb.tensor('y', [1, 4, 4, 3], inDtype, qq);
  gb.node('CONV_2D', [x, w, -1], [y], { padding: 'SAME', strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, activation: act }, 1);
  return gb.input(x).output(y).build();
}

test('hybrid float/int8 weights, int16 weights and a TANH fused activation are refused at prepare time (16x8 runs)', () => {
  assert.throws(() => new Interpreter(simpleConv('float32', 'int8')), UnsupportedOpError);
  assert.throws(() => new Interpreter(simpleConv('int16', 'int16')), UnsupportedOpError);
  assert.throws(() => new Interpreter(simpleConv('int8', 'int8', 'TANH')), UnsupportedOpError);
  assert.doesNotThrow(() => new Interpreter(simpleConv('int8', 'int8', 'RELU6')));
});

test('shape rules: output size per TFLite ComputeOutSize; a filter that does not match the input is a model-format error', () => {
  const g = simpleConv('float32', 'float32');
  assert.deepEqual(OPS.CONV_2D.inferShapes(g.nodes[0] as never, g), [[1, 4, 4, 3]]);
  assert.equal(OPS.CONV_2D.macs(g.nodes[0] as never, g), 16 * 3 * 9 * 2);
  g.tensors[0].shape = [1, 4, 4, 3];
  assert.throws(() => OPS.CONV_2D.inferShapes(g.nodes[0] as never, g), ModelFormatError);
  // VALID, stride 2 on 7: (7 + 2 - 3) / 2 = 3; SAME: ceil(7 / 2) = 4.
  const gb = new GraphBuilder('v');
  const x = gb.tensor('x', [1, 7, 7, 1], 'float32');
  const w = gb.constant('w', [1, 3, 3, 1], 'float32', new Float32Array(9));
  const y = gb.tensor('y', [1, 3, 3, 1], 'float32');
  const n = gb.node('CONV_2D', [x, w, -1], [y], { padding: 'VALID', strideH: 2, strideW: 2, dilationH: 1, dilationW: 1, activation: 'NONE' });
  const vg = gb.input(x).output(y).build();
  assert.deepEqual(OPS.CONV_2D.inferShapes(n, vg), [[1, 3, 3, 1]]);
  n.options.padding = 'SAME';
  assert.deepEqual(OPS.CONV_2D.inferShapes(n, vg), [[1, 4, 4, 1]]);
});
