import { test } from 'node:test';
import assert from 'node:assert/strict';
import { augmentDraw, augmentImage, cifarAugment } from '../../src/data/augment.js';

const a = { height: 3, width: 4, channels: 2, pad: 1, flip: true };
const image = () => Float32Array.from({ length: 3 * 4 * 2 }, (_, i) => i);
const at = (x: Float32Array, y: number, xx: number, k: number) => x[(y * 4 + xx) * 2 + k];

test('augmentation: shifts repeat the edge, flips mirror, both read the image as it was', () => {
  const tmp = new Float32Array(24);
  const x = image();
  augmentImage(a, x, 0, tmp, { dy: 0, dx: 0, flip: false });
  assert.deepEqual(x, image());
  augmentImage(a, x, 0, tmp, { dy: 0, dx: 1, flip: false });
  const src = image();
  for (let y = 0; y < 3; y++) for (let xx = 0; xx < 4; xx++) for (let k = 0; k < 2; k++) assert.equal(at(x, y, xx, k), at(src, y, Math.min(3, xx + 1), k));
  const f = image();
  augmentImage(a, f, 0, tmp, { dy: -1, dx: 0, flip: true });
  for (let y = 0; y < 3; y++) for (let xx = 0; xx < 4; xx++) assert.equal(at(f, y, xx, 1), at(src, Math.max(0, y - 1), 3 - xx, 1));
  // At an offset inside a batch: the neighbours are untouched.
  const batch = new Float32Array(72).fill(-1);
  batch.set(image(), 24);
  augmentImage(a, batch, 24, tmp, { dy: 1, dx: -1, flip: true });
  assert.ok(batch.subarray(0, 24).every((v) => v === -1) && batch.subarray(48).every((v) => v === -1));
});

test('augmentation draws depend only on (seed, step, row), stay within the pad, and cover every shift and both flips', () => {
  const c = cifarAugment(32, 32, 3);
  assert.equal(c.pad, 4);
  assert.deepEqual(augmentDraw(c, 1, 7, 3), augmentDraw(c, 1, 7, 3));
  const seen = new Set<string>();
  let flips = 0, n = 0, differ = 0;
  for (let step = 0; step < 200; step++) {
    for (let row = 0; row < 8; row++) {
      const d = augmentDraw(c, 1, step, row);
      assert.ok(Math.abs(d.dx) <= 4 && Math.abs(d.dy) <= 4);
      seen.add(`${d.dx},${d.dy}`);
      flips += d.flip ? 1 : 0;
      n++;
      const other = augmentDraw(c, 2, step, row);
      if (other.dx !== d.dx || other.dy !== d.dy || other.flip !== d.flip) differ++;
    }
  }
  assert.equal(seen.size, 81);
  assert.ok(flips > 0.4 * n && flips < 0.6 * n, `${flips} flips of ${n}`);
  assert.ok(differ > 0.9 * n, 'another seed draws differently');
  assert.deepEqual(augmentDraw({ ...c, pad: 0, flip: false }, 1, 0, 0), { dy: 0, dx: 0, flip: false });
});
