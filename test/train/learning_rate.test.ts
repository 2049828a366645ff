import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { balancedSubset, fitDataset, holdOut, loadCifarFolder } from '../../src/data/index.js';
import { parseTrainOptions } from '../../src/cli/train.js';
import { chooseLearningRate, layersOf, runTraining, TrainingConfigError } from '../../src/train/index.js';
import { InputError } from '../../src/errors.js';
import { requireShared } from '../helpers/shared.js';
import { loadModel } from '../../src/model.js';
import type { Graph } from '../../src/graph/graph.js';

/*
 * The fair transfer experiment's new paths on real data (the bench runs them at size): the float VWW
 * model fine-tuned with SGD on a sparse update spec, and a learning rate chosen on a validation split
 * held out of CIFAR-10's training images.
 */

const shared = requireShared();
const FLOAT = join(shared, 'models', 'mlperf_vww_mobilenetv1_float.tflite');
const CIFAR = join(shared, 'datasets', 'cifar10');
const SPEC = 'sparse:3:-1@1,-2@0.25';

const split = (() => {
  const cifar = loadCifarFolder(CIFAR);
  const held = holdOut(balancedSubset(cifar.train, 6, 60), 20 / 60, 1);
  const shape = { height: 96, width: 96, channels: 3 as const };
  return { train: fitDataset(held.train, shape), validation: fitDataset(held.test, shape) };
})();

const request = () => parseTrainOptions(FLOAT, { data: CIFAR, update: SPEC, optimizer: 'sgd', epochs: '1', batch: '8', budget: '64MB' });

test('--optimizer: SGD on a float model, and a clear error for an unknown optimiser', () => {
  assert.equal(request().optimizer, 'sgd');
  assert.throws(() => parseTrainOptions(FLOAT, { data: CIFAR, optimizer: 'rmsprop' }), (e: unknown) => e instanceof InputError && /--optimizer takes sgd or adam, got "rmsprop"/.test(e.message));
});

test('float VWW model: a sparse spec trains in float32 exactly the parameters it names, the rest stays as loaded', () => {
  const o = runTraining({ ...request(), lr: 0.05, dataset: { train: split.train, test: split.validation } });
  const layers = layersOf(o.result.graph);
  const trained = new Set(o.result.update.params.map((p) => p.tensor));
  const last = layers.at(-1)!;
  const second = layers.at(-2)!;
  assert.ok(trained.has(last.weight) && trained.has(last.bias), 'the classifier trains');
  assert.ok(trained.has(second.weight), 'the second-to-last layer\'s weights train');
  assert.ok(!trained.has(layers[0].weight) && !trained.has(layers[0].bias), 'the first layer is frozen');
  // A quarter of the 256 output channels of the second-to-last layer: 64 rows of its 256 inputs.
  const rows = o.result.update.params.find((p) => p.tensor === second.weight)!;
  assert.equal(rows.elements, 64 * second.inChannels);
  assert.ok(o.floatAccuracy !== null && o.floatAccuracy >= 0 && o.floatAccuracy <= 1);
  const loaded = loadModel(FLOAT);
  const floats = (g: Graph, id: number) => { const d = g.tensors[id].data!; return new Float32Array(d.buffer, d.byteOffset, d.byteLength / 4); };
  assert.deepEqual(floats(o.result.graph, layers[0].weight), floats(loaded, layers[0].weight), 'a frozen weight is untouched');
  // Per output channel of the second-to-last layer: changed or not; only the selected quarter may change.
  const before = floats(loaded, second.weight);
  const after = floats(o.result.graph, second.weight);
  const per = before.length / second.outChannels;
  let changed = 0;
  for (let c = 0; c < second.outChannels; c++) if (after.subarray(c * per, (c + 1) * per).some((v, i) => v !== before[c * per + i])) changed++;
  assert.ok(changed > 0 && changed <= second.outChannels / 4, `${changed} of ${second.outChannels} channels changed`);
});

test('learning rate: chosen on the held-out validation split, the best of the rates tried', () => {
  const choice = chooseLearningRate(request(), [0.01, 0.2], split);
  assert.deepEqual(choice.trials.map((t) => t.lr), [0.01, 0.2]);
  for (const t of choice.trials) assert.ok(t.accuracy === null || (t.accuracy >= 0 && t.accuracy <= 1));
  const best = Math.max(...choice.trials.map((t) => t.accuracy ?? -1));
  assert.equal(choice.accuracy, best);
  assert.equal(choice.lr, choice.trials.find((t) => t.accuracy === best)!.lr);
  assert.throws(() => chooseLearningRate(request(), [0.1], { train: split.train, validation: split.train }), TrainingConfigError);
  assert.throws(() => chooseLearningRate(request(), [], split), /at least one rate/);
});
