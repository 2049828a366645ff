/**
 * How much each parameter group would help: the paper measures it (fine-tune each group alone, record
 * the accuracy gain: hours of GPU time per model). We use the first-order estimate of the same thing:
 * an SGD step of rate lr on a parameter set S lowers the loss by lr * sum over S of g^2, g the mean
 * gradient (in real units: what QAS-scaled int8 SGD and float SGD both follow). It is additive over
 * groups, as the paper's contribution model is, and needs one backward pass over a probe batch.
 */
import type { AnyNode, Graph } from '../graph/graph.js';
import type { Samples } from '../data/samples.js';
import { shuffledIndices } from '../util/random.js';
import { compileTraining } from './compile.js';
import { GRADIENT_RULES } from './gradients.js';
import type { Layer } from './graph_prep.js';
import { layersOf, lossHead } from './graph_prep.js';
import { TrainingSession } from './session.js';
import { channelWeightNorms, keptChannels } from './update.js';

export interface LayerContribution {
  layer: Layer;
  /** First-order loss decrease per unit learning rate from training the bias. */
  bias: number;
  /** The same for the weights of each input channel. */
  channels: Float64Array;
  /** Weight channels in the order a ratio keeps them (largest weight norm first: the training criterion). */
  keepOrder: Int32Array;
}

/** Layers backprop can reach: those after the last node without a gradient rule. */
export function trainableLayers(g: Graph): Layer[] {
  const head = lossHead(g);
  let barrier = -1;
  for (const n of g.nodes as AnyNode[]) if (!head.skip.has(n.index) && !GRADIENT_RULES[n.op]) barrier = Math.max(barrier, n.index);
  return layersOf(g).filter((l) => l.node > barrier);
}

export function contributions(g: Graph, data: Samples, opts: { samples?: number; batch?: number; seed?: number } = {}): LayerContribution[] {
  const layers = trainableLayers(g);
  const all = layersOf(g);
  const firstK = all.length - all.indexOf(layers[0]);
  const batch = Math.min(opts.batch ?? 8, data.size);
  const steps = Math.max(1, Math.floor(Math.min(opts.samples ?? 32, data.size) / batch));
  // Gradients kept in buffers (no reorder) and a zero learning rate: the probe changes nothing.
  const program = compileTraining(g, { kind: 'last-k', k: firstK }, { batch, reorder: false, optimizer: { kind: 'sgd', lr: 0 }, rounding: 'nearest' });
  const session = new TrainingSession(program, { qas: true, layout: 'separate' });
  const sums = new Map<number, Float64Array>();
  for (const p of program.update.params) sums.set(p.tensor, new Float64Array(p.elements));
  const order = shuffledIndices(data.size, opts.seed ?? 3);
  const x = new Float32Array(batch * data.sampleSize);
  const labels = new Int32Array(batch);
  for (let s = 0; s < steps; s++) {
    for (let b = 0; b < batch; b++) labels[b] = data.read(order[(s * batch + b) % data.size], x, b * data.sampleSize);
    session.step(x, labels);
    for (const [t, acc] of sums) {
      const grad = session.gradientOf(t)!;
      for (let i = 0; i < acc.length; i++) acc[i] += grad[i] / steps;
    }
  }
  return layers.map((layer) => {
    const wSum = sums.get(layer.weight)!;
    const channels = new Float64Array(layer.inChannels);
    const w = g.tensors[layer.weight];
    // Gradient layout is the parameter layout with every channel kept (see paramLayout).
    if (layer.kind === 'depthwise') {
      const M = layer.outChannels / layer.inChannels;
      const taps = w.shape[1] * w.shape[2];
      for (let i = 0; i < wSum.length; i++) channels[Math.floor(i / (M * taps))] += wSum[i] ** 2;
    } else {
      for (let i = 0; i < wSum.length; i++) channels[i % layer.inChannels] += wSum[i] ** 2;
    }
    const bSum = layer.bias >= 0 ? sums.get(layer.bias) : undefined;
    const bias = bSum ? bSum.reduce((s, v) => s + v * v, 0) : 0;
    const norms = channelWeightNorms(g, layer);
    const keepOrder = Int32Array.from(Array.from(norms.keys()).sort((a, b) => norms[b] - norms[a] || a - b));
    return { layer, bias, channels, keepOrder };
  });
}

/** Contribution of training a fraction `ratio` of a layer's weights (the channels training would keep). */
export function weightContribution(c: LayerContribution, ratio: number): number {
  if (ratio <= 0) return 0;
  const n = keptChannels(c.layer.inChannels, ratio);
  let s = 0;
  for (let j = 0; j < n; j++) s += c.channels[c.keepOrder[j]];
  return s;
}
