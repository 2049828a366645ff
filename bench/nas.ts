/**
 * TinyNAS benchmarks, through the same code as `tinyml search`:
 *   nas-space   stage 1 for several boards: the chosen (width, resolution) cell of mbv2-cifar and the
 *               MACs its fitting subnets reach (1,000 samples a cell, worker threads);
 *   nas-search  whole searches on CIFAR-10 (ResNet-8's limits with a hand-scaled MobileNetV2 beside, and a 64 KB board), each under a time budget (default 15 min, set
 *               TINYML_NAS_BUDGET in seconds), beside the MLPerf Tiny reference ResNet-8 evaluated by
 *               our interpreter on the same 10,000 test images. TINYML_NAS_SEARCHES=resnet8,hand,l432 picks the searches;
 *               the others keep their last rows from bench/results/nas-search.json (empty: rerun none).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { findBoard } from '../src/boards/boards.js';
import { modelMacs } from '../src/compiler/compile_model.js';
import { loadDatasetFolder } from '../src/data/load.js';
import { evaluateClassifier } from '../src/data/evaluate.js';
import { CostPool } from '../src/nas/pool.js';
import { boardLimits, budgetLimits, constantBytes } from '../src/nas/resources.js';
import { handScaledMobileNetV2, trainFromScratch } from '../src/nas/baseline.js';
import { fitDataset } from '../src/data/transform.js';
import type { DeployCheck } from './nas_deploy.js';
import { deployCheck } from './nas_deploy.js';
import type { BudgetSplit, SearchHooks, SearchOutcome } from '../src/nas/search.js';
import { DEFAULT_BUDGET_SPLIT, STAGE_FIDELITY, runSearch } from '../src/nas/search.js';
import { parseBudgetSplit } from '../src/cli/search.js';
import { MBV2_CIFAR } from '../src/nas/space.js';
import { optimiseSpace } from '../src/nas/space_opt.js';
import { int } from '../src/report/format.js';
import { readTflite } from '../src/tflite/reader.js';
import { REPO_ROOT, SHARED } from './shared.js';

const CIFAR = join(SHARED, 'datasets', 'cifar10');
const RESNET8 = join(SHARED, 'models', 'mlperf_ic_resnet8_int8.tflite');
/**
 * Each search's last table rows and notes, kept in the repository: a search takes an hour or more, so a run may
 * redo one search (TINYML_NAS_SEARCHES) and the table still shows the others' last results, each with its date.
 */
const RESULTS = join(REPO_ROOT, 'bench', 'results', 'nas-search.json');
/** The searches in table order. */
// 'hand' is the hand-scaled MobileNetV2 under ResNet-8's limits, trained for the resnet8 search's wall time (its
// record's, when that search is not rerun): a change to the search alone reruns 'resnet8' and keeps 'hand'.
const SEARCHES = ['resnet8', 'hand', 'l432'] as const;
type SearchName = typeof SEARCHES[number];
/** `minutes`: the resnet8 search's wall time, the hand-scaled baseline's training time when only `hand` reruns. */
interface SearchRecord { date: string; lines: string[]; notes: string[]; minutes?: number }
type Records = Partial<Record<SearchName, SearchRecord>>;

function readRecords(): Records {
  if (!existsSync(RESULTS)) return {};
  try {
    return JSON.parse(readFileSync(RESULTS, 'utf8')) as Records;
  } catch (e) {
    throw new Error(`${RESULTS} is not valid JSON (${(e as Error).message}): fix or delete it, then rerun`);
  }
}

function writeRecords(records: Records): void {
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(records, null, 2)}\n`);
}
const mmacs = (m: number) => `${(m / 1e6).toFixed(1)} M`;
const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
const pc = (x: number) => Math.round(100 * x);

export async function nasSpaceTable(log: (l: string) => void): Promise<string> {
  const rows = ['| board | SRAM / Flash | chosen cell | samples that fit | mean MACs (fitting) | median | max | time |', '|---|--:|---|--:|--:|--:|--:|--:|'];
  const pool = new CostPool();
  try {
    for (const name of ['stm32l432', 'nrf52832', 'stm32f412', 'stm32f746', 'stm32h743']) {
      const board = findBoard(name);
      const t0 = performance.now();
      const r = await optimiseSpace(MBV2_CIFAR, boardLimits(board), { samples: 1000, evaluate: (s, a, l) => pool.costs('screen', s, a, l) });
      const secs = (performance.now() - t0) / 1000;
      const b = r.best;
      log(`${board.name}: ${b ? `w${b.width}-r${b.resolution}` : 'none'} in ${secs.toFixed(0)} s`);
      rows.push(b
        ? `| ${board.name} | ${int(board.sramBytes / 1024)} KB / ${int(board.flashBytes / 1024)} KB | w${b.width}-r${b.resolution} | ${(100 * b.fitting / b.sampled).toFixed(0)} % | ${mmacs(b.meanMacs)} | ${mmacs(b.macs[b.macs.length >> 1])} | ${mmacs(b.macs[b.macs.length - 1])} | ${secs.toFixed(0)} s |`
        : `| ${board.name} | ${int(board.sramBytes / 1024)} KB / ${int(board.flashBytes / 1024)} KB | none fits | – | – | – | – | ${secs.toFixed(0)} s |`);
    }
  } finally {
    await pool.close();
  }
  return [...rows, '', `\`tinyml search --board NAME --space-only\` on ${MBV2_CIFAR.name} (${MBV2_CIFAR.widths.length} widths x ${MBV2_CIFAR.resolutions.length} resolutions, 1,000 subnets a cell, seed 1, one worker per core). SRAM: arena by our layer-wise plan (greedy packing) + the 8 KB stack; Flash: int8 weights + biases + 1.7 KB code a node.`].join('\n');
}

interface Row {
  model: string;
  limits: string;
  accuracy: number;
  macs: number;
  weights: number;
  deploy: DeployCheck | string | null;
  minutes: number | null;
}

/** The deployment check, or why it failed (a row still reports the rest). */
function tryDeploy(model: Parameters<typeof deployCheck>[0], limits: Parameters<typeof deployCheck>[1], test: Parameters<typeof deployCheck>[2]): DeployCheck | string {
  try {
    return deployCheck(model, limits, test);
  } catch (e) {
    return `deploy check failed: ${(e as Error).message.split('\n')[0]}`;
  }
}

function rowLine(r: Row): string {
  if (typeof r.deploy === 'string') return `| ${r.model} | ${r.limits} | ${pct(r.accuracy)} | ${mmacs(r.macs)} | ${int(r.weights)} B | ${r.deploy} | – | – | – | – | ${r.minutes === null ? '–' : `${r.minutes.toFixed(0)} min`} |`;
  const d = r.deploy;
  return `| ${r.model} | ${r.limits} | ${pct(r.accuracy)} | ${mmacs(r.macs)} | ${int(r.weights)} B | ${d ? `${int(d.arenaBytes)} B (${d.plan})` : '–'} | ${d ? int(d.instructions) : '–'} | ${d ? `${int(d.flashBytes)} / ${int(d.sramBytes)} B` : '–'} | ${d ? (d.fits ? 'yes' : '**no**') : '–'} | ${d ? (d.identical ? `yes (${d.images} images)` : '**no**') : '–'} | ${r.minutes === null ? '–' : `${r.minutes.toFixed(0)} min`} |`;
}

function searchHooks(pool: CostPool, log: (l: string) => void, tag: string): SearchHooks {
  return {
    costs: (s, a, l, stage) => pool.costs(STAGE_FIDELITY[stage], s, a, l),
    scoring: { attach: (net, v) => pool.attachScoring(net, v), scores: (archs) => pool.scores(archs) },
    training: { attach: (net, d, range, opts) => pool.attachTraining(net, d, range, opts) },
    onSupernetStep: (r) => { if ((r.step + 1) % 50 === 0) log(`${tag}: supernet step ${r.step + 1}: largest ${r.largest.loss.toFixed(3)}, smallest ${r.smallest.loss.toFixed(3)}, ${r.seconds.toFixed(1)} s/step`); },
    onGeneration: (g, sc, k) => log(`${tag}: generation ${g}: ${pct(sc)} ${k}`),
    onFinetune: (step, _total, loss) => { if (step % 200 === 0) log(`${tag}: fine-tune step ${step}: loss ${loss.toFixed(3)}`); },
    log: (l) => log(`${tag}: ${l}`),
  };
}

function describe(o: SearchOutcome, budget: number, split: BudgetSplit, validation: number, trainCount: number): string {
  const w = o.winner;
  return `a ${Math.round(budget / 60)}-minute budget (${splitText(split)} of what stage 1 leaves): stage 1 chose w${o.cell.width}-r${o.cell.resolution} in ${(o.spaceSeconds / 60).toFixed(0)} min (the split shares out the rest); the supernet trained ${int(o.supernetSteps)} sandwich steps of 32 images (${(o.supernetSteps * 32 / (trainCount - validation)).toFixed(2)} epochs; ${o.teacher ? `subnets within the limits, teacher \`${o.teacher.replace(/\|/g, '\\|')}\`` : 'the whole cell, its largest network the teacher'}) in ${(o.supernetSeconds / 60).toFixed(0)} min; evolution ran ${o.evolution.generations} generations (${o.evolution.history.length} subnets); the winner \`${w.key}\` scored ${pct(w.inheritedAccuracy)} on validation with inherited weights and ${pct(w.floatAccuracy)} (float) after ${int(o.finetuneSteps)} fine-tuning steps at the search's learning rate (${(o.finetuneSteps * 32 / (trainCount - validation)).toFixed(2)} epochs)`;
}

function splitText(split: BudgetSplit): string {
  return `${pc(split.supernet)} % supernet, ${pc(split.evolution)} % evolution, ${pc(1 - split.supernet - split.evolution)} % fine-tuning`;
}

/**
 * Whole searches on CIFAR-10, each within TINYML_NAS_BUDGET seconds (default 15 min): under ResNet-8's own
 * limits beside ResNet-8 and a hand-scaled MobileNetV2 trained with the same recipe for the same time, and
 * for a 64 KB board; every model then built for the Cortex-M4 and run under QEMU. The searches not named in
 * TINYML_NAS_SEARCHES keep their last results (bench/results/nas-search.json), dated.
 */
export async function nasSearchTable(log: (l: string) => void): Promise<string> {
  if (!existsSync(CIFAR) || !existsSync(RESNET8)) throw new Error(`../shared/ not found at ${SHARED}: the search benchmark needs CIFAR-10 and ResNet-8`);
  const budget = Number(process.env.TINYML_NAS_BUDGET ?? 900);
  // TINYML_NAS_SPLIT=25,15,60: the budget's split (as --budget-split); default the search's own.
  const split = parseBudgetSplit(process.env.TINYML_NAS_SPLIT) ?? DEFAULT_BUDGET_SPLIT;
  // TINYML_NAS_SEARCHES=resnet8,hand,l432 (default all): the searches to run, beside the ResNet-8 reference; empty: none,
  // the table from the saved results.
  const searches = (process.env.TINYML_NAS_SEARCHES ?? SEARCHES.join(',')).split(',').map((x) => x.trim()).filter(Boolean);
  const unknown = searches.filter((x) => !(SEARCHES as readonly string[]).includes(x));
  if (unknown.length) {
    // A typo in the variable is the user's, not a bug: the message alone, as bench/run.ts does for --model.
    console.error(`TINYML_NAS_SEARCHES: no search named ${unknown.join(', ')} (known: ${SEARCHES.join(', ')})`);
    process.exit(1);
  }
  const records = readRecords();
  const date = new Date().toISOString().slice(0, 10);
  const validation = 1000;
  const data = loadDatasetFolder(CIFAR);
  const resnet = readTflite(readFileSync(RESNET8));
  const rWeights = constantBytes(resnet);
  // ResNet-8's own limits, as the issue states them: its peak SRAM by our layer-wise plan, its int8 weights, its MACs.
  const r8Limits = budgetLimits(49_152, 1024 * 1024, { maxMacs: 12_500_000, maxWeightBytes: rWeights });
  r8Limits.name = `ResNet-8's limits (arena <= 49,152 B, weights <= ${int(rWeights)} B, <= 12.5 M MACs)`;
  const small = boardLimits(findBoard('stm32l432'));
  const testAt = (res: number) => fitDataset(data.test, { height: res, width: res, channels: 3 });
  const pool = new CostPool();
  const reference: string[] = [];
  try {
    const rAcc = evaluateClassifier(resnet, data.test).accuracy;
    const line = (r: Row) => { const l = rowLine(r); log(l); return l; };
    reference.push(line({ model: 'MLPerf Tiny ResNet-8 (reference)', limits: 'its own', accuracy: rAcc, macs: modelMacs(resnet), weights: rWeights, deploy: tryDeploy(resnet, r8Limits, data.test), minutes: null }));
    // Each finished search is saved at once, so a later search's failure keeps it.
    const save = (name: SearchName, lines: string[], notes: string[], minutes?: number) => { records[name] = { date, lines, notes, ...(minutes === undefined ? {} : { minutes }) }; writeRecords(records); };

    const base = { space: MBV2_CIFAR, supernetSteps: 100_000, batch: 32, evolution: { population: 16, generations: 100 }, validation, finetuneSteps: 100_000, timeBudget: budget, budgetSplit: split, seed: 1, spaceOptions: { samples: 300 }, spaceRescue: true };
    let t0 = performance.now();
    if (searches.includes('resnet8')) {
      const s1 = await runSearch({ ...base, limits: r8Limits }, data, searchHooks(pool, log, 'resnet8-limits'));
      const s1Minutes = (performance.now() - t0) / 60000;
      const lines = [line({ model: `TinyNAS winner \`${s1.winner.key.replace(/\|/g, '\\|')}\``, limits: "ResNet-8's", accuracy: s1.winner.int8Accuracy.accuracy, macs: s1.winner.cost.macs, weights: s1.winner.cost.constantBytes, deploy: tryDeploy(s1.model, r8Limits, testAt(s1.cell.resolution)), minutes: s1Minutes })];
      save('resnet8', lines, [`Under ResNet-8's limits (run of ${date}), ${describe(s1, budget, split, validation, data.train.count)}.`], s1Minutes);
    }

    if (searches.includes('hand')) {
      // The hand-scaled MobileNetV2 gets the whole search's wall time, trained from scratch with the fine-tuning recipe at the search's learning rate.
      const hand = handScaledMobileNetV2(MBV2_CIFAR, r8Limits);
      const minutes = records.resnet8?.minutes ?? budget / 60;
      t0 = performance.now();
      const b = await trainFromScratch(hand.space, hand.arch, data, { steps: 1_000_000, lr: 2e-3, batch: 32, seed: 1, seconds: minutes * 60, validation }, r8Limits, { training: { attach: (net, d, range, opts) => pool.attachTraining(net, d, range, opts) } });
      const bMinutes = (performance.now() - t0) / 60000;
      const lines = [line({ model: `MobileNetV2 scaled by hand (w${hand.arch.width}-r${hand.arch.resolution}, k3, expand 6, full depth)`, limits: "ResNet-8's", accuracy: b.int8Accuracy.accuracy, macs: b.cost.macs, weights: b.cost.constantBytes, deploy: tryDeploy(b.int8, r8Limits, testAt(hand.arch.resolution)), minutes: bMinutes })];
      const notes = [`The hand-scaled MobileNetV2 is the space's backbone with kernel 3, expand ratio 6 and every stage at full depth, at the width (0.1 to 1.0 in steps of 0.05) and resolution with the most MACs within the same limits; it trained ${int(b.steps)} steps of 32 images (${(b.steps * 32 / (data.train.count - validation)).toFixed(2)} epochs) from scratch with the search's trainer (Adam 2e-3, cosine over the time, data-parallel on 2 workers) for ${minutes.toFixed(0)} minutes, the wall time of the search under the same limits (its run of ${records.resnet8?.date ?? 'this budget'}), then the same PTQ (run of ${date}).`];
      save('hand', lines, notes);
    }

    if (searches.includes('l432')) {
      t0 = performance.now();
      // TINYML_NAS_L432_CELL=WxR fixes the cell (a stage-1 result from an earlier run), so the budget is all one-shot search.
      const fixed = /^([\d.]+)x(\d+)$/.exec(process.env.TINYML_NAS_L432_CELL ?? '');
      const cell = fixed ? { width: Number(fixed[1]), resolution: Number(fixed[2]) } : undefined;
      const s2 = await runSearch({ ...base, limits: small, ...(cell ? { cell } : {}) }, data, searchHooks(pool, log, 'stm32l432'));
      const lines = [line({ model: `TinyNAS winner \`${s2.winner.key.replace(/\|/g, '\\|')}\``, limits: 'STM32L432 (64 KB SRAM, 256 KB Flash)', accuracy: s2.winner.int8Accuracy.accuracy, macs: s2.winner.cost.macs, weights: s2.winner.cost.constantBytes, deploy: tryDeploy(s2.model, small, testAt(s2.cell.resolution)), minutes: (performance.now() - t0) / 60000 })];
      save('l432', lines, [`For the STM32L432 (64 KB SRAM with an 8 KB stack, 256 KB Flash; run of ${date}), ${describe(s2, budget, split, validation, data.train.count)}.`]);
    }
  } finally {
    await pool.close();
  }
  const kept = SEARCHES.filter((n) => !searches.includes(n) && records[n]);
  if (kept.length) log(`kept from ${RESULTS}: ${kept.map((n) => `${n} (${records[n]!.date})`).join(', ')}`);
  const shown = SEARCHES.flatMap((n) => records[n] ? [records[n]!] : []);
  return [
    '| model | limits | test accuracy (int8, 10,000 images) | MACs | int8 weights | arena (plan `compile` picks) | M4 instructions | Flash / SRAM (arm-none-eabi-size) | fits | QEMU = interpreter | time (2 cores) |',
    '|---|---|--:|--:|--:|--:|--:|--:|:-:|:-:|--:|',
    ...reference,
    ...shown.flatMap((r) => r.lines),
    '',
    ...shown.flatMap((r) => r.notes).map((n) => `${n}\n`),
    `Each search: \`tinyml search\` with the \`--time-budget\` and \`--budget-split\` given above (learning rates annealed over each phase's time) on 49,000 training images (1,000 held out for validation), 300 samples a cell in stage 1, population 16; training is float32 on the WebAssembly kernels, data-parallel on the 2 cores. Budgets this size buy a few epochs at most: the accuracies are what 2 cores reach in minutes, not converged networks. M4 instructions: the generated C under QEMU mps2-an386 (-icount), outputs on the first test images equal to our interpreter's byte for byte.`,
  ].join('\n');
}
