import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseTrainOptions } from '../src/cli/train.js';
import { runTraining } from '../src/train/workflow.js';
import type { TrainingOutcome } from '../src/train/workflow.js';
import type { DatasetSplit } from '../src/data/index.js';
import { balancedSubset, fitDataset, holdOut, loadCifarFolder, trainingView } from '../src/data/index.js';
import { compileModel } from '../src/compiler/compile_model.js';
import type { RateTrial, ValidationSplit } from '../src/train/index.js';
import { chooseLearningRate, chooseUpdate, deepestLastKThatFits, exportTflite, formatUpdate, layersOf, replaceClassifier } from '../src/train/index.js';
import { loadModel } from '../src/model.js';
import { SHARED, writeReadmeSection } from './shared.js';
import { int } from '../src/report/format.js';

/**
 * On-device training benchmarks (issues 5 and 12), run through the same code as `tinyml train`:
 *   scratch   fashion-cnn trained on all of Fashion-MNIST in float, quantised to int8, accuracy of the
 *             int8 model on the 10k test set by our interpreter;
 *   transfer  MLPerf Tiny's VWW MobileNetV1 with a new 10-class head fine-tuned on CIFAR-10 at 96×96 RGB:
 *             full, last layer, biases (+ classifier), last-k and the automatic sparse update under 256 KB,
 *             each int8 with QAS, int8 without QAS, and fp32 on the float twin; every row's learning rate
 *             chosen on a validation split held out of the training batches, then tested on the test batch.
 * `node dist/bench/train.js [scratch] [transfer] [--readme] [--out model.tflite] [--epochs N]
 *   [--train N] [--val N] [--sweep N] [--transfer-epochs N] [--sweep-epochs N] [--test N] [--lrs a,b,c]
 *   [--lrs-noqas a,b,c] [--variants qas,no-qas,fp32] [--rows-log FILE.jsonl] [--table-from A.jsonl,B.jsonl]` (`--epochs` sets
 *   scratch's and, unless `--transfer-epochs` is given, the transfer's)
 */
const FASHION = join(SHARED, 'datasets', 'fashion-mnist');
const CIFAR10 = join(SHARED, 'datasets', 'cifar10');
const VWW_INT8 = join(SHARED, 'models', 'mlperf_vww_mobilenetv1_int8.tflite');
const VWW_FLOAT = join(SHARED, 'models', 'mlperf_vww_mobilenetv1_float.tflite');
/** The VWW model's input: pixels / 255 (its int8 input is scale 1/255, zero point -128). */
const VWW_RANGE: [number, number] = [0, 1];
const KB = 1024;

function requireData(): void {
  const missing = [FASHION, CIFAR10, VWW_INT8, VWW_FLOAT].filter((p) => !existsSync(p));
  if (missing.length) {
    console.error(`../shared/ not found at ${SHARED} or incomplete (missing ${missing.join(', ')}): the training benchmarks need Fashion-MNIST, CIFAR-10 and the MLPerf VWW models (set TINYML_SHARED)`);
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

/** One variant of an update scheme: int8 with or without QAS on the int8 model, or float32 on its float twin. */
export type TransferVariant = 'qas' | 'no-qas' | 'fp32';

export interface TransferRow {
  name: string;
  variant: TransferVariant;
  update: string;
  /** The rate chosen on the validation split, and every rate tried (null: diverged). */
  lr: number;
  trials: RateTrial[];
  /** Test accuracy: of the int8 model for int8 rows, of the float model for fp32 rows. */
  accuracy: number;
  /** fp32 rows: the same model after post-training quantisation to int8. */
  ptqAccuracy: number | null;
  peakBytes: number;
  trainedParams: number;
  fitsBudget: boolean;
  /** The final run (training and test evaluation), and the sweep before it. */
  seconds: number;
  sweepSeconds: number;
}

export interface TransferSetup {
  /** Final training images (balanced) from CIFAR-10's training batches. */
  trainSize: number;
  /** Validation images (balanced), held out of the same batches: disjoint from every training image. */
  valSize: number;
  /** Training images of each sweep run: the first of the final training set, per class. */
  sweepSize: number;
  epochs: number;
  sweepEpochs: number;
  /** SGD rates tried for int8 with QAS and for fp32 (QAS puts int8 gradients on the float scale). */
  lrs: number[];
  /** Rates tried without QAS: int8 gradients then sit decades off the float scale. */
  lrsNoQas: number[];
  /** Test images (balanced subset); 10,000 is all of CIFAR-10's test batch. */
  testSize: number;
  budgetBytes: number;
  /** Which variants to run (separate processes may run one each and share a rows log). */
  variants: TransferVariant[];
}

export const TRANSFER_SETUP: TransferSetup = {
  trainSize: 3000, valSize: 300, sweepSize: 800, epochs: 1, sweepEpochs: 1,
  lrs: [0.03, 0.15, 0.75], lrsNoQas: [300, 3000, 30000], testSize: 10000, budgetBytes: 256 * KB, variants: ['qas', 'no-qas', 'fp32'],
};

export const TRANSFER_VARIANTS: readonly TransferVariant[] = ['qas', 'no-qas', 'fp32'];

const VARIANT_LABEL: Record<TransferVariant, string> = { qas: 'int8, QAS', 'no-qas': 'int8, no QAS', fp32: 'fp32 (float model)' };

interface TransferData {
  sweep: ValidationSplit;
  final: DatasetSplit;
}

/** CIFAR-10 at the model's input size: training, validation and sweep subsets of the training batches; the test batch. */
function transferData(setup: TransferSetup, shape: { height: number; width: number; channels: 1 | 3 }): TransferData {
  const cifar = loadCifarFolder(CIFAR10);
  const classes = cifar.train.classNames.length;
  const pool = balancedSubset(cifar.train, Math.ceil((setup.trainSize + setup.valSize) / classes), setup.trainSize + setup.valSize);
  const held = holdOut(pool, setup.valSize / pool.count, 1);
  const train = fitDataset(held.train, shape);
  const validation = fitDataset(held.test, shape);
  const sweepTrain = setup.sweepSize < train.count ? balancedSubset(train, Math.ceil(setup.sweepSize / classes), setup.sweepSize) : train;
  const test = fitDataset(setup.testSize < cifar.test.count ? balancedSubset(cifar.test, Math.ceil(setup.testSize / classes), setup.testSize) : cifar.test, shape);
  return { sweep: { train: sweepTrain, validation }, final: { train, test } };
}

const lrList = (rates: number[]) => rates.join(', ');

export function benchTransfer(setup: TransferSetup = TRANSFER_SETUP, log: (row: TransferRow) => void = () => {}): TransferRow[] {
  const int8 = replaceClassifier(loadModel(VWW_INT8), 10, { seed: 1 });
  const layers = layersOf(int8).length;
  const shape = { height: 96, width: 96, channels: 3 as const };
  const data = transferData(setup, shape);
  console.error(`data: ${data.final.train.count} training, ${data.sweep.validation.count} validation, ${data.sweep.train.count} sweep, ${data.final.test.count} test images`);
  // The two budgeted schemes are resolved once, on the int8 model with QAS, and then trained as they are in
  // every variant: a row compares training methods on one set of trained parameters.
  const lastK = deepestLastKThatFits(int8, setup.budgetBytes);
  const t0 = performance.now();
  const auto = chooseUpdate(int8, trainingView(data.final.train, { range: VWW_RANGE }), { budgetBytes: setup.budgetBytes, qas: true, optimizer: { kind: 'sgd', lr: setup.lrs[0] }, seed: 1 });
  console.error(`auto under ${kb(setup.budgetBytes)}: ${formatUpdate(auto.spec)} (${kb(auto.peakBytes)}, ${auto.evaluated} plans, ${((performance.now() - t0) / 1000).toFixed(0)} s); last-k: ${formatUpdate(lastK)}`);
  const configs: [string, string][] = [
    ['full update', 'full'],
    ['last layer only', 'last-k:1'],
    ['biases + new classifier', `sparse:${layers}:-1@1`],
    [`last-k (deepest under ${kb(setup.budgetBytes)})`, formatUpdate(lastK)],
    [`sparse update, auto under ${kb(setup.budgetBytes)}`, formatUpdate(auto.spec)],
  ];
  const rows: TransferRow[] = [];
  for (const [name, update] of configs) {
    for (const variant of TRANSFER_VARIANTS.filter((v) => setup.variants.includes(v))) {
      const model = variant === 'fp32' ? VWW_FLOAT : VWW_INT8;
      // SGD, batch 8 in every variant: the float rows train exactly the int8 rows' scheme, in float32.
      const base = (epochs: number) => ({
        ...parseTrainOptions(model, { data: CIFAR10, update, qas: variant === 'no-qas' ? 'off' : 'on', epochs: String(epochs), budget: String(1 << 30), batch: '8', optimizer: 'sgd' }),
      });
      const what = `${name}, ${VARIANT_LABEL[variant]}`;
      const s0 = performance.now();
      const choice = chooseLearningRate(base(setup.sweepEpochs), variant === 'no-qas' ? setup.lrsNoQas : setup.lrs, data.sweep);
      const sweepSeconds = (performance.now() - s0) / 1000;
      console.error(`${what}: validation ${choice.trials.map((t) => `lr ${t.lr} ${t.accuracy === null ? 'diverged' : pct(t.accuracy)}`).join(', ')} (${sweepSeconds.toFixed(0)} s)`);
      const o = runTraining({ ...base(setup.epochs), lr: choice.lr, dataset: data.final }, epochLog(what));
      const row: TransferRow = {
        name, variant, update: o.result.update.description, lr: choice.lr, trials: choice.trials,
        accuracy: o.floatAccuracy ?? o.after.accuracy, ptqAccuracy: o.floatAccuracy === null ? null : o.after.accuracy,
        peakBytes: o.result.memory.peakBytes, trainedParams: o.result.update.params.reduce((n, p) => n + p.elements, 0),
        fitsBudget: o.result.memory.peakBytes <= setup.budgetBytes, seconds: o.seconds, sweepSeconds,
      };
      console.error(`${what}: lr ${row.lr}, test ${pct(row.accuracy)}${row.ptqAccuracy === null ? '' : ` (int8 after PTQ ${pct(row.ptqAccuracy)})`}, ${kb(row.peakBytes)}, ${row.seconds.toFixed(0)} s`);
      rows.push(row);
      log(row);
    }
  }
  return rows;
}

export function transferTable(rows: TransferRow[], setup: TransferSetup = TRANSFER_SETUP): string {
  const lines = [
    `| update | what is trained | training | lr (validation accuracy of each rate tried) | test acc. (${int(setup.testSize)} images) | peak training memory (device, batch 1) | fits ${kb(setup.budgetBytes)} | trained params | time (sweep + final) |`,
    '|---|---|---|---|--:|--:|:-:|--:|--:|',
  ];
  for (const r of rows) {
    const trials = r.trials.map((t) => `${t.lr === r.lr ? `**${t.lr}**` : t.lr}: ${t.accuracy === null ? 'diverged' : (100 * t.accuracy).toFixed(1)}`).join(', ');
    const acc = r.ptqAccuracy === null ? pct(r.accuracy) : `${pct(r.accuracy)} (int8 after PTQ ${pct(r.ptqAccuracy)})`;
    lines.push(`| ${r.name} | \`${r.update}\` | ${VARIANT_LABEL[r.variant]} | ${trials} | ${acc} | ${kb(r.peakBytes)} | ${r.fitsBudget ? 'yes' : 'no'} | ${int(r.trainedParams)} | ${r.sweepSeconds.toFixed(0)} + ${r.seconds.toFixed(0)} s |`);
  }
  lines.push('', `MLPerf Tiny's visual-wake-words MobileNetV1 (α 0.25, 96×96 RGB; int8, and its float32 twin for the fp32 rows) with a new, randomly initialised 10-class head, fine-tuned on CIFAR-10 resized bilinearly to 96×96, pixels mapped to [0, 1] as the model's input expects. Every row: SGD, batch 8, cosine schedule, seed 1; int8 updates rounded stochastically. Learning rate chosen per row on ${int(setup.valSize)} validation images held out of CIFAR-10's training batches (balanced, disjoint from the training images), each rate trained ${setup.sweepEpochs} epoch(s) on ${int(setup.sweepSize)} of the training images (rates ${lrList(setup.lrs)} for int8 with QAS and fp32; ${lrList(setup.lrsNoQas)} without QAS); the chosen rate then trains ${setup.epochs} epoch(s) on all ${int(setup.trainSize)} training images (balanced), and the test accuracy is of the int8 model by our interpreter (fp32 rows: the float model, and in brackets the same model after post-training quantisation). The last-k depth and the sparse update are chosen once, on the int8 model under the budget, and every variant trains those same parameters; memory is the planner's batch-1 training step (fp32 rows: float32 weights, activations and gradients). Chance is 10 %. Re-run: \`node dist/bench/train.js transfer --train ${setup.trainSize} --val ${setup.valSize} --sweep ${setup.sweepSize} --epochs ${setup.epochs} --lrs ${setup.lrs.join(',')} --lrs-noqas ${setup.lrsNoQas.join(',')} --readme\`.`);
  return lines.join('\n');
}

/** Rows logged by one or more runs, in the table's order (update scheme, then variant). */
function rowsFromLogs(files: string[]): TransferRow[] {
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) {
    console.error(`--table-from: no rows log at ${missing.join(', ')} (write one with --rows-log)`);
    process.exit(1);
  }
  const rows = files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as TransferRow));
  const schemes = [...new Set(rows.map((r) => r.name))];
  const rank = (r: TransferRow) => schemes.indexOf(r.name) * TRANSFER_VARIANTS.length + TRANSFER_VARIANTS.indexOf(r.variant);
  return rows.sort((a, b) => rank(a) - rank(b));
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
    const num = (f: string, d: number) => (flag(f) === undefined ? d : Number(flag(f)));
    const rates = (f: string, d: number[]) => (flag(f) === undefined ? d : flag(f)!.split(',').map(Number));
    const setup: TransferSetup = {
      ...TRANSFER_SETUP, trainSize: num('--train', TRANSFER_SETUP.trainSize), valSize: num('--val', TRANSFER_SETUP.valSize), sweepSize: num('--sweep', TRANSFER_SETUP.sweepSize),
      epochs: num('--transfer-epochs', num('--epochs', TRANSFER_SETUP.epochs)), sweepEpochs: num('--sweep-epochs', TRANSFER_SETUP.sweepEpochs),
      lrs: rates('--lrs', TRANSFER_SETUP.lrs), lrsNoQas: rates('--lrs-noqas', TRANSFER_SETUP.lrsNoQas), testSize: num('--test', TRANSFER_SETUP.testSize),
    };
    const variants = (flag('--variants') ?? TRANSFER_VARIANTS.join(',')).split(',');
    const unknown = variants.find((v) => !TRANSFER_VARIANTS.includes(v as TransferVariant));
    if (unknown !== undefined) {
      console.error(`transfer: --variants takes ${TRANSFER_VARIANTS.join(', ')}; got "${unknown}"`);
      process.exit(1);
    }
    setup.variants = variants as TransferVariant[];
    const bad = Object.entries(setup).find(([k, v]) => k !== 'variants' && (Array.isArray(v) ? v.length === 0 || v.some((x) => !(x > 0)) : !(Number(v) > 0)));
    if (bad) {
      console.error(`transfer: ${bad[0]} must be positive, got ${bad[1]}`);
      process.exit(1);
    }
    // Each finished row is appended as one JSON line, so an interrupted run keeps what it measured; with
    // --table-from, the table is made from such logs (rows of several processes) instead of training.
    const rowsLog = flag('--rows-log');
    const from = flag('--table-from');
    const rows = from ? rowsFromLogs(from.split(',')) : benchTransfer(setup, (r) => rowsLog && appendFileSync(rowsLog, `${JSON.stringify(r)}\n`));
    const table = transferTable(rows, setup);
    console.log('\n## On-device transfer learning (MLPerf VWW MobileNetV1 → CIFAR-10 96×96)\n');
    console.log(table);
    const how = from
      ? `Measured by \`node dist/bench/train.js transfer --variants V --rows-log V.jsonl\`, one process per variant running at once (\`nice -n 5\`, on 2 cores shared with other jobs), rows joined with \`--table-from\``
      : 'Measured by `npm run bench`';
    if (readme) writeReadmeSection('bench-train-transfer', `${how} on ${date} (2-core machine, Node ${process.version}).\n\n${table}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
