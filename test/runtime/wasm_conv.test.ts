import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Graph } from '../../src/graph/graph.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { oneNodeGraph } from '../ops/harness.js';
import { compileModel } from '../../src/compiler/compile_model.js';
import { instantiateKernels, kernelModule } from '../../src/runtime/wasm/kernel_module.js';
import { buildWasmProgram } from '../../src/runtime/wasm/wasm_program.js';

/** A small deterministic generator (xorshift32), so a failure names a reproducible case. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

const int = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const bytes = (r: () => number, n: number): Uint8Array => Uint8Array.from({ length: n }, () => int(r, 0, 255));
const int32s = (r: () => number, n: number, mag: number): Uint8Array => new Uint8Array(Int32Array.from({ length: n }, () => int(r, -mag, mag)).buffer);

/**
 * Per-channel weight scales spread over 2^-6 .. 2^3 of the layer's scale, so some channels shift left and
 * neighbouring channels shift by different amounts (the SIMD requantisation's per-lane and uniform forms).
 */
function channelScales(r: () => number, n: number): number[] {
  return Array.from({ length: n }, () => 0.004 * 2 ** (r() * 9 - 6));
}

function sameOnBothBackends(g: Graph, r: () => number, label: string): void {
  g.inputs = [0];
  g.outputs = [g.tensors.length - 1];
  const wasm = new Interpreter(g, { backend: 'wasm', objective: 'speed' });
  const js = new Interpreter(g, { backend: 'js', objective: 'speed' });
  assert.deepEqual(wasm.jsFallbacks, [], label);
  const x = bytes(r, g.tensors[0].shape.reduce((a, b) => a * b, 1));
  wasm.setInput(0, x);
  js.setInput(0, x);
  wasm.invoke();
  js.invoke();
  assert.deepEqual(wasm.output(0), js.output(0), label);
}

test('int8 CONV_2D on the wasm backend gives the js backend\'s bytes: odd depths, short pixel tiles, left shifts, padding, strides', () => {
  const r = rng(9);
  for (let i = 0; i < 60; i++) {
    const k = [1, 1, 3, 2, 5][i % 5], inC = int(r, 1, 40), outC = int(r, 1, 21), h = int(r, k, 11), w = int(r, k, 11);
    const stride = int(r, 1, 2), padding = r() < 0.5 ? 'SAME' : 'VALID';
    const oh = padding === 'SAME' ? Math.ceil(h / stride) : Math.floor((h - k) / stride) + 1;
    const ow = padding === 'SAME' ? Math.ceil(w / stride) : Math.floor((w - k) / stride) + 1;
    const ws = channelScales(r, outC), inScale = 0.05, inZp = int(r, -20, 20);
    const g = oneNodeGraph('CONV_2D', { padding, strideW: stride, strideH: stride, dilationW: 1, dilationH: 1, activation: r() < 0.5 ? 'RELU' : 'NONE' } as never, [
      { shape: [1, h, w, inC], dtype: 'int8', scale: inScale, zeroPoint: inZp },
      { shape: [outC, k, k, inC], dtype: 'int8', scale: ws, zeroPoint: ws.map(() => 0), data: bytes(r, outC * k * k * inC) },
      { shape: [outC], dtype: 'int32', scale: ws.map((s) => s * inScale), zeroPoint: ws.map(() => 0), data: int32s(r, outC, 3000) },
    ], { shape: [1, oh, ow, outC], dtype: 'int8', scale: i % 3 === 0 ? 0.0005 : 0.02, zeroPoint: int(r, -10, 10) });
    sameOnBothBackends(g, r, `case ${i}: ${h}x${w}x${inC} -> ${oh}x${ow}x${outC}, ${k}x${k} stride ${stride} ${padding}`);
  }
});

test('int8 CONV_2D with shallow window rows (k_w * in_c <= 16, packed straight from the input) on the wasm backend gives the js backend\'s bytes', () => {
  const r = rng(41);
  for (let i = 0; i < 60; i++) {
    const kh = int(r, 1, 5), kw = int(r, 1, 5), inC = int(r, 1, Math.max(1, Math.floor(16 / kw))), outC = int(r, 1, 13);
    const h = int(r, kh, 12), w = int(r, kw, 12), stride = int(r, 1, 3), padding = r() < 0.5 ? 'SAME' : 'VALID';
    const oh = padding === 'SAME' ? Math.ceil(h / stride) : Math.floor((h - kh) / stride) + 1;
    const ow = padding === 'SAME' ? Math.ceil(w / stride) : Math.floor((w - kw) / stride) + 1;
    const ws = channelScales(r, outC), inScale = 0.05, inZp = int(r, -20, 20);
    const g = oneNodeGraph('CONV_2D', { padding, strideW: stride, strideH: stride, dilationW: 1, dilationH: 1, activation: r() < 0.5 ? 'RELU' : 'NONE' } as never, [
      { shape: [1, h, w, inC], dtype: 'int8', scale: inScale, zeroPoint: inZp },
      { shape: [outC, kh, kw, inC], dtype: 'int8', scale: ws, zeroPoint: ws.map(() => 0), data: bytes(r, outC * kh * kw * inC) },
      { shape: [outC], dtype: 'int32', scale: ws.map((s) => s * inScale), zeroPoint: ws.map(() => 0), data: int32s(r, outC, 3000) },
    ], { shape: [1, oh, ow, outC], dtype: 'int8', scale: i % 3 === 0 ? 0.0005 : 0.02, zeroPoint: int(r, -10, 10) });
    sameOnBothBackends(g, r, `case ${i}: ${h}x${w}x${inC} -> ${oh}x${ow}x${outC}, ${kh}x${kw} stride ${stride} ${padding}`);
  }
});

test('int8 3x3 stride-1 CONV_2D by Winograd F(2x2, 3x3) on the wasm backend gives the js backend\'s bytes: odd sizes, borders, channel tails, the int32 bound at 64 input channels', () => {
  const r = rng(57);
  for (let i = 0; i < 40; i++) {
    // Every fourth case at the extremes: weights all -128, inputs -128 or 127, over 64 channels (the most the kernel takes).
    const extreme = i % 4 === 3, inC = extreme ? 64 : 8 * int(r, 1, 8), outC = int(r, 1, 21), h = int(r, 1, 11), w = int(r, 1, 11);
    const padding = h < 3 || w < 3 || r() < 0.6 ? 'SAME' : 'VALID';
    const oh = padding === 'SAME' ? h : h - 2, ow = padding === 'SAME' ? w : w - 2;
    const ws = channelScales(r, outC), inScale = 0.05, inZp = extreme ? -128 : int(r, -20, 20);
    const weights = extreme ? new Uint8Array(outC * 9 * inC).fill(0x80) : bytes(r, outC * 9 * inC);
    const g = oneNodeGraph('CONV_2D', { padding, strideW: 1, strideH: 1, dilationW: 1, dilationH: 1, activation: r() < 0.5 ? 'RELU' : 'NONE' } as never, [
      { shape: [1, h, w, inC], dtype: 'int8', scale: inScale, zeroPoint: inZp },
      { shape: [outC, 3, 3, inC], dtype: 'int8', scale: ws, zeroPoint: ws.map(() => 0), data: weights },
      { shape: [outC], dtype: 'int32', scale: ws.map((s) => s * inScale), zeroPoint: ws.map(() => 0), data: int32s(r, outC, 3000) },
    ], { shape: [1, oh, ow, outC], dtype: 'int8', scale: i % 3 === 0 ? 0.0005 : 0.02, zeroPoint: int(r, -10, 10) });
    const label = `case ${i}: ${h}x${w}x${inC} -> ${oh}x${ow}x${outC}, ${padding}`;
    if (extreme) {
      g.inputs = [0];
      g.outputs = [g.tensors.length - 1];
      const wasm = new Interpreter(g, { backend: 'wasm', objective: 'speed' }), js = new Interpreter(g, { backend: 'js', objective: 'speed' });
      const x = Uint8Array.from({ length: h * w * inC }, () => (r() < 0.5 ? 0x80 : 0x7f));
      wasm.setInput(0, x);
      js.setInput(0, x);
      wasm.invoke();
      js.invoke();
      assert.deepEqual(wasm.output(0), js.output(0), label);
    } else {
      sameOnBothBackends(g, r, label);
    }
    if (i === 0) {
      const c = compileModel(g, { objective: 'speed' });
      const called = buildWasmProgram(c.graph, c.plan, instantiateKernels(kernelModule()!)).calledKernels;
      assert.ok(called.has('tm_conv2d_winograd_s8'), [...called].join(', '));
    }
  }
});

test('int8 DEPTHWISE_CONV_2D on the wasm backend gives the js backend\'s bytes: odd tap counts, windows to 7x7, channel tails, borders, eight channels', () => {
  const r = rng(17);
  for (let i = 0; i < 60; i++) {
    // Every fourth layer has exactly eight channels (two pixels per step in the interior).
    const k = [3, 5, 7, 2, 3][i % 5], c = i % 4 === 3 ? 8 : int(r, 1, 70), h = int(r, k, 12), w = int(r, k, 12);
    const stride = int(r, 1, 2), padding = r() < 0.7 ? 'SAME' : 'VALID';
    const oh = padding === 'SAME' ? Math.ceil(h / stride) : Math.floor((h - k) / stride) + 1;
    const ow = padding === 'SAME' ? Math.ceil(w / stride) : Math.floor((w - k) / stride) + 1;
    const ws = channelScales(r, c).map((s) => s * 4), inScale = 0.05, inZp = int(r, -20, 20);
    const g = oneNodeGraph('DEPTHWISE_CONV_2D', { padding, strideW: stride, strideH: stride, dilationW: 1, dilationH: 1, depthMultiplier: 1, activation: r() < 0.5 ? 'RELU6' : 'NONE' } as never, [
      { shape: [1, h, w, c], dtype: 'int8', scale: inScale, zeroPoint: inZp },
      { shape: [1, k, k, c], dtype: 'int8', scale: ws, zeroPoint: ws.map(() => 0), data: bytes(r, k * k * c) },
      { shape: [c], dtype: 'int32', scale: ws.map((s) => s * inScale), zeroPoint: ws.map(() => 0), data: int32s(r, c, 3000) },
    ], { shape: [1, oh, ow, c], dtype: 'int8', scale: i % 3 === 0 ? 0.0005 : 0.02, zeroPoint: int(r, -10, 10) });
    g.tensors[1].quant!.axis = 3;
    g.tensors[2].quant!.axis = 0;
    sameOnBothBackends(g, r, `case ${i}: ${h}x${w}x${c}, ${k}x${k} stride ${stride} ${padding}`);
  }
});

/**
 * Requantisation at its edges, where the SIMD forms saturate and pick their shortcuts: per-channel scales
 * from 2^-27 to 2^2 (right shifts up to 27 and left shifts), multipliers at both ends of [2^30, 2^31),
 * biases up to 2^30 (results far beyond int8 and near every rounding tie), output zero points at both ends.
 */
function edgeScales(r: () => number, n: number, small: boolean): number[] {
  // Small accumulators meet powers of two (multiplier 2^30): results at exact ties, rounded away from zero.
  if (small) return Array.from({ length: n }, () => 2 ** -int(r, 1, 14));
  return Array.from({ length: n }, () => 2 ** -int(r, -2, 27) * [1, 1.999999, 1.5, 1 + r()][int(r, 0, 3)]);
}

test('int8 CONV_2D (1x1, 3x3) and DEPTHWISE_CONV_2D on the wasm backend give the js backend\'s bytes at the requantisation\'s edges', () => {
  const r = rng(23);
  for (let i = 0; i < 60; i++) {
    const small = i % 5 === 4, dw = i % 3 === 2, k = i % 3 === 0 ? 1 : 3;
    const c = small ? int(r, 1, 16) : int(r, 1, 40), outC = dw ? c : int(r, 1, 20), h = int(r, k, 9), w = int(r, k, 9);
    const mag = [3000, 1 << 20, 1 << 29, 2 ** 30.9, 100][i % 5], zp = [-128, 127, 0, int(r, -128, 127)][int(r, 0, 3)];
    const ws = edgeScales(r, outC, small), inScale = 1, outScale = 1, act = ['NONE', 'RELU', 'RELU6'][int(r, 0, 2)];
    const opts = { padding: 'SAME', strideW: 1, strideH: 1, dilationW: 1, dilationH: 1, activation: act };
    const g = oneNodeGraph(dw ? 'DEPTHWISE_CONV_2D' : 'CONV_2D', (dw ? { ...opts, depthMultiplier: 1 } : opts) as never, [
      { shape: [1, h, w, c], dtype: 'int8', scale: inScale, zeroPoint: int(r, -128, 127) },
      { shape: dw ? [1, k, k, c] : [outC, k, k, c], dtype: 'int8', scale: ws, zeroPoint: ws.map(() => 0), data: bytes(r, k * k * c * (dw ? 1 : outC)) },
      { shape: [outC], dtype: 'int32', scale: ws.map((s) => s * inScale), zeroPoint: ws.map(() => 0), data: int32s(r, outC, mag) },
    ], { shape: [1, h, w, outC], dtype: 'int8', scale: outScale, zeroPoint: zp });
    if (dw) g.tensors[1].quant!.axis = 3;
    g.tensors[2].quant!.axis = 0;
    sameOnBothBackends(g, r, `case ${i}: ${dw ? 'depthwise' : 'conv'} ${k}x${k} ${h}x${w}x${c} -> ${outC}, bias up to ${mag}, zero point ${zp}, ${act}`);
  }
});

test('int8 ADD on the wasm backend gives the js backend\'s bytes: input scales from 2^-9 to 2^9 of the output\'s, zero points at both ends, activations', () => {
  const r = rng(31);
  for (let i = 0; i < 40; i++) {
    const n = int(r, 1, 300), outScale = 0.05;
    // Some inputs far apart in scale (2^-24 .. 2^-18 with powers of two): the smaller one's rescale meets exact ties.
    const s1 = outScale * 2 ** (r() * 18 - 9), s2 = i % 4 === 3 ? s1 * 2 ** -int(r, 18, 24) : outScale * 2 ** (r() * 18 - 9);
    const zp = () => [-128, 127, 0, int(r, -128, 127)][int(r, 0, 3)];
    const act = ['NONE', 'RELU', 'RELU6'][int(r, 0, 2)];
    const g = oneNodeGraph('ADD', { activation: act } as never, [
      { shape: [1, n], dtype: 'int8', scale: s1, zeroPoint: zp() },
      { shape: [1, n], dtype: 'int8', scale: s2, zeroPoint: zp(), data: bytes(r, n) },
    ], { shape: [1, n], dtype: 'int8', scale: outScale, zeroPoint: zp() });
    sameOnBothBackends(g, r, `case ${i}: ${n} values, scales ${s1.toPrecision(3)} + ${s2.toPrecision(3)} -> ${outScale}, ${act}`);
  }
});
