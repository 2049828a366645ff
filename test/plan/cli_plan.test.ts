import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { planCommand } from '../../src/cli/plan.js';
import { parsePatch } from '../../src/cli/compile_flags.js';
import { InputError } from '../../src/errors.js';
import { modelPath } from '../helpers/shared.js';
import { requireTools, skipWithout } from '../helpers/tools.js';

/** Run planCommand, capturing what it prints. */
function capture(model: string, opts: Parameters<typeof planCommand>[1]): { code: number; out: string } {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => { lines.push(a.join(' ')); };
  try {
    return { code: planCommand(model, opts), out: lines.join('\n') };
  } finally {
    console.log = log;
  }
}

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

test('plan: text output lists every strategy with lower bound and a given reference arena, and a memory chart', () => {
  const r = capture(modelPath('tflm_person_detect_int8.tflite'), { referenceArena: '85024', objective: 'memory' });
  assert.equal(r.code, 0);
  for (const s of ['greedy-size', 'greedy-breadth', 'local-search', 'exact', 'patch \\d+x\\d+']) assert.match(r.out, new RegExp(s));
  assert.match(r.out, /0\.\d\dx the reference 85,024/, 'the reference arena given');
  // A patch plan's peak names the model layer (person_detect has 31), not a node of the rewritten graph.
  const peak = /live peak at step \d+ of \d+ \(model layer (\d+) \w+/.exec(r.out);
  assert.ok(peak && Number(peak[1]) < 31, r.out);
  assert.match(r.out, /patch\s+\d+x\d+ patches of .* extra MACs/);
  assert.match(r.out, /peak SRAM\s+[\d,]+ bytes/);
  assert.match(r.out, /memory over execution steps/);
  assert.match(r.out, /[▁▂▃▄▅▆▇█]/);
});

test('plan --json --objective memory: top-level peakBytes is the chosen arena, never above any strategy or below the bound', () => {
  const r = capture(modelPath('mlperf_vww_mobilenetv1_int8.tflite'), { json: true, objective: 'memory' });
  const j = JSON.parse(r.out);
  assert.equal(typeof j.peakBytes, 'number');
  assert.equal(j.peakBytes, Math.min(...j.rows.map((x: { arenaBytes: number }) => x.arenaBytes)));
  assert.ok(j.peakBytes >= j.lowerBound);
  assert.ok(j.peakBytes <= j.baselineBytes);
  assert.equal(j.referenceArenaBytes, null, 'no reference unless given: the product reads no test data');
  assert.ok(j.patch && j.peakBytes === j.patch.arenaBytes && j.peakBytes < j.layerwiseBytes, 'the patch plan wins on an image model');
  const off = JSON.parse(capture(modelPath('mlperf_vww_mobilenetv1_int8.tflite'), { json: true, patch: 'off' }).out);
  assert.equal(off.patch, null);
  assert.equal(off.peakBytes, off.layerwiseBytes);
  assert.equal(off.steps.length, 31, 'layer-wise: one step per op');
});

test('plan --patch NxN@LAYER: a fixed split is planned and reported', () => {
  const j = JSON.parse(capture(modelPath('tflm_person_detect_int8.tflite'), { json: true, patch: '3x3@5' }).out);
  assert.equal(j.patch.n, 3);
  assert.equal(j.patch.lastNode, 5);
  assert.ok(j.rows.some((r: { name: string }) => /^patch 3x3/.test(r.name)));
  assert.ok(j.peakBytes <= j.layerwiseBytes, 'never worse than layer-wise');
});

test('plan --board: a model that cannot fit names the peak step and the bytes missing', () => {
  const r = capture(modelPath('mlperf_vww_mobilenetv1_float.tflite'), { board: 'nrf52832', patch: 'off' });
  assert.equal(r.code, 3);
  assert.match(r.out, /DOES NOT FIT — SRAM short by [\d,]+ bytes .*the peak is step \d+, node \d+ \w+/);
  const j = JSON.parse(capture(modelPath('mlperf_vww_mobilenetv1_float.tflite'), { board: 'nrf52832', json: true, patch: 'off' }).out);
  assert.equal(j.board.fits, false);
  assert.equal(j.board.shortBytes, j.peakBytes + j.board.reservedBytes - j.board.sramBytes);
  assert.equal(j.board.reservedBytes, 8192, 'the Cortex-M project stack counts');
});

test('plan: bad --patch and --max-overhead values are refused with a clear message', () => {
  assert.throws(() => parsePatch('4x5@3'), InputError);
  assert.throws(() => parsePatch('banana'), InputError);
  assert.deepEqual(parsePatch('4x4@7'), { n: 4, cols: 4, lastNode: 7 });
  assert.deepEqual(parsePatch('4x4@conv1_out'), { n: 4, cols: 4, lastNode: 'conv1_out' });
  assert.deepEqual(parsePatch('24x1@7'), { n: 24, cols: 1, lastNode: 7 }, 'full-width strips');
  assert.equal(parsePatch(undefined), 'auto');
  assert.throws(() => capture(modelPath('mlperf_kws_dscnn_int8.tflite'), { maxOverhead: 'lots' }), InputError);
});

test('plan --html: the page renders in headless Chromium without console errors and has the charts', { skip: skipWithout('chromium') }, async () => {
  requireTools('chromium');
  const dir = mkdtempSync(join(tmpdir(), 'tinyml-plan-'));
  const file = join(dir, 'plan.html');
  const j = JSON.parse(capture(modelPath('mcunet_vww1_int8_floatio.tflite'), { html: file, json: true }).out);
  const nSteps = j.steps.length as number;
  const html = readFileSync(file, 'utf8');
  assert.doesNotMatch(html, /<script|https?:\/\//, 'self-contained: no scripts, nothing fetched');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()}`));
    await page.goto(`file://${file}`);
    assert.deepEqual(problems, []);
    assert.equal(await page.locator('svg#memory-chart polyline.live-line').count(), 1);
    assert.equal(await page.locator('svg#memory-chart circle.point').count(), nSteps);
    assert.equal(await page.locator('svg#memory-chart line.arena').count(), 1);
    assert.ok(await page.locator('svg#layout-chart rect.buffer').count() > 30);
    assert.equal(await page.locator('svg#layer-bars rect.bar').count(), j.layers.length);
    assert.ok(await page.locator('svg#layer-bars g.patched').count() > 0, 'patched layers marked');
    assert.ok(await page.locator('#strategies tbody tr').count() >= 4);
    const box = await page.locator('svg#memory-chart').boundingBox();
    assert.ok(box && box.width > 300 && box.height > 80, 'the chart has a visible size');
    assert.match((await page.locator('#summary').textContent()) ?? '', /Peak SRAM/);
  } finally {
    await browser.close();
  }
});
