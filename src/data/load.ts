import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset, DatasetSplit } from './dataset.js';
import { balancedSubset, subset } from './dataset.js';
import { DatasetError } from './errors.js';
import { isIdxFolder, loadIdxFolder } from './idx.js';
import { isCifarFolder, loadCifarFolder } from './cifar.js';
import type { ImageShape } from './image_folder.js';
import { loadImageFolder } from './image_folder.js';
import { shuffledIndices } from '../util/random.js';
import { fitDataset } from './transform.js';

export interface LoadOptions {
  /** Resize / convert every image to this shape (a model's input). */
  shape?: ImageShape;
  /** A single image folder is split into train and test; this fraction of each class is held out. */
  testFraction?: number;
  seed?: number;
  /** Keep a balanced subset of at most this many training (test) samples, taken before resizing. */
  trainLimit?: number;
  testLimit?: number;
  /** Only the test half is wanted (evaluation): the training half is returned as read, not resized. */
  testOnly?: boolean;
}

/**
 * A dataset folder in any layout we read: MNIST-style IDX files (train-/t10k-), CIFAR-10 binary batches, an image folder with
 * `train/` and `test/` halves, or a single image folder from which a seeded, per-class test split is held out.
 */
export function loadDatasetFolder(dir: string, opts: LoadOptions = {}): DatasetSplit {
  if (!existsSync(dir)) throw new DatasetError(dir, 'folder not found');
  if (!statSync(dir).isDirectory()) throw new DatasetError(dir, 'is not a folder (give the folder holding the dataset)');
  const limit = (d: Dataset, n: number | undefined) => (n !== undefined && n < d.count ? balancedSubset(d, Math.ceil(n / d.classNames.length), n) : d);
  const finish = (s: DatasetSplit): DatasetSplit => {
    const fit = (d: Dataset) => (opts.shape ? fitDataset(d, opts.shape) : d);
    return { train: opts.testOnly ? s.train : fit(limit(s.train, opts.trainLimit)), test: fit(limit(s.test, opts.testLimit)) };
  };
  if (isIdxFolder(dir)) return finish(loadIdxFolder(dir));
  if (isCifarFolder(dir)) return finish(loadCifarFolder(dir));
  const trainDir = join(dir, 'train');
  const testDir = join(dir, 'test');
  if (existsSync(trainDir) && existsSync(testDir)) {
    const train = loadImageFolder(trainDir, opts.shape);
    const test = loadImageFolder(testDir, { height: train.height, width: train.width, channels: train.channels as 1 | 3 }, train.classNames);
    return finish({ train, test });
  }
  return finish(holdOut(loadImageFolder(dir, opts.shape), opts.testFraction ?? 0.2, opts.seed ?? 1));
}

/** Per class, a seeded `fraction` of the samples (rounded, at least one when the class has two) goes to test. */
export function holdOut(ds: Dataset, fraction: number, seed: number): DatasetSplit {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`test fraction must be in (0, 1), got ${fraction}`);
  const order = shuffledIndices(ds.count, seed);
  const byClass: number[][] = ds.classNames.map(() => []);
  for (const i of order) byClass[ds.labels[i]].push(i);
  const train: number[] = [];
  const test: number[] = [];
  for (const members of byClass) {
    const k = members.length < 2 ? 0 : Math.max(1, Math.round(members.length * fraction));
    test.push(...members.slice(0, k));
    train.push(...members.slice(k));
  }
  if (test.length === 0) throw new DatasetError(ds.source, `too few images to hold out a test split (${ds.count}); add more, or give train/ and test/ sub-folders`);
  const asc = (a: number, b: number) => a - b;
  return { train: subset(ds, train.sort(asc)), test: subset(ds, test.sort(asc)) };
}
