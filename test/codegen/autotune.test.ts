import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { findBoard } from '../../src/boards/boards.js';
import { loadModel } from '../../src/model.js';
import { compileModel } from '../../src/compiler/compile_model.js';
import { generateProject } from '../../src/codegen/project.js';
import { TUNE_FILE, TuneCache, measureStepCosts } from '../../src/codegen/autotune.js';
import { compileCommand } from '../../src/cli/compile.js';
import { InputError } from '../../src/errors.js';
import { manifests, modelPath, readBin } from '../helpers/shared.js';
import { buildFor, firstDifference, manifestCases, tempDir } from './harness.js';
import { requireTools, skipWithout } from '../helpers/tools.js';

const board = findBoard('mps2-an386');

test('measured step costs decide the split: a layer whose split does not pay stays int8, the rest by measured gain within the budget', () => {
  const c = compileModel(loadModel(modelPath('mlperf_kws_dscnn_int8.tflite')), { board });
  const gen = (flashBudget: number, stepCosts?: { int8: number; split: number }[]) => generateProject(c.graph, c.plan, { board, target: 'cortex-m4', flashBudget, stepCosts });
  const all = gen(1 << 30);
  const splittable = all.splitWeights.list;
  assert.ok(splittable.length >= 3, `${splittable.length} splittable steps`);
  const steps = c.plan.order.length;
  // Splits that cost instructions are never taken, whatever the budget.
  const worse = Array.from({ length: steps }, () => ({ int8: 100, split: 120 }));
  assert.deepEqual(gen(1 << 30, worse).splitWeights.list, []);
  // Only the last splittable layer pays: with room for it alone, it is the one split.
  const last = splittable[splittable.length - 1];
  const onlyLast = worse.map((x, i) => (i === last ? { int8: 1000, split: 10 } : x));
  const int8 = gen(0);
  const lastOnlyBytes = generateProject(c.graph, c.plan, { board, target: 'cortex-m4', flashBudget: 1 << 30, stepCosts: onlyLast }).weightBytes;
  const tight = gen(lastOnlyBytes, onlyLast);
  assert.deepEqual(tight.splitWeights.list, [last]);
  assert.ok(tight.weightBytes <= lastOnlyBytes && tight.weightBytes > int8.weightBytes);
  assert.throws(() => gen(1 << 30, worse.slice(1)), InputError);
});

test('autotune (Cortex-M4, QEMU): per-step counts add up to the whole inference, the chosen project is byte-identical, the cache spares the rerun', { skip: skipWithout('arm', 'qemu') }, () => {
  requireTools('arm', 'qemu');
  const m = manifests().find((x) => x.id === 'mlperf_kws_dscnn_int8');
  assert.ok(m, 'the KWS manifest in ../shared/vectors');
  const c = compileModel(loadModel(modelPath(m)), { board });
  const cache = new TuneCache('cortex-m4');
  const t = measureStepCosts(c.graph, c.plan, 'cortex-m4', cache);
  assert.equal(t.runs, 2);
  assert.equal(t.costs.length, c.plan.order.length);
  assert.ok(t.costs.every((x) => x.int8 >= 0 && x.split >= 0) && t.costs.some((x) => x.split < x.int8));
  const int8 = generateProject(c.graph, c.plan, { board, target: 'cortex-m4', flashBudget: 0 });
  const all = generateProject(c.graph, c.plan, { board, target: 'cortex-m4', flashBudget: 1 << 30 });
  const budget = Math.floor((int8.weightBytes + all.weightBytes) / 2);
  const tuned = generateProject(c.graph, c.plan, { board, target: 'cortex-m4', flashBudget: budget, stepCosts: t.costs });
  assert.ok(tuned.weightBytes <= budget);
  const chosen = new Set(tuned.splitWeights.list);
  const predicted = t.costs.reduce((n, x, i) => n + (chosen.has(i) ? x.split : x.int8), 0);
  const built = buildFor(c.graph, c.plan, 'cortex-m4', board, { flashBudget: budget, stepCosts: t.costs });
  try {
    const r = built.run(manifestCases(m), m.outputs.map((o) => o.bytes));
    m.cases.forEach((k, i) => k.outputs.forEach((f, j) => assert.equal(firstDifference(r.outputs[i][j], readBin(m, f)), null, `${k.name} output ${j}`)));
    // The steps' counts are the inference's, give or take the profile hook and the inlining it changes: within 1 %.
    const whole = r.counts[0];
    assert.ok(Math.abs(whole - predicted) / whole < 0.01, `whole inference ${whole}, steps summed ${predicted}`);
  } finally {
    built.cleanup();
  }
  // Same graph and plan: every step from the cache, no QEMU run.
  const again = measureStepCosts(c.graph, c.plan, 'cortex-m4', cache);
  assert.equal(again.runs, 0);
  assert.deepEqual(again.costs, t.costs);
});

test('compile --autotune writes its counts into the project and a second compile reuses them', { skip: skipWithout('arm', 'qemu') }, () => {
  requireTools('arm', 'qemu');
  const dir = join(tempDir('autotune-cli'), 'proj');
  const log: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => { log.push(a.join(' ')); };
  try {
    const run = () => compileCommand(modelPath('mlperf_ad_autoencoder_int8.tflite'), { board: 'mps2-an386', output: dir, autotune: true, flashBudget: '400000' });
    assert.equal(run(), 0);
    assert.ok(existsSync(join(dir, TUNE_FILE)));
    const file = JSON.parse(readFileSync(join(dir, TUNE_FILE), 'utf8')) as { target: string; entries: Record<string, number> };
    assert.equal(file.target, 'cortex-m4');
    assert.ok(Object.keys(file.entries).length > 0);
    assert.match(log.join('\n'), /autotune {4}2 QEMU run\(s\)/);
    log.length = 0;
    assert.equal(run(), 0);
    assert.match(log.join('\n'), /autotune {4}no QEMU run \((\d+) of \1 steps from tinyml-tune\.json\)/);
    assert.throws(() => compileCommand(modelPath('mlperf_ad_autoencoder_int8.tflite'), { board: 'mps2-an386', output: dir, autotune: true, target: 'host' }), InputError);
  } finally {
    console.log = orig;
    rmSync(dir, { recursive: true, force: true });
  }
});
