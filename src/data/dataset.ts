import { DatasetError } from './errors.js';

/**
 * A labelled image dataset held as bytes. Pixels stay 0..255 in NHWC order until a batch is encoded for
 * a model (see encode.ts): 60k Fashion-MNIST images are 47 MB this way and would be 188 MB as float32.
 */
export interface Dataset {
  /** Where it came from (a folder or file), for messages. */
  readonly source: string;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** count × height × width × channels intensities, row-major NHWC. */
  readonly pixels: Uint8Array;
  /** Class index of each sample, in 0 … classNames.length - 1. */
  readonly labels: Int32Array;
  readonly classNames: readonly string[];
}

/** Training and test halves of one dataset (same shape and classes). */
export interface DatasetSplit {
  train: Dataset;
  test: Dataset;
}

export function sampleSize(ds: Pick<Dataset, 'height' | 'width' | 'channels'>): number {
  return ds.height * ds.width * ds.channels;
}

/** Build a Dataset, checking that pixels, labels and class names agree. */
export function makeDataset(d: Dataset): Dataset {
  if (d.count < 1) throw new DatasetError(d.source, 'has no samples');
  if (d.labels.length !== d.count) throw new DatasetError(d.source, `${d.count} images but ${d.labels.length} labels`);
  if (d.pixels.length !== d.count * sampleSize(d)) {
    throw new DatasetError(d.source, `pixel buffer holds ${d.pixels.length} bytes, expected ${d.count}×${d.height}×${d.width}×${d.channels}`);
  }
  if (d.classNames.length < 1) throw new DatasetError(d.source, 'has no classes');
  for (let i = 0; i < d.count; i++) {
    const l = d.labels[i];
    if (!(l >= 0 && l < d.classNames.length)) {
      throw new DatasetError(d.source, `label ${l} of sample ${i} is out of range 0..${d.classNames.length - 1}`);
    }
  }
  return d;
}

/** The samples at `indices`, copied, in that order. */
export function subset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const size = sampleSize(ds);
  const pixels = new Uint8Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!(i >= 0 && i < ds.count)) throw new RangeError(`subset: index ${i} outside 0..${ds.count - 1}`);
    pixels.set(ds.pixels.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = ds.labels[i];
  }
  return makeDataset({ ...ds, count: indices.length, pixels, labels });
}

/** Samples per class. */
export function classCounts(ds: Dataset): number[] {
  const counts = ds.classNames.map(() => 0);
  for (let i = 0; i < ds.count; i++) counts[ds.labels[i]]++;
  return counts;
}

/**
 * The first `perClass` samples of every class (fewer if a class has fewer), in dataset order, at most
 * `max` in all: a balanced, deterministic subset for quick experiments.
 */
export function balancedSubset(ds: Dataset, perClass: number, max = Infinity): Dataset {
  const taken = ds.classNames.map(() => 0);
  const picked: number[] = [];
  for (let i = 0; i < ds.count && picked.length < max; i++) {
    const l = ds.labels[i];
    if (taken[l] < perClass) {
      taken[l]++;
      picked.push(i);
    }
  }
  return subset(ds, picked);
}
