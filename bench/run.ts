/**
 * `npm run bench [-- SECTION...] [--readme]`: prints the benchmark tables as Markdown; with --readme also
 * writes them into README.md, so the README's numbers always come from this script.
 * Sections: inference, plan, codegen, train (default: all; train takes ~20 minutes on 2 cores).
 */
import { benchManifests, writeReadmeSection } from './shared.js';
import { benchInference } from './inference.js';
import type { InferenceRow } from './inference.js';
import { benchPlans, planTable } from './plan.js';
import { benchCodegen, codegenTable, mcunetComparison } from './codegen.js';
import { benchScratch, benchTransfer, scratchTable, transferTable } from './train.js';
import { int as fmtInt } from '../src/report/format.js';

function ms(v: number | null): string {
  if (v === null) return '–';
  return v < 1 ? v.toFixed(3) : v.toFixed(2);
}

function inferenceTable(rows: InferenceRow[]): string {
  const lines = [
    '| model | default plan | tinyml-ts, default (ms) | tinyml-ts, `--objective speed` (ms) | LiteRT.js (ms) | TFLM ref. native (ms) | default / LiteRT.js | our arena, default / speed (bytes) | TFLM arena (bytes) | arena ratio |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of rows) {
    const vsLitert = r.litertMs ? `${(r.medianMs / r.litertMs).toFixed(1)}x slower` : '–';
    lines.push(`| ${r.model} | ${r.kind} | ${ms(r.medianMs)} | ${ms(r.speedMedianMs)} | ${ms(r.litertMs)} | ${ms(r.nativeMs)} | ${vsLitert} | ${fmtInt(r.arenaBytes)} / ${fmtInt(r.speedArenaBytes)} | ${fmtInt(r.tflmArenaBytes)} | ${(r.arenaBytes / r.tflmArenaBytes).toFixed(2)} |`);
  }
  lines.push('', 'LiteRT.js and TFLite Micro native figures: ../shared/README.md ("Measured here"), same kind of machine; ours: median of up to 200 runs after 3 warm-up runs, one thread.');
  return lines.join('\n');
}

const args = process.argv.slice(2);
const readme = args.includes('--readme');
const chosen = args.filter((a) => !a.startsWith('--'));
const wants = (s: string) => chosen.length === 0 || chosen.includes(s);
const stamp = `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)} (2-core machine, Node ${process.version}).`;

function section(name: string, title: string, body: string): void {
  console.log(`\n## ${title}\n\n${body}`);
  if (readme) writeReadmeSection(name, `${stamp}\n\n${body}`);
}

if (wants('inference')) {
  const rows: InferenceRow[] = [];
  for (const m of benchManifests()) {
    try {
      const r = benchInference(m);
      rows.push(r);
      console.error(`${m.id}: ${r.medianMs.toFixed(2)} ms (${r.runs} runs)`);
    } catch (e) {
      console.error(`${m.id}: FAILED — ${(e as Error).message}`);
    }
  }
  section('bench-inference', 'Inference (interpreter)', inferenceTable(rows));
}
if (wants('plan')) section('bench-plan', 'Memory plans', planTable(benchPlans()));
if (wants('codegen')) {
  const rows = benchCodegen(benchManifests(), (l) => console.error(l));
  section('bench-codegen', 'Generated C on Cortex-M4 (QEMU mps2-an386)', `${codegenTable(rows)}\n\n${mcunetComparison(rows)}`);
}
if (wants('train')) {
  section('bench-train-scratch', 'Training from scratch (Fashion-MNIST, int8)', scratchTable(benchScratch()));
  section('bench-train-transfer', 'On-device transfer learning (person_detect → Fashion-MNIST 96×96)', transferTable(benchTransfer()));
}
