/**
 * Shared by the convolution, fully-connected, pooling and MEAN tests: seeded random data, one-node
 * graphs built with GraphBuilder and run through the real Interpreter (memory plan and views included),
 * and the pieces of TFLite's arithmetic the slow references need, written out independently of
 * src/ops. Not a test file itself.
 */
import type { DType } from '../../src/graph/dtype.js';
import type { Graph, QuantParams, TensorId } from '../../src/graph/graph.js';
import type { Activation, Padding } from '../../src/graph/options.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { multiplyByQuantizedMultiplier, quantizeMultiplier, roundHalfAway } from '../../src/quant/fixedpoint.js';

export function rng(seed: number): { int(lo: number, hi: number): number; float(lo: number, hi: number): number; pick<T>(xs: readonly T[]): T } {
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  return {
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    float: (lo, hi) => lo + next() * (hi - lo),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
  };
}

export function q(scale: number | number[], zeroPoint: number | number[] = 0, axis = 0): QuantParams {
  const scales = (Array.isArray(scale) ? scale : [scale]).map(Math.fround);
  const zps = Array.isArray(zeroPoint) ? zeroPoint : scales.map(() => zeroPoint);
  return { scale: scales, zeroPoint: zps, axis };
}

export function bytes(a: Int8Array | Int32Array | Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Run a graph once with the given raw inputs; returns output 0 as raw bytes. */
export function run(g: Graph, inputs: Uint8Array[]): Uint8Array {
  const it = new Interpreter(g);
  inputs.forEach((b, i) => it.setInput(i, b));
  it.invoke();
  return it.output(0);
}

export function asInt8(b: Uint8Array): Int8Array {
  return new Int8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function asFloat32(b: Uint8Array): Float32Array {
  return new Float32Array(b.slice().buffer);
}

/** TFLite's output size for SAME / VALID padding, written from the definition. */
export function outSize(padding: Padding, inSize: number, k: number, stride: number, dil = 1): number {
  const eff = (k - 1) * dil + 1;
  return padding === 'SAME' ? Math.ceil(inSize / stride) : Math.ceil((inSize - eff + 1) / stride);
}

/** Leading padding: half the total, rounded down (the extra pixel goes at the end). */
export function padBefore(inSize: number, k: number, stride: number, dil: number, out: number): number {
  return Math.max(0, Math.floor(((out - 1) * stride + (k - 1) * dil + 1 - inSize) / 2));
}

/** Quantised clamp bounds of a fused activation on an int8 output. */
export function actRange(act: Activation, scale: number, zp: number): [number, number] {
  const qz = (f: number) => zp + roundHalfAway(Math.fround(f / scale));
  switch (act) {
    case 'RELU': return [Math.max(-128, qz(0)), 127];
    case 'RELU6': return [Math.max(-128, qz(0)), Math.min(127, qz(6))];
    case 'RELU_N1_TO_1': return [Math.max(-128, qz(-1)), Math.min(127, qz(1))];
    default: return [-128, 127];
  }
}

export function floatActRange(act: Activation): [number, number] {
  switch (act) {
    case 'RELU': return [0, Infinity];
    case 'RELU6': return [0, 6];
    case 'RELU_N1_TO_1': return [-1, 1];
    default: return [-Infinity, Infinity];
  }
}

/** int32 accumulator -> int8 output for a real multiplier, as TFLite does it. */
export function requantRef(acc: number, realMultiplier: number, outZp: number, lo: number, hi: number): number {
  const { multiplier, shift } = quantizeMultiplier(realMultiplier);
  const v = multiplyByQuantizedMultiplier(acc, multiplier, shift) + outZp;
  return Math.min(hi, Math.max(lo, v));
}

export function randInt8(r: ReturnType<typeof rng>, n: number, lo = -128, hi = 127): Int8Array {
  const a = new Int8Array(n);
  for (let i = 0; i < n; i++) a[i] = r.int(lo, hi);
  return a;
}

export function randFloat(r: ReturnType<typeof rng>, n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r.float(lo, hi);
  return a;
}

/** Largest |a - b| relative to max(1, |b|). */
export function maxRelErr(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}

export type { DType, TensorId };
