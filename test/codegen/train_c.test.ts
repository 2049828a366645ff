import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { planTraining } from '../../src/train/workflow.js';
import { parseUpdateSpec } from '../../src/train/update.js';
import { loadModel } from '../../src/model.js';
import { SHARED } from '../helpers/shared.js';
import { requireTools, skipWithout } from '../helpers/tools.js';
import { QEMU_BOARDS, firstDifference } from './harness.js';
import type { TrainSetup } from '../../src/codegen/train/device_run.js';
import { datasetSamples, trainInNode, trainOnDevice } from '../../src/codegen/train/device_run.js';

/**
 * `tinyml compile --train`: the training step compiled to C, run for a few steps on real samples, leaves
 * the trained tensors byte-identical to the Node trainer's (TrainingSession, wasm backend) after the same
 * steps: on the host under ASan/UBSan and under QEMU on the Cortex-M4 and M7.
 */
const DEFAULT_MODEL = join(import.meta.dirname, '..', '..', '..', 'models', 'tinyml-default-int8.tflite');
const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.js');
const FASHION = join(SHARED, 'datasets', 'fashion-mnist');
const CIFAR = join(SHARED, 'datasets', 'cifar10');
const SGD = { kind: 'sgd' as const, lr: 0.05, momentum: 0.9 };

function check(s: TrainSetup, steps: number, folder: string, target: Parameters<typeof trainOnDevice>[2], board: string): void {
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

// QAS off needs a learning rate of the integers' scale for int8 steps to move at all (the README's chance rows).
for (const [update, qas, lr] of [['bias', true, 0.05], ['last-k:2', true, 0.05], ['full', false, 2000], ['sparse:3:-2@0.5,-1@1', true, 0.05]] as const) {
  test(`compile --train (host, ASan/UBSan): default model ${update}, QAS ${qas ? 'on' : 'off'}: 4 SGD steps byte-identical to the Node trainer`, () => {
    check({ graph: loadModel(DEFAULT_MODEL), update, optimizer: { ...SGD, lr }, qas, seed: 5 }, 4, FASHION, 'host', 'STM32F746');
  });
}

test('compile --train (host, ASan/UBSan): MLPerf ResNet-8 sparse update through its residual ADDs, 2 steps on CIFAR-10 byte-identical', () => {
  const graph = loadModel(join(SHARED, 'models', 'mlperf_ic_resnet8_int8.tflite'));
  check({ graph, update: 'sparse:7:-1@1,-4@0.5', optimizer: SGD, qas: true, seed: 2 }, 2, CIFAR, 'host', 'STM32F746');
});

test('compile --train refuses, naming op and node, a backward the device does not compile', () => {
  const graph = loadModel(join(SHARED, 'models', 'mcunet_vww1_int8_floatio.tflite'));
  assert.throws(() => trainOnDevice({ graph, update: 'bias:3', optimizer: SGD, qas: true, seed: 1 }, [], 'host', 'STM32F746'), /DEQUANTIZE at node \d+/);
  const kws = loadModel(join(SHARED, 'models', 'mlperf_kws_dscnn_int8.tflite'));
  assert.throws(() => trainOnDevice({ graph: kws, update: 'bias', optimizer: { kind: 'adam', lr: 1e-3 }, qas: true, seed: 1 }, [], 'host', 'STM32F746'), /optimizer adam is not compiled/);
});

for (const { target, board } of QEMU_BOARDS) {
  test(`compile --train (${target}, QEMU): default model sparse update, 3 steps byte-identical to the Node trainer`, { skip: skipWithout('arm', 'qemu') }, () => {
    requireTools('arm', 'qemu');
    check({ graph: loadModel(DEFAULT_MODEL), update: 'sparse:3:-2@0.5,-1@1', optimizer: SGD, qas: true, seed: 9 }, 3, FASHION, target, board);
  });
}

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
  // SRAM is the training plan's arena plus the whole trained tensors and folded biases plus the runner's statics.
  assert.ok(size.sram >= got.project.arenaBytes + got.project.trainedBytes, `SRAM ${size.sram} holds arena ${got.project.arenaBytes} + trained ${got.project.trainedBytes}`);
  assert.ok(size.sram - got.project.arenaBytes - got.project.trainedBytes < 4096, `SRAM overhead ${size.sram - got.project.arenaBytes - got.project.trainedBytes}`);
});

/** Biases of the last 8 layers, the classifier whole and the last two 1x1 convolutions on a quarter of their input channels. */
export const VWW_SPARSE = 'sparse:8:-1@1,-2@0.25,-3@0.25';

test('tinyml compile --train: writes the project, its arena is the figure `tinyml train` plans, --json says so', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tinyml-compile-train-'));
  try {
    const r = spawnSync(process.execPath, [CLI, 'compile', DEFAULT_MODEL, '--train', 'sparse:3:-2@0.5,-1@1', '--board', 'STM32F746', '-o', dir, '--json'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    const want = planTraining(loadModel(DEFAULT_MODEL), parseUpdateSpec('sparse:3:-2@0.5,-1@1'), { optimizer: { kind: 'sgd', lr: 0.1, momentum: 0 } }).peakBytes;
    assert.equal(j.arenaBytes, want);
    assert.equal(j.predictedPeakBytes, want);
    assert.match(readFileSync(join(dir, 'model.h'), 'utf8'), /int32_t model_train_step\(const int8_t \*input, int32_t label\);/);
    assert.match(readFileSync(join(dir, 'model.h'), 'utf8'), new RegExp(`#define MODEL_ARENA_BYTES ${want}u`));
    const bad = spawnSync(process.execPath, [CLI, 'compile', DEFAULT_MODEL, '--train', 'sparse:x', '--board', 'STM32F746', '-o', dir], { encoding: 'utf8', timeout: 60_000 });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /error: update "sparse:x"/);
    assert.doesNotMatch(bad.stderr, /at .*\.js:\d+/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
