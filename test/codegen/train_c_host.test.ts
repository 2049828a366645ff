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
import { datasetSamples, trainInNode, trainOnDevice } from '../../src/codegen/train/device_run.js';
import { firstDifference } from './harness.js';
import { CIFAR, DEFAULT_MODEL, FASHION, SGD, checkAgainstNode } from './train_check.js';

/**
 * `tinyml compile --train` on the host (ASan/UBSan): the training step compiled to C, run for a few steps
 * on real samples, leaves the trained tensors byte-identical to the Node trainer's after the same steps.
 */
const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.js');

// QAS off needs a learning rate of the integers' scale for int8 steps to move at all (the README's chance rows).
for (const [update, qas, lr] of [['bias', true, 0.05], ['full', false, 2000], ['sparse:3:-2@0.5,-1@1', true, 0.05]] as const) {
  test(`compile --train (host, ASan/UBSan): default model ${update}, QAS ${qas ? 'on' : 'off'}: 4 SGD steps byte-identical to the Node trainer`, () => {
    checkAgainstNode({ graph: loadModel(DEFAULT_MODEL), update, optimizer: { ...SGD, lr }, qas, seed: 5 }, 4, FASHION, 'host', 'STM32F746');
  });
}

test('compile --train (host, ASan/UBSan): MLPerf ResNet-8 sparse update through its residual ADDs, 2 steps on CIFAR-10 byte-identical', () => {
  const graph = loadModel(join(SHARED, 'models', 'mlperf_ic_resnet8_int8.tflite'));
  checkAgainstNode({ graph, update: 'sparse:7:-1@1,-4@0.5', optimizer: SGD, qas: true, seed: 2 }, 2, CIFAR, 'host', 'STM32F746');
});

test('compile --train (host, ASan/UBSan): MLPerf VWW with the classifier and a depthwise layer trained on part of their input channels (split in SRAM / Flash), 2 steps byte-identical', () => {
  const graph = loadModel(join(SHARED, 'models', 'mlperf_vww_mobilenetv1_int8.tflite'));
  const s = { graph, update: 'sparse:4:-1@0.5,-3@0.25', optimizer: SGD, qas: true, seed: 4 };
  const samples = datasetSamples(graph, CIFAR, 2).map((x) => ({ ...x, label: x.label % 2 }));
  const want = trainInNode(s, samples);
  const got = trainOnDevice(s, samples, 'host', 'STM32F746');
  got.project.exports.forEach((e, i) => assert.equal(firstDifference(got.tensors[i], want[i]), null, `VWW ${e.name}`));
  assert.ok(trainInNode(s, []).some((before, i) => firstDifference(before, want[i]) !== null), 'the steps changed no trained byte');
});

test('compile --train refuses, naming op and node, a backward the device does not compile', () => {
  const graph = loadModel(join(SHARED, 'models', 'mcunet_vww1_int8_floatio.tflite'));
  assert.throws(() => trainOnDevice({ graph, update: 'bias:3', optimizer: SGD, qas: true, seed: 1 }, [], 'host', 'STM32F746'), /DEQUANTIZE at node \d+/);
  const kws = loadModel(join(SHARED, 'models', 'mlperf_kws_dscnn_int8.tflite'));
  assert.throws(() => trainOnDevice({ graph: kws, update: 'bias', optimizer: { kind: 'adam', lr: 1e-3 }, qas: true, seed: 1 }, [], 'host', 'STM32F746'), /optimizer adam is not compiled/);
});

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

test('tinyml compile --train auto --data: the gradient probe chooses under the board\'s SRAM (stack, folded biases and headroom included); without data a one-line error', () => {
  const dirs = [mkdtempSync(join(tmpdir(), 'tinyml-auto-small-')), mkdtempSync(join(tmpdir(), 'tinyml-auto-large-'))];
  try {
    const chosen = ['STM32L432', 'STM32F746'].map((board, k) => {
      const r = spawnSync(process.execPath, [CLI, 'compile', DEFAULT_MODEL, '--train', 'auto', '--data', FASHION, '--board', board, '-o', dirs[k], '--json'], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout);
    });
    const [small, large] = chosen;
    for (const [j, sram] of [[small, 64 * 1024], [large, 320 * 1024]] as const) {
      assert.notEqual(j.update, 'auto');
      const spec = parseUpdateSpec(j.update);
      // The project's arena is the plan of the chosen update, and the whole program leaves the application room.
      assert.equal(j.arenaBytes, planTraining(loadModel(DEFAULT_MODEL), spec, { optimizer: { kind: 'sgd', lr: 0.1, momentum: 0 } }).peakBytes);
      assert.ok(j.sramBytes + 4096 <= sram, `${j.update}: ${j.sramBytes} B of ${sram}`);
    }
    // The small board cannot hold the full update the large one affords: it trains fewer bytes.
    assert.ok(small.plannedParameterBytes < large.plannedParameterBytes, `${small.update} (${small.plannedParameterBytes} B) vs ${large.update} (${large.plannedParameterBytes} B)`);
    const r = spawnSync(process.execPath, [CLI, 'compile', DEFAULT_MODEL, '--train', 'auto', '--board', 'STM32L432', '-o', dirs[0]], { encoding: 'utf8', timeout: 60_000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--train auto probes gradients on training data[^\n]*--data DIR/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});
