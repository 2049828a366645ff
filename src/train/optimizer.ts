/**
 * Parameter updates, one output channel (a "row") at a time so an update can run the moment its
 * gradient row exists. Gradients arrive in real units (dL/dW for the real-valued weight).
 *
 * Int8 / int32 parameters are trained as the integers they are stored as, q with W = s * q (s fixed,
 * per output channel). The gradient of q is s * dL/dW. Quantisation-aware scaling (QAS, Lin et al.
 * 2022) multiplies it by s^-2 (weights: s_W^-2; biases: s_b^-2 = (s_x s_W)^-2, as the reference
 * SGDScale does), which turns the SGD step on q into exactly the float step on W: q -= lr * dL/dW / s.
 * We implement QAS in that form: the optimizer runs on the real-valued parameter (its state in real
 * units) and its step is mapped to integer units by 1/s. For SGD, with or without momentum, this is the
 * paper's rule exactly; for Adam (which normalises the gradient scale away, so scaling the gradient
 * alone would change nothing) it makes the learning rate mean what it means in float training.
 * Without QAS the optimizer runs on q itself with the gradient s * dL/dW: each layer's effective SGD
 * learning rate becomes lr * s^2, tiny and different per layer.
 */
import type { Graph, Tensor } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import type { TrainableParam } from './update.js';
import type { OptimizerSpec, Rounding } from './optimizer_spec.js';
import { DivergenceError } from './errors.js';

/** Shared by every parameter of a session: the live learning rate and the step counter. */
export interface OptimizerClock {
  lr: number;
  step: number;
}

/** Where each trained element lives: compact element e -> flat index into the tensor, and its output channel. */
export interface ParamLayout {
  rows: number;
  rowLength: number;
  index: Int32Array;
  channel: Int32Array;
}

export function paramLayout(g: Graph, p: TrainableParam): ParamLayout {
  const w = g.tensors[p.tensor];
  if (p.role === 'bias') {
    const n = numElements(w.shape);
    const index = Int32Array.from({ length: n }, (_, i) => i);
    return { rows: n, rowLength: 1, index, channel: index };
  }
  const kept = p.channels ?? Int32Array.from({ length: p.layer.inChannels }, (_, i) => i);
  const k = kept.length;
  const index = new Int32Array(p.elements);
  const channel = new Int32Array(p.elements);
  if (p.layer.kind === 'depthwise') {
    const [, kH, kW, cout] = w.shape;
    const taps = kH * kW;
    const M = cout / p.layer.inChannels;
    let e = 0;
    for (let j = 0; j < k; j++) {
      for (let m = 0; m < M; m++) {
        const oc = kept[j] * M + m;
        for (let t = 0; t < taps; t++, e++) { index[e] = t * cout + oc; channel[e] = oc; }
      }
    }
    return { rows: k * M, rowLength: taps, index, channel };
  }
  const cout = w.shape[0];
  const inC = w.shape[w.shape.length - 1];
  const taps = numElements(w.shape) / cout / inC;
  let e = 0;
  for (let co = 0; co < cout; co++) {
    for (let t = 0; t < taps; t++) {
      for (let j = 0; j < k; j++, e++) { index[e] = (co * taps + t) * inC + kept[j]; channel[e] = co; }
    }
  }
  return { rows: cout, rowLength: taps * k, index, channel };
}

export interface UpdateRule {
  spec: OptimizerSpec;
  rounding: Rounding;
  qas: boolean;
}

/** One trained parameter: its storage, optimizer state and how updates land on it. */
export class ParamUpdater {
  readonly layout: ParamLayout;
  private readonly values: Float32Array | Int8Array | Int32Array;
  /** Per trained element: dL/dW (real) -> the gradient the optimizer sees; its step -> integer units; stored value -> optimizer units. */
  readonly gradScale: Float32Array;
  readonly stepScale: Float32Array;
  readonly valueScale: Float32Array;
  private readonly state: Float32Array[];
  private readonly shadow: Float32Array | null;
  private readonly lo: number;
  private readonly hi: number;
  private readonly quantised: boolean;
  /** One row's new values (real units before rounding), reused. */
  private next = new Float64Array(0);

  constructor(
    g: Graph, readonly param: TrainableParam, private readonly rule: UpdateRule, private readonly clock: OptimizerClock,
    private readonly random: () => number, biasScales: (p: TrainableParam) => Float64Array,
  ) {
    const t = g.tensors[param.tensor];
    this.layout = paramLayout(g, param);
    this.values = typedValues(t);
    this.quantised = t.dtype !== 'float32';
    [this.lo, this.hi] = t.dtype === 'int8' ? [-127, 127] : [-2147483647, 2147483647];
    const n = param.elements;
    this.gradScale = new Float32Array(n).fill(1);
    this.stepScale = new Float32Array(n).fill(1);
    this.valueScale = new Float32Array(n).fill(1);
    if (this.quantised) {
      const scales = param.role === 'bias' ? biasScales(param) : Float64Array.from(t.quant!.scale);
      for (let e = 0; e < n; e++) {
        const s = scales.length === 1 ? scales[0] : scales[this.layout.channel[e]];
        if (rule.qas) {
          this.stepScale[e] = 1 / s;
          this.valueScale[e] = s;
        } else {
          this.gradScale[e] = s;
        }
      }
    }
    const slots = rule.spec.kind === 'adam' ? 2 : rule.spec.momentum ? 1 : 0;
    this.state = Array.from({ length: slots }, () => new Float32Array(n));
    this.shadow = this.quantised && rule.rounding === 'shadow' ? Float32Array.from(this.layout.index, (i) => this.values[i]) : null;
  }

  /** Bytes of optimizer state and shadow this parameter holds. */
  get stateBytes(): number {
    return 4 * this.param.elements * (this.state.length + (this.shadow ? 1 : 0));
  }

  /** When set, gradients are summed here (in the tensor's element order) and the parameter stays put. */
  sink: Float32Array | null = null;

  /** Apply the update of row `row` from its gradient (real units) grad[off .. off + rowLength). */
  applyRow(row: number, grad: Float32Array, off: number): void {
    const { rowLength, index } = this.layout;
    if (this.sink) {
      const sink = this.sink;
      for (let k = 0, e = row * rowLength; k < rowLength; k++, e++) sink[index[e]] += grad[off + k];
      return;
    }
    const spec = this.rule.spec;
    const adam = spec.kind === 'adam';
    const b1 = adam ? spec.beta1 ?? 0.9 : 0;
    const b2 = adam ? spec.beta2 ?? 0.999 : 0;
    const rule: RowRule = {
      adam, momentum: spec.kind === 'sgd' ? spec.momentum ?? 0 : 0, lr: this.clock.lr, wd: spec.weightDecay ?? 0,
      b1, b2, c1: 1 - b1 ** this.clock.step, c2: 1 - b2 ** this.clock.step, eps: adam ? spec.eps ?? 1e-8 : 0,
    };
    if (this.next.length < rowLength) this.next = new Float64Array(rowLength);
    const next = this.next;
    const e0 = row * rowLength;
    const bad = stepRow(rule, e0, rowLength, index, grad, off, this.gradScale, this.valueScale, this.stepScale, this.shadow ?? this.values, this.shadow !== null, this.state[0], this.state[1], next);
    if (bad >= 0) {
      throw new DivergenceError(this.clock.step, NaN, `the update of ${this.param.layer.name} ${this.param.role} is not finite`);
    }
    if (!this.quantised) {
      const values = this.values;
      for (let k = 0; k < rowLength; k++) values[index[e0 + k]] = next[k];
      return;
    }
    for (let k = 0; k < rowLength; k++) this.store(e0 + k, index[e0 + k], next[k]);
  }

  private store(e: number, i: number, v: number): void {
    if (!this.quantised) {
      this.values[i] = v;
      return;
    }
    let q: number;
    if (this.shadow) {
      this.shadow[e] = Math.min(this.hi, Math.max(this.lo, v));
      q = Math.round(this.shadow[e]);
    } else if (this.rule.rounding === 'stochastic') {
      q = Math.floor(v + this.random());
    } else {
      q = Math.round(v);
    }
    this.values[i] = q < this.lo ? this.lo : q > this.hi ? this.hi : q;
  }
}

/** What one row's update needs of the rule, worked out once per row (Adam's bias corrections c1, c2). */
interface RowRule {
  adam: boolean;
  momentum: number;
  lr: number;
  wd: number;
  b1: number;
  b2: number;
  c1: number;
  c2: number;
  eps: number;
}

/**
 * The optimizer step of elements e0 .. e0 + n: their state updated, their new values (current + step)
 * into next; returns the first element whose step is not finite (its state already updated), or -1.
 * A function of its arguments alone: V8 compiles this loop several times faster than as a method.
 */
function stepRow(
  r: RowRule, e0: number, n: number, index: Int32Array, grad: Float32Array, off: number, gradScale: Float32Array, valueScale: Float32Array, stepScale: Float32Array,
  from: Float32Array | Int8Array | Int32Array, byElement: boolean, m: Float32Array | undefined, v: Float32Array | undefined, next: Float64Array,
): number {
  for (let k = 0; k < n; k++) {
    const e = e0 + k;
    const current = from[byElement ? e : index[e]];
    const gq = grad[off + k] * gradScale[e] + r.wd * current * valueScale[e];
    let delta: number;
    if (r.adam) {
      m![e] = r.b1 * m![e] + (1 - r.b1) * gq;
      v![e] = r.b2 * v![e] + (1 - r.b2) * gq * gq;
      delta = (-r.lr * (m![e] / r.c1)) / (Math.sqrt(v![e] / r.c2) + r.eps);
    } else if (m) {
      m[e] = r.momentum * m[e] + gq;
      delta = -r.lr * m[e];
    } else {
      delta = -r.lr * gq;
    }
    if (!Number.isFinite(delta)) return e;
    next[k] = current + delta * stepScale[e];
  }
  return -1;
}

/** Per output channel scale of a trained int32 bias: its own, else input scale * weight scale. */
export function biasScales(g: Graph, p: TrainableParam): Float64Array {
  const b = g.tensors[p.tensor];
  const n = numElements(b.shape);
  if (b.quant && (b.quant.scale.length === n || b.quant.scale.length === 1)) return Float64Array.from(b.quant.scale);
  const node = g.nodes[p.layer.node];
  const sx = g.tensors[node.inputs[0]].quant!.scale[0];
  const sw = g.tensors[node.inputs[1]].quant!.scale;
  return Float64Array.from({ length: n }, (_, c) => sx * sw[sw.length === 1 ? 0 : c]);
}

/** A typed view over a constant tensor's (private, aligned) bytes. */
export function typedValues(t: Tensor): Float32Array | Int8Array | Int32Array {
  const d = t.data!;
  const n = numElements(t.shape);
  switch (t.dtype) {
    case 'float32': return new Float32Array(d.buffer, d.byteOffset, n);
    case 'int8': return new Int8Array(d.buffer, d.byteOffset, n);
    case 'int32': return new Int32Array(d.buffer, d.byteOffset, n);
    default: throw new Error(`cannot train a ${t.dtype} parameter (${t.name})`);
  }
}
