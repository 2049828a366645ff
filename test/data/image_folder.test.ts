import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatasetError, classCounts, decodeNetpbm, loadDatasetFolder, loadImageFolder } from '../../src/data/index.js';
import { pgmBytes, pngBytes, tempDir, writeFile } from './fixtures.js';

const grad = (x: number, y: number) => (x * 16 + y * 4) & 0xff;

/** cat/ (3 grey PNGs, 8x8), dog/ (2 PGMs, 8x8). */
function tinyFolder(): string {
  const dir = tempDir();
  for (let i = 0; i < 3; i++) writeFile(join(dir, 'cat', `c${i}.png`), pngBytes(8, 8, (x, y) => (grad(x, y) + i) & 0xff));
  for (let i = 0; i < 2; i++) writeFile(join(dir, 'dog', `d${i}.pgm`), pgmBytes(8, 8, () => 100 + i));
  writeFile(join(dir, '.DS_Store'), 'ignored');
  return dir;
}

test('image folder: classes from sub-folder names in code-point order, images decoded as stored', () => {
  const ds = loadImageFolder(tinyFolder());
  assert.deepEqual(ds.classNames, ['cat', 'dog']);
  assert.equal(ds.count, 5);
  assert.deepEqual([ds.height, ds.width, ds.channels], [8, 8, 1]);
  assert.deepEqual(classCounts(ds), [3, 2]);
  assert.equal(ds.pixels[1 * 8 + 3], grad(3, 1)); // cat/c0.png pixel (x=3, y=1)
  assert.equal(ds.pixels[4 * 64], 101); // dog/d1.pgm
});

test('image folder: resized bilinear and converted to RGB for a model input shape', () => {
  const ds = loadImageFolder(tinyFolder(), { height: 16, width: 12, channels: 3 });
  assert.deepEqual([ds.height, ds.width, ds.channels], [16, 12, 3]);
  const px = (i: number, y: number, x: number, c: number) => ds.pixels[((i * 16 + y) * 12 + x) * 3 + c];
  assert.equal(px(3, 5, 5, 0), 100);
  assert.equal(px(3, 5, 5, 2), 100);
  // A gradient stays monotone along x after resizing.
  for (let x = 1; x < 12; x++) assert.ok(px(0, 0, x, 1) >= px(0, 0, x - 1, 1));
});

test('image folder with train/ and test/ keeps the training class numbering', () => {
  const dir = tempDir();
  for (const split of ['train', 'test']) {
    for (const cls of ['b', 'a']) writeFile(join(dir, split, cls, 'x.png'), pngBytes(4, 4, () => (cls === 'a' ? 10 : 200)));
  }
  const { train, test: t } = loadDatasetFolder(dir, { shape: { height: 4, width: 4, channels: 1 } });
  assert.deepEqual(train.classNames, ['a', 'b']);
  assert.deepEqual(Array.from(t.labels), [0, 1]);
  // A class only the test split has is a mislabelled folder.
  writeFile(join(dir, 'test', 'c', 'y.png'), pngBytes(4, 4, () => 0));
  assert.throws(() => loadDatasetFolder(dir), /class "c" is not one of the training classes \(a, b\)/);
});

test('a single image folder is split per class, seeded', () => {
  const dir = tempDir();
  for (const cls of ['x', 'y']) for (let i = 0; i < 10; i++) writeFile(join(dir, cls, `${i}.pgm`), pgmBytes(3, 3, () => i));
  const a = loadDatasetFolder(dir, { testFraction: 0.2, seed: 5 });
  const b = loadDatasetFolder(dir, { testFraction: 0.2, seed: 5 });
  assert.deepEqual(classCounts(a.test), [2, 2]);
  assert.deepEqual(classCounts(a.train), [8, 8]);
  assert.deepEqual(a.test.pixels, b.test.pixels);
});

test('image folder errors: empty, loose images, empty class, unreadable image, size mismatch, nested folders', () => {
  const expectError = (dir: string, message: RegExp, at?: string) =>
    assert.throws(() => loadImageFolder(dir), (e: unknown) => {
      assert.ok(e instanceof DatasetError, String(e));
      assert.match(e.message, message);
      if (at) assert.ok(e.path.endsWith(at), `${e.path} should end with ${at}`);
      return true;
    });

  expectError(tempDir(), /is empty: expected one sub-folder per class/);
  expectError(join(tempDir(), 'nope'), /folder not found/);

  const loose = tempDir();
  writeFile(join(loose, 'a.png'), pngBytes(2, 2, () => 0));
  expectError(loose, /sit directly in the folder .*put each class's images in a sub-folder/);

  const emptyClass = tinyFolder();
  mkdirSync(join(emptyClass, 'bird'));
  writeFile(join(emptyClass, 'bird', 'notes.txt'), 'no images here');
  expectError(emptyClass, /class folder has no images \(found 1 other file\(s\), e\.g\. notes\.txt/, 'bird');

  const broken = tinyFolder();
  writeFile(join(broken, 'cat', 'broken.png'), 'definitely not a png');
  expectError(broken, /unreadable PNG/, 'broken.png');

  const mixed = tinyFolder();
  writeFile(join(mixed, 'dog', 'big.pgm'), pgmBytes(9, 8, () => 0));
  expectError(mixed, /is 9×8; the folder's first image is 8×8/, 'big.pgm');

  const nested = tinyFolder();
  writeFile(join(nested, 'cat', 'inner', 'z.png'), pngBytes(8, 8, () => 0));
  expectError(nested, /must hold images, not further folders/, 'inner');
});

test('PGM/PPM: ASCII and 16-bit samples rescale to 0..255; truncated data is an error', () => {
  const ascii = decodeNetpbm(Buffer.from('P2\n2 1\n# max\n15\n0 15\n'), 'a.pgm');
  assert.deepEqual(Array.from(ascii.data), [0, 255]);
  const ppm16 = Buffer.concat([Buffer.from('P6 1 1 65535\n'), Buffer.from([0xff, 0xff, 0x80, 0x00, 0, 0])]);
  assert.deepEqual(Array.from(decodeNetpbm(ppm16, 'b.ppm').data), [255, 128, 0]);
  assert.throws(() => decodeNetpbm(Buffer.from('P5 4 4 255\n\x01\x02'), 'c.pgm'), /truncated image data/);
  assert.throws(() => decodeNetpbm(Buffer.from('P7 1 1'), 'd.pgm'), /not a PGM\/PPM image/);
});
