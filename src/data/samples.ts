/**
 * Samples: a Dataset as models read it, one labelled sample at a time in the real domain the model's
 * input expects (int8 inputs are quantised from these with TFLite's rule). Not a second kind of dataset:
 * `trainingView` gives it over a Dataset; `arraySamples` over values already in memory (tests).
 */
import { InputError } from '../errors.js';
import { shuffledIndices } from '../util/random.js';

export interface Samples {
  /** Number of samples. */
  readonly size: number;
  /** Number of classes; labels are 0..classes-1. */
  readonly classes: number;
  /** Values in one sample: the model input's element count at batch 1. */
  readonly sampleSize: number;
  /** Write sample `i` (real values) into `out` from `offset`, and return its label. */
  read(i: number, out: Float32Array, offset: number): number;
}

/** Samples held in memory (one Float32Array of size * sampleSize values). */
export function arraySamples(values: Float32Array, labels: ArrayLike<number>, classes: number): Samples {
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
export function subsetSamples(data: Samples, n: number, seed?: number): Samples {
  const count = Math.min(n, data.size);
  const index = seed === undefined ? null : shuffledIndices(data.size, seed).subarray(0, count);
  return {
    size: count, classes: data.classes, sampleSize: data.sampleSize,
    read: (i, out, offset) => data.read(index ? index[i] : i, out, offset),
  };
}

export function checkSamples(data: Samples, sampleSize: number, classes: number, what = 'dataset'): void {
  if (data.size === 0) throw new InputError(`the ${what} is empty`);
  if (data.sampleSize !== sampleSize) {
    throw new InputError(`the ${what}'s samples have ${data.sampleSize} values, the model's input takes ${sampleSize}`);
  }
  if (data.classes > classes) {
    throw new InputError(`the ${what} has ${data.classes} classes, the model's output has ${classes} (replace the classifier first)`);
  }
}
