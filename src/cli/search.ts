import cliProgress from 'cli-progress';
import { InputError } from '../errors.js';
import type { CostFidelity, Limits } from '../nas/resources.js';
import { boardLimits, budgetLimits } from '../nas/resources.js';
import { CostPool, defaultWorkers } from '../nas/pool.js';
import type { Arch, SpaceConfig } from '../nas/space.js';
import { findSpace } from '../nas/space.js';
import type { SpaceResult } from '../nas/space_opt.js';
import { optimiseSpace } from '../nas/space_opt.js';
import { cdfChart, spaceHtml, spaceSummary } from '../nas/space_report.js';
import { checkFileOutput, writeFileAtomic } from '../util/output.js';
import { loadDatasetFolder } from '../data/load.js';
import type { BudgetSplit, SearchConfig, SearchOutcome } from '../nas/search.js';
import { DEFAULT_BUDGET_SPLIT, STAGE_FIDELITY, runSearch } from '../nas/search.js';
import { searchHtmlReport, searchSummary } from '../nas/search_report.js';
import { writeTflite } from '../tflite/writer.js';
import { LatencyTable } from '../nas/latency.js';
import { QueueEvaluator, runQueueWorker } from '../nas/queue.js';
import { MEASURE_TOOLS_PACKAGES, missingTools } from '../codegen/toolchain.js';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { parseBoard } from './compile_flags.js';
import { parseBytes } from './train.js';

/** `tinyml search` options as commander hands them over. */
export interface SearchCliOptions {
  board?: string;
  sram?: string;
  flash?: string;
  maxMacs?: string;
  maxWeights?: string;
  spaceFidelity?: string;
  space?: string;
  spaceSamples?: string;
  widths?: string;
  resolutions?: string;
  workers?: string;
  seed?: string;
  spaceOnly?: boolean;
  data?: string;
  report?: string;
  json?: boolean;
  progress?: boolean;
  width?: string;
  resolution?: string;
  timeBudget?: string;
  out?: string;
  resume?: string;
  supernetSteps?: string;
  population?: string;
  generations?: string;
  validation?: string;
  finetuneSteps?: string;
  sandwich?: string;
  budgetSplit?: string;
  /** --no-augment: train on the images as they are (no shifts, no flips). */
  augment?: boolean;
  trainLimit?: string;
  testLimit?: string;
  batch?: string;
  maxLatency?: string;
  latencyTable?: string;
  queue?: string;
}

export interface SearchRequest {
  spaceOnly: boolean;
  /** The one-shot stage's settings (when not spaceOnly). */
  full?: Omit<SearchConfig, 'space' | 'limits' | 'spaceOptions' | 'latency'> & { data: string; out?: string; trainLimit?: number; testLimit?: number; latencyFile?: string };
  space: SpaceConfig;
  limits: Limits;
  samples: number;
  /** Stage 1's SRAM: 'screen' (layer-wise bound) or 'auto' (the compile pipeline's plans where the screen alone rejects). */
  spaceFidelity: Extract<CostFidelity, 'screen' | 'auto'>;
  widths: number[];
  resolutions: number[];
  workers: number;
  seed: number;
  report?: string;
}

function count(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new InputError(`${flag} takes a positive integer, got "${text}"`);
  return Number(text);
}

/** "15M", "2.5G", "400k", "12000000": a count (MACs, instructions). */
export function parseCount(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg])?\s*$/i.exec(text);
  if (!m) throw new InputError(`${flag} "${text}" is not a count (e.g. 15M, 400k, 12000000)`);
  const scale = { k: 1e3, m: 1e6, g: 1e9 }[(m[2] ?? '').toLowerCase() as 'k' | 'm' | 'g'] ?? 1;
  return Math.round(Number(m[1]) * scale);
}

/** A split as --budget-split writes it: "25,15,60". */
export function formatBudgetSplit(split: BudgetSplit = DEFAULT_BUDGET_SPLIT): string {
  return [split.supernet, split.evolution, 1 - split.supernet - split.evolution].map((x) => Math.round(100 * x)).join(',');
}

/** "25,15,60": percent of the time budget for supernet, evolution and fine-tuning (summing to 100). */
export function parseBudgetSplit(text: string | undefined): BudgetSplit | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',').map((p) => p.trim().replace(/%$/, ''));
  const v = parts.map(Number);
  if (parts.length !== 3 || parts.some((p) => p === '') || v.some((x) => !Number.isFinite(x) || x < 0) || Math.abs(v[0] + v[1] + v[2] - 100) > 1e-9 || v[2] === 0) {
    throw new InputError(`--budget-split takes three percentages for supernet, evolution and fine-tuning that sum to 100, fine-tuning above 0 (e.g. ${formatBudgetSplit()}), got "${text}"`);
  }
  return { supernet: v[0] / 100, evolution: v[1] / 100 };
}

function parseSandwich(text: string | undefined): 'fitting' | 'full' {
  if (text === undefined || text === 'fitting' || text === 'full') return text ?? 'fitting';
  throw new InputError(`--sandwich takes fitting or full, got "${text}"`);
}

/** A comma list that must be a subset of the space's choices. */
function subset(text: string | undefined, flag: string, choices: readonly number[]): number[] {
  if (text === undefined) return [...choices];
  const vals = text.split(',').map((s) => Number(s.trim()));
  const bad = vals.filter((v) => !choices.includes(v));
  if (vals.length === 0 || bad.length) throw new InputError(`${flag}: ${bad.join(', ') || text} not among the space's choices (${choices.join(', ')})`);
  return vals;
}

export function parseSearchOptions(o: SearchCliOptions): SearchRequest {
  const board = parseBoard(o.board);
  const maxMacs = o.maxMacs !== undefined ? parseCount(o.maxMacs, '--max-macs') : undefined;
  const maxInstructions = o.maxLatency !== undefined ? parseCount(o.maxLatency, '--max-latency') : undefined;
  if (maxInstructions !== undefined && o.spaceOnly) throw new InputError('--max-latency applies to the evolutionary search (stage 1 samples thousands of subnets by SRAM, Flash and MACs); drop --space-only');
  const maxWeightBytes = o.maxWeights !== undefined ? parseBytes(o.maxWeights, '--max-weights') : undefined;
  const extra = { maxMacs, maxInstructions, maxWeightBytes };
  let limits: Limits;
  if (board) {
    if (o.sram !== undefined || o.flash !== undefined) throw new InputError('give either --board or --sram and --flash, not both');
    limits = boardLimits(board, extra);
  } else {
    if (o.sram === undefined || o.flash === undefined) throw new InputError('the limits are needed: --board NAME, or --sram BYTES and --flash BYTES');
    limits = budgetLimits(parseBytes(o.sram, '--sram'), parseBytes(o.flash, '--flash'), extra);
  }
  const space = findSpace(o.space ?? 'mbv2-cifar');
  if (o.report !== undefined) checkFileOutput(o.report);
  if (o.out !== undefined) checkFileOutput(o.out);
  const seed = count(o.seed, '--seed', 1);
  let full: SearchRequest['full'];
  if (!o.spaceOnly) {
    if (!o.data) throw new InputError('--data DIR is required to train the supernet (or run --space-only)');
    if ((o.width === undefined) !== (o.resolution === undefined)) throw new InputError('give --width and --resolution together (they fix the space and skip stage 1)');
    const cell = o.width !== undefined ? { width: subset(o.width, '--width', space.widths)[0], resolution: subset(o.resolution, '--resolution', space.resolutions)[0] } : undefined;
    full = {
      data: o.data, out: o.out, cell, seed,
      supernetSteps: count(o.supernetSteps, '--supernet-steps', 600),
      batch: count(o.batch, '--batch', 32),
      evolution: { population: count(o.population, '--population', 16), generations: count(o.generations, '--generations', 8) },
      validation: count(o.validation, '--validation', 500),
      finetuneSteps: count(o.finetuneSteps, '--finetune-steps', 300),
      augment: o.augment !== false,
      sandwich: parseSandwich(o.sandwich),
      timeBudget: o.timeBudget !== undefined ? parseDuration(o.timeBudget) : undefined,
      ...(o.budgetSplit !== undefined ? { budgetSplit: parseBudgetSplit(o.budgetSplit) } : {}),
      checkpointDir: o.resume,
      latencyFile: o.latencyTable ?? (o.resume ? join(o.resume, 'latency-cortex-m4.json') : undefined),
      trainLimit: o.trainLimit !== undefined ? count(o.trainLimit, '--train-limit', 1) : undefined,
      testLimit: o.testLimit !== undefined ? count(o.testLimit, '--test-limit', 1) : undefined,
    };
  }
  const spaceFidelity = o.spaceFidelity ?? 'screen';
  if (spaceFidelity !== 'screen' && spaceFidelity !== 'auto') throw new InputError(`--space-fidelity takes screen or auto, got "${spaceFidelity}"`);
  return {
    spaceOnly: o.spaceOnly === true, full, spaceFidelity,
    space, limits,
    samples: count(o.spaceSamples, '--space-samples', 1000),
    widths: subset(o.widths, '--widths', space.widths),
    resolutions: subset(o.resolutions, '--resolutions', space.resolutions),
    workers: count(o.workers, '--workers', defaultWorkers()),
    seed,
    report: o.report,
  };
}

/** "2h", "90m", "45s", "1h30m", "3600": seconds. */
export function parseDuration(text: string): number {
  const t = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)\s*(h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== t.replace(/\s+/g, '')) throw new InputError(`--time-budget "${text}" is not a duration (e.g. 2h, 90m, 1h30m, 3600)`);
  return parts.reduce((s, p) => s + Number(p[1]) * { h: 3600, m: 60, s: 1 }[p[2] as 'h' | 'm' | 's'], 0);
}

export function searchHtml(r: SpaceResult): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>tinyml search: ${r.space} for ${r.limits.name}</title><style>
body{font-family:system-ui,sans-serif;margin:24px;max-width:1000px}pre{background:#f6f6f6;padding:8px;overflow:auto}
table.grid{border-collapse:collapse}table.grid td,table.grid th{border:1px solid #ccc;padding:4px 8px;text-align:center;font-size:12px}
td.best{outline:3px solid #d62728}</style></head><body><h1>TinyNAS search: ${r.space}</h1>${spaceHtml(r)}</body></html>\n`;
}

export async function searchCommand(o: SearchCliOptions): Promise<number> {
  const req = parseSearchOptions(o);
  if (!req.spaceOnly) return fullSearch(req, o);
  const showProgress = o.progress !== false && !o.json && process.stderr.isTTY;
  const cells = req.widths.length * req.resolutions.length;
  const bar = showProgress ? new cliProgress.SingleBar({ format: 'space {bar} {value}/{total} cells | {cell} | {eta_formatted} left', stream: process.stderr }, cliProgress.Presets.shades_classic) : null;
  bar?.start(cells, 0, { cell: '' });
  const queue = o.queue ? await QueueEvaluator.connect(o.queue) : null;
  const pool = new CostPool(queue ? 0 : req.workers);
  const evaluator = queue ?? pool;
  let result: SpaceResult;
  try {
    result = await optimiseSpace(req.space, req.limits, {
      samples: req.samples, seed: req.seed, widths: req.widths, resolutions: req.resolutions,
      evaluate: (space, archs, limits) => evaluator.costs(STAGE_FIDELITY.space, space, archs, limits),
      ...(req.spaceFidelity === 'auto' ? { rescue: (space: SpaceConfig, archs: Arch[], limits: Limits) => evaluator.costs(STAGE_FIDELITY['space-rescue'], space, archs, limits) } : {}),
      onCell: (done, _total, c) => bar?.update(done, { cell: `w${c.width}-r${c.resolution}: ${c.fitting}/${c.sampled} fit` }),
    });
  } finally {
    bar?.stop();
    await pool.close();
    await queue?.close();
  }
  if (req.report) writeFileAtomic(req.report, searchHtml(result));
  if (o.json) {
    const cellsOut = result.cells.map(({ macs, ...c }) => ({ ...c, medianMacs: macs.length ? macs[macs.length >> 1] : 0, maxMacs: macs.length ? macs[macs.length - 1] : 0 }));
    console.log(JSON.stringify({ space: result.space, limits: result.limits, samples: result.samples, seed: result.seed, best: result.best ? { width: result.best.width, resolution: result.best.resolution, meanMacs: result.best.meanMacs } : null, cells: cellsOut }, null, 2));
  } else {
    console.log([...spaceSummary(result), '', ...cdfChart(result, process.stdout.isTTY === true)].join('\n'));
    if (req.report) console.log(`\nreport: ${req.report}`);
  }
  return result.best ? 0 : 3;
}

/** Stages 1 and 2: the space, the supernet, evolution, the fine-tuned int8 winner. */
async function fullSearch(req: SearchRequest, o: SearchCliOptions): Promise<number> {
  const f = req.full!;
  const latency = req.limits.maxInstructions !== undefined || f.latencyFile !== undefined ? new LatencyTable(f.latencyFile ?? null) : undefined;
  if (req.limits.maxInstructions !== undefined) {
    const lacking = missingTools();
    if (lacking.length) throw new InputError(`--max-latency measures our kernels on a Cortex-M4 under QEMU and needs ${lacking.join(', ')} (Debian: ${MEASURE_TOOLS_PACKAGES})`);
  }
  if (f.latencyFile) mkdirSync(dirname(f.latencyFile), { recursive: true });
  const data = loadDatasetFolder(f.data, { trainLimit: f.trainLimit, testLimit: f.testLimit, seed: req.seed });
  if (data.train.classNames.length !== req.space.classes) {
    throw new InputError(`the data has ${data.train.classNames.length} classes; space ${req.space.name} is built for ${req.space.classes}`);
  }
  if (data.train.channels !== req.space.inputChannels) throw new InputError(`the data has ${data.train.channels}-channel images; space ${req.space.name} takes ${req.space.inputChannels}`);
  const tty = o.progress !== false && !o.json && process.stderr.isTTY;
  const bars = tty ? new cliProgress.MultiBar({ stream: process.stderr, format: '{phase} {bar} {value}/{total} | {info}' }, cliProgress.Presets.shades_classic) : null;
  // One bar per phase; a holder, as the callbacks replace it.
  const cur: { bar: cliProgress.SingleBar | null; name: string } = { bar: null, name: '' };
  const phase = (name: string, total: number) => {
    if (cur.name === name) return;
    cur.bar?.stop();
    cur.bar = bars ? bars.create(total, 0, { phase: name.padEnd(10), info: '' }) : null;
    cur.name = name;
  };
  const log = (line: string) => (bars ? bars.log(`${line}\n`) : o.json ? undefined : console.error(line));
  // Training runs here (data-parallel in local worker threads); with --queue, evaluation goes to the queue.
  const queue = o.queue ? await QueueEvaluator.connect(o.queue) : null;
  const pool = new CostPool(req.workers);
  const evaluator = queue ?? pool;
  let outcome: SearchOutcome;
  try {
    if (!f.cell) phase('space', req.widths.length * req.resolutions.length);
    outcome = await runSearch({
      ...f, space: req.space, limits: req.limits, latency, spaceRescue: req.spaceFidelity === 'auto',
      spaceOptions: { samples: req.samples, widths: req.widths, resolutions: req.resolutions },
    }, data, {
      // Stage 1 screens (and re-measures SRAM-only rejects with --space-fidelity auto); evolution's
      // candidates get the compile pipeline's plans where the screen rejects on SRAM alone.
      costs: (space, archs, limits, stage) => evaluator.costs(STAGE_FIDELITY[stage], space, archs, limits),
      scoring: { attach: (net, v) => evaluator.attachScoring(net, v), scores: (archs) => evaluator.scores(archs) },
      training: { attach: (net, d, range, opts) => pool.attachTraining(net, d, range, opts) },
      onCell: (done, _t, c) => cur.bar?.update(done, { info: `w${c.width}-r${c.resolution}: ${c.fitting}/${c.sampled} fit` }),
      onSupernetStep: (r, total) => {
        phase('supernet', total);
        cur.bar?.update(r.step + 1, { info: `largest loss ${r.largest.loss.toFixed(3)} acc ${(100 * r.largest.accuracy).toFixed(0)}%, smallest ${r.smallest.loss.toFixed(3)}, ${r.seconds.toFixed(1)} s/step` });
        if (!bars && !o.json && (r.step + 1) % 50 === 0) console.error(`supernet step ${r.step + 1}/${total}: largest loss ${r.largest.loss.toFixed(3)}, smallest ${r.smallest.loss.toFixed(3)}`);
      },
      onGeneration: (g, score, key, total) => {
        phase('evolution', total);
        cur.bar?.update(g, { info: `best ${(100 * score).toFixed(1)} % ${key.slice(0, 60)}` });
        if (!bars && !o.json) console.error(`generation ${g}/${total}: best validation ${(100 * score).toFixed(1)} %`);
      },
      onFinetune: (step, total, loss) => {
        phase('fine-tune', total);
        cur.bar?.update(step, { info: `loss ${loss.toFixed(3)}` });
      },
      log,
    });
  } finally {
    cur.bar?.stop();
    bars?.stop();
    await pool.close();
    await queue?.close();
  }
  if (f.out) writeFileAtomic(f.out, writeTflite(outcome.model));
  if (req.report) writeFileAtomic(req.report, searchHtmlReport(outcome, `tinyml search: ${req.space.name} for ${req.limits.name}`));
  if (o.json) {
    const w = outcome.winner;
    console.log(JSON.stringify({
      cell: outcome.cell, supernetSteps: outcome.supernetSteps, supernetSeconds: outcome.supernetSeconds, generations: outcome.evolution.generations,
      limits: { ...outcome.limits, board: outcome.limits.board?.name },
      scored: outcome.evolution.history.map((c) => ({ key: c.key, score: c.score, fits: c.cost.fits, macs: c.cost.macs, sramBytes: c.cost.sramBytes, flashBytes: c.cost.flashBytes, constantBytes: c.cost.constantBytes })),
      winner: { key: w.key, inheritedAccuracy: w.inheritedAccuracy, floatAccuracy: w.floatAccuracy, int8Accuracy: w.int8Accuracy.accuracy, cost: w.cost },
      out: f.out ?? null, resumed: outcome.resumed,
    }, null, 2));
  } else {
    console.log(searchSummary(outcome).join('\n'));
    if (f.out) console.log(`\nmodel: ${f.out} (int8, preprocessing recorded; check it with: tinyml evaluate ${f.out} --data ${f.data})`);
    if (req.report) console.log(`report: ${req.report}`);
  }
  return outcome.winner.cost.fits ? 0 : 3;
}

/** `tinyml search-worker --queue URL`: evaluates search jobs until stopped. */
export async function searchWorkerCommand(o: { queue?: string; concurrency?: string }): Promise<number> {
  if (!o.queue) throw new InputError('--queue redis://HOST:PORT is required');
  const concurrency = count(o.concurrency, '--concurrency', 1);
  await runQueueWorker(o.queue, { concurrency, log: (l) => console.log(l) });
  return 0;
}
