import type { Graph } from '../graph/graph.js';
import { InputError } from '../errors.js';
import { loadModel } from '../model.js';
import { buildFashionCnn, FASHION_CNN } from '../models/fashion_cnn.js';
import { compileModel } from '../compiler/compile_model.js';
import type { DatasetSplit, Evaluation, ImageShape, InputEncoding } from '../data/index.js';
import { evaluateClassifier, inputEncodingFor, loadDatasetFolder, trainingView, UNIT_RANGE } from '../data/index.js';
import type { Progress, TrainOptions, TrainResult } from './trainer.js';
import type { TrainingBackend } from './session.js';
import { isInt8, trainFloat, trainInt8 } from './trainer.js';
import { DivergenceError } from './errors.js';
import type { UpdateRequest, UpdateSpec } from './update.js';
import { formatUpdate } from './update.js';
import { layersOf } from './graph_prep.js';
import { compileTraining } from './compile.js';
import type { MemoryOptions, TrainingMemoryReport } from './memory.js';
import type { CompileOptions } from './program.js';
import type { OptimizerSpec } from './optimizer_spec.js';
import { planTrainingMemory } from './memory.js';
import { quantizeTrained } from './export.js';
import { replaceClassifier } from './head.js';
import { int, kb } from '../report/format.js';

/**
 * The training workflow behind `tinyml train` (and the training benchmark): load or build the model,
 * load the data, check the budget before the first step, train, quantise, evaluate. Writes nothing.
 */

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
  /** Where the CLI writes the int8 model; absent: nothing is written. */
  out?: string;
  batch?: number;
  lr?: number;
  /** Default: SGD for int8 models (the device's optimiser), Adam for float ones. */
  optimizer?: 'sgd' | 'adam';
  seed: number;
  limit?: number;
  testLimit?: number;
  /** Training's layer kernels (default: wasm where WebAssembly SIMD runs). */
  backend?: TrainingBackend;
}

/** The memory one training step of `graph` needs on a device (batch 1 unless told) when updating `update`. */
export function planTraining(graph: Graph, update: UpdateSpec, opts: CompileOptions & MemoryOptions = {}): TrainingMemoryReport {
  return planTrainingMemory(compileTraining(graph, update, { batch: 1, ...opts }), opts);
}

/** Where progress goes (the CLI's bar or lines; nothing by default). */
export interface ProgressSink {
  update(p: Progress): void;
  stop(): void;
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

/** The image a classifier takes ([1,H,W,1|3]); InputError otherwise. */
export function modelShape(g: Graph): ImageShape {
  const s = g.tensors[g.inputs[0]].shape;
  if (g.inputs.length !== 1 || s.length !== 4 || s[0] !== 1 || (s[3] !== 1 && s[3] !== 3)) {
    throw new InputError(`${g.name}: training needs one image input [1,H,W,1|3], this model takes ${g.inputs.map((i) => `[${g.tensors[i].shape.join(',')}]`).join(' ')}`);
  }
  return { height: s[1], width: s[2], channels: s[3] as 1 | 3 };
}

/** A classifier's class count: its output's last dimension. */
export function classesOf(g: Graph): number {
  const s = g.tensors[g.outputs[0]].shape;
  return s[s.length - 1];
}

function engineOptions(req: TrainRequest, view: ProgressSink, update: UpdateRequest): TrainOptions {
  return {
    update, epochs: req.epochs, budgetBytes: req.budgetBytes, qas: req.qas, seed: req.seed, schedule: 'cosine',
    batchSize: req.batch, onProgress: (p) => view.update(p), progressEvery: 5, backend: req.backend,
  };
}

/** The optimiser asked for; undefined leaves the trainer's default (its kind and rate for the model's dtype). */
function optimizerOf(req: TrainRequest, kind: 'sgd' | 'adam'): OptimizerSpec | undefined {
  if (req.lr === undefined && req.optimizer === undefined) return undefined;
  const k = req.optimizer ?? kind;
  // SGD's usual rate differs from Adam's by decades: each keeps its own default when no --lr is given.
  return { kind: k, lr: req.lr ?? (k === 'sgd' ? 0.1 : 1e-3) };
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
  // The int8 model's arena depends on its shapes only: checked on the untrained network, before any step.
  const arena = compileModel(quantizeTrained(graph, train, 8, req.seed)).plan.arenaBytes;
  if (arena > req.budgetBytes) {
    throw new InputError(`the int8 model needs ${int(arena)} bytes of SRAM for inference, over the --budget of ${int(req.budgetBytes)} by ${int(arena - req.budgetBytes)}; nothing was trained`);
  }
  const opts = engineOptions(req, view, { kind: 'full' });
  // Training from scratch runs on the host; the budget applies to the int8 model the device runs.
  const result = trainFloat(graph, train, { ...opts, budgetBytes: undefined, optimizer: optimizerOf(req, 'adam') });
  view.stop();
  const floatAccuracy = evaluateClassifier(result.graph, data.test, { dtype: 'float32', range: UNIT_RANGE }).accuracy;
  const model = quantizeTrained(result.graph, train, 500, req.seed);
  const notes = [`trained in float32 on the host (device training memory does not apply); inference arena of the int8 model ${kb(compileModel(model).plan.arenaBytes)}`];
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
  const optimizer = optimizerOf(req, int8 ? 'sgd' : 'adam');
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
export function deepestLastKThatFits(graph: Graph, budget: number): UpdateRequest {
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

/** Train as `tinyml train` does and evaluate the int8 result on the test split; writes nothing. */
export function runTraining(req: TrainRequest, progress: ProgressSink = { update() {}, stop() {} }): TrainingOutcome {
  const t0 = performance.now();
  const o = req.model === FASHION_CNN_KEYWORD ? trainFromScratch(req, progress) : fineTune(req, progress);
  const seconds = (performance.now() - t0) / 1000;
  const last = o.result.history.at(-1);
  if (last && !Number.isFinite(last.loss)) throw new DivergenceError(o.result.steps, last.loss, 'the final training loss is not finite');
  return { ...o, after: evaluateClassifier(o.model, o.data.test, o.encoding), seconds };
}
