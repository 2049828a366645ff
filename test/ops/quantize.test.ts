/**
 * QUANTIZE and DEQUANTIZE: rounding (half away from zero, after a float division), saturation, the x86
 * conversion of out-of-range values, 8-bit requantisation against a BigInt reference, and in-place runs.
 * The real model's QUANTIZE / DEQUANTIZE layers are checked byte for byte in elementwise_layers.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DType } from '../../src/graph/dtype.js';
import { quantizeMultiplier } from '../../src/quant/fixedpoint.js';
import { UnsupportedOpError } from '../../src/errors.js';
import { mbqm } from './fixedpoint_ref.js';
import { oneNodeGraph, rng, runGraph } from './harness.js';

function quantizeFloat(xs: number[], scale: number, zp: number, dtype: DType = 'int8', alias = false): number[] {
  const g = oneNodeGraph('QUANTIZE', {}, [{ shape: [xs.length], dtype: 'float32' }], { shape: [xs.length], dtype, scale, zeroPoint: zp });
  return runGraph(g, [xs], alias ? new Map([[1, 0]]) : undefined);
}

test('QUANTIZE float32 -> int8 rounds x / scale half away from zero, then adds the zero point and clamps', () => {
  assert.deepEqual(quantizeFloat([0.25, -0.25, 0.75, -0.75, 0.2, -0.2, 1, 63.5, 64, -64.25, -100], 0.5, 0),
    [1, -1, 2, -2, 0, 0, 2, 127, 127, -128, -128]);
  assert.deepEqual(quantizeFloat([0.25, -0.25, 0, 1.25], 0.5, -3), [-2, -4, -3, 0]);
  // uint8 output.
  assert.deepEqual(quantizeFloat([0, 0.5, -1, 200, 0.05], 0.1, 10, 'uint8'), [10, 15, 0, 255, 11]);
});

test('QUANTIZE float32 -> int8 divides in float32 (not double) before rounding', () => {
  // 0.3 / 0.1 in double is 2.9999999999999996 (rounds to 3 either way), so look for a tie that only a
  // float division produces: x = 2.5 * s rounded to float, divided by s in float, may land exactly on 2.5.
  const r = rng(31);
  let differing = 0;
  for (let i = 0; i < 5000; i++) {
    const s = Math.fround(0.001 + r() * 0.1);
    const x = Math.fround((Math.floor(r() * 200) - 100 + 0.5) * s);
    const fl = Math.fround(x / s);
    const viaFloat = Math.max(-128, Math.min(127, (fl < 0 ? -Math.round(-fl) : Math.round(fl))));
    const d = x / s;
    const viaDouble = Math.max(-128, Math.min(127, (d < 0 ? -Math.round(-d) : Math.round(d))));
    if (viaFloat !== viaDouble) differing++;
    assert.equal(quantizeFloat([x], s, 0)[0], viaFloat);
  }
  assert.ok(differing > 0, 'the sample should contain cases where float and double division round differently');
});

test('QUANTIZE float32 -> int8 converts non-finite and huge values as TFLite Micro on x86-64 does (INT32_MIN)', () => {
  // static_cast<int32_t> of an out-of-range float yields INT32_MIN; adding the zero point wraps.
  assert.deepEqual(quantizeFloat([Infinity, -Infinity, NaN, 1e30, -1e30], 0.5, 0), [-128, -128, -128, -128, -128]);
  assert.deepEqual(quantizeFloat([Infinity, 1e30], 0.5, -1), [127, 127]);
});

function requantize(inDtype: DType, inScale: number, inZp: number, outDtype: DType, outScale: number, outZp: number): { got: number[]; want: number[] } {
  const lo = inDtype === 'int8' ? -128 : 0;
  const xs = Array.from({ length: 256 }, (_, i) => i + lo);
  const g = oneNodeGraph('QUANTIZE', {}, [{ shape: [256], dtype: inDtype, scale: inScale, zeroPoint: inZp }],
    { shape: [256], dtype: outDtype, scale: outScale, zeroPoint: outZp });
  const { multiplier, shift } = quantizeMultiplier(Math.fround(inScale) / Math.fround(outScale));
  const [olo, ohi] = outDtype === 'int8' ? [-128, 127] : [0, 255];
  const want = xs.map((q) => Math.min(ohi, Math.max(olo, mbqm(q - inZp, multiplier, shift) + outZp)));
  return { got: runGraph(g, [xs]), want };
}

test('QUANTIZE int8 <-> int8 / uint8 requantises like reference_ops::Requantize', () => {
  for (const [a, sa, za, b, sb, zb] of [
    ['int8', 0.05, 3, 'int8', 0.08, -7], ['int8', 0.3, -128, 'int8', 0.01, 0], ['int8', 0.02, 0, 'int8', 0.02, 0],
    ['int8', 0.1, -5, 'uint8', 0.1, 123], ['uint8', 0.0078, 128, 'int8', 0.0078, 0], ['uint8', 0.05, 100, 'int8', 0.09, -30],
  ] as Array<[DType, number, number, DType, number, number]>) {
    const { got, want } = requantize(a, sa, za, b, sb, zb);
    assert.deepEqual(got, want, `${a}(${sa},${za}) -> ${b}(${sb},${zb})`);
  }
  // The uint8 -> int8 shift by 128 at equal scales is exact.
  const { got } = requantize('uint8', 0.1, 128, 'int8', 0.1, 0);
  assert.deepEqual(got, Array.from({ length: 256 }, (_, i) => i - 128));
});

test('DEQUANTIZE int8 / uint8 / int16 -> float32 is one float multiplication scale * (q - zero point)', () => {
  for (const [dtype, scale, zp, xs] of [
    ['int8', 0.0123, -7, Array.from({ length: 256 }, (_, i) => i - 128)],
    ['uint8', 0.2, 128, Array.from({ length: 256 }, (_, i) => i)],
    ['int16', 1 / 3000, 5, [-32768, -1000, 0, 1, 5, 777, 32767]],
  ] as Array<[DType, number, number, number[]]>) {
    const g = oneNodeGraph('DEQUANTIZE', {}, [{ shape: [xs.length], dtype, scale, zeroPoint: zp }], { shape: [xs.length], dtype: 'float32' }, 3);
    assert.deepEqual(runGraph(g, [xs]), xs.map((q) => Math.fround(Math.fround(scale) * (q - zp))), dtype);
  }
});

test('QUANTIZE (float -> int8) and DEQUANTIZE (int8 -> float) also run in place over their input', () => {
  const r = rng(32);
  const xs = Array.from({ length: 37 }, () => Math.fround((r() - 0.5) * 10));
  assert.deepEqual(quantizeFloat(xs, 0.05, 4, 'int8', true), quantizeFloat(xs, 0.05, 4));
  const qs = Array.from({ length: 37 }, (_, i) => (i * 7) % 256 - 128);
  const g = oneNodeGraph('DEQUANTIZE', {}, [{ shape: [37], dtype: 'int8', scale: 0.1, zeroPoint: 1 }], { shape: [37], dtype: 'float32' }, 2);
  assert.deepEqual(runGraph(g, [qs], new Map([[1, 0]])), runGraph(g, [qs]));
});

test('QUANTIZE refuses bool and per-channel outputs; DEQUANTIZE refuses non-float outputs', () => {
  const bool = oneNodeGraph('QUANTIZE', {}, [{ shape: [2], dtype: 'float32' }], { shape: [2], dtype: 'bool' }, 1);
  assert.throws(() => runGraph(bool, [[0, 0]]), UnsupportedOpError);
  const pc = oneNodeGraph('QUANTIZE', {}, [{ shape: [1, 2], dtype: 'float32' }], { shape: [1, 2], dtype: 'int8', scale: [0.1, 0.2], zeroPoint: [0, 0] });
  assert.throws(() => runGraph(pc, [[0, 0]]), /per-channel/);
  const dq = oneNodeGraph('DEQUANTIZE', {}, [{ shape: [2], dtype: 'int8', scale: 0.1, zeroPoint: 0 }], { shape: [2], dtype: 'int8', scale: 0.1, zeroPoint: 0 });
  assert.throws(() => runGraph(dq, [[0, 0]]), UnsupportedOpError);
});
