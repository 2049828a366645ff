import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  frexp, multiplyByQuantizedMultiplier, quantizeMultiplier, roundingDivideByPOT, saturatingRoundingDoublingHighMul,
} from '../../src/quant/fixedpoint.js';

/** The gemmlowp definition, computed with 64-bit BigInt arithmetic as C++ does it. */
function highMulRef(a: number, b: number): number {
  if (a === -2147483648 && b === -2147483648) return 2147483647;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n)); // BigInt division truncates toward zero, as C++ does
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

test('saturatingRoundingDoublingHighMul equals the 64-bit definition on random and extreme operands', () => {
  const r = rng(7);
  const extremes = [0, 1, -1, 2, -2, 2147483647, -2147483648, 1073741824, -1073741824, 4194303, 4194304, -4194304, 65535, 65536, -65536];
  for (const a of extremes) for (const b of extremes) assert.equal(saturatingRoundingDoublingHighMul(a, b), highMulRef(a, b), `${a}*${b}`);
  for (let i = 0; i < 200000; i++) {
    const a = r() | 0;
    const b = i % 3 === 0 ? (r() >>> 1) : r() | 0;
    const aSmall = i % 2 === 0 ? (a >> (r() % 31)) : a;
    assert.equal(saturatingRoundingDoublingHighMul(aSmall, b), highMulRef(aSmall, b), `${aSmall}*${b}`);
  }
});

test('roundingDivideByPOT rounds half away from zero', () => {
  assert.equal(roundingDivideByPOT(5, 1), 3);
  assert.equal(roundingDivideByPOT(-5, 1), -3);
  assert.equal(roundingDivideByPOT(4, 1), 2);
  assert.equal(roundingDivideByPOT(-7, 2), -2);
  assert.equal(roundingDivideByPOT(-6, 2), -2);
  assert.equal(roundingDivideByPOT(6, 2), 2);
  for (let x = -1000; x <= 1000; x++) {
    for (let e = 1; e < 6; e++) {
      const q = x / 2 ** e;
      const expect = q < 0 ? -Math.round(-q) : Math.round(q);
      assert.equal(roundingDivideByPOT(x, e), expect | 0, `${x}/2^${e}`);
    }
  }
});

test('quantizeMultiplier reconstructs the real multiplier to 31 bits', () => {
  for (const real of [0.5, 0.75, 1e-5, 0.00390625, 3.7, 0.123456789, 1 - 1e-12]) {
    const { multiplier, shift } = quantizeMultiplier(real);
    assert.ok(multiplier >= 2 ** 30 && multiplier < 2 ** 31, `${real}: ${multiplier}`);
    assert.ok(Math.abs(multiplier * 2 ** (shift - 31) - real) <= real * 2 ** -30, `${real}`);
  }
  // Rounding the fraction up to 2^31 carries into the exponent, as TFLite does.
  assert.deepEqual(quantizeMultiplier(1 - 1e-12), { multiplier: 2 ** 30, shift: 1 });
  assert.deepEqual(quantizeMultiplier(0), { multiplier: 0, shift: 0 });
  const f = frexp(0.375);
  assert.deepEqual(f, { fraction: 0.75, exponent: -1 });
});

test('multiplyByQuantizedMultiplier matches the BigInt definition', () => {
  const r = rng(11);
  for (let i = 0; i < 50000; i++) {
    const x = (r() | 0) >> (r() % 24);
    const real = (r() / 2 ** 32) * 2 ** ((r() % 20) - 16);
    const { multiplier, shift } = quantizeMultiplier(real);
    const left = shift > 0 ? shift : 0;
    const right = shift > 0 ? 0 : -shift;
    const hm = highMulRef(Math.imul(x, 1 << left), multiplier);
    const ref = right === 0 ? hm : Number((() => {
      const mask = (1 << right) - 1;
      const rem = hm & mask;
      const th = (mask >> 1) + (hm < 0 ? 1 : 0);
      return (hm >> right) + (rem > th ? 1 : 0);
    })());
    assert.equal(multiplyByQuantizedMultiplier(x, multiplier, shift), ref);
  }
});
