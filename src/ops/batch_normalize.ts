import type { Graph, Node } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import { UnsupportedOpError } from '../errors.js';
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';

/**
 * BATCH_NORMALIZE, a training-time op of ours (no TFLite builtin; never read from or written to a file):
 * each channel (last axis) normalised by the statistics of the whole batch, (x - mean) / sqrt(var + eps),
 * mean and biased variance over every other axis, as batch normalisation trains. Its scale and shift are
 * not here: a 1x1 depthwise layer after it carries them, so they train as any layer's weights and biases
 * do. For inference the normalisation is folded, with re-calibrated statistics, into the convolution
 * before it (src/nas/batch_norm.ts), and the op disappears.
 */

/** Per channel of `x` (channels last): mean and 1 / sqrt(var + eps), accumulated in float64. */
export function channelStatistics(x: Float32Array, channels: number, eps: number, mean: Float64Array, invStd: Float64Array): void {
  const n = x.length / channels;
  mean.fill(0);
  invStd.fill(0);
  for (let i = 0; i < x.length; i += channels) for (let c = 0; c < channels; c++) mean[c] += x[i + c];
  for (let c = 0; c < channels; c++) mean[c] /= n;
  // Two passes: the variance of values far from zero keeps its digits.
  for (let i = 0; i < x.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      const d = x[i + c] - mean[c];
      invStd[c] += d * d;
    }
  }
  for (let c = 0; c < channels; c++) invStd[c] = 1 / Math.sqrt(invStd[c] / n + eps);
}

/**
 * The input gradient: with x^ = (x - mean) * s, dx = s * (dy - mean(dy) - x^ * mean(dy * x^)) per channel
 * (the batch statistics depend on every x). The statistics are recomputed from x, so backward keeps x only.
 */
export function batchNormalizeInputGrad(x: Float32Array, channels: number, eps: number, gy: Float32Array, gx: Float32Array, accumulate: boolean): void {
  const mean = new Float64Array(channels);
  const s = new Float64Array(channels);
  channelStatistics(x, channels, eps, mean, s);
  const sumG = new Float64Array(channels);
  const sumGx = new Float64Array(channels);
  for (let i = 0; i < x.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      const g = gy[i + c];
      sumG[c] += g;
      sumGx[c] += g * (x[i + c] - mean[c]) * s[c];
    }
  }
  const n = x.length / channels;
  for (let c = 0; c < channels; c++) { sumG[c] /= n; sumGx[c] /= n; }
  for (let i = 0; i < x.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      const xh = (x[i + c] - mean[c]) * s[c];
      const v = s[c] * (gy[i + c] - sumG[c] - xh * sumGx[c]);
      gx[i + c] = accumulate ? gx[i + c] + v : v;
    }
  }
}

function channelsOf(node: Node<'BATCH_NORMALIZE'>, g: Graph): number {
  const shape = inputTensor(node, g, 0).shape;
  return shape[shape.length - 1];
}

export const batchNormalize: OpDef<'BATCH_NORMALIZE'> = {
  name: 'BATCH_NORMALIZE',
  maxVersion: 1,
  role: 'other',

  inferShapes: (node, g) => [[...inputTensor(node, g, 0).shape]],

  prepare(node, g, views) {
    const input = inputTensor(node, g, 0);
    const output = outputTensor(node, g);
    if (input.dtype !== 'float32' || output.dtype !== 'float32') {
      throw new UnsupportedOpError(node.op, node.index, `${input.dtype} input: batch normalisation trains in float32`);
    }
    const C = channelsOf(node, g);
    const eps = node.options.epsilon;
    const x = views.float32(input.id);
    const y = views.float32(output.id);
    const mean = new Float64Array(C);
    const s = new Float64Array(C);
    return () => {
      channelStatistics(x, C, eps, mean, s);
      for (let i = 0; i < x.length; i += C) for (let c = 0; c < C; c++) y[i + c] = (x[i + c] - mean[c]) * s[c];
    };
  },

  macs: (node, g) => 3 * numElements(inputTensor(node, g, 0).shape),
};
