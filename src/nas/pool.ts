/**
 * A pool of search worker threads (worker.ts). Batches are split into chunks so every worker stays busy;
 * results come back in the order asked. With one worker or none, work runs in this thread.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { TinymlError } from '../errors.js';
import type { Limits, SubnetCost } from './resources.js';
import type { Arch, SpaceConfig } from './space.js';
import type { CostTask, WorkerReply } from './worker.js';
import { runCostTask } from './worker.js';

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

export class CostPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { id: number; task: CostTask }[] = [];
  private readonly waiting = new Map<number, { resolve: (c: SubnetCost[]) => void; reject: (e: Error) => void }>();
  private nextId = 0;

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
    for (let i = 0; i < archs.length; i += size) parts.push(this.submit({ kind, space, archs: archs.slice(i, i + size), limits }));
    return (await Promise.all(parts)).flat();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }

  private submit(task: CostTask): Promise<SubnetCost[]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.queue.push({ id, task });
      this.pump();
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
    if (r.ok) p.resolve(r.costs);
    else p.reject(new TinymlError(`search worker: ${r.error}`));
  }

  private fail(e: Error): void {
    for (const p of this.waiting.values()) p.reject(new TinymlError(`search worker died: ${e.message}`));
    this.waiting.clear();
  }
}
