/**
 * SOFTMAX and LOG_SOFTMAX: int8 against BigInt references written from reference/softmax.h and
 * log_softmax.h (and against the real functions), float against double math. The real-model SOFTMAX
 * layers are checked byte for byte in elementwise_layers.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quantizeMultiplier } from '../../src/quant/fixedpoint.js';
import { UnsupportedOpError } from '../../src/errors.js';
import { expNeg, logRef, mbqm, rdbpot, reciprocalRef, srdhm } from './fixedpoint_ref.js';
import { oneNodeGraph, randomInt8, rng, runGraph } from './harness.js';

function radius(intBits: number, shift: number): number {
  return Math.floor((2 ** intBits - 1) * 2 ** (31 - intBits) / 2 ** shift);
}

function softmaxRef(row: number[], beta: number, scale: number, outBits: 8 | 16): number[] {
  const { multiplier, shift } = quantizeMultiplier(Math.min(beta * scale * 2 ** 26, 2 ** 31 - 1));
  const diffMin = -radius(5, shift);
  const max = Math.max(...row);
  let sum = 0n;
  const exps = row.map((v) => (v - max >= diffMin ? expNeg(BigInt(mbqm(v - max, multiplier, shift)), 5) : null));
  for (const e of exps) if (e !== null) sum = BigInt.asIntN(32, sum + rdbpot(e, 12));
  const [recip, bits] = reciprocalRef(sum, 12);
  const exponent = bits + 31 - outBits;
  const lo = outBits === 8 ? -128 : -32768;
  const hi = outBits === 8 ? 127 : 32767;
  return exps.map((e) => (e === null ? lo : Math.min(hi, Math.max(lo, Number(rdbpot(srdhm(recip, e), exponent)) + lo))));
}

function logSoftmaxRef(row: number[], scale: number): number[] {
  const { multiplier, shift } = quantizeMultiplier(Math.min(scale * 2 ** 26, 2 ** 31 - 1));
  const reverse = quantizeMultiplier(2 ** (31 - shift) / multiplier);
  const diffMin = -radius(5, shift);
  const max = Math.max(...row);
  let sum = 0n;
  for (const v of row) if (v - max >= diffMin) sum = BigInt.asIntN(32, sum + rdbpot(expNeg(BigInt(mbqm(v - max, multiplier, shift)), 5), 12));
  const logSum = logRef(sum, 12, 5);
  const adjusted = Math.max(diffMin - 1, mbqm(Number(BigInt.asIntN(32, logSum - (1n << 31n))), reverse.multiplier, reverse.shift));
  return row.map((v) => {
    if (!(v - max > adjusted)) return -128;
    const y = Number(rdbpot(BigInt.asIntN(32, BigInt(mbqm(v - max, multiplier, shift)) - logSum), 22)) + 127;
    return Math.min(127, Math.max(-128, y));
  });
}

test('SOFTMAX int8 equals the reference row by row and approximates softmax', () => {
  const r = rng(21);
  for (const [shape, scale, zp, beta] of [
    [[1, 10], 0.17185351, 24, 1], [[3, 7], 0.05, -10, 1], [[2, 2, 12], 0.5, 0, 1], [[4, 5], 0.01, 3, 2.5], [[1, 300], 0.1, -128, 1],
    [[2, 6], 1e-9, 0, 1], // tiny scale: every difference counts as ~0
  ] as Array<[number[], number, number, number]>) {
    const depth = shape[shape.length - 1];
    const n = shape.reduce((a, b) => a * b, 1);
    const x = randomInt8(r, n);
    const g = oneNodeGraph('SOFTMAX', { beta }, [{ shape, dtype: 'int8', scale, zeroPoint: zp }], { shape, dtype: 'int8', scale: 1 / 256, zeroPoint: -128 }, 2);
    if (scale * beta * 2 ** 26 <= 1) {
      assert.throws(() => runGraph(g, [x]), UnsupportedOpError);
      continue;
    }
    const got = runGraph(g, [x]);
    for (let row = 0; row < n / depth; row++) {
      const xs = x.slice(row * depth, (row + 1) * depth);
      const want = softmaxRef(xs, Math.fround(beta), Math.fround(scale), 8);
      assert.deepEqual(got.slice(row * depth, (row + 1) * depth), want, `${JSON.stringify(shape)} row ${row}`);
      const m = Math.max(...xs);
      const e = xs.map((v) => Math.exp(beta * scale * (v - m)));
      const s = e.reduce((a, b) => a + b, 0);
      want.forEach((q, i) => assert.ok(Math.abs((q + 128) / 256 - e[i] / s) <= 1.5 / 256, `softmax ${e[i] / s} vs ${(q + 128) / 256}`));
    }
  }
});

test('SOFTMAX int8 -> int16 output (scale 1/65536, zero point -32768) equals the reference', () => {
  const r = rng(22);
  const x = randomInt8(r, 24);
  const g = oneNodeGraph('SOFTMAX', { beta: 1 }, [{ shape: [2, 12], dtype: 'int8', scale: 0.1, zeroPoint: 2 }],
    { shape: [2, 12], dtype: 'int16', scale: 1 / 65536, zeroPoint: -32768 }, 2);
  const got = runGraph(g, [x]);
  assert.deepEqual(got, [...softmaxRef(x.slice(0, 12), 1, Math.fround(0.1), 16), ...softmaxRef(x.slice(12), 1, Math.fround(0.1), 16)]);
});

test('LOG_SOFTMAX int8 equals the reference and approximates log softmax', () => {
  const r = rng(23);
  for (const [shape, scale, zp] of [[[1, 10], 0.1, 0], [[3, 16], 0.05, -20], [[2, 5], 0.9, 40], [[1, 64], 0.02, -128]] as Array<[number[], number, number]>) {
    const depth = shape[shape.length - 1];
    const n = shape.reduce((a, b) => a * b, 1);
    const x = randomInt8(r, n);
    const g = oneNodeGraph('LOG_SOFTMAX', {}, [{ shape, dtype: 'int8', scale, zeroPoint: zp }], { shape, dtype: 'int8', scale: 16 / 256, zeroPoint: 127 }, 2);
    const got = runGraph(g, [x]);
    for (let row = 0; row < n / depth; row++) {
      const xs = x.slice(row * depth, (row + 1) * depth);
      const want = logSoftmaxRef(xs, Math.fround(scale));
      assert.deepEqual(got.slice(row * depth, (row + 1) * depth), want, `${JSON.stringify(shape)} row ${row}`);
      const m = Math.max(...xs);
      const lse = Math.log(xs.reduce((a, v) => a + Math.exp(scale * (v - m)), 0));
      want.forEach((q, i) => {
        const real = scale * (xs[i] - m) - lse;
        if (real > -15.9) assert.ok(Math.abs((q - 127) / 16 - real) <= 1.5 / 16, `log_softmax ${real} vs ${(q - 127) / 16}`);
      });
    }
  }
});

test('float SOFTMAX (with beta) and LOG_SOFTMAX match double math', () => {
  const xs = [1, 2, 3, -4, 0.5, 7.25, -1, 3].map(Math.fround);
  const sm = runGraph(oneNodeGraph('SOFTMAX', { beta: 0.7 }, [{ shape: [2, 4], dtype: 'float32' }], { shape: [2, 4], dtype: 'float32' }), [xs]);
  const lsm = runGraph(oneNodeGraph('LOG_SOFTMAX', {}, [{ shape: [2, 4], dtype: 'float32' }], { shape: [2, 4], dtype: 'float32' }), [xs]);
  for (let row = 0; row < 2; row++) {
    const v = xs.slice(row * 4, row * 4 + 4);
    const m = Math.max(...v);
    const e = v.map((x) => Math.exp(0.7 * (x - m)));
    const s = e.reduce((a, b) => a + b, 0);
    const lse = Math.log(v.reduce((a, x) => a + Math.exp(x - m), 0));
    v.forEach((x, i) => {
      assert.ok(Math.abs(sm[row * 4 + i] - e[i] / s) < 1e-6);
      assert.ok(Math.abs(lsm[row * 4 + i] - (x - m - lse)) < 1e-5);
    });
  }
});

test('SOFTMAX and LOG_SOFTMAX refuse outputs off their fixed quantisation', () => {
  const sm = oneNodeGraph('SOFTMAX', { beta: 1 }, [{ shape: [1, 4], dtype: 'int8', scale: 0.1, zeroPoint: 0 }], { shape: [1, 4], dtype: 'int8', scale: 1 / 255, zeroPoint: -128 }, 2);
  assert.throws(() => runGraph(sm, [[0, 0, 0, 0]]), (e: unknown) => e instanceof UnsupportedOpError && /SOFTMAX at node 0/.test(e.message));
  const lsm = oneNodeGraph('LOG_SOFTMAX', {}, [{ shape: [1, 4], dtype: 'int8', scale: 0.1, zeroPoint: 0 }], { shape: [1, 4], dtype: 'int8', scale: 1 / 16, zeroPoint: 0 }, 2);
  assert.throws(() => runGraph(lsm, [[0, 0, 0, 0]]), UnsupportedOpError);
  const i16 = oneNodeGraph('SOFTMAX', { beta: 1 }, [{ shape: [1, 4], dtype: 'int16', scale: 0.1, zeroPoint: 0 }], { shape: [1, 4], dtype: 'int16', scale: 1 / 32768, zeroPoint: 0 }, 3);
  assert.throws(() => runGraph(i16, [[0, 0, 0, 0]]), UnsupportedOpError);
});
