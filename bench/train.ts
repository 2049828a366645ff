import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseTrainOptions } from '../src/cli/train.js';
import { runTraining } from '../src/train/workflow.js';
import type { TrainingOutcome } from '../src/train/workflow.js';
import type { DatasetSplit } from '../src/data/index.js';
import { loadDatasetFolder } from '../src/data/index.js';
import { compileModel } from '../src/compiler/compile_model.js';
import { exportTflite, layersOf, replaceClassifier } from '../src/train/index.js';
import { loadModel } from '../src/model.js';
import { SHARED, writeReadmeSection } from './shared.js';
import { int } from '../src/report/format.js';

/**
 * On-device training benchmarks (issue 5), run through the same code as `tinyml train`:
 *   scratch   fashion-cnn trained on all of Fashion-MNIST in float, quantised to int8, accuracy of the
 *             int8 model on the 10k test set by our interpreter;
 *   transfer  person_detect (int8, visual wake words) with a new 10-class head fine-tuned on a balanced
 *             Fashion-MNIST subset resized to 96×96: full, last layer, biases (+ classifier), last-k and
 *             the automatic sparse update under 256 KB, each with and without QAS.
 * `node dist/bench/train.js [scratch] [transfer] [--readme] [--out model.tflite] [--train N] [--test N] [--epochs N]`
 */
const FASHION = join(SHARED, 'datasets', 'fashion-mnist');
const PERSON_DETECT = join(SHARED, 'models', 'tflm_person_detect_int8.tflite');
const KB = 1024;

function requireData(): void {
  if (!existsSync(FASHION) || !existsSync(PERSON_DETECT)) {
    console.error(`../shared/ not found at ${SHARED}: the training benchmarks need Fashion-MNIST and person_detect (set TINYML_SHARED)`);
    process.exit(1);
  }
}

const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
const kb = (b: number) => `${(b / KB).toFixed(1)} KB`;

/** Progress on stderr, one line per epoch. */
const epochLog = (what: string) => ({
  update(p: { epoch: number; epochs: number; step: number; stepsPerEpoch: number; loss: number; accuracy: number; samplesPerSecond: number }) {
    if (p.step === p.stepsPerEpoch) console.error(`  ${what}: epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)} acc ${pct(p.accuracy)} ${p.samplesPerSecond.toFixed(0)} samples/s`);
  },
  stop() {},
});

export interface ScratchResult {
  outcome: TrainingOutcome;
  epochs: number;
  modelBytes: number;
  arenaBytes: number;
  command: string;
}

export function benchScratch(epochs = 3, out?: string): ScratchResult {
  const command = `tinyml train fashion-cnn --data ../shared/datasets/fashion-mnist --epochs ${epochs} --out ${out ?? 'fashion-cnn-int8.tflite'}`;
  const req = parseTrainOptions('fashion-cnn', { data: FASHION, epochs: String(epochs), update: 'full', out: out ?? join(process.cwd(), 'fashion-cnn-int8.tflite') });
  const outcome = runTraining(req, epochLog('fashion-cnn'));
  const bytes = exportTflite(outcome.model);
  if (out) writeFileSync(out, bytes);
  return { outcome, epochs, modelBytes: bytes.byteLength, arenaBytes: compileModel(outcome.model).plan.arenaBytes, command };
}

export function scratchTable(r: ScratchResult): string {
  const o = r.outcome;
  const params = o.result.update.params.reduce((s, p) => s + p.elements, 0);
  return [
    '| model | params | epochs | train time | float32 test acc. | int8 test acc. (10k, our interpreter) | int8 .tflite | int8 inference arena | float training step (batch 1) |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|',
    `| fashion-cnn (conv3x3 16, pool, conv3x3 32, pool, FC 10) | ${int(params)} | ${r.epochs} | ${(o.seconds / 60).toFixed(1)} min | ${pct(o.floatAccuracy ?? NaN)} | **${pct(o.after.accuracy)}** | ${int(r.modelBytes)} B | ${kb(r.arenaBytes)} | ${kb(o.result.memory.peakBytes)} |`,
    '',
    `Command: \`${r.command}\` (Adam 1e-3, cosine schedule, batch 32, seed 1; PTQ calibrated on 500 training images).`,
  ].join('\n');
}

export interface TransferRow {
  name: string;
  qas: boolean;
  lr: number;
  update: string;
  accuracy: number;
  peakBytes: number;
  trainedParams: number;
  fitsBudget: boolean;
  seconds: number;
}

export interface TransferSetup {
  trainSize: number;
  testSize: number;
  epochs: number;
  budgetBytes: number;
}

export const TRANSFER_SETUP: TransferSetup = { trainSize: 1000, testSize: 1000, epochs: 2, budgetBytes: 256 * KB };

export function benchTransfer(setup: TransferSetup = TRANSFER_SETUP): TransferRow[] {
  const graph = replaceClassifier(loadModel(PERSON_DETECT), 10, { seed: 1 });
  const layers = layersOf(graph).length;
  const shape = { height: 96, width: 96, channels: 1 as const };
  const dataset: DatasetSplit = loadDatasetFolder(FASHION, { shape, trainLimit: setup.trainSize, testLimit: setup.testSize });
  // Fixed configurations are measured whatever memory they need (the table shows whether they fit);
  // `last-k` (the deepest k that fits) and `auto` are chosen under the budget.
  // Learning rates (SGD, batch 8): 0.05 where backbone weights train; the fresh head alone learns too
  // slowly at that rate on person_detect's small pooled features (mean 0.05), so head-only runs use 0.5.
  const configs: [string, string, boolean, number][] = [
    ['full update', 'full', false, 0.05],
    ['last layer only', 'last', false, 0.5],
    ['biases + new classifier', `sparse:${layers}:-1@1`, false, 0.5],
    [`last-k (deepest under ${kb(setup.budgetBytes)})`, 'last-k', true, 0.05],
    [`sparse update, auto under ${kb(setup.budgetBytes)}`, 'auto', true, 0.05],
  ];
  const rows: TransferRow[] = [];
  for (const [name, update, budgeted, lr] of configs) {
    for (const qas of [true, false]) {
      const req = parseTrainOptions(PERSON_DETECT, {
        data: FASHION, update, qas: qas ? 'on' : 'off', epochs: String(setup.epochs), out: join(process.cwd(), 'unused.tflite'),
        budget: String(budgeted ? setup.budgetBytes : 1 << 30), lr: String(lr),
      });
      const o = runTraining({ ...req, dataset }, epochLog(`${update} qas ${qas ? 'on' : 'off'}`));
      const row: TransferRow = {
        name, qas, lr, update: o.result.update.description, accuracy: o.after.accuracy, peakBytes: o.result.memory.peakBytes,
        trainedParams: o.result.update.params.reduce((s, p) => s + p.elements, 0), fitsBudget: o.result.memory.peakBytes <= setup.budgetBytes, seconds: o.seconds,
      };
      console.error(`${name}, QAS ${qas ? 'on' : 'off'}: ${pct(row.accuracy)}, ${kb(row.peakBytes)}, ${row.seconds.toFixed(0)} s`);
      rows.push(row);
    }
  }
  return rows;
}

export function transferTable(rows: TransferRow[], setup: TransferSetup = TRANSFER_SETUP): string {
  const lines = [
    '| update | what is trained | QAS | lr | int8 test acc. | peak training memory (device, batch 1) | fits 256 KB | trained params | time |',
    '|---|---|:-:|--:|--:|--:|:-:|--:|--:|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.name} | \`${r.update}\` | ${r.qas ? 'on' : 'off'} | ${r.lr} | ${pct(r.accuracy)} | ${kb(r.peakBytes)} | ${r.fitsBudget ? 'yes' : 'no'} | ${int(r.trainedParams)} | ${r.seconds.toFixed(0)} s |`);
  }
  lines.push('', `person_detect (int8, trained on visual wake words) with a new, randomly initialised 10-class head; ${setup.trainSize} training images (balanced) and ${setup.testSize} test images (balanced, the first of each class) of Fashion-MNIST resized bilinearly to 96×96; ${setup.epochs} epochs, SGD, batch 8, cosine schedule, stochastic rounding of int8 updates; accuracy of the int8 model by our interpreter; chance is 10 %.`);
  return lines.join('\n');
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function main(): void {
  requireData();
  const sections = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !(all[i - 1] ?? '').startsWith('--'));
  const run = sections.length > 0 ? sections : ['scratch', 'transfer'];
  const readme = process.argv.includes('--readme');
  const date = new Date().toISOString().slice(0, 10);
  if (run.includes('scratch')) {
    const r = benchScratch(Number(flag('--epochs') ?? 3), flag('--out'));
    const table = scratchTable(r);
    console.log('\n## Training from scratch (Fashion-MNIST, int8)\n');
    console.log(table);
    if (readme) writeReadmeSection('bench-train-scratch', `Measured by \`npm run bench\` on ${date} (2-core machine, Node ${process.version}).\n\n${table}`);
  }
  if (run.includes('transfer')) {
    const setup = { ...TRANSFER_SETUP, trainSize: Number(flag('--train') ?? TRANSFER_SETUP.trainSize), testSize: Number(flag('--test') ?? TRANSFER_SETUP.testSize), epochs: Number(flag('--transfer-epochs') ?? TRANSFER_SETUP.epochs) };
    const rows = benchTransfer(setup);
    const table = transferTable(rows, setup);
    console.log('\n## On-device transfer learning (person_detect → Fashion-MNIST 96×96)\n');
    console.log(table);
    if (readme) writeReadmeSection('bench-train-transfer', `Measured by \`npm run bench\` on ${date} (2-core machine, Node ${process.version}).\n\n${table}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
