/**
 * Which parameters a training run updates. The paper's sparse update: biases of the last N layers, and
 * the weights of chosen layers restricted to a fraction of their input channels (as the reference
 * implementation masks them), so backward only needs those channels of the layer's input.
 */
import type { Graph, TensorId } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import type { Layer } from './graph_prep.js';
import { layersOf } from './graph_prep.js';
import { TrainingConfigError } from './errors.js';

export interface WeightUpdate {
  /** Layer index (see `layersOf`); negative counts from the last layer (-1). */
  layer: number;
  /** Fraction of the layer's input channels whose weights are updated, in (0, 1]. */
  ratio: number;
}

export type UpdateSpec =
  | { kind: 'full' }
  /** Biases only: of the last `layers` layers, or of every layer when omitted. */
  | { kind: 'bias'; layers?: number }
  /** Weights and biases of the last k layers. */
  | { kind: 'last-k'; k: number }
  /** Biases of the last `biasLayers` layers plus channel-sparse weight updates of chosen layers. */
  | { kind: 'sparse'; biasLayers: number; weights: WeightUpdate[] };

/** Requests the CLI and trainer accept: a concrete spec, or `auto` (search under the memory budget). */
export type UpdateRequest = UpdateSpec | { kind: 'auto' };

export type ParamRole = 'weight' | 'bias';

export interface TrainableParam {
  tensor: TensorId;
  layer: Layer;
  role: ParamRole;
  /** For weights: the input channels updated (ascending), or null for all of them. */
  channels: Int32Array | null;
  /** Elements updated (the SRAM a device holds for this parameter, in elements). */
  elements: number;
}

export interface ResolvedUpdate {
  spec: UpdateSpec;
  description: string;
  params: TrainableParam[];
}

/**
 * `full` | `bias` | `bias:N` | `last` (= last-k:1) | `last-k:K` | `sparse:N` | `sparse:N:L@r,L@r` | `auto`.
 * In `sparse:N:L@r`, N is the number of last layers whose biases train, L a layer index (negative from
 * the end) whose weights train on a fraction r of its input channels.
 */
export function parseUpdate(text: string): UpdateRequest {
  const s = text.trim();
  const int = (v: string, what: string): number => {
    if (!/^-?\d+$/.test(v)) throw new TrainingConfigError(`update "${text}": ${what} "${v}" is not an integer`);
    return Number(v);
  };
  if (s === 'full' || s === 'auto') return { kind: s };
  if (s === 'bias') return { kind: 'bias' };
  if (s.startsWith('bias:')) return { kind: 'bias', layers: int(s.slice(5), 'layer count') };
  if (s === 'last') return { kind: 'last-k', k: 1 };
  if (s.startsWith('last-k:')) return { kind: 'last-k', k: int(s.slice(7), 'k') };
  if (s.startsWith('sparse:')) {
    const [n, list] = s.slice(7).split(':');
    const weights = (list ?? '').split(',').filter((p) => p.length > 0).map((p) => {
      const [l, r] = p.split('@');
      const ratio = r === undefined ? 1 : Number(r);
      if (!(ratio > 0 && ratio <= 1)) throw new TrainingConfigError(`update "${text}": channel ratio "${r}" must be in (0, 1]`);
      return { layer: int(l, 'layer'), ratio };
    });
    return { kind: 'sparse', biasLayers: int(n, 'bias layer count'), weights };
  }
  throw new TrainingConfigError(`update "${text}" is not one of full, bias, bias:N, last, last-k:K, sparse:N[:L@r,...], auto`);
}

/** parseUpdate for a concrete configuration (`auto` refused). */
export function parseUpdateSpec(text: string): UpdateSpec {
  const r = parseUpdate(text);
  if (r.kind === 'auto') throw new TrainingConfigError('"auto" is not a concrete update configuration here');
  return r;
}

export function formatUpdate(spec: UpdateRequest): string {
  switch (spec.kind) {
    case 'full': case 'auto': return spec.kind;
    case 'bias': return spec.layers === undefined ? 'bias' : `bias:${spec.layers}`;
    case 'last-k': return `last-k:${spec.k}`;
    case 'sparse': {
      const w = spec.weights.map((u) => `${u.layer}@${+u.ratio.toFixed(4)}`).join(',');
      return w ? `sparse:${spec.biasLayers}:${w}` : `sparse:${spec.biasLayers}`;
    }
  }
}

/** Per-layer decisions a spec implies: bias trained?, weight channel ratio (0: frozen). */
export function layerPlan(spec: UpdateSpec, layers: readonly Layer[]): { bias: boolean; ratio: number }[] {
  const L = layers.length;
  const plan = layers.map(() => ({ bias: false, ratio: 0 }));
  const lastN = (n: number) => Math.max(0, L - Math.max(0, Math.min(n, L)));
  const norm = (i: number): number => {
    const k = i < 0 ? L + i : i;
    if (k < 0 || k >= L) throw new TrainingConfigError(`layer ${i} does not exist: the model has ${L} layers with weights (0..${L - 1})`);
    return k;
  };
  switch (spec.kind) {
    case 'full':
      plan.forEach((p) => { p.bias = true; p.ratio = 1; });
      break;
    case 'bias':
      for (let i = spec.layers === undefined ? 0 : lastN(spec.layers); i < L; i++) plan[i].bias = true;
      break;
    case 'last-k':
      if (spec.k < 1) throw new TrainingConfigError('last-k needs k >= 1');
      for (let i = lastN(spec.k); i < L; i++) { plan[i].bias = true; plan[i].ratio = 1; }
      break;
    case 'sparse':
      for (let i = lastN(spec.biasLayers); i < L; i++) plan[i].bias = true;
      for (const w of spec.weights) plan[norm(w.layer)].ratio = w.ratio;
      break;
  }
  return plan;
}

/** The concrete parameters a spec trains, with the channels each weight update keeps. */
export function resolveUpdate(g: Graph, spec: UpdateSpec): ResolvedUpdate {
  const layers = layersOf(g);
  const plan = layerPlan(spec, layers);
  const params: TrainableParam[] = [];
  layers.forEach((layer, i) => {
    const p = plan[i];
    if (p.ratio > 0) {
      const x = g.tensors[g.nodes[layer.node].inputs[0]];
      if (p.ratio < 1 && layer.kind === 'fc' && x.shape[x.shape.length - 1] !== layer.inChannels) {
        throw new TrainingConfigError(`layer ${i} (${layer.name}) flattens its input: its weights train whole (ratio 1) or not at all`);
      }
      const channels = p.ratio >= 1 ? null : selectChannels(g, layer, p.ratio);
      const w = g.tensors[layer.weight];
      const total = numElements(w.shape);
      params.push({ tensor: layer.weight, layer, role: 'weight', channels, elements: channels ? (total / layer.inChannels) * channels.length : total });
    }
    if (p.bias && layer.bias >= 0) {
      params.push({ tensor: layer.bias, layer, role: 'bias', channels: null, elements: numElements(g.tensors[layer.bias].shape) });
    }
  });
  if (params.length === 0) throw new TrainingConfigError(`update ${formatUpdate(spec)} trains nothing in ${g.name}`);
  return { spec, description: formatUpdate(spec), params };
}

/** Channels kept by a fractional weight update. */
export function keptChannels(inChannels: number, ratio: number): number {
  return Math.max(1, Math.min(inChannels, Math.floor(inChannels * ratio)));
}

/**
 * The input channels with the largest weight norm (the reference implementation's `magnitude+`
 * criterion): a deterministic choice that needs no data.
 */
export function selectChannels(g: Graph, layer: Layer, ratio: number): Int32Array {
  const n = keptChannels(layer.inChannels, ratio);
  const norms = channelWeightNorms(g, layer);
  const order = Array.from(norms.keys()).sort((a, b) => norms[b] - norms[a] || a - b);
  return Int32Array.from(order.slice(0, n)).sort();
}

/** Squared L2 norm of the weights reading each input channel, in real units. */
export function channelWeightNorms(g: Graph, layer: Layer): Float64Array {
  const w = g.tensors[layer.weight];
  const norms = new Float64Array(layer.inChannels);
  const values = realValues(w.dtype, w.data!, numElements(w.shape));
  const scale = (outCh: number): number => {
    const q = w.quant;
    if (w.dtype !== 'int8' || !q) return 1;
    return q.scale.length === 1 ? q.scale[0] : q.scale[outCh];
  };
  const last = w.shape[w.shape.length - 1];
  for (let i = 0; i < values.length; i++) {
    const inner = i % last;
    const outer = Math.floor(i / last);
    let ch: number;
    let outCh: number;
    if (layer.kind === 'depthwise') {
      const M = last / layer.inChannels;
      ch = Math.floor(inner / M);
      outCh = inner;
    } else {
      ch = inner;
      outCh = Math.floor(outer / (numElements(w.shape) / w.shape[0] / last));
    }
    const v = values[i] * scale(outCh);
    norms[ch] += v * v;
  }
  return norms;
}

function realValues(dtype: string, data: Uint8Array, n: number): Float32Array | Int8Array {
  const buf = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  return dtype === 'int8' ? new Int8Array(buf, 0, n) : new Float32Array(buf, 0, n);
}
