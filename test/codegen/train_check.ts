import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SHARED } from '../helpers/shared.js';
import { firstDifference } from './harness.js';
import type { TrainSetup } from '../../src/codegen/train/device_run.js';
import { datasetSamples, trainInNode, trainOnDevice } from '../../src/codegen/train/device_run.js';

/** What the compiled-training tests share: models, datasets, and the comparison with the Node trainer. */
export const DEFAULT_MODEL = join(import.meta.dirname, '..', '..', '..', 'models', 'tinyml-default-int8.tflite');
export const FASHION = join(SHARED, 'datasets', 'fashion-mnist');
export const CIFAR = join(SHARED, 'datasets', 'cifar10');
export const SGD = { kind: 'sgd' as const, lr: 0.05, momentum: 0.9 };

/**
 * `steps` samples of `folder` through the compiled step on `target` and through the Node trainer
 * (TrainingSession, wasm backend): every trained tensor byte-identical, and changed by the steps.
 */
export function checkAgainstNode(s: TrainSetup, steps: number, folder: string, target: Parameters<typeof trainOnDevice>[2], board: string): void {
  const samples = datasetSamples(s.graph, folder, steps);
  const want = trainInNode(s, samples);
  const got = trainOnDevice(s, samples, target, board);
  assert.equal(got.tensors.length, want.length);
  got.project.exports.forEach((e, i) => {
    const diff = firstDifference(got.tensors[i], want[i]);
    assert.equal(diff, null, `${s.update} on ${target}: trained tensor ${e.name}: ${diff}`);
  });
  // The steps really trained something (not a comparison of untouched tensors).
  assert.ok(trainInNode(s, []).some((before, i) => firstDifference(before, want[i]) !== null), `${s.update}: the steps changed no trained byte`);
}
