/**
 * The whole TinyNAS run: (1) choose the (width, resolution) space for the limits, (2) train its
 * weight-shared supernet, (3) evolve subnets that fit, scored on a validation split held out of the
 * training data with inherited weights, (4) fine-tune the winner, quantise it to int8, and check it with
 * the compile pipeline. Every phase can stop at a time budget; a checkpoint directory makes a killed run
 * resume where it stopped.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset, DatasetSplit } from '../data/dataset.js';
import { evaluateSamples } from '../data/evaluate.js';
import type { Evaluation } from '../data/evaluate.js';
import { holdOut } from '../data/load.js';
import { withPreprocessing } from '../data/preprocessing.js';
import type { Samples } from '../data/samples.js';
import type { ImageAugment } from '../data/augment.js';
import { cifarAugment } from '../data/augment.js';
import { subsetSamples } from '../data/samples.js';
import { trainingView } from '../data/training_view.js';
import { fitDataset } from '../data/transform.js';
import { InputError } from '../errors.js';
import type { Graph } from '../graph/graph.js';
import { quantizeTrained } from '../train/export.js';
import type { EvolutionOptions, EvolutionResult } from './evolution.js';
import { evolve } from './evolution.js';
import type { CostFidelity, Limits, SubnetCost } from './resources.js';
import { deployedPlan, fitsWithoutPlan, judgeSubnet, measureSubnet, withLatency } from './resources.js';
import type { LatencyTable } from './latency.js';
import type { Arch, SpaceConfig } from './space.js';
import { archKey, extremeArch, parseArchKey, sampleArch } from './space.js';
import { seededRandom } from '../util/random.js';
import type { SpaceOptions, SpaceResult } from './space_opt.js';
import { optimiseSpace } from './space_opt.js';
import { deployGraph } from './subnet_graph.js';
import { inferenceSubnet } from './batch_norm.js';
import { scoreArchs } from './worker.js';
import { Supernet } from './supernet.js';
import type { SupernetMeta } from './supernet.js';
import type { PassExecutor, SandwichEnds, StepReport, SupernetTrainOptions } from './train_supernet.js';
import { SupernetTrainer } from './train_supernet.js';

/** Pixels 0..255 map onto [0, 1] for every network the search trains. */
export const SEARCH_RANGE: [number, number] = [0, 1];

export interface SearchConfig {
  space: SpaceConfig;
  limits: Limits;
  /** The (width, resolution) cell; omitted: chosen by stage 1. */
  cell?: { width: number; resolution: number };
  spaceOptions?: Omit<SpaceOptions, 'evaluate' | 'rescue' | 'onCell'>;
  /** Stage 1 re-measures the screen's SRAM-only rejects with the compile pipeline's plans (SpaceOptions.rescue). */
  spaceRescue?: boolean;
  supernetSteps: number;
  batch?: number;
  lr?: number;
  randomPerStep?: number;
  evolution: EvolutionOptions;
  /** Validation images held out of the training data (never the test split). */
  validation: number;
  /** Fine-tuning steps of the winner (batch `batch`). */
  finetuneSteps: number;
  /** Whole-run budget in seconds: stage 1 first, then the rest shared by the phases as `budgetSplit` says. */
  timeBudget?: number;
  /** Shares of what stage 1 leaves of `timeBudget` for supernet training and evolution (fine-tuning gets the rest); default DEFAULT_BUDGET_SPLIT. */
  budgetSplit?: BudgetSplit;
  seed: number;
  /** Checkpoints go here; an existing checkpoint of the same search is resumed. */
  checkpointDir?: string;
  /** Measured Cortex-M4 kernel costs (needed for limits.maxInstructions; reported for the winner when given). */
  latency?: LatencyTable;
  /** Shift-and-flip augmentation of the training images (supernet and fine-tuning); default on. */
  augment?: boolean;
  /**
   * The supernet's sandwich: 'fitting' (default) draws its random subnets within the limits a graph decides
   * alone (MACs, weights, Flash) and teaches with the largest such subnet found; 'full' uses the whole cell,
   * its largest network the teacher (Once-for-All's rule, for a supernet meant to serve many boards).
   */
  sandwich?: 'fitting' | 'full';
}

/** Who asks for costs: stage 1's samples, its second look at SRAM-only rejects, evolution's candidates. */
export type SearchStage = 'space' | 'space-rescue' | 'evolution';

/** How closely each stage's costs are measured (resources.ts): a hook given a cost evaluator passes these on. */
export const STAGE_FIDELITY: Readonly<Record<SearchStage, CostFidelity>> = { space: 'screen', 'space-rescue': 'rescue', evolution: 'auto' };

export interface SearchHooks {
  /**
   * Costs of subnets; `stage` tells stage 1's thousands of samples (and its second look at SRAM-only
   * rejects, with `spaceRescue`) from evolution's candidates.
   */
  costs(space: SpaceConfig, archs: Arch[], limits: Limits, stage: SearchStage): Promise<SubnetCost[]>;
  /** Data-parallel supernet training (a worker pool): null runs it in this thread. */
  training?: { attach(net: Supernet, data: Dataset, range: [number, number], options: SupernetTrainOptions): Promise<PassExecutor | null> };
  /** Parallel scoring (a worker pool): given the supernet and the validation split once, then batches. */
  scoring?: { attach(net: Supernet, validation: Samples): Promise<void>; scores(archs: Arch[]): Promise<number[]> };
  onCell?: SpaceOptions['onCell'];
  onSupernetStep?(r: StepReport, total: number): void;
  onGeneration?(generation: number, bestScore: number, bestKey: string, total: number): void;
  onFinetune?(step: number, total: number, loss: number): void;
  log?(line: string): void;
}

export interface SearchOutcome {
  limits: Limits;
  spaceResult: SpaceResult | null;
  cell: { width: number; resolution: number };
  /** Stage 1's wall time in this run (0 when the cell was given or resumed); the split shares out the rest. */
  spaceSeconds: number;
  supernetSteps: number;
  supernetSeconds: number;
  evolution: EvolutionResult;
  /** The fitting sandwich's teacher (null: the cell's largest network taught). */
  teacher: string | null;
  /** Fine-tuning steps taken (fewer than asked when the time budget ran out). */
  finetuneSteps: number;
  winner: {
    arch: Arch;
    key: string;
    /** Validation accuracy with inherited weights (the search's score). */
    inheritedAccuracy: number;
    /** After fine-tuning, float32, on the test split. */
    floatAccuracy: number;
    /** The int8 model on the test split, through our interpreter. */
    int8Accuracy: Evaluation;
    /** The int8 model through the compile pipeline (patch-based plans allowed). */
    cost: SubnetCost;
  };
  /** The int8 model, preprocessing recorded. */
  model: Graph;
  resumed: boolean;
}

interface CheckpointState {
  version: 1;
  key: string;
  cell: { width: number; resolution: number };
  supernetStep: number;
  supernetSeconds: number;
  evolution?: { generation: number; population: { key: string; score: number; cost: SubnetCost }[] };
}

/** What must match for a checkpoint to be resumed: the search's definition, not its budgets. */
function searchKey(c: SearchConfig): string {
  return JSON.stringify({ space: c.space.name, limits: c.limits, seed: c.seed, batch: c.batch ?? 32, validation: c.validation });
}

class Checkpoint {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  load(key: string): { state: CheckpointState; meta: SupernetMeta; data: Float32Array } | null {
    const s = join(this.dir, 'state.json');
    if (!existsSync(s)) return null;
    // A damaged checkpoint (a disk filled up, a hand edit) is the user's to see, never an internal error.
    let state: CheckpointState, meta: SupernetMeta, raw: Buffer;
    try {
      state = JSON.parse(readFileSync(s, 'utf8')) as CheckpointState;
      meta = JSON.parse(readFileSync(join(this.dir, 'supernet.json'), 'utf8')) as SupernetMeta;
      raw = readFileSync(join(this.dir, 'supernet.bin'));
    } catch (e) {
      throw new InputError(`--resume ${this.dir}: the checkpoint cannot be read (${(e as Error).message}); use another directory`);
    }
    if (state.version !== 1 || state.key !== key) {
      throw new InputError(`--resume ${this.dir} holds a different search (space, limits, seed, batch or validation differ); use another directory`);
    }
    const data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    return { state, meta, data };
  }

  /** Written to temporary names, then renamed: a kill mid-write leaves the previous checkpoint. */
  save(state: CheckpointState, net: Supernet): void {
    const { meta, data } = net.serialise();
    const put = (name: string, bytes: string | Uint8Array) => {
      const tmp = join(this.dir, `.${name}.tmp`);
      writeFileSync(tmp, bytes);
      renameSync(tmp, join(this.dir, name));
    };
    put('supernet.bin', new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    put('supernet.json', JSON.stringify(meta));
    put('state.json', JSON.stringify(state));
  }
}

/** Fitting subnets the fitting sandwich draws from, and draws tried per pool member before giving up. */
const SANDWICH_POOL = 256;
const DRAW_TRIES = 64;

/**
 * The sandwich within the limits: a pool of the cell's subnets that fit by MACs, weights and Flash (SRAM
 * needs a plan per draw; evolution judges it), drawn once (~3 ms a draw: a per-step draw would cost a step
 * ~10 % when one subnet in ten fits), the random subnets taken from it and the teacher its most MACs.
 * Null when the cell's subnets hardly ever fit those limits (the whole cell's sandwich then).
 */
export function fittingSandwich(space: SpaceConfig, cell: { width: number; resolution: number }, limits: Limits, seed: number): { ends: SandwichEnds; teacherMacs: number; fitFraction: number } | null {
  const rand = seededRandom((seed * 48_271 + 11) >>> 0);
  const pool: { arch: Arch; macs: number }[] = [];
  const seen = new Set<string>();
  let tries = 0;
  while (pool.length < SANDWICH_POOL && tries < SANDWICH_POOL * DRAW_TRIES) {
    tries++;
    const a = sampleArch(space, rand, cell);
    const key = archKey(space, a);
    if (seen.has(key)) continue;
    seen.add(key);
    const r = fitsWithoutPlan(space, a, limits);
    if (r.fits) pool.push({ arch: a, macs: r.macs });
  }
  if (pool.length < SANDWICH_POOL / 4) return null;
  const teacher = pool.reduce((a, b) => (b.macs > a.macs ? b : a));
  const draw = (r: () => number): Arch => pool[Math.min(pool.length - 1, Math.floor(r() * pool.length))].arch;
  return { ends: { teacher: teacher.arch, draw }, teacherMacs: teacher.macs, fitFraction: pool.length / tries };
}

/** The phases' shares of a time budget, as fractions; fine-tuning gets the rest. */
export interface BudgetSplit {
  supernet: number;
  evolution: number;
}

/**
 * 25 % supernet, 15 % evolution, 60 % fine-tuning. Under ResNet-8's limits with a 60-minute budget this split's
 * winner reached 81.87 % int8 where 50/20/30's had reached 75.83 % (both fine-tuned at a quarter of the search's
 * learning rate, as the search then did; one run each, the earlier on a busier machine; two 30-minute seeds side
 * by side agreed): the supernet only has to rank subnets (13 minutes of it gave evolution the same inherited
 * validation accuracy as 23 had), and the time moved to the winner's fine-tuning shows in its accuracy.
 */
export const DEFAULT_BUDGET_SPLIT: BudgetSplit = { supernet: 0.25, evolution: 0.15 };

/**
 * When supernet training and evolution end, in seconds from the search's start, for a budget whose stage 1
 * ended at `origin`: the split shares out what stage 1 leaves. On a tight board stage 1's SRAM checks can take
 * most of a small budget; charged to the supernet's share alone they would leave it no steps at all.
 */
export function phaseEnds(timeBudget: number | undefined, origin: number, split: BudgetSplit): { supernet: number; evolution: number } {
  if (timeBudget === undefined) return { supernet: Infinity, evolution: Infinity };
  const rest = Math.max(0, timeBudget - origin);
  return { supernet: origin + rest * split.supernet, evolution: origin + rest * (split.supernet + split.evolution) };
}

function resized(d: Dataset, resolution: number): Dataset {
  return fitDataset(d, { height: resolution, width: resolution, channels: 3 });
}

/** The splits a search trains, scores and tests on, at the cell's resolution. */
export interface SearchData {
  /** Training images (validation held out), as stored: the worker pool shares them. */
  trainImages: Dataset;
  train: Samples;
  validation: Samples;
  test: Samples;
}

/** Training minus a held-out validation split (never the test split), at `resolution`; the test split apart. */
export function searchData(data: DatasetSplit, resolution: number, validation: number, seed: number): SearchData {
  const fraction = Math.min(0.5, validation / data.train.count);
  const split = holdOut(data.train, fraction, seed);
  const trainImages = resized(split.train, resolution);
  return {
    trainImages,
    train: trainingView(trainImages, { range: SEARCH_RANGE }),
    validation: subsetSamples(trainingView(resized(split.test, resolution), { range: SEARCH_RANGE }), validation, seed),
    test: trainingView(resized(data.test, resolution), { range: SEARCH_RANGE }),
  };
}

export interface TrainPhase {
  /** Steps of `batch` images the cosine schedule spans (fewer when `seconds` runs out). */
  steps: number;
  lr: number;
  batch: number;
  seed: number;
  /** Time budget: the schedule anneals over it and training stops at it. */
  seconds?: number;
  /** Shift-and-flip augmentation of the training images (cifarAugment at the net's resolution); default on. */
  augment?: boolean;
}

export interface Deployed {
  steps: number;
  floatAccuracy: number;
  int8: Graph;
  int8Accuracy: Evaluation;
  cost: SubnetCost;
}

/** CIFAR-style shifts and flips at the net's resolution (RGB), unless turned off. */
function augmentFor(net: Supernet, on: boolean | undefined): ImageAugment | undefined {
  return on === false ? undefined : cifarAugment(net.resolution, net.resolution, 3);
}

/**
 * Train one subnet of `net` alone (data-parallel on the pool when given), then extract it, quantise it
 * (PTQ on 500 training images) and measure it with the compile pipeline: the winner's fine-tuning, and the
 * same recipe for a fixed network trained from scratch.
 */
export async function trainAndDeploy(net: Supernet, arch: Arch, d: Pick<SearchData, 'trainImages' | 'train' | 'test'>, phase: TrainPhase, limits: Limits, hooks: Pick<SearchHooks, 'training' | 'onFinetune'>, latency?: LatencyTable): Promise<Deployed> {
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  const options: SupernetTrainOptions = { batch: phase.batch, lr: phase.lr, totalSteps: phase.steps, seed: phase.seed + 1, fixed: arch, augment: augmentFor(net, phase.augment) };
  const trainer = new SupernetTrainer(net, d.train, options);
  const executor = hooks.training ? await hooks.training.attach(net, d.trainImages, SEARCH_RANGE, options) : null;
  const budget = phase.seconds ?? Infinity;
  let step = 0;
  // At least one step: a winner is never deployed untouched by its own training.
  while (step < phase.steps && (step === 0 || seconds() < budget)) {
    const r = await trainer.step(step, executor ?? undefined, Number.isFinite(budget) ? seconds() / Math.max(1e-9, budget) : 0);
    step++;
    hooks.onFinetune?.(step, phase.steps, r.largest.loss);
  }
  // Statistics re-calibrated on training images (the test split is only ever evaluated).
  const floatGraph = inferenceSubnet(net.space, arch, net.source(), d.train, { images: 1024, seed: phase.seed });
  const floatAccuracy = evaluateSamples(floatGraph, d.test).accuracy;
  const int8 = withPreprocessing(quantizeTrained(floatGraph, d.train, 500, phase.seed), SEARCH_RANGE);
  const int8Accuracy = evaluateSamples(int8, d.test);
  let cost = measureSubnet(net.space, arch, limits, int8);
  if (latency) cost = withLatency(cost, latency.instructions(deployedPlan(int8, limits)), limits);
  return { steps: step, floatAccuracy, int8, int8Accuracy, cost };
}

export async function runSearch(config: SearchConfig, data: DatasetSplit, hooks: SearchHooks): Promise<SearchOutcome> {
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const shares = config.budgetSplit ?? DEFAULT_BUDGET_SPLIT;
  const log = hooks.log ?? (() => {});
  const key = searchKey(config);
  const ckpt = config.checkpointDir ? new Checkpoint(config.checkpointDir) : null;
  const saved = ckpt?.load(key) ?? null;

  // Stage 1: the space (skipped when the cell is given or the checkpoint knows it).
  let spaceResult: SpaceResult | null = null;
  let cell = saved?.state.cell ?? config.cell;
  if (!cell) {
    spaceResult = await optimiseSpace(config.space, config.limits, { ...config.spaceOptions, seed: config.seed, evaluate: (sp, archs, l) => hooks.costs(sp, archs, l, 'space'),
      ...(config.spaceRescue ? { rescue: (sp: SpaceConfig, archs: Arch[], l: Limits) => hooks.costs(sp, archs, l, 'space-rescue') } : {}),
      onCell: hooks.onCell,
    });
    if (!spaceResult.best) throw new InputError(`no (width, resolution) cell of ${config.space.name} has enough subnets within the limits (${config.limits.name})`);
    cell = { width: spaceResult.best.width, resolution: spaceResult.best.resolution };
  }
  // A cell the user named (stage 1 only picks cells with fitting subnets): its smallest subnet is the least of
  // every resource, so if that misses, nothing in the cell fits; say so now, not after the supernet's share.
  if (!spaceResult) {
    const least = judgeSubnet(config.space, extremeArch(config.space, 'smallest', cell.width, cell.resolution), config.limits);
    if (!least.fits) throw new InputError(`no subnet of ${config.space.name} at width ${cell.width}, resolution ${cell.resolution} fits the limits (${config.limits.name}): its smallest misses ${least.misses.join('; ')}`);
  }
  const origin = elapsed();
  const ends = phaseEnds(config.timeBudget, origin, shares);
  log(`space: width ${cell.width}, resolution ${cell.resolution}${spaceResult && config.timeBudget !== undefined ? ` (stage 1 took ${(origin / 60).toFixed(1)} of ${(config.timeBudget / 60).toFixed(1)} min)` : ''}`);

  const { trainImages, train, validation, test } = searchData(data, cell.resolution, config.validation, config.seed);

  // Stage 2a: the supernet.
  const net = new Supernet(config.space, cell.width, cell.resolution, config.seed);
  const batch = config.batch ?? 32;
  const trainOptions: SupernetTrainOptions = { batch, lr: config.lr, randomPerStep: config.randomPerStep, totalSteps: config.supernetSteps, seed: config.seed, augment: augmentFor(net, config.augment) };
  const fitting = config.sandwich === 'full' ? null : fittingSandwich(config.space, cell, config.limits, config.seed);
  if (fitting) log(`sandwich within the limits: ${(100 * fitting.fitFraction).toFixed(0)} % of the cell's subnets fit by MACs, weights and Flash; teacher ${archKey(config.space, fitting.ends.teacher)} (${(fitting.teacherMacs / 1e6).toFixed(1)} M MACs)`);
  const trainer = new SupernetTrainer(net, train, trainOptions, fitting?.ends);
  let step = 0;
  let supernetSeconds = 0;
  if (saved) {
    try {
      net.restore(saved.meta, saved.data);
    } catch (e) {
      throw new InputError(`--resume ${ckpt!.dir}: ${(e as Error).message}; use another directory`);
    }
    step = saved.state.supernetStep;
    supernetSeconds = saved.state.supernetSeconds;
    log(`resumed from ${ckpt!.dir}: supernet step ${step}${saved.state.evolution ? `, evolution generation ${saved.state.evolution.generation}` : ''}`);
  }
  const state = (): CheckpointState => ({ version: 1, key, cell: cell!, supernetStep: step, supernetSeconds });
  const supernetStart = performance.now();
  let lastSave = performance.now();
  const executor = step < config.supernetSteps && hooks.training ? await hooks.training.attach(net, trainImages, SEARCH_RANGE, trainOptions) : null;
  // With a budget the learning rate anneals over the phase's time, so a cut-short phase still ends at zero.
  const phaseStart = elapsed();
  const progress = () => (config.timeBudget === undefined ? 0 : (elapsed() - phaseStart) / Math.max(1e-9, ends.supernet - phaseStart));
  while (step < config.supernetSteps && elapsed() < ends.supernet) {
    const r = await trainer.step(step, executor ?? undefined, progress());
    step++;
    hooks.onSupernetStep?.(r, config.supernetSteps);
    if (ckpt && performance.now() - lastSave > 60_000) {
      ckpt.save(state(), net);
      lastSave = performance.now();
    }
  }
  supernetSeconds += (performance.now() - supernetStart) / 1000;
  if (ckpt && (!saved || step !== saved.state.supernetStep)) ckpt.save(state(), net);

  // Stage 2b: evolution, scored with inherited weights on the validation split.
  let score: (archs: Arch[]) => Promise<number[]>;
  if (hooks.scoring) {
    await hooks.scoring.attach(net, validation);
    score = (archs) => hooks.scoring!.scores(archs);
  } else {
    score = async (archs) => scoreArchs(net, validation, archs);
  }
  // A population scored with weights that have trained on since is stale: evolution then starts afresh.
  const resume = saved?.state.evolution && step === saved.state.supernetStep
    ? { generation: saved.state.evolution.generation, population: saved.state.evolution.population.map((c) => ({ arch: parseArchKey(config.space, c.key), key: c.key, score: c.score, cost: c.cost })) }
    : undefined;
  // With a latency cap, subnets within the other limits are also timed (measured kernels, QEMU when new).
  const latencyOf = (arch: Arch) => config.latency!.instructions(deployedPlan(deployGraph(config.space, arch), config.limits));
  const evolution = await evolve(config.space, cell, {
    cost: async (archs) => {
      const costs = await hooks.costs(config.space, archs, config.limits, 'evolution');
      if (config.limits.maxInstructions === undefined) return costs;
      if (!config.latency) throw new InputError('a latency cap needs the latency table');
      return costs.map((c, i) => (c.fits ? withLatency(c, latencyOf(archs[i]), config.limits) : c));
    },
    score,
    stop: () => elapsed() > ends.evolution,
    resume,
    onGeneration: (gen, best, population) => {
      hooks.onGeneration?.(gen, best.score, best.key, config.evolution.generations ?? 30);
      if (ckpt) ckpt.save({ ...state(), evolution: { generation: gen, population: population.map((c) => ({ key: c.key, score: c.score, cost: c.cost })) } }, net);
    },
  }, { ...config.evolution, seed: config.seed });
  const best = evolution.best;
  log(`winner: ${best.key} (validation ${(100 * best.score).toFixed(1)} % with inherited weights)`);

  // Stage 2c: fine-tune the winner from its inherited weights, quantise, check with the compile pipeline.
  const tuned = await trainAndDeploy(net, best.arch, { trainImages, train, test }, {
    // The search's own learning rate, not a fine-tuning fraction of it: a supernet trained for minutes hands
    // on weights worth little (the 64 KB run's 48 % inherited validation), and at lr/4 the winner's 21 epochs
    // reached 81.9 % float where 6.7 epochs from scratch at the full rate reached 80.4 % (README, nas-search).
    steps: Math.max(1, config.finetuneSteps), lr: config.lr ?? 2e-3, batch, seed: config.seed, augment: config.augment,
    seconds: config.timeBudget === undefined ? undefined : Math.max(0, config.timeBudget - elapsed()),
  }, config.limits, hooks, config.latency);
  const { floatAccuracy, int8, int8Accuracy, cost } = tuned;
  return {
    limits: config.limits, spaceResult, cell, spaceSeconds: spaceResult ? origin : 0, supernetSteps: step, supernetSeconds, evolution, finetuneSteps: tuned.steps,
    teacher: fitting ? archKey(config.space, fitting.ends.teacher) : null,
    winner: { arch: best.arch, key: archKey(config.space, best.arch), inheritedAccuracy: best.score, floatAccuracy, int8Accuracy, cost },
    model: int8, resumed: saved !== null,
  };
}

