import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBoard } from '../../src/boards/boards.js';
import { compileModel, modelMacs } from '../../src/compiler/compile_model.js';
import { lowerGraph } from '../../src/codegen/project.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { seededRandom } from '../../src/util/random.js';
import type { Arch, SpaceConfig } from '../../src/nas/space.js';
import {
  MBV2_CIFAR, MBV2_IMAGENET, MBV2_SE_CIFAR, archKey, checkArch, crossoverArch, extremeArch, mutateArch, parseArchKey, sampleArch, subnetShape,
} from '../../src/nas/space.js';
import { buildSubnet, deployGraph, heInit } from '../../src/nas/subnet_graph.js';
import { boardLimits, budgetLimits, measureSubnet, screenSubnet } from '../../src/nas/resources.js';
import { CostPool } from '../../src/nas/pool.js';
import { optimiseSpace } from '../../src/nas/space_opt.js';
import { REPO_ROOT, SHARED } from '../helpers/shared.js';
import { formatBudgetSplit, parseBudgetSplit } from '../../src/cli/search.js';
import { DEFAULT_BUDGET_SPLIT, phaseEnds } from '../../src/nas/search.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

/** MACs of a genome counted from its shape alone, independently of the graph builder (ADD, pooling and softmax count an operation an element, as `inspect` does). */
function expectedMacs(space: SpaceConfig, a: Arch): number {
  const s = subnetShape(space, a);
  const stemOut = Math.ceil(a.resolution / space.stem.stride);
  let macs = stemOut ** 2 * s.stemChannels * 9 * space.inputChannels + stemOut ** 2 * s.stemChannels * 9 + stemOut ** 2 * s.stemChannels * s.firstChannels;
  for (const b of s.blocks) {
    const out = Math.ceil(b.inSize / b.stride);
    macs += b.inSize ** 2 * b.inChannels * b.midChannels + out ** 2 * b.midChannels * b.kernel ** 2 + out ** 2 * b.midChannels * b.outChannels;
    if (b.residual) macs += out ** 2 * b.outChannels;
  }
  if (s.headChannels) macs += s.finalSize ** 2 * s.features * s.headChannels;
  return macs + s.finalSize ** 2 * s.features + s.features * space.classes + space.classes;
}

test('a genome builds the network it describes: MACs from the shape equal the graph\'s, residuals where stride 1 and channels match', () => {
  const rand = seededRandom(7);
  for (const space of [MBV2_CIFAR, MBV2_IMAGENET]) {
    for (let i = 0; i < 6; i++) {
      const a = sampleArch(space, rand);
      const g = buildSubnet(space, a, heInit(i));
      assert.equal(modelMacs(g), expectedMacs(space, a), archKey(space, a));
      const shape = subnetShape(space, a);
      assert.equal(g.nodes.filter((n) => n.op === 'ADD').length, shape.blocks.filter((b) => b.residual).length);
      assert.equal(g.nodes.filter((n) => n.op === 'DEPTHWISE_CONV_2D').length, shape.blocks.length + 1);
      assert.deepEqual(g.tensors[g.outputs[0]].shape, [1, space.classes]);
      for (const b of shape.blocks) assert.equal(b.midChannels % space.divisor, 0);
    }
  }
});

test('genomes: keys round-trip, mutation and crossover stay in the space, the extremes bound every sample', () => {
  const rand = seededRandom(3);
  const space = MBV2_CIFAR;
  const big = extremeArch(space, 'largest', 0.5, 48);
  const small = extremeArch(space, 'smallest', 0.5, 48);
  for (let i = 0; i < 30; i++) {
    const a = sampleArch(space, rand, { width: 0.5, resolution: 48 });
    assert.deepEqual(parseArchKey(space, archKey(space, a)).depths, a.depths);
    assert.equal(archKey(space, parseArchKey(space, archKey(space, a))), archKey(space, a));
    const m = mutateArch(space, a, rand, 0.3);
    checkArch(space, m);
    assert.equal(m.width, 0.5);
    checkArch(space, crossoverArch(a, m, rand));
    const macs = expectedMacs(space, a);
    assert.ok(expectedMacs(space, small) <= macs && macs <= expectedMacs(space, big));
  }
  assert.throws(() => parseArchKey(space, 'w0.5-r48-k9e4'), /not in space|expected|kernel/);
  assert.throws(() => checkArch(space, { ...big, width: 0.33 }), /width 0.33/);
});

test('a subnet deploys as an int8 model our interpreter runs, and its screened SRAM bounds the compile pipeline\'s from above', () => {
  const rand = seededRandom(11);
  const limits = boardLimits(findBoard('stm32f412'));
  for (let i = 0; i < 4; i++) {
    const a = sampleArch(MBV2_CIFAR, rand, { width: 0.35, resolution: 32 });
    const g = deployGraph(MBV2_CIFAR, a);
    assert.ok(g.tensors.filter((t) => t.data && t.dtype === 'int8').length > 10);
    const it = new Interpreter(g, { backend: 'js' });
    it.setInput(0, new Uint8Array(32 * 32 * 3));
    it.invoke();
    assert.equal(it.output(0).length, 10);
    const screen = screenSubnet(MBV2_CIFAR, a, limits);
    const full = measureSubnet(MBV2_CIFAR, a, limits);
    assert.ok(full.arenaBytes <= screen.arenaBytes, `${full.arenaBytes} > ${screen.arenaBytes}`);
    assert.equal(full.macs, screen.macs);
    assert.equal(screen.macs, expectedMacs(MBV2_CIFAR, a));
    // Flash counts the constants exactly as the generated C stores them, plus code.
    const cm = compileModel(g, { patch: 'off' });
    const lowered = lowerGraph(cm.graph, cm.plan).flatMap((l) => l.code.weights).reduce((n, w) => n + w.values.length * (w.type.includes('int8') ? 1 : 4), 0);
    assert.ok(screen.flashBytes > lowered && screen.constantBytes >= lowered * 0.99, `${screen.constantBytes} vs ${lowered}`);
    assert.equal(screen.sramBytes, screen.arenaBytes + 8192);
  }
});

test('stage 1 picks the (width, resolution) cell whose fitting subnets have the most MACs; workers give the same answer as one thread', async () => {
  const limits = budgetLimits(160 * 1024, 1024 * 1024, { maxMacs: 40e6 });
  const o = { samples: 24, seed: 5, widths: [0.25, 0.5, 0.75], resolutions: [32, 48] };
  const one = await optimiseSpace(MBV2_CIFAR, limits, o);
  const pool = new CostPool(2);
  try {
    const two = await optimiseSpace(MBV2_CIFAR, limits, { ...o, evaluate: (s, a, l) => pool.costs('screen', s, a, l) });
    assert.deepEqual(two.cells, one.cells);
  } finally {
    await pool.close();
  }
  assert.equal(one.cells.length, 6);
  assert.ok(one.best);
  for (const c of one.cells) {
    assert.ok(c.macs.every((m) => m <= 40e6));
    if (c.fitting >= 0.05 * c.sampled) assert.ok(c.meanMacs <= one.best.meanMacs);
  }
  // Bigger networks need more memory: at the same width, a higher resolution never fits more often.
  for (const w of o.widths) {
    const [lo, hi] = [32, 48].map((r) => one.cells.find((c) => c.width === w && c.resolution === r)!);
    assert.ok(hi.minSramBytes >= lo.minSramBytes);
  }
});

function tinyml(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 300000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('tinyml search --space-only: grid, chosen space, CDF chart, JSON and HTML report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tinyml-search-'));
  const html = join(dir, 'search.html');
  const r = tinyml('search', '--board', 'stm32f412', '--space-only', '--space-samples', '20', '--widths', '0.25,0.5', '--resolutions', '32,40', '--report', html, '--workers', '2');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /chosen space: width (0\.25|0\.5), resolution (32|40)/);
  assert.match(r.out, /CDF of MACs/);
  assert.match(r.out, /STM32F412: SRAM 262,144 B/);
  const page = readFileSync(html, 'utf8');
  assert.match(page, /<svg class="cdf"/);
  assert.match(page, /Stage 1: search-space optimisation/);
  const j = tinyml('search', '--sram', '64KB', '--flash', '1MB', '--space-only', '--space-samples', '10', '--widths', '0.25', '--resolutions', '32,40', '--json');
  assert.equal(j.code, 0, j.err);
  const out = JSON.parse(j.out);
  assert.equal(out.cells.length, 2);
  assert.equal(out.limits.sramBytes, 65536);
});

test('tinyml search refuses bad limits and options clearly, and exits 3 when nothing fits', () => {
  let r = tinyml('search', '--board', 'stm32f412', '--sram', '1KB', '--flash', '1MB', '--space-only');
  assert.equal(r.code, 1);
  assert.match(r.err, /either --board or --sram/);
  r = tinyml('search', '--space-only');
  assert.match(r.err, /--board NAME, or --sram/);
  r = tinyml('search', '--board', 'stm32f412', '--widths', '0.33', '--space-only');
  assert.match(r.err, /--widths: 0.33 not among/);
  r = tinyml('search', '--board', 'stm32f412');
  assert.match(r.err, /--data DIR is required to train the supernet \(or run --space-only\)/);
  r = tinyml('search', '--board', 'stm32f412', '--data', '.', '--width', '0.25');
  assert.match(r.err, /--width and --resolution together/);
  r = tinyml('search', '--board', 'stm32f412', '--data', '.', '--time-budget', '2 hours');
  assert.match(r.err, /--time-budget "2 hours" is not a duration/);
  r = tinyml('search', '--board', 'stm32f412', '--data', '.', '--sandwich', 'largest');
  assert.match(r.err, /--sandwich takes fitting or full, got "largest"/);
  for (const bad of ['50,20', '50,20,20', '70,30,0', '50,-10,60', 'a,b,c']) {
    r = tinyml('search', '--board', 'stm32f412', '--data', '.', '--budget-split', bad);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`--budget-split takes three percentages .* got "${bad}"`));
  }
  assert.deepEqual(parseBudgetSplit('25,15,60'), { supernet: 0.25, evolution: 0.15 });
  assert.deepEqual(parseBudgetSplit('50%, 20%, 30%'), { supernet: 0.5, evolution: 0.2 });
  // The help's default and the error's example are written from the split itself.
  assert.equal(formatBudgetSplit(parseBudgetSplit('50,20,30')), '50,20,30');
  assert.equal(formatBudgetSplit(), '25,15,60');
  // The split shares out what stage 1 leaves of the budget: a stage 1 of 40 of 60 minutes still leaves the
  // supernet a quarter of the other 20, not the nothing a quarter of the whole hour would leave it.
  assert.deepEqual(phaseEnds(3600, 2400, { supernet: 0.25, evolution: 0.15 }), { supernet: 2700, evolution: 2880 });
  assert.deepEqual(phaseEnds(3600, 0, { supernet: 0.5, evolution: 0.2 }), { supernet: 1800, evolution: 2520 });
  assert.deepEqual(phaseEnds(600, 900, DEFAULT_BUDGET_SPLIT), { supernet: 900, evolution: 900 });
  assert.deepEqual(phaseEnds(undefined, 5, DEFAULT_BUDGET_SPLIT), { supernet: Infinity, evolution: Infinity });
  r = tinyml('search', '--sram', '8KB', '--flash', '1MB', '--space-only', '--space-samples', '5', '--widths', '0.25', '--resolutions', '32', '--no-progress');
  assert.equal(r.code, 3, r.err);
  assert.match(r.out, /no cell has 5 % of its samples within the limits; the least SRAM sampled was/);
  // A named cell nothing of which fits is refused before any training, with the smallest subnet's misses.
  r = tinyml('search', '--board', 'stm32f412', '--data', join(SHARED, 'datasets', 'cifar10'), '--width', '0.25', '--resolution', '32', '--max-weights', '2KB',
    '--train-limit', '200', '--test-limit', '100', '--validation', '40', '--no-progress');
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /error: no subnet of mbv2-cifar at width 0.25, resolution 32 fits the limits \(.*\): its smallest misses .*weights/);
});

test('tinyml search end to end: supernet, evolution, fine-tuned int8 winner that fits, evaluates with its metadata and compiles; a second run resumes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tinyml-nas-'));
  const cifar = join(SHARED, 'datasets', 'cifar10');
  const args = ['search', '--board', 'stm32f412', '--data', cifar, '--width', '0.25', '--resolution', '32', '--train-limit', '200', '--test-limit', '100',
    '--population', '4', '--validation', '40', '--finetune-steps', '2', '--batch', '8', '--workers', '2', '--max-weights', '120KB', '--resume', join(dir, 'ckpt')];
  const r = tinyml(...args, '--supernet-steps', '2', '--generations', '1', '--out', join(dir, 'best.tflite'), '--report', join(dir, 'search.html'), '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.supernetSteps, 2);
  assert.equal(j.limits.maxWeightBytes, 120 * 1024);
  assert.ok(j.winner.cost.fits);
  // Every model the search returns or keeps is within every limit: SRAM, Flash and the weights cap.
  assert.ok(j.winner.cost.sramBytes <= 256 * 1024 && j.winner.cost.flashBytes <= 1024 * 1024 && j.winner.cost.constantBytes <= 120 * 1024);
  type Scored = { fits: boolean; sramBytes: number; flashBytes: number; constantBytes: number };
  assert.ok(j.scored.length >= 4 && j.scored.every((c: Scored) => c.fits && c.sramBytes <= 256 * 1024 && c.flashBytes <= 1024 * 1024 && c.constantBytes <= 120 * 1024));
  assert.match(readFileSync(join(dir, 'search.html'), 'utf8'), /Pareto front/);
  const ev = tinyml('evaluate', join(dir, 'best.tflite'), '--data', cifar, '--limit', '100', '--json');
  assert.equal(ev.code, 0, ev.err);
  const e = JSON.parse(ev.out);
  assert.equal(e.preprocessing.source, 'metadata');
  assert.deepEqual(e.preprocessing.range, [0, 1]);
  assert.equal(e.correct, Math.round(j.winner.int8Accuracy * 100));
  const c = tinyml('compile', join(dir, 'best.tflite'), '--board', 'stm32f412', '-o', join(dir, 'c'));
  assert.equal(c.code, 0, c.err);
  // More steps on the same checkpoint: training continues from step 2 (the stale population is dropped).
  const again = tinyml(...args, '--supernet-steps', '3', '--generations', '1');
  assert.equal(again.code, 0, again.err);
  assert.match(again.err, /resumed from .*: supernet step 2/);
  assert.match(again.out, /supernet: 3 sandwich steps, .* min, subnets within the limits, teacher w0\.25-r32-/);
  // A damaged checkpoint is a clear error, not an internal one.
  writeFileSync(join(dir, 'ckpt', 'state.json'), '{"version": 1, "key"');
  const broken = tinyml(...args, '--supernet-steps', '3', '--generations', '1');
  assert.equal(broken.code, 1, broken.err);
  assert.match(broken.err, /--resume .*ckpt: the checkpoint cannot be read/);
});

test('squeeze-and-excitation blocks: genes round-trip, the int8 deploy model runs on the wasm backend with no TypeScript fallback and lowers to C', () => {
  const rand = seededRandom(13);
  for (let i = 0; i < 3; i++) {
    const a = sampleArch(MBV2_SE_CIFAR, rand, { width: 0.25, resolution: 32 });
    const key = archKey(MBV2_SE_CIFAR, a);
    assert.equal(archKey(MBV2_SE_CIFAR, parseArchKey(MBV2_SE_CIFAR, key)), key);
    const shape = subnetShape(MBV2_SE_CIFAR, a);
    const g = deployGraph(MBV2_SE_CIFAR, a);
    assert.equal(g.nodes.filter((n) => n.op === 'LOGISTIC').length, shape.blocks.filter((b) => b.seChannels > 0).length);
    const it = new Interpreter(g);
    it.setInput(0, new Uint8Array(32 * 32 * 3));
    it.invoke();
    assert.deepEqual(it.jsFallbacks, []);
    const cm = compileModel(g, { patch: 'off' });
    assert.equal(lowerGraph(cm.graph, cm.plan).length, cm.plan.order.length);
  }
  assert.throws(() => parseArchKey(MBV2_CIFAR, 'w0.25-r32-k3e3s|k3e3,k3e3|k3e3,k3e3|k3e3,k3e3|k3e3'), /has squeeze-and-excitation; space mbv2-cifar has none/);
});
