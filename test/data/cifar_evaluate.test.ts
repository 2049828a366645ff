import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { loadCifarFolder } from '../../src/data/cifar.js';
import { PREPROCESSING_KEY, preprocessingOf, withPreprocessing } from '../../src/data/preprocessing.js';
import { readTflite } from '../../src/tflite/reader.js';
import { writeTflite } from '../../src/tflite/writer.js';
import { REPO_ROOT, modelPath, requireShared } from '../helpers/shared.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const cifarDir = () => join(requireShared(), 'datasets', 'cifar10');

function tinyml(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('CIFAR-10 binary batches load as NHWC: counts, labels and pixels as the records hold them', () => {
  const { train, test: t } = loadCifarFolder(cifarDir());
  assert.equal(train.count, 50000);
  assert.equal(t.count, 10000);
  assert.deepEqual([train.height, train.width, train.channels], [32, 32, 3]);
  assert.equal(t.classNames[0], 'airplane');
  const perClass = new Array(10).fill(0);
  for (const l of t.labels) perClass[l]++;
  assert.deepEqual(perClass, new Array(10).fill(1000));
  // The dataset README's counts for batch 1, the first 10,000 training records.
  const batch1 = new Array(10).fill(0);
  for (let i = 0; i < 10000; i++) batch1[train.labels[i]]++;
  assert.deepEqual(batch1, [1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981]);
  // Record 7 of the test batch, pixel (row 5, column 9): the R, G and B planes' bytes, interleaved.
  const raw = gunzipSync(readFileSync(join(cifarDir(), 'test_batch.bin.gz')));
  const rec = 7 * 3073;
  const p = 5 * 32 + 9;
  assert.equal(t.labels[7], raw[rec]);
  assert.deepEqual([...t.pixels.subarray(7 * 3072 + 3 * p, 7 * 3072 + 3 * p + 3)], [raw[rec + 1 + p], raw[rec + 1 + 1024 + p], raw[rec + 1 + 2048 + p]]);
});

test('a truncated CIFAR batch is a clear dataset error naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tinyml-cifar-'));
  writeFileSync(join(dir, 'data_batch_1.bin'), new Uint8Array(3073 * 2));
  writeFileSync(join(dir, 'test_batch.bin'), new Uint8Array(3073 + 100));
  assert.throws(() => loadCifarFolder(dir), /test_batch\.bin: 3173 bytes is not a whole number of CIFAR-10 records/);
});

test('preprocessing metadata: written into the .tflite, read back, and checked against the input', () => {
  const g = readTflite(readFileSync(modelPath('mlperf_ic_resnet8_int8.tflite')));
  assert.equal(preprocessingOf(g).source, 'default');
  assert.deepEqual(preprocessingOf(g).range, [0, 255]);
  const back = readTflite(writeTflite(withPreprocessing(g, [0, 1])));
  assert.deepEqual(preprocessingOf(back), { resolution: [32, 32], channels: 3, resize: 'bilinear', range: [0, 1], source: 'metadata' });
  assert.ok(back.metadata?.min_runtime_version, 'the model\'s own metadata is kept');
  const bad = { ...g, metadata: { [PREPROCESSING_KEY]: new TextEncoder().encode('{"resolution":[64,64],"channels":3,"resize":"bilinear","range":[0,1]}') } };
  assert.throws(() => preprocessingOf(bad), /resolution \[64,64\] does not match the input \[32, 32\]/);
  assert.throws(() => preprocessingOf({ ...g, metadata: { [PREPROCESSING_KEY]: new TextEncoder().encode('{oops') } }), /not UTF-8 JSON/);
});

test('tinyml evaluate: ResNet-8 scores 87.07 % on the 10,000 CIFAR-10 test images, and a recorded preprocessing is obeyed', () => {
  const r = tinyml('evaluate', modelPath('mlperf_ic_resnet8_int8.tflite'), '--data', cifarDir(), '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.images, 10000);
  assert.equal(j.correct, 8707);
  assert.equal(j.preprocessing.source, 'default');
  // The same model recording a different pixel range is fed differently (and does worse): the record rules.
  const dir = mkdtempSync(join(tmpdir(), 'tinyml-eval-'));
  const file = join(dir, 'resnet8_half_range.tflite');
  const g = readTflite(readFileSync(modelPath('mlperf_ic_resnet8_int8.tflite')));
  writeFileSync(file, writeTflite(withPreprocessing(g, [0, 127.5])));
  const half = tinyml('evaluate', file, '--data', cifarDir(), '--limit', '500', '--json');
  assert.equal(half.code, 0, half.err);
  const h = JSON.parse(half.out);
  assert.equal(h.preprocessing.source, 'metadata');
  assert.equal(h.images, 500);
  const full = JSON.parse(tinyml('evaluate', modelPath('mlperf_ic_resnet8_int8.tflite'), '--data', cifarDir(), '--limit', '500', '--json').out);
  assert.ok(h.accuracy < full.accuracy - 0.02, `${h.accuracy} vs ${full.accuracy}`);
  const missing = tinyml('evaluate', modelPath('mlperf_ic_resnet8_int8.tflite'), '--data', join(dir, 'nope'));
  assert.equal(missing.code, 1);
  assert.match(missing.err, /nope: folder not found/);
});
