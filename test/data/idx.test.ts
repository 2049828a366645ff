import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatasetError, FASHION_MNIST_CLASSES, classCounts, loadIdxFolder, loadIdxPair, parseIdx, readIdxFile } from '../../src/data/index.js';
import { InputError, TinymlError } from '../../src/errors.js';
import { fashionMnistDir, idxBytes, tempDir, writeFile } from './fixtures.js';

test('Fashion-MNIST from ../shared: 60000 train and 10000 test 28x28 images, first labels, 1000 per test class', () => {
  const { train, test: t10k } = loadIdxFolder(fashionMnistDir());
  assert.equal(train.count, 60000);
  assert.equal(t10k.count, 10000);
  assert.deepEqual([train.height, train.width, train.channels], [28, 28, 1]);
  assert.deepEqual(Array.from(train.labels.subarray(0, 8)), [9, 0, 0, 3, 0, 2, 7, 2]);
  assert.deepEqual(Array.from(t10k.labels.subarray(0, 8)), [9, 2, 1, 1, 6, 1, 4, 6]);
  assert.deepEqual(classCounts(t10k), Array(10).fill(1000));
  assert.deepEqual(train.classNames, FASHION_MNIST_CLASSES);
  assert.equal(train.pixels.length, 60000 * 784);
  // An ankle boot is not a blank image.
  const first = train.pixels.subarray(0, 784);
  assert.ok(Math.max(...first) > 200 && Math.min(...first) === 0);
});

test('IDX reads raw and gzipped files alike', () => {
  const dir = tempDir();
  const dims = [2, 2, 3];
  const data = [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255];
  const raw = readIdxFile(writeFile(join(dir, 'a.idx'), idxBytes(dims, data)));
  const gz = readIdxFile(writeFile(join(dir, 'a.idx.gz'), idxBytes(dims, data), true));
  assert.deepEqual(raw.dims, dims);
  assert.deepEqual(Array.from(gz.data), data);
});

test('corrupt IDX files are typed DatasetErrors that name the file and the fault', () => {
  const dir = tempDir();
  const cases: [string, Uint8Array, RegExp][] = [
    ['bad-magic', Uint8Array.from([0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 7]), /not an IDX file/],
    ['float-type', idxBytes([1], [0, 0, 0, 0], 0x0d), /element type 0x0d \(float32\)/],
    ['truncated', idxBytes([10, 28, 28], new Uint8Array(100)), /truncated.*7840 bytes, file has 100/],
    ['trailing', idxBytes([2], [1, 2, 3]), /trailing bytes/],
    ['short-header', Uint8Array.from([0, 0, 8, 3, 0, 0]), /truncated IDX header/],
  ];
  for (const [name, bytes, message] of cases) {
    const path = writeFile(join(dir, name), bytes);
    assert.throws(() => readIdxFile(path), (e: unknown) => {
      assert.ok(e instanceof DatasetError && e instanceof InputError && e instanceof TinymlError, `${name}: ${e}`);
      assert.match(e.message, message);
      assert.ok(e.message.includes(path), e.message);
      return true;
    });
  }
  const gz = writeFile(join(dir, 'broken.gz'), Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3]));
  assert.throws(() => readIdxFile(gz), /corrupt gzip stream/);
  assert.throws(() => readIdxFile(join(dir, 'missing')), /file not found/);
  assert.throws(() => parseIdx(new Uint8Array(2), 'x'), DatasetError);
});

test('IDX images and labels must agree: counts, dimensions, label range', () => {
  const dir = tempDir();
  const images = writeFile(join(dir, 'img'), idxBytes([3, 2, 2], new Uint8Array(12)));
  assert.throws(() => loadIdxPair(images, writeFile(join(dir, 'lab2'), idxBytes([2], [0, 1]))), /2 labels for 3 images/);
  assert.throws(() => loadIdxPair(images, writeFile(join(dir, 'lab-range'), idxBytes([3], [0, 10, 1]))), /label 10 of sample 1 is out of range 0\.\.9/);
  assert.throws(() => loadIdxPair(images, writeFile(join(dir, 'lab-2d'), idxBytes([3, 1], [0, 1, 2]))), /one-dimensional/);
  assert.throws(() => loadIdxPair(writeFile(join(dir, 'flat'), idxBytes([12], new Uint8Array(12))), images), /\[N,H,W\]/);
  const ok = loadIdxPair(images, writeFile(join(dir, 'lab'), idxBytes([3], [0, 9, 4])));
  assert.deepEqual(Array.from(ok.labels), [0, 9, 4]);
});

test('an IDX folder missing a file says which one', () => {
  const dir = tempDir();
  writeFile(join(dir, 'train-images-idx3-ubyte.gz'), idxBytes([1, 2, 2], [1, 2, 3, 4]), true);
  assert.throws(() => loadIdxFolder(dir), /missing train-labels-idx1-ubyte/);
});
