/**
 * The autotuner against the rule it replaces: under a Flash budget that lets only some layers store split
 * (SMLAD-pair) weights, which set does each pick, and what do the picks cost in measured Cortex-M4
 * instructions (the per-step QEMU counts of the int8 and the all-split builds, src/codegen/autotune.ts).
 */
import { findBoard } from '../src/boards/boards.js';
import { compileModel } from '../src/compiler/compile_model.js';
import { generateProject } from '../src/codegen/project.js';
import { TuneCache, measureStepCosts } from '../src/codegen/autotune.js';
import { loadModel } from '../src/model.js';
import { int } from '../src/report/format.js';
import type { BenchManifest } from './shared.js';
import { SHARED } from './shared.js';
import { join } from 'node:path';

export interface AutotuneRow {
  model: string;
  int8: { bytes: number; instructions: number };
  allSplit: { bytes: number; instructions: number };
  budgets: { budget: number; rule: { bytes: number; instructions: number }; tuned: { bytes: number; instructions: number } }[];
  seconds: number;
}

const FRACTIONS = [0.25, 0.5, 0.75];

export function benchAutotune(manifests: readonly BenchManifest[], log: (l: string) => void): AutotuneRow[] {
  const board = findBoard('mps2-an386');
  const rows: AutotuneRow[] = [];
  for (const m of manifests) {
    if (m.id.endsWith('_float')) continue;
    const t0 = Date.now();
    const c = compileModel(loadModel(join(SHARED, m.model)), { board });
    const gen = (flashBudget: number, tuned: boolean) => generateProject(c.graph, c.plan, { board, target: 'cortex-m4', flashBudget, stepCosts: tuned ? costs : undefined });
    const int8 = generateProject(c.graph, c.plan, { board, target: 'cortex-m4', flashBudget: 0 });
    const all = generateProject(c.graph, c.plan, { board, target: 'cortex-m4', flashBudget: Number.MAX_SAFE_INTEGER });
    if (all.weightBytes === int8.weightBytes) continue;
    const costs = measureStepCosts(c.graph, c.plan, 'cortex-m4', new TuneCache('cortex-m4')).costs;
    const instructions = (split: readonly number[]) => { const s = new Set(split); return costs.reduce((n, x, i) => n + (s.has(i) ? x.split : x.int8), 0); };
    const point = (p: ReturnType<typeof gen>) => ({ bytes: p.weightBytes, instructions: instructions(p.splitWeights.list) });
    const budgets = FRACTIONS.map((f) => {
      const budget = Math.round(int8.weightBytes + f * (all.weightBytes - int8.weightBytes));
      return { budget, rule: point(gen(budget, false)), tuned: point(gen(budget, true)) };
    });
    rows.push({ model: m.id, int8: point(int8), allSplit: point(all), budgets, seconds: (Date.now() - t0) / 1000 });
    log(`${m.id}: tuned in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  return rows;
}

export function autotuneTable(rows: readonly AutotuneRow[]): string {
  const pct = (a: number, b: number) => `${(((a - b) / b) * 100).toFixed(1)} %`;
  const lines = [
    '| model | int8 weights: Flash / M4 instructions | all split | budget (share of the split\'s extra bytes) | MACs-per-byte rule: Flash / instructions | autotuned: Flash / instructions | tuned vs rule | tuning time |',
    '|---|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of rows) {
    r.budgets.forEach((b, i) => {
      const first = i === 0;
      lines.push(`| ${first ? r.model : ''} | ${first ? `${int(r.int8.bytes)} / ${int(r.int8.instructions)}` : ''} | ${first ? `${int(r.allSplit.bytes)} / ${int(r.allSplit.instructions)}` : ''} | ${int(b.budget)} (${Math.round(FRACTIONS[i] * 100)} %) | ${int(b.rule.bytes)} / ${int(b.rule.instructions)} | ${int(b.tuned.bytes)} / ${int(b.tuned.instructions)} | ${pct(b.tuned.instructions, b.rule.instructions)} | ${first ? `${r.seconds.toFixed(0)} s` : ''} |`);
    });
  }
  lines.push('', '`tinyml compile MODEL --board mps2-an386 --flash-budget B` against the same with `--autotune` (the layer-wise plan `compile` picks for the board). The autotuner builds the model twice for the Cortex-M4 (every layer int8, every layer split), runs each once under QEMU with the runner counting every step (`-icount`), and takes the split set that saves the most measured instructions within the budget (a knapsack); the rule splits layers in order of MACs per extra byte. Both columns of instructions are the sums of the same measured step counts (a whole run differs from the sum by the profile hook, < 1 %, checked in test/codegen/autotune.test.ts). Budgets: the int8 build\'s constants plus a quarter, half and three quarters of what splitting everything adds. Tuning time: both builds and runs, once per model; the counts are cached in the project (tinyml-tune.json).');
  return lines.join('\n');
}
