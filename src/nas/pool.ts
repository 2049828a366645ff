/**
 * A pool of search worker threads (worker.ts). Batches are split into chunks so every worker stays busy;
 * results come back in the order asked. With one worker or none, work runs in this thread.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { TinymlError } from '../errors.js';
import type { Samples } from '../data/samples.js';
import type { Limits, SubnetCost } from './resources.js';
import type { Arch, SpaceConfig } from './space.js';
import type { Supernet } from './supernet.js';
import type { Dataset } from '../data/dataset.js';
import type { PassExecutor, SupernetTrainOptions } from './train_supernet.js';
import type { CostTask, ScoreSetup, WorkerReply, WorkerRequest } from './worker.js';
import { runCostTask, scoreArchs } from './worker.js';

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

type Pending = { resolve: (r: WorkerReply & { ok: true }) => void; reject: (e: Error) => void };
type Request = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class CostPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: WorkerRequest[] = [];
  private readonly waiting = new Map<number, Pending>();
  private nextId = 0;
  /** Single-thread scoring (no workers). */
  private local: { net: Supernet; data: Samples } | null = null;

  constructor(readonly size: number = defaultWorkers(), private readonly chunk = 25) {
    if (size <= 1) return;
    for (let i = 0; i < size; i++) {
      const w = new Worker(new URL('./worker.js', import.meta.url));
      w.on('message', (r: WorkerReply) => this.settle(w, r));
      w.on('error', (e) => this.fail(e));
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  /** Costs of `archs` in order (screen: the fast layer-wise estimate; measure: the compile pipeline). */
  async costs(kind: CostTask['kind'], space: SpaceConfig, archs: Arch[], limits: Limits): Promise<SubnetCost[]> {
    if (this.workers.length === 0) return runCostTask({ kind, space, archs, limits });
    const size = Math.max(1, Math.min(this.chunk, Math.ceil(archs.length / this.workers.length)));
    const parts: Promise<SubnetCost[]>[] = [];
    for (let i = 0; i < archs.length; i += size) parts.push(this.submit({ task: { kind, space, archs: archs.slice(i, i + size), limits } }).then((r) => r.costs!));
    return (await Promise.all(parts)).flat();
  }

  /**
   * Make `net` (its values moved into shared memory) and a validation split available to every worker,
   * so `scores` runs subnets in parallel on the live weights.
   */
  async attachScoring(net: Supernet, validation: Samples): Promise<void> {
    if (this.workers.length === 0) {
      this.local = { net, data: validation };
      return;
    }
    const values = net.shareValues();
    const inputs = new SharedArrayBuffer(4 * validation.size * validation.sampleSize);
    const x = new Float32Array(inputs);
    const labels = new Int32Array(validation.size);
    for (let i = 0; i < validation.size; i++) labels[i] = validation.read(i, x, i * validation.sampleSize);
    const setup: ScoreSetup = { space: net.space, width: net.width, resolution: net.resolution, values, inputs, labels, classes: validation.classes };
    // Every worker needs it: sent to each directly, not through the queue.
    await Promise.all(this.workers.map((w) => this.direct(w, { setup })));
  }

  /**
   * Data-parallel supernet training: each worker computes its shard of every batch (rows split evenly)
   * on the shared weights and leaves its gradients in a shared buffer; the executor sums them into `net`.
   * Null with fewer than two workers (the trainer then runs the passes itself).
   */
  async attachTraining(net: Supernet, data: Dataset, range: [number, number], options: SupernetTrainOptions): Promise<PassExecutor | null> {
    if (this.workers.length < 2) return null;
    const values = net.shareValues();
    const pixels = new SharedArrayBuffer(data.pixels.byteLength);
    new Uint8Array(pixels).set(data.pixels);
    const count = this.workers.length;
    const grads = this.workers.map(() => new SharedArrayBuffer(4 * net.parameterCount));
    await Promise.all(this.workers.map((w, index) => this.direct(w, {
      train: {
        space: net.space, width: net.width, resolution: net.resolution, values, grads: grads[index], pixels, labels: Int32Array.from(data.labels),
        shape: [data.height, data.width, data.channels], classNames: [...data.classNames], range, options: { ...options, shard: { index, count } },
      },
    })));
    const flat = grads.map((g) => new Float32Array(g));
    return {
      passes: async (step, archs) => {
        const parts = await Promise.all(this.workers.map((w) => this.direct(w, { passes: { step, archs } })));
        for (const f of flat) net.addGradients(f);
        const sum = (k: 'largest' | 'smallest') => parts.reduce((a, p) => ({ lossSum: a.lossSum + p.passes![k].lossSum, correct: a.correct + p.passes![k].correct, rows: a.rows + p.passes![k].rows }), { lossSum: 0, correct: 0, rows: 0 });
        return { largest: sum('largest'), smallest: sum('smallest') };
      },
    };
  }

  /** Validation accuracy of each subnet with inherited weights, in order. */
  async scores(archs: Arch[]): Promise<number[]> {
    if (this.workers.length === 0) {
      if (!this.local) throw new TinymlError('scores before attachScoring');
      return scoreArchs(this.local.net, this.local.data, archs);
    }
    return (await Promise.all(archs.map((a) => this.submit({ score: [a] }).then((r) => r.scores![0]))));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }

  private submit(req: Request): Promise<WorkerReply & { ok: true }> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.queue.push({ id, ...req } as WorkerRequest);
      this.pump();
    });
  }

  private direct(w: Worker, req: Request): Promise<WorkerReply & { ok: true }> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const i = this.idle.indexOf(w);
      if (i >= 0) this.idle.splice(i, 1);
      w.postMessage({ id, ...req });
    });
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) this.idle.pop()!.postMessage(this.queue.shift()!);
  }

  private settle(w: Worker, r: WorkerReply): void {
    const p = this.waiting.get(r.id);
    this.waiting.delete(r.id);
    this.idle.push(w);
    this.pump();
    if (!p) return;
    if (r.ok) p.resolve(r);
    else p.reject(new TinymlError(`search worker: ${r.error}`));
  }

  private fail(e: Error): void {
    for (const p of this.waiting.values()) p.reject(new TinymlError(`search worker died: ${e.message}`));
    this.waiting.clear();
  }
}
