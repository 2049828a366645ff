import { performance } from 'node:perf_hooks';
import { loadDatasetFolder } from '../data/load.js';
import { encodingOf, preprocessingOf } from '../data/preprocessing.js';
import type { Preprocessing } from '../data/preprocessing.js';
import { checkCompatible, evaluateSamples } from '../data/evaluate.js';
import { trainingView } from '../data/training_view.js';
import { InputError } from '../errors.js';
import { loadModel } from '../model.js';
import { int } from '../report/format.js';

export interface EvaluateCliOptions {
  data?: string;
  limit?: string;
  json?: boolean;
}

export interface EvaluateReport {
  model: string;
  data: string;
  images: number;
  preprocessing: Preprocessing;
  accuracy: number;
  correct: number;
  perClass: { name: string; accuracy: number; count: number }[];
  confusion: number[][];
  seconds: number;
}

/**
 * Test accuracy of any image classifier on a dataset's test split, its images prepared as the model's
 * metadata records (or by the defaults of its input tensor): a result anyone can check with the model file
 * and the data alone.
 */
export function evaluateModel(modelFile: string, o: EvaluateCliOptions): EvaluateReport {
  if (!o.data) throw new InputError('--data DIR is required (CIFAR-10 binary batches, MNIST-style IDX files, or image folders)');
  let limit: number | undefined;
  if (o.limit !== undefined) {
    if (!/^\d+$/.test(o.limit.trim()) || Number(o.limit) < 1) throw new InputError(`--limit takes a positive integer, got "${o.limit}"`);
    limit = Number(o.limit);
  }
  const g = loadModel(modelFile);
  const p = preprocessingOf(g);
  const t0 = performance.now();
  const split = loadDatasetFolder(o.data, { shape: { height: p.resolution[0], width: p.resolution[1], channels: p.channels as 1 | 3 }, testLimit: limit, testOnly: true });
  const test = split.test;
  checkCompatible(g, test);
  const e = evaluateSamples(g, trainingView(test, encodingOf(g, p)));
  const perClass = test.classNames.map((name, k) => {
    const row = e.confusion[k];
    const count = row.reduce((a, b) => a + b, 0);
    return { name, accuracy: count ? row[k] / count : 0, count };
  });
  return { model: modelFile, data: o.data, images: e.count, preprocessing: p, accuracy: e.accuracy, correct: e.correct, perClass, confusion: e.confusion, seconds: (performance.now() - t0) / 1000 };
}

export function evaluateCommand(modelFile: string, o: EvaluateCliOptions): number {
  const r = evaluateModel(modelFile, o);
  if (o.json) {
    console.log(JSON.stringify(r, null, 2));
    return 0;
  }
  const p = r.preprocessing;
  const lines = [
    `model: ${r.model}`,
    `data: ${r.data} (test split, ${int(r.images)} images)`,
    `preprocessing (${p.source === 'metadata' ? 'from the model\'s metadata' : 'defaults of its input tensor; the model records none'}): `
      + `bilinear resize to ${p.resolution[0]}x${p.resolution[1]}x${p.channels}, pixels 0..255 -> [${p.range[0]}, ${p.range[1]}], then the input's quantisation`,
    `accuracy: ${(100 * r.accuracy).toFixed(2)} % (${int(r.correct)} / ${int(r.images)})`,
    '',
    'per class:',
    ...r.perClass.map((c) => `  ${c.name.padEnd(16)} ${(100 * c.accuracy).toFixed(1).padStart(5)} %  (${int(c.count)})`),
    '',
    `${r.seconds.toFixed(1)} s (our interpreter, bit-exact with TFLite Micro)`,
  ];
  console.log(lines.join('\n'));
  return 0;
}
