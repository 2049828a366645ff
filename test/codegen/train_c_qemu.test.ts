import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadModel } from '../../src/model.js';
import { SHARED } from '../helpers/shared.js';
import { requireTools, skipWithout } from '../helpers/tools.js';
import { QEMU_BOARDS, firstDifference } from './harness.js';
import type { TrainSetup } from '../../src/codegen/train/device_run.js';
import { datasetSamples, trainInNode, trainOnDevice } from '../../src/codegen/train/device_run.js';
import { CIFAR, DEFAULT_MODEL, FASHION, SGD, checkAgainstNode } from './train_check.js';

/**
 * `tinyml compile --train` under QEMU on the Cortex-M4 and M7: trained tensors byte-identical to the Node
 * trainer's, and the MLPerf VWW sparse update within 256 KB SRAM (with the measured stack) and 1 MB Flash.
 */
for (const { target, board } of QEMU_BOARDS) {
  test(`compile --train (${target}, QEMU): default model sparse update, 3 steps byte-identical to the Node trainer`, { skip: skipWithout('arm', 'qemu') }, () => {
    requireTools('arm', 'qemu');
    checkAgainstNode({ graph: loadModel(DEFAULT_MODEL), update: 'sparse:3:-2@0.5,-1@1', optimizer: SGD, qas: true, seed: 9 }, 3, FASHION, target, board);
  });
}

test('compile --train (cortex-m4, QEMU): default model, 3 of 16 input channels of its 3x3 convolution trained (the split forward whose parts do not both fit widened in the scratch), 3 steps byte-identical', { skip: skipWithout('arm', 'qemu') }, () => {
  requireTools('arm', 'qemu');
  checkAgainstNode({ graph: loadModel(DEFAULT_MODEL), update: 'sparse:2:-2@0.1875', optimizer: SGD, qas: true, seed: 7 }, 3, FASHION, 'cortex-m4', 'mps2-an386');
});

test('compile --train (cortex-m4, QEMU): MLPerf VWW sparse update, 2 steps on CIFAR-10 images byte-identical; SRAM + stack <= 256 KB, Flash <= 1 MB', { skip: skipWithout('arm', 'qemu') }, () => {
  requireTools('arm', 'qemu');
  const graph = loadModel(join(SHARED, 'models', 'mlperf_vww_mobilenetv1_int8.tflite'));
  const s: TrainSetup = { graph, update: VWW_SPARSE, optimizer: SGD, qas: true, seed: 3 };
  const samples = datasetSamples(graph, CIFAR, 2).map((x) => ({ ...x, label: x.label % 2 }));
  const want = trainInNode(s, samples);
  const got = trainOnDevice(s, samples, 'cortex-m4', 'mps2-an386');
  got.project.exports.forEach((e, i) => assert.equal(firstDifference(got.tensors[i], want[i]), null, `VWW ${e.name}`));
  const size = got.size!;
  assert.ok(got.stackBytes !== null && got.stackBytes > 0);
  assert.ok(size.sram + got.stackBytes! <= 256 * 1024, `SRAM ${size.sram} + stack ${got.stackBytes}`);
  assert.ok(size.flash <= 1024 * 1024, `Flash ${size.flash}`);
  // SRAM is the training plan's arena (trained elements included) plus the folded biases plus the runner's statics:
  // the frozen part of a tensor trained on some input channels stays in Flash.
  const p = got.project;
  assert.ok(size.sram >= p.arenaBytes + p.foldedBiasBytes, `SRAM ${size.sram} holds arena ${p.arenaBytes} + folded biases ${p.foldedBiasBytes}`);
  assert.ok(size.sram - p.arenaBytes - p.foldedBiasBytes < 2048, `SRAM overhead (the runner's statics) ${size.sram - p.arenaBytes - p.foldedBiasBytes}`);
  assert.ok(size.sram < p.arenaBytes + p.plannedParameterBytes, `SRAM ${size.sram}: no whole trained tensor beside the arena (its ${p.plannedParameterBytes} B of trained elements are inside it)`);
});

/** Biases of the last 8 layers, the classifier whole, and the last 1x1 convolution and the depthwise layer before it on a quarter of their input channels. */
export const VWW_SPARSE = 'sparse:8:-1@1,-2@0.25,-3@0.25';

