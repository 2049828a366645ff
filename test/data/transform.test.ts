import { test } from 'node:test';
import assert from 'node:assert/strict';
import { balancedSubset, convertChannels, encodeSamples, epochBatches, fitDataset, inputEncodingFor, makeDataset, resizeBilinear, shuffledIndices, subset } from '../../src/data/index.js';
import { DatasetError } from '../../src/data/index.js';

const toy = (count: number, classes = 3) => makeDataset({
  source: 'toy', count, height: 2, width: 2, channels: 1,
  pixels: Uint8Array.from({ length: count * 4 }, (_, i) => (i * 7) & 0xff),
  labels: Int32Array.from({ length: count }, (_, i) => i % classes),
  classNames: Array.from({ length: classes }, (_, i) => `c${i}`),
});

test('bilinear resize with half-pixel centres: constant stays constant, 2x upscale interpolates', () => {
  assert.deepEqual(Array.from(resizeBilinear(new Uint8Array(4).fill(77), 2, 2, 1, 5, 3)), Array(15).fill(77));
  // [0, 100] -> 4 samples at input positions -0.25(clamped 0), 0.25, 0.75, 1.25(clamped 1).
  assert.deepEqual(Array.from(resizeBilinear(Uint8Array.from([0, 100]), 1, 2, 1, 1, 4)), [0, 25, 75, 100]);
});

test('grey<->RGB: replicate, then BT.601 luma back', () => {
  const rgb = convertChannels({ width: 2, height: 1, channels: 1, data: Uint8Array.from([10, 200]) }, 3);
  assert.deepEqual(Array.from(rgb.data), [10, 10, 10, 200, 200, 200]);
  assert.deepEqual(Array.from(convertChannels(rgb, 1).data), [10, 200]);
  const red = convertChannels({ width: 1, height: 1, channels: 3, data: Uint8Array.from([255, 0, 0]) }, 1);
  assert.equal(red.data[0], 76);
});

test('fitDataset resizes every sample (28x28 -> 96x96 style)', () => {
  const ds = fitDataset(toy(4), { height: 6, width: 6, channels: 3 });
  assert.equal(ds.pixels.length, 4 * 6 * 6 * 3);
  assert.deepEqual(Array.from(ds.labels), [0, 1, 2, 0]);
});

test('seeded shuffling and batching are deterministic, cover every sample once, differ per epoch', () => {
  assert.deepEqual(shuffledIndices(50, 3), shuffledIndices(50, 3));
  assert.notDeepEqual(shuffledIndices(50, 3), shuffledIndices(50, 4));
  const ds = toy(10);
  const e0 = [...epochBatches(ds, 4, 9, 0)];
  assert.deepEqual(e0.map((b) => b.indices.length), [4, 4, 2]);
  assert.deepEqual(e0.flatMap((b) => Array.from(b.indices)).sort((a, b) => a - b), [...Array(10).keys()]);
  for (const b of e0) b.indices.forEach((i, k) => assert.equal(b.labels[k], ds.labels[i]));
  const e1 = [...epochBatches(ds, 4, 9, 1)];
  assert.notDeepEqual(e0.map((b) => Array.from(b.indices)), e1.map((b) => Array.from(b.indices)));
});

test('encoding: float [0,1], int8 inputs span their range (p - 128), person_detect style quantisation', () => {
  const ds = makeDataset({ source: 't', count: 1, height: 1, width: 3, channels: 1, pixels: Uint8Array.from([0, 128, 255]), labels: Int32Array.of(0), classNames: ['a'] });
  assert.deepEqual(Array.from(encodeSamples(ds, [0], inputEncodingFor({ dtype: 'float32', quant: null }))), [0, 128 / 255, 1].map(Math.fround));
  const pd = inputEncodingFor({ dtype: 'int8', quant: { scale: [0.007843137718737125], zeroPoint: [-1], axis: 0 } });
  assert.deepEqual(Array.from(encodeSamples(ds, [0], pd)), [-128, 0, 127]);
  const own = inputEncodingFor({ dtype: 'int8', quant: { scale: [1 / 255], zeroPoint: [-128], axis: 0 } });
  assert.deepEqual(Array.from(encodeSamples(ds, [0], own)), [-128, 0, 127]);
});

test('subsets and dataset validation', () => {
  const ds = toy(9);
  assert.deepEqual(Array.from(balancedSubset(ds, 2).labels), [0, 1, 2, 0, 1, 2]);
  assert.deepEqual(Array.from(subset(ds, [8, 0]).pixels.subarray(0, 4)), Array.from(ds.pixels.subarray(32, 36)));
  assert.throws(() => makeDataset({ ...ds, labels: Int32Array.of(0, 1) }), (e: unknown) => e instanceof DatasetError && /9 images but 2 labels/.test(e.message));
  assert.throws(() => makeDataset({ ...ds, labels: ds.labels.map((l, i) => (i === 4 ? 3 : l)) }), /label 3 of sample 4 is out of range 0\.\.2/);
});
