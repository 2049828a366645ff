/**
 * What the trainer reads: labelled samples in the float domain the model's input expects. Int8 models
 * get their inputs quantised with the input tensor's parameters, so one dataset serves both kinds.
 */
import { InputError } from '../errors.js';
import { seededRandom } from '../models/mobilenet_v2.js';

export interface Dataset {
  /** Number of samples. */
  readonly size: number;
  /** Number of classes; labels are 0..classes-1. */
  readonly classes: number;
  /** Values in one sample: the model input's element count at batch 1. */
  readonly sampleSize: number;
  /** Write sample `i` (real values) into `out` from `offset`, and return its label. */
  read(i: number, out: Float32Array, offset: number): number;
}

/** A dataset over samples held in memory (one Float32Array of size * sampleSize values). */
export function arrayDataset(values: Float32Array, labels: ArrayLike<number>, classes: number): Dataset {
  const size = labels.length;
  if (size === 0) throw new InputError('the dataset is empty');
  if (values.length % size !== 0) throw new InputError(`${values.length} values do not split into ${size} samples`);
  const sampleSize = values.length / size;
  for (let i = 0; i < size; i++) {
    const l = labels[i];
    if (!Number.isInteger(l) || l < 0 || l >= classes) throw new InputError(`sample ${i} has label ${l}, outside 0..${classes - 1}`);
  }
  return {
    size, classes, sampleSize,
    read(i, out, offset) {
      out.set(values.subarray(i * sampleSize, (i + 1) * sampleSize), offset);
      return labels[i];
    },
  };
}

/** The first `n` samples (or a seeded random subset of n when `seed` is given). */
export function subset(data: Dataset, n: number, seed?: number): Dataset {
  const count = Math.min(n, data.size);
  const index = seed === undefined ? null : shuffled(data.size, seed).subarray(0, count);
  return {
    size: count, classes: data.classes, sampleSize: data.sampleSize,
    read: (i, out, offset) => data.read(index ? index[i] : i, out, offset),
  };
}

/** 0..n-1 in a seeded random order (Fisher-Yates). */
export function shuffled(n: number, seed: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const rand = seededRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i]; order[i] = order[j]; order[j] = t;
  }
  return order;
}

export function checkDataset(data: Dataset, sampleSize: number, classes: number, what = 'dataset'): void {
  if (data.size === 0) throw new InputError(`the ${what} is empty`);
  if (data.sampleSize !== sampleSize) {
    throw new InputError(`the ${what}'s samples have ${data.sampleSize} values, the model's input takes ${sampleSize}`);
  }
  if (data.classes > classes) {
    throw new InputError(`the ${what} has ${data.classes} classes, the model's output has ${classes} (replace the classifier first)`);
  }
}
