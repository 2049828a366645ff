import { test } from 'node:test';
import assert from 'node:assert/strict';
import { multiplyByQuantizedMultiplier } from '../../src/quant/fixedpoint.js';
import { MAX_PACKED_K, prepareInt8Gemm, requant, runInt8Gemm } from '../../src/ops/gemm.js';
import { randInt8, rng } from './conv_harness.js';

/*
 * The GEMM's two speed tricks never change a result: the inlinable requantisation equals
 * fixedpoint.ts's MultiplyByQuantizedMultiplier, and the packed two-channels-per-double products equal
 * the plain int32 loop (the optimisation switched off), at the largest K the packing allows too.
 */

test('requant equals MultiplyByQuantizedMultiplier + zero point + clamp, small and huge accumulators, every shift', () => {
  const r = rng(51);
  for (let i = 0; i < 200000; i++) {
    const shift = r.int(-31, 6);
    const m = r.int(1 << 30, 2147483647);
    const big = r.int(0, 3) === 0;
    const acc = big ? r.int(-2147483648, 2147483647) >> r.int(0, 8) : r.int(-4194400, 4194400);
    const left = shift > 0 ? shift : 0;
    const right = shift > 0 ? 0 : -shift;
    const zp = r.int(-128, 127);
    const want = Math.min(127, Math.max(-128, multiplyByQuantizedMultiplier(acc, m, shift) + zp));
    assert.equal(requant(acc, m, left, right, zp, -128, 127), want, `acc ${acc} m ${m} shift ${shift}`);
  }
});

test('packed GEMM equals the plain GEMM (packing switched off) for odd shapes and K up to the packing limit', () => {
  const r = rng(52);
  for (const [rows, K, cout] of [[1, 1, 1], [3, 7, 5], [33, 16, 9], [64, 27, 8], [5, 300, 17], [2, MAX_PACKED_K, 3], [3, 1, 64]]) {
    const w = randInt8(r, cout * K);
    // Worst case for the lanes: every product at its extreme.
    if (K === MAX_PACKED_K) w.fill(-128);
    const a = randInt8(r, rows * K);
    if (K === MAX_PACKED_K) a.fill(-128);
    const q = {
      bias: Int32Array.from({ length: cout }, () => r.int(-100000, 100000)),
      multiplier: Int32Array.from({ length: cout }, () => r.int(1 << 30, 2147483647)),
      shift: Int32Array.from({ length: cout }, () => r.int(-20, -8)),
      outZp: r.int(-20, 20), actMin: -128, actMax: 127,
    };
    const packed = new Int8Array(rows * cout);
    const plain = new Int8Array(rows * cout);
    const gp = prepareInt8Gemm(w, cout, K, q, true);
    assert.ok(gp.packed, 'packing should be on');
    runInt8Gemm(gp, a, 0, K, rows, packed, 0);
    runInt8Gemm(prepareInt8Gemm(w, cout, K, q, false), a, 0, K, rows, plain, 0);
    assert.deepEqual(packed, plain, `rows ${rows} K ${K} cout ${cout}`);
  }
});
