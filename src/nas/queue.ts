/**
 * Candidate evaluation over a real distributed queue, for searches that outgrow one machine: BullMQ jobs on
 * Redis, taken by `tinyml search-worker --queue URL` processes anywhere. Cost jobs carry their genomes;
 * score jobs name a snapshot of the supernet's weights and the validation split, stored once in Redis
 * under the search's id, which each worker fetches once and keeps.
 */
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { InputError, TinymlError } from '../errors.js';
import type { Samples } from '../data/samples.js';
import type { Limits, SubnetCost } from './resources.js';
import type { Arch, SpaceConfig } from './space.js';
import { Supernet } from './supernet.js';
import type { CostTask } from './worker.js';
import { runCostTask, scoreArchs, sharedSamples } from './worker.js';

const QUEUE = 'tinyml-nas';
/** A job not finished by then means the workers are gone: the search stops with an error, never hangs. */
const JOB_TIMEOUT_MS = 15 * 60_000;

type Job =
  | { type: 'cost'; task: CostTask }
  | { type: 'score'; id: string; space: SpaceConfig; width: number; resolution: number; classes: number; archs: Arch[] };

/** A Redis client that fails fast: a wrong URL is an error, not a retry loop. */
async function probe(url: string): Promise<Redis> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(`--queue "${url}" is not a URL (e.g. redis://127.0.0.1:6379)`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new InputError(`--queue "${url}" must be a redis:// URL`);
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    client.disconnect();
    throw new InputError(`cannot reach Redis at ${url}: ${(e as Error).message}`);
  }
  return client;
}

const connection = (url: string) => ({ url, maxRetriesPerRequest: null });

function keys(id: string) {
  return { weights: `tinyml:nas:${id}:weights`, inputs: `tinyml:nas:${id}:inputs`, labels: `tinyml:nas:${id}:labels` };
}

/** The search side: submits jobs and waits for their results. */
export class QueueEvaluator {
  private readonly id = randomUUID();
  private scoring: { net: Supernet; classes: number } | null = null;

  private constructor(readonly url: string, private readonly redis: Redis, private readonly queue: Queue, private readonly events: QueueEvents, private readonly chunk = 25) {}

  static async connect(url: string): Promise<QueueEvaluator> {
    const redis = await probe(url);
    const queue = new Queue(QUEUE, { connection: connection(url) });
    const events = new QueueEvents(QUEUE, { connection: connection(url) });
    await events.waitUntilReady();
    return new QueueEvaluator(url, redis, queue, events);
  }

  private async run<T>(jobs: Job[]): Promise<T[]> {
    if ((await this.queue.getWorkersCount()) === 0) {
      throw new TinymlError(`no tinyml search-worker is connected to ${this.url}: start one with \`tinyml search-worker --queue ${this.url}\``);
    }
    const added = await Promise.all(jobs.map((data) => this.queue.add(data.type, data, { removeOnComplete: true, removeOnFail: 100 })));
    try {
      return (await Promise.all(added.map((j) => j.waitUntilFinished(this.events, JOB_TIMEOUT_MS)))) as T[];
    } catch (e) {
      throw new TinymlError(`a search job failed or timed out on the queue at ${this.url}: ${(e as Error).message}`);
    }
  }

  async costs(kind: CostTask['kind'], space: SpaceConfig, archs: Arch[], limits: Limits): Promise<SubnetCost[]> {
    const jobs: Job[] = [];
    for (let i = 0; i < archs.length; i += this.chunk) jobs.push({ type: 'cost', task: { kind, space, archs: archs.slice(i, i + this.chunk), limits } });
    return (await this.run<SubnetCost[]>(jobs)).flat();
  }

  /** Store the supernet's weights and the validation split in Redis for the workers. */
  async attachScoring(net: Supernet, validation: Samples): Promise<void> {
    const values = new Float32Array(net.parameterCount);
    let at = 0;
    for (const p of net.params.values()) { values.set(p.values, at); at += p.values.length; }
    const x = new Float32Array(validation.size * validation.sampleSize);
    const labels = new Int32Array(validation.size);
    for (let i = 0; i < validation.size; i++) labels[i] = validation.read(i, x, i * validation.sampleSize);
    const k = keys(this.id);
    const buf = (a: Float32Array | Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    // Kept a day: a worker that joins late still finds them; a finished search need not clean up.
    await this.redis.multi().set(k.weights, buf(values), 'EX', 86400).set(k.inputs, buf(x), 'EX', 86400).set(k.labels, buf(labels), 'EX', 86400).exec();
    this.scoring = { net, classes: validation.classes };
  }

  async scores(archs: Arch[]): Promise<number[]> {
    if (!this.scoring) throw new TinymlError('scores before attachScoring');
    const { net, classes } = this.scoring;
    const jobs: Job[] = archs.map((a) => ({ type: 'score', id: this.id, space: net.space, width: net.width, resolution: net.resolution, classes, archs: [a] }));
    return (await this.run<number[]>(jobs)).flat();
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
    this.redis.disconnect();
  }
}

/** `tinyml search-worker`: takes jobs until stopped (SIGINT/SIGTERM), one at a time per unit of concurrency. */
export async function runQueueWorker(url: string, opts: { concurrency?: number; log?: (line: string) => void; signal?: AbortSignal } = {}): Promise<number> {
  const redis = await probe(url);
  const log = opts.log ?? (() => {});
  const cache = new Map<string, { net: Supernet; data: Samples }>();
  let done = 0;
  const scoringFor = async (j: Extract<Job, { type: 'score' }>) => {
    let s = cache.get(j.id);
    if (s) return s;
    const k = keys(j.id);
    const [w, x, l] = await Promise.all([redis.getBuffer(k.weights), redis.getBuffer(k.inputs), redis.getBuffer(k.labels)]);
    if (!w || !x || !l) throw new TinymlError(`search ${j.id}: its weights or validation data are gone from Redis`);
    const net = new Supernet(j.space, j.width, j.resolution);
    const values = new SharedArrayBuffer(w.byteLength);
    new Uint8Array(values).set(w);
    net.attachValues(values);
    const inputs = new SharedArrayBuffer(x.byteLength);
    new Uint8Array(inputs).set(x);
    const labels = new Int32Array(l.buffer.slice(l.byteOffset, l.byteOffset + l.byteLength));
    s = { net, data: sharedSamples(inputs, labels, j.classes) };
    cache.clear();
    cache.set(j.id, s);
    return s;
  };
  const worker = new Worker(QUEUE, async (job) => {
    const j = job.data as Job;
    let result: unknown;
    if (j.type === 'cost') result = runCostTask(j.task);
    else {
      const s = await scoringFor(j);
      result = scoreArchs(s.net, s.data, j.archs);
    }
    done++;
    log(`job ${job.id} (${j.type}) done; ${done} in all`);
    return result;
  }, { connection: connection(url), concurrency: opts.concurrency ?? 1 });
  await worker.waitUntilReady();
  log(`search-worker: taking jobs from ${url} (queue ${QUEUE})`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    opts.signal?.addEventListener('abort', stop);
  });
  await worker.close();
  redis.disconnect();
  log(`search-worker: stopped after ${done} jobs`);
  return done;
}
