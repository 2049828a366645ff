/**
 * RELU, RELU6, LOGISTIC, TANH and HARD_SWISH on every int8 input value, against slow references (BigInt
 * fixed point written from TFLite's reference kernels) and against the real functions; and their float
 * kernels against double-precision math.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OpName } from '../../src/graph/options.js';
import { frexp, quantizeMultiplier, roundHalfAway } from '../../src/quant/fixedpoint.js';
import { UnsupportedOpError } from '../../src/errors.js';
import { logisticRef, mbqm, rdbpot, tanhRef } from './fixedpoint_ref.js';
import { oneNodeGraph, rng, runGraph } from './harness.js';

const ALL_INT8 = Array.from({ length: 256 }, (_, i) => i - 128);

type Unary = 'RELU' | 'RELU6' | 'LOGISTIC' | 'TANH' | 'HARD_SWISH';

function runInt8<K extends Unary>(op: K, inScale: number, inZp: number, outScale: number, outZp: number, alias = false): number[] {
  const g = oneNodeGraph(op as OpName, {} as never, [{ shape: [2, 128], dtype: 'int8', scale: inScale, zeroPoint: inZp }],
    { shape: [2, 128], dtype: 'int8', scale: outScale, zeroPoint: outZp }, 2);
  return runGraph(g, [ALL_INT8], alias ? new Map([[1, 0]]) : undefined);
}

function runFloat(op: Unary, xs: number[]): number[] {
  const g = oneNodeGraph(op as OpName, {} as never, [{ shape: [xs.length], dtype: 'float32' }], { shape: [xs.length], dtype: 'float32' });
  return runGraph(g, [xs]);
}

const PARAMS: Array<[number, number, number, number]> = [
  // in scale, in zp, out scale, out zp
  [0.1, 0, 0.1, 0],
  [0.05, -20, 0.08, -128],
  [0.0235, 17, 0.0117, -5],
  [0.5, 100, 0.3, 90],
  [0.002, -128, 0.02, 0],
];

test('RELU int8 requantises like ReluQuantized and clamps at the output zero', () => {
  for (const [si, zi, so, zo] of PARAMS) {
    const { multiplier, shift } = quantizeMultiplier(Math.fround(si) / Math.fround(so));
    const want = ALL_INT8.map((q) => Math.min(127, Math.max(Math.max(-128, zo), zo + mbqm(q - zi, multiplier, shift))));
    assert.deepEqual(runInt8('RELU', si, zi, so, zo), want, `RELU ${[si, zi, so, zo]}`);
  }
});

test('RELU6 int8 clamps to [zero point, quantised 6] on the input scale, as TFLite Micro does', () => {
  for (const [si, zi] of PARAMS) {
    const six = Math.min(127, Math.max(-128, roundHalfAway(Math.fround(6 / Math.fround(si))) + zi));
    assert.deepEqual(runInt8('RELU6', si, zi, 1, 0), ALL_INT8.map((q) => Math.min(six, Math.max(zi, q))));
  }
});

/** logistic_common.cc / tanh.cc prepare, written out again. */
function sigmoidParams(scale: number): { m: number; shift: number; radius: number } {
  const { fraction, exponent } = frexp(Math.fround(scale) * 2 ** 27);
  const m = roundHalfAway(fraction * 2 ** 31);
  return { m: m === 2 ** 31 ? -(2 ** 31) : m, shift: exponent, radius: Math.floor(15 * 2 ** 27 / 2 ** exponent) };
}

test('LOGISTIC int8 equals the fixed-point reference and is within 1 of the rounded logistic', () => {
  for (const [si, zi] of PARAMS) {
    const { m, shift, radius } = sigmoidParams(si);
    const want = ALL_INT8.map((q) => {
      const x = q - zi;
      if (x <= -radius) return -128;
      if (x >= radius) return 127;
      const y = Number(rdbpot(logisticRef(BigInt(mbqm(x, m, shift)), 4), 23)) - 128;
      return Math.min(127, Math.max(-128, y));
    });
    const got = runInt8('LOGISTIC', si, zi, 1 / 256, -128);
    assert.deepEqual(got, want, `LOGISTIC ${si} ${zi}`);
    got.forEach((v, i) => {
      const real = 1 / (1 + Math.exp(-Math.fround(si) * (ALL_INT8[i] - zi)));
      assert.ok(Math.abs(v - Math.min(127, Math.round(real * 256) - 128)) <= 1, `logistic(${real}) -> ${v}`);
    });
  }
});

test('TANH int8 equals the fixed-point reference and is within 1 of the rounded tanh', () => {
  for (const [si, zi] of PARAMS) {
    const { m, shift, radius } = sigmoidParams(si);
    const want = ALL_INT8.map((q) => {
      const x = q - zi;
      if (x <= -radius) return -128;
      if (x >= radius) return 127;
      return Math.min(127, Math.max(-128, Number(rdbpot(tanhRef(BigInt(mbqm(x, m, shift)), 4), 24))));
    });
    const got = runInt8('TANH', si, zi, 1 / 128, 0);
    assert.deepEqual(got, want, `TANH ${si} ${zi}`);
    got.forEach((v, i) => {
      const real = Math.tanh(Math.fround(si) * (ALL_INT8[i] - zi));
      assert.ok(Math.abs(v - Math.max(-128, Math.min(127, Math.round(real * 128)))) <= 1, `tanh(${real}) -> ${v}`);
    });
  }
});

test('HARD_SWISH int8 is within TFLite\'s tolerance of x * relu6(x + 3) / 6', () => {
  const r = rng(11);
  for (let trial = 0; trial < 40; trial++) {
    const si = Math.fround(0.01 + r() * 0.1); const zi = Math.floor(r() * 200) - 100;
    const hs = (x: number) => x * Math.min(6, Math.max(0, x + 3)) / 6;
    const xmin = si * (-128 - zi); const xmax = si * (127 - zi);
    const outLo = Math.min(0, xmin <= -1.5 ? -0.375 : hs(xmin)); const outHi = Math.max(0, hs(xmax));
    const so = Math.fround((outHi - outLo) / 255); const zo = Math.round(-128 - outLo / so);
    const got = runInt8('HARD_SWISH', si, zi, so, zo);
    got.forEach((v, i) => {
      const x = si * (ALL_INT8[i] - zi);
      const want = hs(x);
      // TFLite's HardSwish tests accept about 1.5 output steps.
      assert.ok(Math.abs(so * (v - zo) - want) <= 1.5 * so, `hard_swish(${x}) = ${want}, got ${so * (v - zo)} (scales ${si}/${so})`);
    });
  }
});

test('int8 activations give the same bytes in place (output over input)', () => {
  for (const op of ['LOGISTIC', 'TANH', 'HARD_SWISH'] as const) {
    const outScale = op === 'LOGISTIC' ? 1 / 256 : op === 'TANH' ? 1 / 128 : 0.06;
    const outZp = op === 'LOGISTIC' ? -128 : op === 'TANH' ? 0 : -10;
    assert.deepEqual(runInt8(op, 0.05, 3, outScale, outZp, true), runInt8(op, 0.05, 3, outScale, outZp), op);
  }
});

test('float activations match the math functions', () => {
  const xs = [-20, -9.5, -3.5, -3, -1, -0.25, 0, 0.25, 1, 2.9, 3, 5.5, 6, 7, 17, 30].map(Math.fround);
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
  const check = (op: Unary, f: (x: number) => number) => runFloat(op, xs).forEach((v, i) => assert.ok(close(v, f(xs[i])), `${op}(${xs[i]}) = ${v}`));
  check('RELU', (x) => Math.max(0, x));
  check('RELU6', (x) => Math.min(6, Math.max(0, x)));
  check('LOGISTIC', (x) => 1 / (1 + Math.exp(-x)));
  check('TANH', Math.tanh);
  check('HARD_SWISH', (x) => x * Math.min(6, Math.max(0, x + 3)) / 6);
});

test('LOGISTIC refuses an int8 output whose zero point is not -128; HARD_SWISH refuses int16', () => {
  assert.throws(() => runInt8('LOGISTIC', 0.1, 0, 1 / 256, 0), (e: unknown) => e instanceof UnsupportedOpError && /zero point/.test(e.message));
  const g = oneNodeGraph('HARD_SWISH', {}, [{ shape: [4], dtype: 'int16', scale: 1 / 4096, zeroPoint: 0 }],
    { shape: [4], dtype: 'int16', scale: 1 / 32768, zeroPoint: 0 });
  assert.throws(() => runGraph(g, [[0, 0, 0, 0]]), UnsupportedOpError);
});

test('int16 LOGISTIC and TANH (table with interpolation) track the real functions within 2 LSB, power-of-two input scale or not', () => {
  const xs = [-32768, -20000, -4096, -700, -1, 0, 1, 700, 4096, 20000, 32767];
  for (const inScale of [1 / 4096, 0.0002]) {
    for (const [op, f] of [['LOGISTIC', (v: number) => 1 / (1 + Math.exp(-v))], ['TANH', Math.tanh]] as const) {
      const g = oneNodeGraph(op, {}, [{ shape: [xs.length], dtype: 'int16', scale: inScale, zeroPoint: 0 }],
        { shape: [xs.length], dtype: 'int16', scale: 1 / 32768, zeroPoint: 0 });
      const ys = runGraph(g, [xs]);
      xs.forEach((x, i) => {
        const want = Math.min(32767, Math.round(f(x * Math.fround(inScale)) * 32768));
        assert.ok(Math.abs(ys[i] - want) <= 2, `${op} scale ${inScale}: x ${x} gives ${ys[i]}, real ${want}`);
      });
    }
  }
});

test('int16 LOGISTIC and TANH refuse an output scale other than 2^-15, as the reference does', () => {
  const g = oneNodeGraph('TANH', {}, [{ shape: [2], dtype: 'int16', scale: 1 / 4096, zeroPoint: 0 }],
    { shape: [2], dtype: 'int16', scale: 1 / 16384, zeroPoint: 0 });
  assert.throws(() => runGraph(g, [[0, 0]]), (e: unknown) => e instanceof UnsupportedOpError && /2\^-15/.test(e.message));
});
