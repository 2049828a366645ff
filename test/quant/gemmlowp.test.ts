import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  expOnNegativeValues, getReciprocal, logXForXGreaterThanOrEqualTo1, logistic, oneOverOnePlusXForXIn01, tanh,
} from '../../src/quant/gemmlowp.js';
import { expNeg, logRef, logisticRef, oneOverOnePlusX, reciprocalRef, tanhRef } from '../ops/fixedpoint_ref.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

const Q = (x: number, intBits: number) => Math.round(x * 2 ** (31 - intBits));

test('exp_on_negative_values equals the 64-bit reference and approximates exp', () => {
  const r = rng(1);
  for (const bits of [4, 5]) {
    for (let i = 0; i < 20000; i++) {
      const a = i < 10 ? -i : -(r() % (2 ** 31)) | 0;
      const got = expOnNegativeValues(a, bits);
      assert.equal(got, Number(expNeg(BigInt(a), bits)), `exp(${a} in Q${bits})`);
      const want = Math.exp(a / 2 ** (31 - bits));
      assert.ok(Math.abs(got / 2 ** 31 - want) < 1e-6, `exp accuracy at ${a}: ${got / 2 ** 31} vs ${want}`);
    }
  }
  assert.equal(expOnNegativeValues(0, 5), 2147483647);
});

test('one_over_one_plus_x and GetReciprocal equal the reference and approximate 1/(1+x)', () => {
  const r = rng(2);
  const out = { numBitsOverUnit: 0 };
  for (let i = 0; i < 20000; i++) {
    const a = r() >>> 1; // [0, 2^31)
    assert.equal(oneOverOnePlusXForXIn01(a), Number(oneOverOnePlusX(BigInt(a))));
    assert.ok(Math.abs(oneOverOnePlusXForXIn01(a) / 2 ** 31 - 1 / (1 + a / 2 ** 31)) < 1e-8);
    const x = (r() >>> 1) || 1;
    const got = getReciprocal(x, 12, out);
    const [want, bits] = reciprocalRef(BigInt(x), 12);
    assert.equal(got, Number(want));
    assert.equal(out.numBitsOverUnit, bits);
  }
});

test('tanh and logistic in Q4.27 equal the reference and approximate the functions', () => {
  const r = rng(3);
  for (let i = 0; i < 20000; i++) {
    const a = i < 256 ? Q((i - 128) / 16, 4) : r() | 0;
    const real = a / 2 ** 27;
    assert.equal(tanh(a, 4), Number(tanhRef(BigInt(a), 4)), `tanh(${a})`);
    assert.equal(logistic(a, 4), Number(logisticRef(BigInt(a), 4)), `logistic(${a})`);
    assert.ok(Math.abs(tanh(a, 4) / 2 ** 31 - Math.tanh(real)) < 1e-6, `tanh accuracy at ${real}`);
    assert.ok(Math.abs(logistic(a, 4) / 2 ** 31 - 1 / (1 + Math.exp(-real))) < 1e-6, `logistic accuracy at ${real}`);
  }
  assert.equal(tanh(0, 4), 0);
  assert.equal(logistic(0, 4), 1 << 30);
});

test('log(x) for x >= 1 (Q12 in, Q5 out) equals the reference and approximates log', () => {
  const r = rng(4);
  for (let i = 0; i < 20000; i++) {
    // Sums of exps in Q12.19: from 1.0 up to 2^12.
    const x = (1 << 19) + (r() % (2 ** 31 - (1 << 19)));
    const got = logXForXGreaterThanOrEqualTo1(x, 12, 5);
    assert.equal(got, Number(logRef(BigInt(x), 12, 5)), `log(${x})`);
    assert.ok(Math.abs(got / 2 ** 26 - Math.log(x / 2 ** 19)) < 1e-6, `log accuracy at ${x / 2 ** 19}`);
  }
});
