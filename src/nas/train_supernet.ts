/**
 * Supernet training with the sandwich rule and in-place distillation (Once-for-All, BigNAS): each step
 * trains the largest subnet on the labels, then the smallest and a few random ones on the labels mixed
 * with the largest's predictions; their gradients are summed into the shared parameters and one Adam
 * step follows. Each subnet is a Graph trained by our training engine (compiled once per architecture and
 * cached), its parameters written from the supernet before its step and its gradients collected after.
 */
import type { Samples } from '../data/samples.js';
import type { ImageAugment } from '../data/augment.js';
import { augmentDraw, augmentImage } from '../data/augment.js';
import { InputError } from '../errors.js';
import type { TensorId } from '../graph/graph.js';
import { compileTraining } from '../train/compile.js';
import { TrainingSession, defaultTrainingBackend } from '../train/session.js';
import { WasmTrainInstance } from '../train/wasm_kernels.js';
import { seededRandom, shuffledIndices } from '../util/random.js';
import type { Arch } from './space.js';
import { archKey, sampleArch } from './space.js';
import { buildSubnet } from './subnet_graph.js';
import type { Supernet } from './supernet.js';

export interface SupernetTrainOptions {
  batch?: number;
  /** Peak learning rate (Adam), cosine-decayed over `totalSteps`. */
  lr?: number;
  weightDecay?: number;
  /** Random subnets per step besides the largest and the smallest. */
  randomPerStep?: number;
  /** Weight of the largest subnet's predictions in the others' targets. */
  distillation?: number;
  /** Steps the schedule spans (the cosine reaches 0 there). */
  totalSteps: number;
  /** Re-sort hidden channels by importance every this many steps (default: once per epoch). */
  sortEvery?: number;
  seed?: number;
  /** Subnet programs kept compiled besides the largest and smallest. */
  cacheSize?: number;
  /**
   * Train this one subnet alone, on the labels (fine-tuning a winner, or training a fixed network with
   * the same trainer): no sandwich, no distillation, no channel re-sorting.
   */
  fixed?: Arch;
  /** This trainer computes rows [index * batch / count, (index + 1) * batch / count) of each batch (data parallelism). */
  shard?: { index: number; count: number };
  /** Shift and flip each training image (drawn per seed, step and batch row, so shards agree); none when absent. */
  augment?: ImageAugment;
}

/**
 * Where a sandwich step's subnets come from, when not the whole cell: the teacher (trained on the labels,
 * its predictions the others' targets) and a draw for the random subnets. A search under limits passes the
 * largest subnet it found within them and draws only such subnets (search.ts, fittingSandwich), so the
 * shared weights train where the search looks instead of on networks several times too large to deploy.
 */
export interface SandwichEnds {
  teacher: Arch;
  draw(rand: () => number): Arch;
}

/** The subnets of one sandwich step, in order: the teacher (default the largest), the smallest, then random ones. */
export function sandwichArchs(net: Supernet, step: number, seed: number, randomPerStep: number, ends?: SandwichEnds): Arch[] {
  const rand = seededRandom((seed * 7919 + step * 104_729) >>> 0);
  const draw = ends ? () => ends.draw(rand) : () => sampleArch(net.space, rand, { width: net.width, resolution: net.resolution });
  const random = Array.from({ length: randomPerStep }, draw);
  return [ends?.teacher ?? net.largest(), net.smallest(), ...random];
}

/** Loss and batch accuracy of the largest and smallest subnets (summed counts, so shards combine). */
export interface PassReport {
  largest: { lossSum: number; correct: number; rows: number };
  smallest: { lossSum: number; correct: number; rows: number };
}

/** Runs the forward/backward passes of a step's subnets somewhere (worker threads), leaving the summed gradients in the supernet. */
export interface PassExecutor {
  passes(step: number, archs: Arch[]): Promise<PassReport>;
}

export interface StepReport {
  step: number;
  lr: number;
  /** Loss and batch accuracy of the largest and the smallest subnets. */
  largest: { loss: number; accuracy: number };
  smallest: { loss: number; accuracy: number };
  seconds: number;
}

interface Compiled {
  session: TrainingSession;
  params: { name: string; id: TensorId; shape: number[] }[];
}

export class SupernetTrainer {
  private readonly cache = new Map<string, Compiled>();
  private readonly o: Required<Omit<SupernetTrainOptions, 'shard' | 'fixed' | 'augment'>>;
  private readonly fixed: Arch | undefined;
  /** Rows of each batch this trainer computes. */
  private readonly rows: [number, number];
  private readonly x: Float32Array;
  private readonly labels: Int32Array;
  private readonly teacher: Float32Array;
  private readonly classes: number;
  private readonly augment: { a: ImageAugment; tmp: Float32Array } | null;

  /** `ends`: the sandwich's teacher and random draws (default: the cell's largest and uniform draws); used where steps are drawn, not by shards. */
  constructor(readonly net: Supernet, readonly data: Samples, opts: SupernetTrainOptions, private readonly ends?: SandwichEnds) {
    const batch = opts.batch ?? 32;
    if (data.size < batch) throw new InputError(`supernet training needs at least one batch of ${batch} samples; the data has ${data.size}`);
    this.o = {
      batch, lr: opts.lr ?? 2e-3, weightDecay: opts.weightDecay ?? 5e-5, randomPerStep: opts.randomPerStep ?? 2,
      distillation: opts.distillation ?? 0.5, totalSteps: opts.totalSteps,
      sortEvery: opts.sortEvery ?? Math.max(1, Math.floor(data.size / batch)), seed: opts.seed ?? 1, cacheSize: opts.cacheSize ?? 4,
    };
    this.fixed = opts.fixed;
    this.classes = net.space.classes;
    const shard = opts.shard ?? { index: 0, count: 1 };
    this.rows = [Math.floor((shard.index * batch) / shard.count), Math.floor(((shard.index + 1) * batch) / shard.count)];
    const local = this.rows[1] - this.rows[0];
    if (local < 1) throw new InputError(`a batch of ${batch} cannot be split ${shard.count} ways`);
    this.x = new Float32Array(local * data.sampleSize);
    this.labels = new Int32Array(local);
    this.teacher = new Float32Array(local * this.classes);
    const a = opts.augment;
    if (a && a.height * a.width * a.channels !== data.sampleSize) throw new InputError(`augmenting ${a.height}x${a.width}x${a.channels} images, the samples have ${data.sampleSize} values`);
    this.augment = a && (a.pad > 0 || a.flip) ? { a, tmp: new Float32Array(data.sampleSize) } : null;
  }

  get stepsPerEpoch(): number {
    return Math.max(1, Math.floor(this.data.size / this.o.batch));
  }

  /**
   * The learning rate of step `step` (0-based): cosine from lr to 0 over totalSteps, or over the fraction
   * `progress` of a time budget when that is further along (a budgeted run still anneals to zero).
   */
  lrAt(step: number, progress = 0): number {
    const f = Math.min(1, Math.max(step / this.o.totalSteps, progress));
    return 0.5 * this.o.lr * (1 + Math.cos(Math.PI * f));
  }

  /** The batch of step `step`: epoch e reads a seeded permutation, so a resumed run reads the same data. */
  private fillBatch(step: number): void {
    const per = this.stepsPerEpoch;
    const epoch = Math.floor(step / per);
    const order = this.orderFor(epoch);
    const start = (step % per) * this.o.batch + this.rows[0];
    const n = this.data.sampleSize;
    for (let b = 0; b < this.labels.length; b++) {
      this.labels[b] = this.data.read(order[start + b], this.x, b * n);
      if (this.augment) augmentImage(this.augment.a, this.x, b * n, this.augment.tmp, augmentDraw(this.augment.a, this.o.seed, step, this.rows[0] + b));
    }
  }

  private order: { epoch: number; perm: Int32Array } | null = null;
  private orderFor(epoch: number): Int32Array {
    if (!this.order || this.order.epoch !== epoch) this.order = { epoch, perm: shuffledIndices(this.data.size, (this.o.seed * 1_000_003 + epoch) >>> 0) };
    return this.order.perm;
  }

  /**
   * One WebAssembly instance for every subnet's session (each pass runs alone and leaves nothing behind):
   * a new random subnet each step would otherwise map and fault in an arena of its own.
   */
  private wasm(): WasmTrainInstance | undefined {
    if (defaultTrainingBackend() !== 'wasm') return undefined;
    return (this.instance ??= new WasmTrainInstance());
  }

  private instance: WasmTrainInstance | undefined;

  private compiled(arch: Arch, keep: boolean): Compiled {
    const key = archKey(this.net.space, arch);
    let c = this.cache.get(key);
    if (c?.session.detached) {
      this.cache.delete(key);
      c = undefined;
    }
    if (c) {
      this.cache.delete(key);
      this.cache.set(key, c);
      return c;
    }
    const g = buildSubnet(this.net.space, arch, this.net.source(), undefined, { kind: 'train' });
    const program = compileTraining(g, { kind: 'full' }, { batch: this.labels.length });
    const session = new TrainingSession(program, { collectGradients: true, maxLoss: 1e6, wasmInstance: this.wasm() });
    const params = [...session.trainedParameters()].map(([name, id]) => ({ name, id, shape: program.graph.tensors[id].shape }));
    c = { session, params };
    this.cache.set(key, c);
    if (!keep) {
      const evictable = [...this.cache.keys()].filter((k) => !this.pinned.has(k));
      while (evictable.length > this.o.cacheSize) this.cache.delete(evictable.shift()!);
    }
    return c;
  }

  /** The programs of the last step's teacher and smallest subnet: every step trains them again. */
  private pinned = new Set<string>();

  /** Forward and backward of one subnet on the current batch; its gradients added to the supernet's. */
  private trainSubnet(arch: Arch, keep: boolean, teach: boolean): { lossSum: number; correct: number; rows: number } {
    const c = this.compiled(arch, keep);
    const source = this.net.source();
    for (const p of c.params) c.session.writeParameter(p.id, source({ name: p.name, shape: p.shape, fanIn: 1, kind: p.name.endsWith('/bias') ? 'bias' : 'weights' }));
    c.session.parametersChanged();
    c.session.zeroGradients();
    const soft = teach
      ? { targets: this.teacher, mix: 0, probabilities: this.teacher }
      : { targets: this.teacher, mix: this.o.distillation };
    const r = c.session.step(this.x, this.labels, soft);
    // The session's loss is this shard's mean: scaled to a share of the whole batch's mean.
    const share = this.labels.length / this.o.batch;
    for (const p of c.params) {
      const g = c.session.collectedGradient(p.id)!;
      if (share !== 1) for (let i = 0; i < g.length; i++) g[i] *= share;
      this.net.accumulate(p.name, p.shape, g);
    }
    return { lossSum: r.loss * this.labels.length, correct: r.correct, rows: this.labels.length };
  }

  /** This shard's passes of one step: the batch rows, every subnet's forward/backward, gradients summed into the supernet. */
  passes(step: number, archs: Arch[]): PassReport {
    this.fillBatch(step);
    this.pinned = new Set(archs.slice(0, 2).map((a) => archKey(this.net.space, a)));
    const largest = this.trainSubnet(archs[0], true, true);
    if (archs.length === 1) return { largest, smallest: largest };
    const smallest = this.trainSubnet(archs[1], true, false);
    for (const a of archs.slice(2)) this.trainSubnet(a, false, false);
    return { largest, smallest };
  }

  /**
   * One sandwich step (0-based `step`: the batch, the random subnets and the learning rate follow from it).
   * With an executor the passes run there (worker threads, each a shard of the batch), else here.
   * `progress`: the fraction of the phase's time budget spent (see lrAt).
   */
  async step(step: number, executor?: PassExecutor, progress = 0): Promise<StepReport> {
    const t0 = performance.now();
    // Sorting moves channels; every subnet's parameters are written from the supernet before its pass.
    if (!this.fixed && step > 0 && step % this.o.sortEvery === 0) this.net.sortChannels();
    const archs = this.fixed ? [this.fixed] : sandwichArchs(this.net, step, this.o.seed, this.o.randomPerStep, this.ends);
    const r = executor ? await executor.passes(step, archs) : this.passes(step, archs);
    const lr = this.lrAt(step, progress);
    this.net.adam({ lr, weightDecay: this.o.weightDecay });
    const mean = (x: PassReport['largest']) => ({ loss: x.lossSum / x.rows, accuracy: x.correct / x.rows });
    return { step, lr, largest: mean(r.largest), smallest: mean(r.smallest), seconds: (performance.now() - t0) / 1000 };
  }
}
