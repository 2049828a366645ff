import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Dataset, DatasetSplit } from './dataset.js';
import { makeDataset } from './dataset.js';
import { DatasetError } from './errors.js';

/**
 * CIFAR-10's binary format: records of 1 label byte and 3,072 pixel bytes, the red 32x32 plane, then
 * green, then blue. Training batches `data_batch_1..5.bin`, test `test_batch.bin`, each optionally
 * gzipped; class names one per line in `batches.meta.txt`. Pixels are turned to NHWC here, once.
 */
const SIDE = 32;
const PLANE = SIDE * SIDE;
const RECORD = 1 + 3 * PLANE;

export const CIFAR10_CLASSES: readonly string[] = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** The batch file of `stem` in `dir` (plain or .gz), or null. */
function batchFile(dir: string, stem: string): string | null {
  for (const name of [`${stem}.bin`, `${stem}.bin.gz`]) if (existsSync(join(dir, name))) return join(dir, name);
  return null;
}

export function isCifarFolder(dir: string): boolean {
  return batchFile(dir, 'test_batch') !== null && batchFile(dir, 'data_batch_1') !== null;
}

function readBatch(path: string): Uint8Array {
  let bytes: Uint8Array = readFileSync(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new DatasetError(path, `corrupt gzip data: ${(e as Error).message}`);
    }
  }
  if (bytes.length === 0 || bytes.length % RECORD !== 0) {
    throw new DatasetError(path, `${bytes.length} bytes is not a whole number of CIFAR-10 records (${RECORD} bytes each)`);
  }
  return bytes;
}

function toDataset(files: string[], source: string, classNames: readonly string[]): Dataset {
  const batches = files.map(readBatch);
  const count = batches.reduce((n, b) => n + b.length / RECORD, 0);
  const pixels = new Uint8Array(count * 3 * PLANE);
  const labels = new Int32Array(count);
  let i = 0;
  batches.forEach((b, f) => {
    for (let r = 0; r < b.length; r += RECORD, i++) {
      const label = b[r];
      if (label >= classNames.length) throw new DatasetError(files[f], `record ${r / RECORD} has label ${label}; there are ${classNames.length} classes`);
      labels[i] = label;
      const out = i * 3 * PLANE;
      for (let p = 0; p < PLANE; p++) {
        pixels[out + 3 * p] = b[r + 1 + p];
        pixels[out + 3 * p + 1] = b[r + 1 + PLANE + p];
        pixels[out + 3 * p + 2] = b[r + 1 + 2 * PLANE + p];
      }
    }
  });
  return makeDataset({ source, count, height: SIDE, width: SIDE, channels: 3, pixels, labels, classNames });
}

function classNamesOf(dir: string): readonly string[] {
  const meta = join(dir, 'batches.meta.txt');
  if (!existsSync(meta)) return CIFAR10_CLASSES;
  const names = readFileSync(meta, 'utf8').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
  return names.length ? names : CIFAR10_CLASSES;
}

/** Training batches (every data_batch_N present, in order) and the test batch. */
export function loadCifarFolder(dir: string): DatasetSplit {
  const classNames = classNamesOf(dir);
  const stems = readdirSync(dir).map((f) => /^(data_batch_(\d+))\.bin(\.gz)?$/.exec(f)).filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[2]) - Number(b[2])).map((m) => m[1]);
  const train = [...new Set(stems)].map((s) => batchFile(dir, s)!);
  const test = batchFile(dir, 'test_batch');
  if (!test || train.length === 0) throw new DatasetError(dir, 'CIFAR-10 needs data_batch_N.bin[.gz] and test_batch.bin[.gz]');
  return { train: toDataset(train, join(dir, 'data_batch_*'), classNames), test: toDataset([test], test, classNames) };
}
