import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { buildWeb } from '../web/build.js';
import { serveStatic } from '../web/serve.js';
import { runModel } from '../src/cli/run.js';
import type { BenchManifest } from './shared.js';
import { SHARED } from './shared.js';

/**
 * The web page's time per inference beside Node's, for the same model, board, input and runs: the page
 * driven in headless Chromium (/usr/bin/chromium), `tinyml run --repeat N` in this process. Each side runs
 * twice and keeps the second round (WebAssembly tiered up on both).
 */
export const WEB_BOARD = 'STM32H743';
const RUNS = 200;

export interface WebRow {
  model: string;
  kind: string;
  pageMs: number;
  nodeMs: number;
}

async function pageTime(page: Page, modelFile: string, inputs: string[]): Promise<number> {
  const count = async (what: string) => Number((await page.locator('body').getAttribute(`data-${what}`)) ?? '0');
  const wait = async (what: string, act: () => Promise<unknown>) => {
    const before = await count(what);
    await act();
    await page.waitForFunction(([w, n]) => Number(document.body.getAttribute(`data-${w}`) ?? '0') > Number(n), [what, before], { timeout: 120_000 });
  };
  await wait('analyses', () => page.setInputFiles('#model-file', modelFile));
  if (!(await page.locator('#error').isHidden())) throw new Error(await page.locator('#error').textContent() ?? 'error');
  if (inputs.length) {
    await page.check('input[name="input-kind"][value="raw"]');
    await page.setInputFiles('#raw-files', inputs);
  } else {
    await page.check('input[name="input-kind"][value="random"]');
  }
  await page.fill('#repeat', String(RUNS));
  for (let round = 0; round < 2; round++) await wait('runs', () => page.click('#run'));
  if (!(await page.locator('#error').isHidden())) throw new Error(await page.locator('#error').textContent() ?? 'error');
  return Number(await page.locator('#time-ms').getAttribute('data-ms'));
}

export async function benchWebPage(manifests: readonly BenchManifest[], log: (line: string) => void): Promise<WebRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tinyml-bench-web-'));
  const site = await buildWeb(join(dir, 'site'));
  const server = await serveStatic(site.outDir);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  const rows: WebRow[] = [];
  try {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]');
    await page.selectOption('#board', WEB_BOARD);
    for (const m of manifests) {
      const modelFile = join(SHARED, m.model);
      const inputs = m.cases[0]?.inputs.map((f) => join(m.dir, f)) ?? [];
      try {
        const pageMs = await pageTime(page, modelFile, inputs);
        const opts = { input: inputs, output: [], repeat: String(RUNS), board: WEB_BOARD, backend: 'wasm', ...(inputs.length ? {} : { random: '1' }) };
        runModel(modelFile, opts);
        const node = runModel(modelFile, opts);
        rows.push({ model: m.id, kind: node.kind, pageMs, nodeMs: node.milliseconds });
        log(`${m.id}: page ${pageMs.toFixed(3)} ms, Node ${node.milliseconds.toFixed(3)} ms`);
      } catch (e) {
        log(`${m.id}: FAILED — ${(e as Error).message}`);
      }
    }
  } finally {
    await browser.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

function ms(v: number): string {
  return v < 1 ? v.toFixed(3) : v.toFixed(2);
}

export function webTable(rows: readonly WebRow[]): string {
  const lines = [
    `| model | plan on ${WEB_BOARD} | web page, Chromium (ms) | Node (ms) | page / Node |`,
    '|---|---|--:|--:|--:|',
    ...rows.map((r) => `| ${r.model} | ${r.kind} | ${ms(r.pageMs)} | ${ms(r.nodeMs)} | ${r.pageMs >= 0.01 && r.nodeMs >= 0.01 ? (r.pageMs / r.nodeMs).toFixed(2) : '–'} |`),
  ];
  lines.push('', `The page (web/, \`npm run build:web\`) in headless Chromium against \`tinyml run --board ${WEB_BOARD} --repeat ${RUNS}\` in Node, same input (the first vector case) and the same wasm kernels: median of ${RUNS} runs after 3 warm-up runs (the page: at least 0.5 s of them, for Chromium's optimising tier), the second of two rounds on each side. Under 0.01 ms the timers' resolution decides (no ratio).`);
  return lines.join('\n');
}
