/**
 * A search worker thread: evaluates batches of subnets so the two (or more) cores of the machine work at
 * once. Cost tasks are plain data (the space, genomes, limits), so any worker can take any batch; score
 * tasks read the supernet's live weights from shared memory and a validation split sent once.
 */
import { parentPort } from 'node:worker_threads';
import { evaluateSamples } from '../data/evaluate.js';
import type { Samples } from '../data/samples.js';
import type { CostFidelity, Limits, SubnetCost } from './resources.js';
import { COST_FUNCTIONS } from './resources.js';
import type { Arch, SpaceConfig } from './space.js';
import { inferenceSubnet } from './batch_norm.js';
import { Supernet } from './supernet.js';
import type { PassReport, SupernetTrainOptions } from './train_supernet.js';
import { SupernetTrainer } from './train_supernet.js';
import { makeDataset } from '../data/dataset.js';
import { trainingView } from '../data/training_view.js';

export interface CostTask {
  kind: CostFidelity;
  space: SpaceConfig;
  archs: Arch[];
  limits: Limits;
}

/** What a worker needs to score subnets: the supernet's shared values and a validation split. */
export interface ScoreSetup {
  space: SpaceConfig;
  width: number;
  resolution: number;
  values: SharedArrayBuffer;
  /** Validation samples as real values, sample after sample (shared), and their labels. */
  inputs: SharedArrayBuffer;
  labels: Int32Array;
  classes: number;
}

/** What a worker needs to train its shard of each batch. */
export interface TrainSetup {
  space: SpaceConfig;
  width: number;
  resolution: number;
  values: SharedArrayBuffer;
  /** This worker's gradient buffer (the main thread sums and zeroes it). */
  grads: SharedArrayBuffer;
  /** The training images (uint8 NHWC, shared) and labels, and the pixel range. */
  pixels: SharedArrayBuffer;
  labels: Int32Array;
  shape: [number, number, number];
  classNames: string[];
  range: [number, number];
  options: SupernetTrainOptions;
}

export type WorkerRequest =
  | { id: number; task: CostTask }
  | { id: number; setup: ScoreSetup }
  | { id: number; score: Arch[] }
  | { id: number; train: TrainSetup }
  | { id: number; passes: { step: number; archs: Arch[] } };

export type WorkerReply =
  | { id: number; ok: true; costs?: SubnetCost[]; scores?: number[]; passes?: PassReport }
  | { id: number; ok: false; error: string };

export function runCostTask(t: CostTask): SubnetCost[] {
  const f = COST_FUNCTIONS[t.kind];
  return t.archs.map((a) => f(t.space, a, t.limits));
}

/** Validation samples over shared real values. */
export function sharedSamples(inputs: SharedArrayBuffer, labels: Int32Array, classes: number): Samples {
  const values = new Float32Array(inputs);
  const sampleSize = values.length / labels.length;
  return {
    size: labels.length, classes, sampleSize,
    read(i, out, offset) {
      out.set(values.subarray(i * sampleSize, (i + 1) * sampleSize), offset);
      return labels[i];
    },
  };
}

/** Validation accuracy of each subnet with the supernet's current weights. */
export function scoreArchs(net: Supernet, data: Samples, archs: Arch[]): number[] {
  // Batch normalisation re-calibrated on the validation images themselves (their pixels, never their labels).
  return archs.map((a) => evaluateSamples(inferenceSubnet(net.space, a, net.source(), data), data).accuracy);
}

if (parentPort) {
  const port = parentPort;
  let scoring: { net: Supernet; data: Samples } | null = null;
  let training: SupernetTrainer | null = null;
  port.on('message', (m: WorkerRequest) => {
    let reply: WorkerReply;
    try {
      if ('task' in m) {
        reply = { id: m.id, ok: true, costs: runCostTask(m.task) };
      } else if ('setup' in m) {
        const s = m.setup;
        const net = new Supernet(s.space, s.width, s.resolution);
        net.attachValues(s.values);
        scoring = { net, data: sharedSamples(s.inputs, s.labels, s.classes) };
        reply = { id: m.id, ok: true };
      } else if ('train' in m) {
        const t = m.train;
        const net = new Supernet(t.space, t.width, t.resolution);
        net.attachValues(t.values);
        net.attachGradients(t.grads);
        const [height, width, channels] = t.shape;
        const ds = makeDataset({ source: 'shared training images', count: t.labels.length, height, width, channels, pixels: new Uint8Array(t.pixels), labels: t.labels, classNames: t.classNames });
        training = new SupernetTrainer(net, trainingView(ds, { range: t.range }), t.options);
        reply = { id: m.id, ok: true };
      } else if ('passes' in m) {
        if (!training) throw new Error('passes before train setup');
        reply = { id: m.id, ok: true, passes: training.passes(m.passes.step, m.passes.archs) };
      } else {
        if (!scoring) throw new Error('score before setup');
        reply = { id: m.id, ok: true, scores: scoreArchs(scoring.net, scoring.data, m.score) };
      }
    } catch (e) {
      reply = { id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(reply);
  });
}
