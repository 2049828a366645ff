import { existsSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import type { Graph } from '../graph/graph.js';
import { InputError } from '../errors.js';
import { loadModel } from '../model.js';
import { buildFashionCnn, FASHION_CNN } from '../models/fashion_cnn.js';
import { planMemory } from '../plan/memory_plan.js';
import type { DatasetSplit, Evaluation, ImageShape, InputEncoding } from '../data/index.js';
import { evaluateClassifier, inputEncodingFor, loadDatasetFolder, trainingView, UNIT_RANGE } from '../data/index.js';
import type { Progress, TrainOptions, TrainResult, UpdateRequest } from '../train/index.js';
import { DivergenceError, exportTflite, formatBreakdown, formatUpdate, isInt8, layersOf, parseUpdate, planTraining, quantizeTrained, replaceClassifier, trainFloat, trainInt8 } from '../train/index.js';
import { int, kb } from '../report/format.js';

/** `tinyml train` options as commander hands them over (strings until parsed here). */
export interface TrainCliOptions {
  data?: string;
  budget?: string;
  update?: string;
  qas?: string;
  epochs?: string;
  out?: string;
  batch?: string;
  lr?: string;
  seed?: string;
  limit?: string;
  testLimit?: string;
  progress?: boolean;
}

/** The keyword for training our Fashion-MNIST CNN from scratch instead of fine-tuning a .tflite. */
export const FASHION_CNN_KEYWORD = 'fashion-cnn';

/** A parsed, validated `tinyml train` request (also what the training benchmark runs). */
export interface TrainRequest {
  model: string;
  data: string;
  /** Already loaded data (the benchmark loads once for many runs); otherwise read from `data`. */
  dataset?: DatasetSplit;
  budgetBytes: number;
  update: UpdateRequest | { kind: 'last-k-fit' };
  qas: boolean;
  epochs: number;
  out: string;
  batch?: number;
  lr?: number;
  seed: number;
  limit?: number;
  testLimit?: number;
}

/** "256KB", "256K", "0.5MB", "262144": bytes (K = 1024, as every memory figure we print). */
export function parseBytes(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib)?\s*$/i.exec(text);
  if (!m) throw new InputError(`--budget "${text}" is not a size (e.g. 256KB, 1MB, 262144)`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const bytes = Math.round(Number(m[1]) * (unit.startsWith('m') ? 1 << 20 : unit.startsWith('k') ? 1024 : 1));
  if (bytes < 1) throw new InputError(`--budget "${text}" must be positive`);
  return bytes;
}

function positiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new InputError(`${flag} takes a positive integer, got "${text}"`);
  return Number(text);
}

/** `--update`: auto | full | bias[:N] | last | last-k (deepest that fits) | last-K | last-k:K | sparse:SPEC. */
function parseUpdateFlag(text: string): TrainRequest['update'] {
  const s = text.trim();
  if (s === 'last-k') return { kind: 'last-k-fit' };
  const lastN = /^last-(\d+)$/.exec(s);
  try {
    return parseUpdate(lastN ? `last-k:${lastN[1]}` : s);
  } catch (e) {
    throw new InputError(`--update: ${(e as Error).message}`);
  }
}

export function parseTrainOptions(model: string, o: TrainCliOptions): TrainRequest {
  if (!o.data) throw new InputError('--data DIR is required (Fashion-MNIST IDX files, or one sub-folder of images per class)');
  const qas = (o.qas ?? 'on').toLowerCase();
  if (!['on', 'off', 'true', 'false'].includes(qas)) throw new InputError(`--qas takes on or off, got "${o.qas}"`);
  const lr = o.lr === undefined ? undefined : Number(o.lr);
  if (lr !== undefined && !(lr > 0 && Number.isFinite(lr))) throw new InputError(`--lr takes a positive number, got "${o.lr}"`);
  const seed = o.seed === undefined ? 1 : Number(o.seed);
  if (!Number.isInteger(seed)) throw new InputError(`--seed takes an integer, got "${o.seed}"`);
  const isKeyword = model === FASHION_CNN_KEYWORD;
  if (!isKeyword && !model.endsWith('.tflite')) {
    throw new InputError(`MODEL "${model}" is neither a .tflite file nor the keyword ${FASHION_CNN_KEYWORD}`);
  }
  const out = resolve(o.out ?? (isKeyword ? 'fashion-cnn-int8.tflite' : `${basename(model, '.tflite')}-trained.tflite`));
  if (!existsSync(dirname(out)) || !statSync(dirname(out)).isDirectory()) throw new InputError(`--out: folder ${dirname(out)} does not exist`);
  if (existsSync(out) && statSync(out).isDirectory()) throw new InputError(`--out ${out} is a folder; give a file name`);
  return {
    model, data: o.data, budgetBytes: parseBytes(o.budget ?? '256KB'), update: parseUpdateFlag(o.update ?? 'auto'),
    qas: qas === 'on' || qas === 'true', epochs: positiveInt(o.epochs, '--epochs') ?? 3, out,
    batch: positiveInt(o.batch, '--batch'), lr, seed, limit: positiveInt(o.limit, '--limit'), testLimit: positiveInt(o.testLimit, '--test-limit'),
  };
}

/**
 * Progress on stderr: a live bar on a terminal, otherwise (CI, a pipe) a plain line every few seconds and
 * at each epoch's end, so logs stay readable.
 */
class ProgressView {
  private bar: cliProgress.SingleBar | null = null;
  private lastLine = 0;
  private readonly live: boolean;

  constructor(enabled: boolean) {
    this.live = enabled && Boolean(process.stderr.isTTY) && !process.env.CI;
  }

  update(p: Progress): void {
    const payload = {
      epoch: `${p.epoch}/${p.epochs}`, loss: p.loss.toFixed(4), acc: (100 * p.accuracy).toFixed(1), speed: p.samplesPerSecond.toFixed(0),
    };
    if (this.live) {
      if (!this.bar) {
        this.bar = new cliProgress.SingleBar({
          format: 'epoch {epoch} [{bar}] {percentage}% | loss {loss} | acc {acc}% | {speed} samples/s | ETA {eta_formatted}',
          stream: process.stderr, hideCursor: true, clearOnComplete: false, etaBuffer: 50,
        }, cliProgress.Presets.shades_classic);
        this.bar.start(p.stepsPerEpoch, 0, payload);
      }
      this.bar.update(p.step, payload);
      if (p.step === p.stepsPerEpoch) this.stop();
      return;
    }
    const now = Date.now();
    if (p.step === p.stepsPerEpoch || now - this.lastLine > 5000) {
      this.lastLine = now;
      console.error(`epoch ${payload.epoch} step ${p.step}/${p.stepsPerEpoch}  loss ${payload.loss}  acc ${payload.acc}%  ${payload.speed} samples/s`);
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

/** Write to a temporary file beside `out`, then rename: a failed or interrupted run never leaves half a model. */
export function writeAtomically(out: string, bytes: Uint8Array): void {
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, out);
  } catch (e) {
    if (existsSync(tmp)) unlinkSync(tmp);
    throw new InputError(`cannot write ${out}: ${(e as Error).message}`);
  }
}

export interface TrainingOutcome {
  data: DatasetSplit;
  result: TrainResult;
  /** The int8 model written. */
  model: Graph;
  encoding: InputEncoding;
  before: Evaluation | null;
  floatAccuracy: number | null;
  notes: string[];
  /** Test accuracy of the int8 model written, by our interpreter. */
  after: Evaluation;
  seconds: number;
}

type Trained = Omit<TrainingOutcome, 'after' | 'seconds'>;
type ProgressSink = Pick<ProgressView, 'update' | 'stop'>;

function modelShape(g: Graph): ImageShape {
  const s = g.tensors[g.inputs[0]].shape;
  if (g.inputs.length !== 1 || s.length !== 4 || s[0] !== 1 || (s[3] !== 1 && s[3] !== 3)) {
    throw new InputError(`${g.name}: training needs one image input [1,H,W,1|3], this model takes ${g.inputs.map((i) => `[${g.tensors[i].shape.join(',')}]`).join(' ')}`);
  }
  return { height: s[1], width: s[2], channels: s[3] as 1 | 3 };
}

function classesOf(g: Graph): number {
  const s = g.tensors[g.outputs[0]].shape;
  return s[s.length - 1];
}

function engineOptions(req: TrainRequest, view: ProgressSink, update: UpdateRequest): TrainOptions {
  return {
    update, epochs: req.epochs, budgetBytes: req.budgetBytes, qas: req.qas, seed: req.seed, schedule: 'cosine',
    batchSize: req.batch, onProgress: (p) => view.update(p), progressEvery: 5,
  };
}

/** From scratch: our CNN in float on the host, then post-training quantisation to int8. */
function trainFromScratch(req: TrainRequest, view: ProgressSink): Trained {
  if (req.update.kind !== 'auto' && req.update.kind !== 'full') {
    throw new InputError(`--update ${req.update.kind === 'last-k-fit' ? 'last-k' : formatUpdate(req.update)}: a model trained from scratch updates every layer (use full or auto)`);
  }
  const shape: ImageShape = { height: FASHION_CNN.inputSize, width: FASHION_CNN.inputSize, channels: 1 };
  const data = req.dataset ?? loadDatasetFolder(req.data, { shape, trainLimit: req.limit, testLimit: req.testLimit, seed: req.seed });
  const graph = buildFashionCnn({ ...FASHION_CNN, classes: data.train.classNames.length, seed: FASHION_CNN.seed + req.seed - 1 });
  const train = trainingView(data.train, { range: UNIT_RANGE });
  const opts = engineOptions(req, view, { kind: 'full' });
  // Training from scratch runs on the host; the budget applies to the int8 model the device runs.
  const result = trainFloat(graph, train, { ...opts, budgetBytes: undefined, optimizer: req.lr ? { kind: 'adam', lr: req.lr } : undefined });
  view.stop();
  const floatAccuracy = evaluateClassifier(result.graph, data.test, { dtype: 'float32', range: UNIT_RANGE }).accuracy;
  const model = quantizeTrained(result.graph, train, 500, req.seed);
  const arena = planMemory(model, {}).arenaBytes;
  const notes = [`trained in float32 on the host (device training memory does not apply); int8 inference arena ${kb(arena)}`];
  if (arena > req.budgetBytes) throw new InputError(`the int8 model needs ${int(arena)} bytes of SRAM for inference, over the --budget of ${int(req.budgetBytes)}`);
  const encoding = inputEncodingFor(model.tensors[model.inputs[0]], UNIT_RANGE);
  return { data, result, model, encoding, before: null, floatAccuracy, notes };
}

/** Transfer: fine-tune a .tflite (int8 in place, QAS; float models in float, then PTQ) under the budget. */
function fineTune(req: TrainRequest, view: ProgressSink): Trained {
  let graph = loadModel(req.model);
  const shape = modelShape(graph);
  const data = req.dataset ?? loadDatasetFolder(req.data, { shape, trainLimit: req.limit, testLimit: req.testLimit, seed: req.seed });
  const notes: string[] = [];
  const classes = data.train.classNames.length;
  if (classesOf(graph) !== classes) {
    notes.push(`new ${classes}-class classifier replaces the model's ${classesOf(graph)}-class one`);
    graph = replaceClassifier(graph, classes, { seed: req.seed });
  }
  const int8 = isInt8(graph);
  const range = int8 ? inputEncodingFor(graph.tensors[graph.inputs[0]]).range : UNIT_RANGE;
  const encoding = inputEncodingFor(graph.tensors[graph.inputs[0]], range);
  const train = trainingView(data.train, { range });
  const before = classesOf(graph) === classes && notes.length === 0 ? evaluateClassifier(graph, data.test, encoding) : null;
  let update: UpdateRequest;
  if (req.update.kind === 'last-k-fit') {
    update = deepestLastKThatFits(graph, req.budgetBytes);
    notes.push(`last-k: k = ${update.kind === 'last-k' ? update.k : '?'} is the deepest that fits ${kb(req.budgetBytes)}`);
  } else {
    update = req.update;
  }
  const optimizer = req.lr === undefined ? undefined : int8 ? { kind: 'sgd' as const, lr: req.lr } : { kind: 'adam' as const, lr: req.lr };
  const result = (int8 ? trainInt8 : trainFloat)(graph, train, { ...engineOptions(req, view, update), optimizer });
  view.stop();
  let model = result.graph;
  let floatAccuracy: number | null = null;
  if (!int8) {
    floatAccuracy = evaluateClassifier(model, data.test, encoding).accuracy;
    model = quantizeTrained(model, train, 500, req.seed);
    notes.push('float model: fine-tuned in float32, then quantised to int8');
  }
  return { data, result, model, encoding: int8 ? encoding : inputEncodingFor(model.tensors[model.inputs[0]], UNIT_RANGE), before, floatAccuracy, notes };
}

/** The largest k whose last-k update fits the budget (memory grows with k). */
function deepestLastKThatFits(graph: Graph, budget: number): UpdateRequest {
  const layers = layersOf(graph).length;
  let best = 0;
  let smallest = Infinity;
  for (let k = 1; k <= layers; k++) {
    let peak: number;
    try {
      peak = planTraining(graph, { kind: 'last-k', k }).peakBytes;
    } catch (e) {
      if (k === 1) throw e; // not even the last layer can be trained: say why
      break; // backprop would have to pass an op with no gradient rule
    }
    smallest = Math.min(smallest, peak);
    if (peak > budget) break;
    best = k;
  }
  if (best === 0) throw new InputError(`--update last-k: even the last layer alone needs ${int(smallest)} bytes, over the budget of ${int(budget)} bytes; the smallest budget that fits is ${kb(smallest)}`);
  return { kind: 'last-k', k: best };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)} %`;
}

function report(req: TrainRequest, o: TrainingOutcome, bytes: number): void {
  const r = o.result;
  const after = o.after;
  const lines = [
    '',
    `data          ${o.data.train.count} training / ${o.data.test.count} test images, ${o.data.train.height}×${o.data.train.width}×${o.data.train.channels}, ${o.data.train.classNames.length} classes (${req.data})`,
    `trained       ${r.history.length} epoch(s), ${int(r.steps)} steps; final train loss ${r.history.at(-1)?.loss.toFixed(4) ?? '–'}, train acc ${r.history.length ? pct(r.history.at(-1)!.accuracy) : '–'}`,
    `updated       ${r.update.description}: ${r.update.params.length} tensors, ${int(r.update.params.reduce((s, p) => s + p.elements, 0))} parameters${isInt8(o.model) && req.model !== FASHION_CNN_KEYWORD ? `, QAS ${req.qas ? 'on' : 'off'}` : ''}`,
  ];
  if (r.auto) {
    const alt = [r.auto.bestBiasOnly && `best bias-only ${formatUpdate(r.auto.bestBiasOnly.spec)} ${kb(r.auto.bestBiasOnly.peakBytes)}`, r.auto.bestLastK && `best last-k ${formatUpdate(r.auto.bestLastK.spec)} ${kb(r.auto.bestLastK.peakBytes)}`].filter(Boolean).join('; ');
    lines.push(`auto choice   ${formatUpdate(r.auto.spec)} (${kb(r.auto.peakBytes)}) of ${r.auto.evaluated} configurations planned under ${kb(req.budgetBytes)}${alt ? `; ${alt}` : ''}`);
  }
  for (const n of o.notes) lines.push(`note          ${n}`);
  if (o.before) lines.push(`test accuracy before ${pct(o.before.accuracy)}`);
  if (o.floatAccuracy !== null) lines.push(`test accuracy float32 ${pct(o.floatAccuracy)}`);
  lines.push(`test accuracy ${pct(after.accuracy)} (int8, ${after.correct}/${after.count}, our interpreter)`);
  lines.push(req.model === FASHION_CNN_KEYWORD
    ? 'training memory (the float32 training step at batch 1, for reference):'
    : `training memory (device, batch 1, budget ${kb(req.budgetBytes)}):`);
  lines.push(...formatBreakdown(r.memory).split('\n').map((l) => `  ${l}`));
  lines.push(`wrote         ${req.out} (${int(bytes)} bytes)`);
  console.log(lines.join('\n'));
}

/** `tinyml train MODEL --data DIR ...`: returns the exit code. Nothing is written unless training succeeds. */
export function trainCommand(model: string, opts: TrainCliOptions): number {
  const req = parseTrainOptions(model, opts);
  const view = new ProgressView(opts.progress !== false);
  try {
    const o = runTraining(req, view);
    const bytes = exportTflite(o.model);
    writeAtomically(req.out, bytes);
    report(req, o, bytes.byteLength);
    return 0;
  } finally {
    view.stop();
  }
}

/** Train as `tinyml train` does and evaluate the int8 result on the test split; writes nothing. */
export function runTraining(req: TrainRequest, progress: ProgressSink = { update() {}, stop() {} }): TrainingOutcome {
  const t0 = performance.now();
  const o = req.model === FASHION_CNN_KEYWORD ? trainFromScratch(req, progress) : fineTune(req, progress);
  const seconds = (performance.now() - t0) / 1000;
  const last = o.result.history.at(-1);
  if (last && !Number.isFinite(last.loss)) throw new DivergenceError(o.result.steps, last.loss, 'the final training loss is not finite');
  return { ...o, after: evaluateClassifier(o.model, o.data.test, o.encoding), seconds };
}
