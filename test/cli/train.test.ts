import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { trainCommand } from '../../src/cli/train.js';
import type { TrainCliOptions } from '../../src/cli/train.js';
import { DatasetError } from '../../src/data/index.js';
import { InputError, OutputError, TinymlError, UnsupportedOpError } from '../../src/errors.js';
import { loadModel } from '../../src/model.js';
import { DivergenceError, TrainingBudgetError } from '../../src/train/index.js';
import { REPO_ROOT, modelPath } from '../helpers/shared.js';
import { pngBytes, tempDir, writeFile } from '../data/fixtures.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

/** Classes told apart by where the bright square is; `size`×`size` grey PNGs. */
function toyFolder(classes: string[], perClass: number, size: number): string {
  const dir = tempDir('tinyml-train-');
  classes.forEach((cls, k) => {
    for (let i = 0; i < perClass; i++) {
      const x0 = Math.floor((k * size) / classes.length);
      const w = Math.floor(size / classes.length);
      writeFile(join(dir, cls, `${i}.png`), pngBytes(size, size, (x, y) => (x >= x0 && x < x0 + w && y > size / 4 ? 200 + i : (i * 7 + x + y) % 40)));
    }
  });
  return dir;
}

const quiet = (o: TrainCliOptions): TrainCliOptions => ({ progress: false, epochs: '1', ...o });

function silently<T>(fn: () => T): T {
  const log = console.log;
  const err = console.error;
  console.log = () => {};
  console.error = () => {};
  try {
    return fn();
  } finally {
    console.log = log;
    console.error = err;
  }
}

test('fashion-cnn trains from scratch on an image folder and writes an int8 model with one output per class', () => {
  const data = toyFolder(['left', 'middle', 'right'], 8, 28);
  const out = join(tempDir(), 'toy.tflite');
  const code = silently(() => trainCommand('fashion-cnn', quiet({ data, out, epochs: '2', batch: '4' })));
  assert.equal(code, 0);
  const g = loadModel(out);
  assert.deepEqual(g.tensors[g.outputs[0]].shape, [1, 3]);
  assert.equal(g.tensors[g.inputs[0]].dtype, 'int8');
});

test('fine-tuning person_detect: new 3-class head, biases only, model written', () => {
  const data = toyFolder(['a', 'b', 'c'], 3, 40); // resized to the model's 96x96
  const out = join(tempDir(), 'pd.tflite');
  const code = silently(() => trainCommand(modelPath('tflm_person_detect_int8.tflite'), quiet({ data, out, update: 'bias', batch: '3' })));
  assert.equal(code, 0);
  const g = loadModel(out);
  assert.deepEqual(g.tensors[g.outputs[0]].shape, [1, 3]);
});

test('bad options are InputErrors naming the option', () => {
  const data = toyFolder(['a', 'b'], 2, 8);
  const cases: [string, TrainCliOptions, RegExp][] = [
    ['fashion-cnn', {}, /--data DIR is required/],
    ['fashion-cnn', { data, budget: 'lots' }, /--budget "lots" is not a size/],
    ['fashion-cnn', { data, update: 'some' }, /--update: .*not one of full, bias/],
    ['fashion-cnn', { data, qas: 'maybe' }, /--qas takes on or off/],
    ['fashion-cnn', { data, epochs: '0' }, /--epochs takes a positive integer/],
    ['fashion-cnn', { data, out: join(tempDir(), 'missing', 'x.tflite') }, /cannot write .*x\.tflite: the directory .*missing does not exist/],
    ['resnet', { data }, /neither a \.tflite file nor the keyword fashion-cnn/],
    ['fashion-cnn', { data, update: 'bias' }, /trained from scratch updates every layer/],
    [join(tempDir(), 'none.tflite'), { data }, /model file not found/],
  ];
  for (const [model, opts, message] of cases) {
    assert.throws(() => silently(() => trainCommand(model, quiet(opts))), (e: unknown) => {
      assert.ok(e instanceof InputError || e instanceof OutputError, `${message}: ${e}`);
      assert.match((e as Error).message, message);
      return true;
    });
  }
});

test('dataset folder errors reach the user as DatasetErrors: empty, mislabelled, empty class', () => {
  const empty = tempDir();
  const loose = tempDir();
  writeFile(join(loose, 'img.png'), pngBytes(4, 4, () => 0));
  const emptyClass = toyFolder(['a', 'b'], 2, 8);
  writeFile(join(emptyClass, 'c', 'readme.txt'), 'nothing');
  for (const [data, message] of [[empty, /is empty/], [loose, /outside any class|directly in the folder/], [emptyClass, /class folder has no images/]] as const) {
    assert.throws(() => silently(() => trainCommand('fashion-cnn', quiet({ data }))), (e: unknown) => e instanceof DatasetError && message.test(e.message));
  }
});

test('a budget no configuration fits says the smallest that would', () => {
  const data = toyFolder(['a', 'b'], 2, 16);
  const out = join(tempDir(), 'never.tflite');
  assert.throws(() => silently(() => trainCommand(modelPath('tflm_person_detect_int8.tflite'), quiet({ data, out, update: 'bias', budget: '1KB' }))), (e: unknown) => {
    assert.ok(e instanceof TrainingBudgetError, String(e));
    assert.match((e as Error).message, /smallest budget that fits is \d+ bytes/);
    return true;
  });
  assert.throws(() => silently(() => trainCommand(modelPath('tflm_person_detect_int8.tflite'), quiet({ data, out, update: 'last-k', budget: '1KB' }))), /even the last layer alone needs [\d,]+ bytes.*smallest budget that fits/);
  assert.throws(() => silently(() => trainCommand(modelPath('tflm_person_detect_int8.tflite'), quiet({ data, out, update: 'auto', budget: '20KB' }))), (e: unknown) => {
    assert.ok(e instanceof TrainingBudgetError, String(e));
    assert.match((e as Error).message, /no training configuration fits the budget; the smallest budget that fits is \d+ bytes/);
    return true;
  });
  assert.equal(existsSync(out), false);
});

test('a model we cannot train is refused clearly', () => {
  const data = toyFolder(['a', 'b'], 2, 16);
  // mcunet-vww1 ends in DEQUANTIZE (float output), which has no gradient rule.
  assert.throws(() => silently(() => trainCommand(modelPath('mcunet_vww1_int8_floatio.tflite'), quiet({ data, update: 'full', budget: '10MB' }))), (e: unknown) => {
    assert.ok(e instanceof UnsupportedOpError, String(e));
    assert.match((e as Error).message, /DEQUANTIZE .*no gradient rule/);
    return true;
  });
  assert.throws(() => silently(() => trainCommand(modelPath('tflm_person_detect_vela_customop.tflite'), quiet({ data }))), (e: unknown) => e instanceof TinymlError && /unsupported op/i.test((e as Error).message));
  assert.throws(() => silently(() => trainCommand(modelPath('tflm_micro_speech_int8.tflite'), quiet({ data }))), /training needs one image input \[1,H,W,1\|3\]/);
});

test('a diverging run stops with DivergenceError and writes nothing', () => {
  const data = toyFolder(['a', 'b'], 4, 28);
  const dir = tempDir();
  const out = join(dir, 'diverged.tflite');
  assert.throws(() => silently(() => trainCommand('fashion-cnn', quiet({ data, out, lr: '1e30', batch: '2', epochs: '3' }))), DivergenceError);
  assert.deepEqual(readdirSync(dir), []);
});

test('`tinyml train` errors are one line with exit code 1', () => {
  const r = spawnSync(process.execPath, [CLI, 'train', 'fashion-cnn', '--data', join(tempDir(), 'nowhere')], { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^error: dataset .*nowhere: folder not found\n$/);
});

test('train: --budget below the int8 model\'s arena fails before any training step, saying budget', () => {
  const data = toyFolder(['a', 'b'], 4, 28);
  const dir = tempDir();
  const r = spawnSync(process.execPath, [CLI, 'train', 'fashion-cnn', '--data', data, '--budget', '2KB', '--epochs', '50', '--out', join(dir, 'x.tflite')], { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^error: the int8 model needs [\d,]+ bytes of SRAM for inference, over the --budget of 2,048 by [\d,]+; nothing was trained\n$/);
  assert.doesNotMatch(r.stderr, /epoch/, 'no training step ran');
  assert.deepEqual(readdirSync(dir), []);
  const pd = spawnSync(process.execPath, [CLI, 'train', modelPath('tflm_person_detect_int8.tflite'), '--data', data, '--update', 'full', '--budget', '64KB', '--no-progress'], { encoding: 'utf8', timeout: 60000 });
  assert.equal(pd.status, 1, pd.stderr);
  assert.match(pd.stderr, /budget is [\d,]+/);
  assert.doesNotMatch(pd.stderr, /board has/);
});

test('train: without --out nothing is written, and the report says how to write it; --no-progress prints no progress', () => {
  const data = toyFolder(['a', 'b'], 4, 28);
  const cwd = tempDir();
  const r = spawnSync(process.execPath, [CLI, 'train', 'fashion-cnn', '--data', data, '--epochs', '1', '--batch', '4', '--no-progress'], { encoding: 'utf8', timeout: 120000, cwd });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(cwd), [], 'nothing written in the current folder');
  assert.match(r.stdout, /not written .* give --out FILE\.tflite to write it/);
  assert.equal(r.stderr, '', 'no progress lines with --no-progress');
  // Each inference-arena figure names its graph: the int8 model's and the float32 training graph's.
  const arenas = [...r.stdout.matchAll(/inference arena (?:of the int8 model|of this (?:int8|float32) graph) ([\d.]+ KB)/g)].map((m) => m[0]);
  assert.equal([...r.stdout.matchAll(/inference arena/g)].length, arenas.length, 'no unlabelled arena figure');
  assert.ok(arenas.some((a) => a.includes('int8 model')));
  const bad = spawnSync(process.execPath, [CLI, 'train', 'fashion-cnn', '--data', data, '--out', '/nonexistent/m.tflite'], { encoding: 'utf8', timeout: 60000 });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /cannot write \/nonexistent\/m\.tflite/);
});
