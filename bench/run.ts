/**
 * `npm run bench [-- SECTION...] [--readme] [--model=ID,...]`: prints the benchmark tables as Markdown; with --readme also
 * writes them into README.md, so the README's numbers always come from this script.
 * Sections: inference, web (the page in headless Chromium against Node), coverage, plan, codegen, autotune (split weights by measured cost), training (throughput, wasm vs js), train, train-mcu (the training step in C on the M4 under QEMU), nas-space (default:
 * all; train takes ~50 minutes on 2 cores), and nas-search (only when named: a 40-minute search,
 * TINYML_NAS_BUDGET seconds).
 */
import type { BenchManifest } from './shared.js';
import { benchManifests, writeReadmeSection } from './shared.js';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InferenceRow } from './inference.js';
import { benchPlans, planTable } from './plan.js';
import { benchCodegen, codegenTable, mcunetComparison } from './codegen.js';
import { benchScratch, benchTransfer, scratchTable, transferTable } from './train.js';
import { benchTrainingSpeed, trainingSpeedTable } from './training.js';
import { int as fmtInt } from '../src/report/format.js';
import { coverageTable } from './coverage.js';
import { nasSearchTable, nasSpaceTable } from './nas.js';
import { benchWebPage, webTable } from './web.js';
import { benchTrainMcu, trainMcuTable } from './train_mcu.js';
import { autotuneTable, benchAutotune } from './autotune.js';

function ms(v: number | null): string {
  if (v === null) return '–';
  return v < 1 ? v.toFixed(3) : v.toFixed(2);
}

function ratio(a: number, b: number): string {
  return a <= b ? `**${(a / b).toFixed(2)}**` : (a / b).toFixed(2);
}

function inferenceTable(rows: InferenceRow[]): string {
  const lines = [
    '| model | default plan | wasm, default (ms) | wasm, `--objective speed` (ms) | js, default (ms) | LiteRT.js, this run (ms) | wasm default / LiteRT.js | wasm speed / LiteRT.js | LiteRT.js error (steps) | TFLM ref. native (ms) | our arena, default / speed (bytes) | TFLM arena (bytes) |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  const refusals: string[] = [];
  const rewritten: string[] = [];
  for (const r of rows) {
    if (r.litertRewritten) rewritten.push(r.model);
    const lt = 'ms' in r.litert ? r.litert.ms : null;
    if (!('ms' in r.litert)) refusals.push(`${r.model}: ${r.litert.refused}`);
    const fallback = r.jsNodes ? ` (${r.jsNodes} nodes on js)` : '';
    lines.push(`| ${r.model} | ${r.kind} | ${ms(r.wasm.ms)}${fallback} | ${ms(r.wasmSpeed.ms)} | ${ms(r.js.ms)} | ${lt === null ? 'refused' : `${ms(lt)}${r.litertRewritten ? ' †' : ''}`} | ${lt ? ratio(r.wasm.ms, lt) : '–'} | ${lt ? ratio(r.wasmSpeed.ms, lt) : '–'} | ${r.litertMaxSteps ?? '–'} | ${ms(r.nativeMs)} | ${fmtInt(r.arenaBytes)} / ${fmtInt(r.speedArenaBytes)} | ${fmtInt(r.tflmArenaBytes)} |`);
  }
  lines.push('', 'Each model in a Node process of its own (bench/inference_one.ts): median of 200 runs after at least 5 warm-up runs and 0.5 s, one thread, inputs = the first vector case; wasm default, wasm speed and LiteRT.js are timed in turns of 40 runs each (five rounds), so a change in the load of the shared machine falls on all three alike. Ours are byte-identical to TFLite Micro on every vector case on both backends (`npm test`); "LiteRT.js error" is the largest difference of its output from TFLite Micro\'s reference on that case, in quantisation steps (int outputs). LiteRT.js is `@litertjs/core` (XNNPACK, WebAssembly SIMD) given int8 tensors at run time (bench/litert.ts). TFLite Micro native figures: ../shared/README.md.');
  if (rewritten.length) lines.push('', `† LiteRT.js refuses the file of ${rewritten.join(', ')} as it is (${rows.filter((r) => r.litertRewritten).map((r) => r.litertRewritten).join('; ')}); it ran the model as our reader reads it and our writer writes it: the same graph, constants and quantisation, with what the reader normalises written in the schema's plain form (bench/litert.ts).`);
  if (refusals.length) lines.push('', `LiteRT.js refuses: ${refusals.join('; ')}.`);
  return lines.join('\n');
}

const args = process.argv.slice(2);
const readme = args.includes('--readme');
const chosen = args.filter((a) => !a.startsWith('--'));
const wants = (s: string) => chosen.length === 0 || chosen.includes(s);
/** --model=ID[,ID...]: only these models in the per-model sections (to time one model without the whole run). */
const onlyModels = args.find((a) => a.startsWith('--model='))?.slice('--model='.length).split(',').filter(Boolean);
if (onlyModels && readme) {
  console.error('--model and --readme together would write a partial table into the README: choose one');
  process.exit(1);
}
function manifests(): BenchManifest[] {
  const all = benchManifests();
  if (!onlyModels) return all;
  const unknown = onlyModels.filter((id) => !all.some((m) => m.id === id));
  if (unknown.length) {
    console.error(`--model: no vectors for ${unknown.join(', ')} (known: ${all.map((m) => m.id).join(', ')})`);
    process.exit(1);
  }
  return all.filter((m) => onlyModels.includes(m.id));
}
const stamp = `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)} (2-core machine, Node ${process.version}).`;

function section(name: string, title: string, body: string): void {
  console.log(`\n## ${title}\n\n${body}`);
  if (readme) writeReadmeSection(name, `${stamp}\n\n${body}`);
}

/** bench/inference_one.ts in a fresh Node process: one model's row, untouched by the models before it. */
function inferenceInOwnProcess(id: string): InferenceRow {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'inference_one.js');
  const r = spawnSync(process.execPath, [script, id], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error((r.stderr || `exit ${r.status}`).trim().split('\n').pop());
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as InferenceRow;
}

if (wants('inference')) {
  const rows: InferenceRow[] = [];
  for (const m of manifests()) {
    try {
      const r = inferenceInOwnProcess(m.id);
      rows.push(r);
      console.error(`${m.id}: wasm ${r.wasm.ms.toFixed(3)} ms, js ${r.js.ms.toFixed(3)} ms, LiteRT.js ${'ms' in r.litert ? r.litert.ms.toFixed(3) : r.litert.refused}`);
    } catch (e) {
      console.error(`${m.id}: FAILED — ${(e as Error).message}`);
    }
  }
  section('bench-inference', 'Inference (interpreter)', inferenceTable(rows));
}
if (wants('web')) section('bench-web', 'The web page against Node', webTable(await benchWebPage(manifests(), (l) => console.error(l))));
if (wants('coverage')) section('bench-coverage', 'Operator coverage', coverageTable());
if (wants('plan')) section('bench-plan', 'Memory plans', planTable(benchPlans()));
if (wants('codegen')) {
  const rows = benchCodegen(manifests(), (l) => console.error(l));
  section('bench-codegen', 'Generated C on Cortex-M4 (QEMU mps2-an386)', `${codegenTable(rows)}\n\n${mcunetComparison(rows)}`);
}
if (wants('autotune')) section('bench-autotune', 'The autotuner against the MACs-per-byte rule (Cortex-M4, QEMU)', autotuneTable(benchAutotune(manifests(), (l) => console.error(l))));
if (wants('training')) section('bench-training', 'Training throughput (fashion-cnn, float32)', trainingSpeedTable(benchTrainingSpeed()));
if (wants('train')) {
  section('bench-train-scratch', 'Training from scratch (Fashion-MNIST, int8)', scratchTable(benchScratch()));
  section('bench-train-transfer', 'On-device transfer learning (MLPerf VWW MobileNetV1 → CIFAR-10 96×96)', transferTable(benchTransfer()));
}
if (wants('train-mcu')) section('bench-train-mcu', 'Training on the Cortex-M4 (compiled training step, QEMU mps2-an386)', trainMcuTable(benchTrainMcu((l) => console.error(l))));
if (wants('nas-space')) section('bench-nas-space', 'TinyNAS stage 1: search-space optimisation', await nasSpaceTable((l) => console.error(l)));
if (chosen.includes('nas-search')) section('bench-nas-search', 'TinyNAS on CIFAR-10 against ResNet-8', await nasSearchTable((l) => console.error(l)));
