import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { unzipSync } from 'fflate';
import { PNG } from 'pngjs';
import { buildWeb } from '../../web/build.js';
import type { StaticServer } from '../../web/serve.js';
import { serveStatic } from '../../web/serve.js';
import { compileOptionsFrom } from '../../src/cli/compile_flags.js';
import { compileModel } from '../../src/compiler/compile_model.js';
import type { CompiledModel } from '../../src/compiler/compile_model.js';
import { planModel } from '../../src/cli/plan.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { timeRuns } from '../../src/runtime/measure.js';
import { loadModel } from '../../src/model.js';
import { modelReport } from '../../src/report/layers.js';
import { buildProject } from '../../src/codegen/toolchain.js';
import { manifests, modelPath, readBin } from '../helpers/shared.js';
import { requireTools, skipWithout } from '../helpers/tools.js';

/**
 * The static page (web/) end to end in headless Chromium: built by esbuild offline, served by node:http,
 * a real model uploaded; its figures checked against the compile pipeline in Node, its run against
 * TFLite Micro's reference output, its C project unzipped and built with gcc and run on the same input.
 */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const MODEL = 'tflm_person_detect_int8';
const BOARD = 'STM32F412';
const RUNS = 20;

describe('web page', { skip: skipWithout('chromium') }, () => {
  let dir: string;
  let server: StaticServer;
  let compiledModel: CompiledModel | undefined;
  /** The model compiled in Node as the CLI compiles it for --board BOARD (once for the tests below). */
  const compiled = (): CompiledModel => (compiledModel ??= compileModel(loadModel(modelPath(`${MODEL}.tflite`)), compileOptionsFrom({ board: BOARD })));
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  before(async () => {
    requireTools('chromium');
    dir = mkdtempSync(join(tmpdir(), 'tinyml-web-'));
    const built = await buildWeb(join(dir, 'site'));
    assert.deepEqual(built.files.filter((f) => !f.endsWith('.map')), ['app.js', 'index.html', 'tm_kernels.wasm']);
    server = await serveStatic(built.outDir);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    page = await browser.newPage({ acceptDownloads: true });
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForFunction(() => /loaded/.test(document.querySelector('#backend')?.textContent ?? ''));
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Do something that ends in one more finished analysis or run (counted on <body>), and wait for it. */
  async function andWait(what: 'analyses' | 'runs', act: () => Promise<unknown>): Promise<void> {
    const before = Number((await page.locator('body').getAttribute(`data-${what}`)) ?? '0');
    await act();
    await page.waitForFunction(([w, n]) => Number(document.body.getAttribute(`data-${w}`) ?? '0') > Number(n), [what, before], { timeout: 30_000 });
  }

  async function upload(model: string, board: string): Promise<void> {
    if ((await page.locator('#board').inputValue()) !== board) await andWait('analyses', () => page.selectOption('#board', board));
    await andWait('analyses', () => page.setInputFiles('#model-file', modelPath(`${model}.tflite`)));
    console.log(`web page: ${model} on ${board}: ${await page.locator('#status').textContent()}`);
  }

  async function value(selector: string, attr = 'data-value'): Promise<string> {
    return (await page.locator(selector).getAttribute(attr)) ?? '';
  }

  test('the figures shown are the compile pipeline\'s: peak SRAM, Flash, MACs, fit, per-layer rows, both plans charted', async () => {
    await upload(MODEL, BOARD);
    assert.equal(await page.locator('#error').isHidden(), true, await page.locator('#error').textContent() ?? '');
    // planModel is what `tinyml plan --json` prints; compileModel + modelReport what `tinyml inspect --json` prints.
    const plan = planModel(modelPath(`${MODEL}.tflite`), { board: BOARD });
    const c = compiled();
    const report = modelReport(c.graph, c.plan);
    assert.equal(Number(await value('#peak-sram')), plan.peakBytes, 'peak SRAM = tinyml plan --json peakBytes');
    assert.equal(Number(await value('#peak-sram')), report.peakSramBytes, 'peak SRAM = tinyml inspect');
    assert.equal(Number(await value('#macs')), plan.totalMacs, 'MACs = tinyml plan --json totalMacs');
    assert.equal(Number(await value('#flash')), report.weightBytes, 'Flash = tinyml inspect');
    assert.equal(await value('#fit', 'data-fits'), 'true');
    assert.equal(Number(await value('#fit', 'data-sram-short')), c.fit!.sram.shortBytes);
    assert.match(await page.locator('#fit').textContent() ?? '', /^Fits STM32F412/);
    assert.equal(await page.locator('#layers tbody tr').count(), report.layers.length);
    assert.equal(await page.locator('#layers tbody tr.peak').count(), 1);
    const firstRow = await page.locator('#layers tbody tr').first().locator('td').allTextContents();
    assert.equal(firstRow[1], report.layers[0].op);
    assert.equal(firstRow[4], report.layers[0].macs.toLocaleString('en-US'));
    // Both plans over time, the chosen one marked, each with a point per step.
    const charts = page.locator('#charts figure.chart');
    assert.equal(await charts.count(), plan.patch ? 2 : 1);
    assert.equal(await page.locator('#charts figure.chart.chosen').count(), 1);
    const chosen = page.locator('#charts figure.chart.chosen');
    assert.equal(Number(await chosen.getAttribute('data-arena')), plan.peakBytes);
    assert.equal(await chosen.locator('circle.point').count(), plan.steps.length);
    const box = await chosen.locator('svg').boundingBox();
    assert.ok(box && box.width > 300 && box.height > 60, 'the chart has a visible size');
    assert.deepEqual(problems, []);
  });

  test('a run on a reference input gives TFLite Micro\'s output bytes, timed on the wasm backend', async () => {
    const m = manifests().find((x) => x.id === MODEL)!;
    const kase = m.cases[0];
    const input = join(m.dir, kase.inputs[0]);
    await page.check('input[name="input-kind"][value="raw"]');
    await page.setInputFiles('#raw-files', input);
    await page.fill('#repeat', String(RUNS));
    await andWait('runs', () => page.click('#run'));
    const hex = await value('.output[data-index="0"]', 'data-hex');
    assert.equal(hex, Buffer.from(readBin(m, kase.outputs[0])).toString('hex'));
    assert.match(await page.locator('#run-result').textContent() ?? '', /wasm backend/);
    const download = page.waitForEvent('download');
    await page.click('.output[data-index="0"] a.download-output');
    const got = readFileSync(await (await download).path());
    assert.equal(got.toString('hex'), hex, 'the output downloaded raw');
    // Timing: a second round on each side, so both compare tiered-up WebAssembly (V8 compiles the hot
    // kernels' optimised code in the background during the first); the same median of RUNS on each.
    await andWait('runs', () => page.click('#run'));
    const pageMs = Number(await value('#time-ms', 'data-ms'));
    // Node: what `tinyml run --board BOARD --repeat RUNS` does (timeRuns), on one interpreter of the same compiled model.
    const interp = new Interpreter(compiled(), { backend: 'wasm' });
    const bytes = new Uint8Array(readFileSync(input));
    timeRuns(interp, [bytes], RUNS);
    const node = timeRuns(interp, [bytes], RUNS);
    assert.equal(Buffer.from(interp.output(0)).toString('hex'), hex);
    const ratio = pageMs / node.milliseconds;
    console.log(`web page timing: ${MODEL} on the wasm backend, median of ${RUNS} (second round): page ${pageMs.toFixed(3)} ms, Node ${node.milliseconds.toFixed(3)} ms (${ratio.toFixed(2)}x Node's)`);
    assert.ok(pageMs > 0 && Number.isFinite(ratio));
    assert.deepEqual(problems, []);
  });

  test('a photo given as an image is prepared as tinyml evaluate does: the reference output, class person', async () => {
    // The shared person photo is grey 96x96 with q = pixel - 128: as an RGB PNG it must reach the model as those bytes.
    const m = manifests().find((x) => x.id === MODEL)!;
    const kase = m.cases.find((c) => c.name === 'person_photo')!;
    const q = readBin(m, kase.inputs[0]);
    const png = new PNG({ width: 96, height: 96 });
    for (let i = 0; i < 96 * 96; i++) {
      const pixel = (q[i] + 128) & 0xff;
      png.data.set([pixel, pixel, pixel, 255], 4 * i);
    }
    const file = join(dir, 'person.png');
    writeFileSync(file, PNG.sync.write(png));
    await page.check('input[name="input-kind"][value="image"]');
    await page.setInputFiles('#image-file', file);
    await page.fill('#repeat', '3');
    await andWait('runs', () => page.click('#run'));
    assert.equal(await page.locator('#error').isHidden(), true, await page.locator('#error').textContent() ?? '');
    assert.equal(await value('.output[data-index="0"]', 'data-hex'), Buffer.from(readBin(m, kase.outputs[0])).toString('hex'));
    assert.equal(await value('.top-class', 'data-class'), '1', 'person');
    assert.deepEqual(problems, []);
  });

  test('the C project downloads as a zip that builds with gcc and gives the reference output', { timeout: 180_000 }, async () => {
    await page.selectOption('#target', 'host');
    await page.selectOption('#layout', 'make');
    const download = page.waitForEvent('download');
    await page.click('#download-zip');
    const zipPath = await (await download).path();
    const files = unzipSync(new Uint8Array(readFileSync(zipPath)));
    const project = join(dir, 'project');
    for (const [name, bytes] of Object.entries(files)) {
      const out = join(project, name);
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, bytes);
    }
    const root = join(project, MODEL);
    for (const f of ['Makefile', 'README.md', 'model.h', 'model.c', 'weights.c', 'harness/tm_runner.c']) assert.ok(files[`${MODEL}/${f}`], `${f} in the zip`);
    assert.match(new TextDecoder().decode(files[`${MODEL}/model.h`]), new RegExp(`MODEL_ARENA_BYTES ${await value('#peak-sram')}u\\b`));
    buildProject(root);
    const m = manifests().find((x) => x.id === MODEL)!;
    const kase = m.cases[0];
    const inPath = join(root, 'in.bin'), outPath = join(root, 'out.bin');
    writeFileSync(inPath, readBin(m, kase.inputs[0]));
    const r = spawnSync(join(root, 'model_runner'), [inPath, outPath], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(new Uint8Array(readFileSync(outPath)), readBin(m, kase.outputs[0]));
    assert.deepEqual(problems, []);
  });

  test('a model dropped on the page that does not fit says which resource misses and by how much', async () => {
    await andWait('analyses', () => page.selectOption('#board', 'STM32L432'));
    const b64 = readFileSync(modelPath('mlperf_ad_autoencoder_int8.tflite')).toString('base64');
    const drop = await page.evaluateHandle((data) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(data), (ch) => ch.charCodeAt(0))], 'mlperf_ad_autoencoder_int8.tflite'));
      return dt;
    }, b64);
    await andWait('analyses', () => page.dispatchEvent('#drop', 'drop', { dataTransfer: drop }));
    assert.match(await page.locator('#summary h2').textContent() ?? '', /^mlperf_ad_autoencoder_int8 on STM32L432/);
    const c = compileModel(loadModel(modelPath('mlperf_ad_autoencoder_int8.tflite')), compileOptionsFrom({ board: 'STM32L432' }));
    assert.equal(c.fit!.fits, false);
    assert.equal(await value('#fit', 'data-fits'), 'false');
    assert.equal(Number(await value('#fit', 'data-flash-short')), c.fit!.flash.shortBytes);
    assert.match(await page.locator('#fit').textContent() ?? '', new RegExp(`misses Flash by ${c.fit!.flash.shortBytes.toLocaleString('en-US')} B`));
  });

  test('a corrupt file and an unsupported op are refused with the library\'s message', async () => {
    await andWait('analyses', () => page.setInputFiles('#model-file', { name: 'broken.tflite', mimeType: 'application/octet-stream', buffer: Buffer.from('TFL3 this is not a flatbuffer at all') }));
    assert.match(await page.locator('#error').textContent() ?? '', /^ModelFormatError: invalid model: /);
    assert.equal(await page.locator('#results').isHidden(), true);
    await upload('tflm_person_detect_vela_customop', BOARD);
    assert.match(await page.locator('#error').textContent() ?? '', /^UnsupportedOpError: unsupported op CUSTOM/);
    assert.equal(await page.locator('#results').isHidden(), true);
    assert.deepEqual(problems, []);
  });
});
