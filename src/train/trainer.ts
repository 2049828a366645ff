/**
 * The training loop: epochs over a shuffled dataset, a progress callback (loss, accuracy, samples/s),
 * per-epoch validation, and the device memory report of the configuration trained. A run that diverges
 * throws DivergenceError and returns nothing; the caller's graph is never modified.
 */
import type { Graph } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import { InputError } from '../errors.js';
import type { Samples } from '../data/samples.js';
import { checkSamples } from '../data/samples.js';
import { shuffledIndices } from '../util/random.js';
import type { CompileOptions } from './program.js';
import { compileTraining } from './compile.js';
import type { TrainingMemoryReport } from './memory.js';
import { planTrainingMemory } from './memory.js';
import type { OptimizerSpec, Rounding } from './optimizer_spec.js';
import type { TrainingBackend } from './session.js';
import { TrainingSession } from './session.js';
import type { ResolvedUpdate, UpdateRequest, UpdateSpec } from './update.js';
import { formatUpdate } from './update.js';
import { TrainingBudgetError, TrainingConfigError } from './errors.js';
import type { AutoOptions, AutoResult } from './auto.js';
import { chooseUpdate } from './auto.js';
import { evaluate } from './validation.js';
import { lossHead } from './graph_prep.js';

export interface Progress {
  epoch: number;
  epochs: number;
  /** Step within the epoch (1-based) and steps per epoch. */
  step: number;
  stepsPerEpoch: number;
  /** Running means over the epoch so far. */
  loss: number;
  accuracy: number;
  samplesPerSecond: number;
  learningRate: number;
}

export interface EpochStats {
  epoch: number;
  loss: number;
  accuracy: number;
  samplesPerSecond: number;
  seconds: number;
  validationAccuracy?: number;
  validationLoss?: number;
}

export interface TrainOptions {
  /** What to train. Default: `full` for float models; for int8, `auto` under budgetBytes, else `last` (the classifier). */
  update?: UpdateRequest;
  epochs?: number;
  /** Host training batch (the device memory report is for batch 1). Default 32 for float, 8 for int8. */
  batchSize?: number;
  optimizer?: OptimizerSpec;
  /** 'cosine' decays the learning rate to 0 over the run. Default 'constant'. */
  schedule?: 'constant' | 'cosine';
  /** Quantisation-aware scaling (int8 models). Default true. */
  qas?: boolean;
  rounding?: Rounding;
  seed?: number;
  /** Device SRAM budget: the configuration's batch-1 training plan must fit, or TrainingBudgetError. */
  budgetBytes?: number;
  /** Stop after this many steps in all (a quick run). */
  maxSteps?: number;
  /** Checked before each step: true ends training there (a time budget). The schedule still spans maxSteps. */
  shouldStop?: () => boolean;
  validation?: Samples;
  /** Validate on at most this many samples. */
  validationLimit?: number;
  /** Progress is reported every this many steps (and at each epoch's end). Default 10. */
  progressEvery?: number;
  onProgress?: (p: Progress) => void;
  onEpoch?: (e: EpochStats) => void;
  /** Compiler switches (prune, reorder, compactSaves). */
  compile?: Pick<CompileOptions, 'prune' | 'reorder' | 'compactSaves'>;
  /** For update = auto. */
  auto?: Omit<AutoOptions, 'budgetBytes' | 'qas' | 'optimizer' | 'rounding'>;
  /** Layer kernels: 'wasm' (default where WebAssembly SIMD runs) or 'js'. */
  backend?: TrainingBackend;
}

export interface TrainResult {
  /** The trained model (batch 1, same dtype as the input model). */
  graph: Graph;
  update: ResolvedUpdate;
  /** The training step's memory on a device (batch 1). */
  memory: TrainingMemoryReport;
  history: EpochStats[];
  steps: number;
  /** When update = auto: what the search chose among. */
  auto?: AutoResult;
  /** The layer kernels the steps ran on. */
  backend: TrainingBackend;
}

/** Train a float32 model (from scratch or fine-tuning). */
export function trainFloat(graph: Graph, data: Samples, opts: TrainOptions = {}): TrainResult {
  if (isInt8(graph)) throw new TrainingConfigError(`${graph.name} is an int8 model: use trainInt8`);
  return train(graph, data, opts);
}

/** Train an int8 model in place of its int8 weights: int8 forward, float backward, QAS. */
export function trainInt8(graph: Graph, data: Samples, opts: TrainOptions = {}): TrainResult {
  if (!isInt8(graph)) throw new TrainingConfigError(`${graph.name} is not an int8 model: use trainFloat`);
  return train(graph, data, opts);
}

export function isInt8(g: Graph): boolean {
  return g.tensors[lossHead(g).logits].dtype === 'int8';
}

function defaults(graph: Graph, opts: TrainOptions): { optimizer: OptimizerSpec; batch: number; update: UpdateRequest } {
  const int8 = isInt8(graph);
  return {
    optimizer: opts.optimizer ?? (int8 ? { kind: 'sgd', lr: 0.1 } : { kind: 'adam', lr: 1e-3 }),
    batch: opts.batchSize ?? (int8 ? 8 : 32),
    update: opts.update ?? (int8 ? (opts.budgetBytes ? { kind: 'auto' } : { kind: 'last-k', k: 1 }) : { kind: 'full' }),
  };
}

function train(graph: Graph, data: Samples, opts: TrainOptions): TrainResult {
  const d = defaults(graph, opts);
  const inputElements = numElements(graph.tensors[graph.inputs[0]].shape);
  checkSamples(data, inputElements, lossHead(graph).classes);
  if (opts.validation) checkSamples(opts.validation, inputElements, lossHead(graph).classes, 'validation set');
  const common = { optimizer: d.optimizer, rounding: opts.rounding ?? 'stochastic', ...opts.compile };
  let spec: UpdateSpec;
  let auto: AutoResult | undefined;
  if (d.update.kind === 'auto') {
    if (opts.budgetBytes === undefined) throw new TrainingConfigError('update "auto" chooses under a memory budget: give budgetBytes');
    auto = chooseUpdate(graph, data, { ...opts.auto, budgetBytes: opts.budgetBytes, optimizer: d.optimizer, rounding: common.rounding, qas: opts.qas ?? true, compile: opts.compile });
    spec = auto.spec;
  } else {
    spec = d.update;
  }
  // The device plan (batch 1) decides what fits; the host trains the same parameters at batch B.
  const device = compileTraining(graph, spec, { ...common, batch: 1 });
  const memory = planTrainingMemory(device);
  if (opts.budgetBytes !== undefined && memory.peakBytes > opts.budgetBytes) {
    throw new TrainingBudgetError(opts.budgetBytes, memory.peakBytes, formatUpdate(spec), `update ${formatUpdate(spec)} needs ${memory.peakBytes} bytes`);
  }
  const batch = Math.min(d.batch, data.size);
  const program = compileTraining(graph, device.update, { ...common, batch });
  const session = new TrainingSession(program, { qas: opts.qas, seed: opts.seed, backend: opts.backend });
  const history = runEpochs(session, data, batch, d.optimizer.lr, opts);
  return { graph: program.base, update: device.update, memory, history: history.epochs, steps: history.steps, auto, backend: session.backend };
}

function runEpochs(session: TrainingSession, data: Samples, batch: number, lr0: number, opts: TrainOptions): { epochs: EpochStats[]; steps: number } {
  const epochs = opts.epochs ?? 1;
  const stepsPerEpoch = Math.floor(data.size / batch);
  if (stepsPerEpoch === 0) throw new InputError(`the dataset has ${data.size} samples, fewer than one batch of ${batch}`);
  const total = Math.min(epochs * stepsPerEpoch, opts.maxSteps ?? Infinity);
  const every = opts.progressEvery ?? 10;
  const x = new Float32Array(batch * data.sampleSize);
  const labels = new Int32Array(batch);
  const history: EpochStats[] = [];
  let done = 0;
  for (let epoch = 1; epoch <= epochs && done < total; epoch++) {
    const order = shuffledIndices(data.size, (opts.seed ?? 1) * 7919 + epoch);
    const t0 = performance.now();
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    for (let s = 0; s < stepsPerEpoch && done < total; s++) {
      if (opts.shouldStop?.()) break;
      if (opts.schedule === 'cosine') session.clock.lr = 0.5 * lr0 * (1 + Math.cos((Math.PI * done) / total));
      for (let b = 0; b < batch; b++) labels[b] = data.read(order[s * batch + b], x, b * data.sampleSize);
      const r = session.step(x, labels);
      done++;
      lossSum += r.loss * batch;
      correct += r.correct;
      seen += batch;
      if (opts.onProgress && ((s + 1) % every === 0 || s + 1 === stepsPerEpoch || done === total)) {
        opts.onProgress({
          epoch, epochs, step: s + 1, stepsPerEpoch, loss: lossSum / seen, accuracy: correct / seen,
          samplesPerSecond: seen / ((performance.now() - t0) / 1000), learningRate: session.clock.lr,
        });
      }
    }
    if (seen === 0) break;
    const seconds = (performance.now() - t0) / 1000;
    const stats: EpochStats = { epoch, loss: lossSum / seen, accuracy: correct / seen, samplesPerSecond: seen / seconds, seconds };
    if (opts.validation) {
      const v = evaluate(session.program.base, opts.validation, { limit: opts.validationLimit });
      stats.validationAccuracy = v.accuracy;
      stats.validationLoss = v.loss ?? undefined;
    }
    history.push(stats);
    opts.onEpoch?.(stats);
    if (opts.shouldStop?.()) break;
  }
  return { epochs: history, steps: done };
}
