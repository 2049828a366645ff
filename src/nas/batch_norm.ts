/**
 * Batch normalisation re-calibration (Once-for-All's "BN re-calibration"): a subnet of a weight-shared
 * supernet runs with the supernet's weights but not with the supernet's statistics, since which channels
 * and blocks precede a layer changes them. Its statistics are measured afresh on a few batches, each
 * normalised by its own statistics as in training, the per-batch means and variances averaged; the
 * inference graph folds them into its convolutions.
 */
import type { Graph } from '../graph/graph.js';
import { InputError } from '../errors.js';
import type { Samples } from '../data/samples.js';
import { compileTraining } from '../train/compile.js';
import { TrainingSession } from '../train/session.js';
import { channelStatistics } from '../ops/batch_normalize.js';
import { shuffledIndices } from '../util/random.js';
import type { Arch, SpaceConfig } from './space.js';
import type { BnStats, ParamSource } from './subnet_graph.js';
import { BN_EPSILON, buildSubnet } from './subnet_graph.js';

export interface RecalibrationOptions {
  /** Images measured (default 512), in batches of `batch` (default 64). */
  images?: number;
  batch?: number;
  seed?: number;
}

/** Per batch-normalised layer of the subnet: mean and variance of its convolution's output over `samples`. */
export function recalibrate(space: SpaceConfig, arch: Arch, source: ParamSource, samples: Samples, o: RecalibrationOptions = {}): BnStats {
  const batch = Math.min(o.batch ?? 64, samples.size);
  const batches = Math.max(1, Math.floor(Math.min(o.images ?? 512, samples.size) / batch));
  const g = buildSubnet(space, arch, source, undefined, { kind: 'train' });
  const program = compileTraining(g, { kind: 'full' }, { batch });
  // Forward passes only; collecting gradients keeps the parameters where they are whatever runs.
  const session = new TrainingSession(program, { collectGradients: true });
  const layers = program.graph.nodes.filter((n) => n.op === 'BATCH_NORMALIZE').map((n) => {
    const t = program.graph.tensors[n.inputs[0]];
    const C = t.shape[t.shape.length - 1];
    return { name: t.name, id: t.id, mean: new Float64Array(C), variance: new Float64Array(C) };
  });
  if (layers.length === 0) throw new InputError(`space ${space.name} has no batch normalisation to re-calibrate`);
  const order = shuffledIndices(samples.size, o.seed ?? 1);
  const x = new Float32Array(batch * samples.sampleSize);
  const widest = Math.max(...layers.map((l) => l.mean.length));
  const mean = new Float64Array(widest);
  const invStd = new Float64Array(widest);
  for (let k = 0; k < batches; k++) {
    for (let b = 0; b < batch; b++) samples.read(order[k * batch + b], x, b * samples.sampleSize);
    session.logits(x);
    for (const l of layers) {
      // The convolution's output is kept whole for the normalisation's backward: still there after forward.
      const v = session.activationValues(l.id) as Float32Array;
      const C = l.mean.length;
      channelStatistics(v, C, BN_EPSILON, mean, invStd);
      for (let c = 0; c < C; c++) {
        l.mean[c] += mean[c] / batches;
        l.variance[c] += (1 / (invStd[c] * invStd[c]) - BN_EPSILON) / batches;
      }
    }
  }
  return new Map(layers.map((l) => [l.name, { mean: Float32Array.from(l.mean), variance: Float32Array.from(l.variance) }]));
}

/**
 * The subnet as it infers: in a space with batch normalisation, folded with statistics re-calibrated on
 * `calibration`; otherwise the plain graph.
 */
export function inferenceSubnet(space: SpaceConfig, arch: Arch, source: ParamSource, calibration: Samples, o: RecalibrationOptions = {}): Graph {
  if (!space.batchNorm) return buildSubnet(space, arch, source);
  return buildSubnet(space, arch, source, undefined, { kind: 'fold', stats: recalibrate(space, arch, source, calibration, o) });
}
