import type { Graph, TensorId } from '../../src/graph/graph.js';
import { numElements } from '../../src/graph/graph.js';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { Activation, Padding } from '../../src/graph/options.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { seededRandom } from '../../src/util/random.js';
import { cloneGraph, lossHead } from '../../src/train/graph_prep.js';

export type Rand = () => number;

export function rng(seed: number): Rand {
  return seededRandom(seed);
}

export function randn(r: Rand): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

export function randomFloats(r: Rand, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => randn(r) * scale);
}

/** Small float graphs built by hand: a builder with helpers for layers with random weights. */
export class Net {
  readonly b: GraphBuilder;
  private k = 0;

  constructor(readonly r: Rand, name = 'net') {
    this.b = new GraphBuilder(name);
  }

  input(shape: number[]): TensorId {
    const x = this.b.tensor('input', shape, 'float32');
    this.b.input(x);
    return x;
  }

  private t(shape: number[], what: string): TensorId {
    return this.b.tensor(`${what}${this.k++}`, shape, 'float32');
  }

  conv(x: TensorId, inShape: number[], cout: number, kH: number, kW: number, o: { stride?: number; padding?: Padding; act?: Activation; dilation?: number } = {}): { y: TensorId; shape: number[] } {
    const [B, H, W, C] = inShape;
    const s = o.stride ?? 1;
    const d = o.dilation ?? 1;
    const padding = o.padding ?? 'SAME';
    const eff = (k: number) => (k - 1) * d + 1;
    const oh = padding === 'SAME' ? Math.ceil(H / s) : Math.floor((H - eff(kH)) / s) + 1;
    const ow = padding === 'SAME' ? Math.ceil(W / s) : Math.floor((W - eff(kW)) / s) + 1;
    const w = this.b.constant(`w${this.k++}`, [cout, kH, kW, C], 'float32', randomFloats(this.r, cout * kH * kW * C, 1 / Math.sqrt(kH * kW * C)));
    const bias = this.b.constant(`b${this.k++}`, [cout], 'float32', randomFloats(this.r, cout, 0.1));
    const shape = [B, oh, ow, cout];
    const y = this.t(shape, 'conv');
    this.b.node('CONV_2D', [x, w, bias], [y], { padding, strideH: s, strideW: s, dilationH: d, dilationW: d, activation: o.act ?? 'NONE' });
    return { y, shape };
  }

  depthwise(x: TensorId, inShape: number[], M: number, o: { stride?: number; padding?: Padding; act?: Activation; k?: number } = {}): { y: TensorId; shape: number[] } {
    const [B, H, W, C] = inShape;
    const s = o.stride ?? 1;
    const k = o.k ?? 3;
    const padding = o.padding ?? 'SAME';
    const oh = padding === 'SAME' ? Math.ceil(H / s) : Math.floor((H - k) / s) + 1;
    const ow = padding === 'SAME' ? Math.ceil(W / s) : Math.floor((W - k) / s) + 1;
    const w = this.b.constant(`dw${this.k++}`, [1, k, k, C * M], 'float32', randomFloats(this.r, k * k * C * M, 1 / k));
    const bias = this.b.constant(`db${this.k++}`, [C * M], 'float32', randomFloats(this.r, C * M, 0.1));
    const shape = [B, oh, ow, C * M];
    const y = this.t(shape, 'dw');
    this.b.node('DEPTHWISE_CONV_2D', [x, w, bias], [y], { padding, strideH: s, strideW: s, dilationH: 1, dilationW: 1, activation: o.act ?? 'NONE', depthMultiplier: M });
    return { y, shape };
  }

  fc(x: TensorId, batches: number, K: number, units: number, act: Activation = 'NONE'): { y: TensorId; shape: number[] } {
    const w = this.b.constant(`fw${this.k++}`, [units, K], 'float32', randomFloats(this.r, units * K, 1 / Math.sqrt(K)));
    const bias = this.b.constant(`fb${this.k++}`, [units], 'float32', randomFloats(this.r, units, 0.1));
    const shape = [batches, units];
    const y = this.t(shape, 'fc');
    this.b.node('FULLY_CONNECTED', [x, w, bias], [y], { activation: act, keepNumDims: false });
    return { y, shape };
  }

  reshape(x: TensorId, shape: number[]): TensorId {
    const y = this.t(shape, 'reshape');
    const s = this.b.constant(`shape${this.k++}`, [shape.length], 'int32', Int32Array.from(shape));
    this.b.node('RESHAPE', [x, s], [y], { newShape: [...shape] });
    return y;
  }

  unary(op: 'RELU' | 'RELU6' | 'LOGISTIC' | 'TANH', x: TensorId, shape: number[]): TensorId {
    const y = this.t(shape, op.toLowerCase());
    this.b.node(op, [x], [y], {});
    return y;
  }

  binary(op: 'ADD' | 'SUB' | 'MUL', a: TensorId, c: TensorId, shape: number[], act: Activation = 'NONE'): TensorId {
    const y = this.t(shape, op.toLowerCase());
    this.b.node(op, [a, c], [y], { activation: act });
    return y;
  }

  pool(op: 'AVERAGE_POOL_2D' | 'MAX_POOL_2D', x: TensorId, inShape: number[], f: number, s: number, padding: Padding): { y: TensorId; shape: number[] } {
    const [B, H, W, C] = inShape;
    const oh = padding === 'SAME' ? Math.ceil(H / s) : Math.floor((H - f) / s) + 1;
    const ow = padding === 'SAME' ? Math.ceil(W / s) : Math.floor((W - f) / s) + 1;
    const shape = [B, oh, ow, C];
    const y = this.t(shape, 'pool');
    this.b.node(op, [x], [y], { padding, strideH: s, strideW: s, filterH: f, filterW: f, activation: 'NONE' });
    return { y, shape };
  }

  mean(x: TensorId, inShape: number[], axes: number[], keepDims: boolean): { y: TensorId; shape: number[] } {
    const shape = keepDims ? inShape.map((d, i) => (axes.includes(i) ? 1 : d)) : inShape.filter((_, i) => !axes.includes(i));
    const a = this.b.constant(`axes${this.k++}`, [axes.length], 'int32', Int32Array.from(axes));
    const y = this.t(shape, 'mean');
    this.b.node('MEAN', [x, a], [y], { keepDims });
    return y === undefined ? { y, shape } : { y, shape };
  }

  squeeze(x: TensorId, shape: number[], dims: number[]): TensorId {
    const y = this.t(shape, 'squeeze');
    this.b.node('SQUEEZE', [x], [y], { squeezeDims: dims });
    return y;
  }

  softmax(x: TensorId, shape: number[], beta = 1): TensorId {
    const y = this.t(shape, 'softmax');
    this.b.node('SOFTMAX', [x], [y], { beta });
    return y;
  }

  /** Flatten to [B, N] logits, softmax, output. */
  finish(x: TensorId, shape: number[]): Graph {
    const B = shape[0];
    const N = numElements(shape) / B;
    const flat = shape.length === 2 ? x : this.reshape(x, [B, N]);
    const p = this.softmax(flat, [B, N]);
    this.b.output(p);
    return this.b.build();
  }
}

/** Mean softmax cross-entropy of the graph's logits (float64 on the float32 forward). */
export function meanLoss(g: Graph, x: Float32Array, labels: ArrayLike<number>): number {
  const interp = new Interpreter(g, { preserveAll: true });
  interp.setInput(0, new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
  interp.invoke();
  const head = lossHead(g);
  const z = new Float32Array(interp.tensor(head.logits).slice().buffer);
  const C = head.classes;
  let loss = 0;
  for (let b = 0; b < labels.length; b++) {
    let max = -Infinity;
    for (let j = 0; j < C; j++) max = Math.max(max, z[b * C + j]);
    let s = 0;
    for (let j = 0; j < C; j++) s += Math.exp(head.beta * (z[b * C + j] - max));
    loss += Math.log(s) - head.beta * (z[b * C + labels[b]] - max);
  }
  return loss / labels.length;
}

/** The graph with constant `id` replaced by values[i] + eps * dir[i]. */
export function perturbed(g: Graph, id: TensorId, dir: Float32Array, eps: number): Graph {
  const c = cloneGraph(g);
  const t = c.tensors[id];
  const v = new Float32Array(t.data!.buffer, t.data!.byteOffset, numElements(t.shape));
  for (let i = 0; i < v.length; i++) v[i] += eps * dir[i];
  return c;
}

export function unitDirection(r: Rand, n: number): Float32Array {
  const d = randomFloats(r, n);
  const norm = Math.sqrt(d.reduce((s, v) => s + v * v, 0));
  return d.map((v) => v / norm);
}

/** A small CNN over [1, H, W, C] images: conv3x3/2 RELU6, depthwise RELU6, conv1x1 RELU6, global average, FC. */
export function smallCnn(seed: number, H: number, W: number, C: number, classes: number): Graph {
  const n = new Net(rng(seed), 'small-cnn');
  const x = n.input([1, H, W, C]);
  const c1 = n.conv(x, [1, H, W, C], 8, 3, 3, { stride: 2, act: 'RELU6' });
  const d = n.depthwise(c1.y, c1.shape, 1, { act: 'RELU6' });
  const c2 = n.conv(d.y, d.shape, 16, 1, 1, { act: 'RELU6' });
  const p = n.pool('AVERAGE_POOL_2D', c2.y, c2.shape, c2.shape[1], 1, 'VALID');
  const flat = n.reshape(p.y, [1, 16]);
  const f = n.fc(flat, 1, 16, classes);
  return n.finish(f.y, f.shape);
}

/**
 * Images of `classes` separable patterns (stripes of different orientation and frequency) plus noise,
 * values in [-1, 1].
 */
export function patternData(seed: number, count: number, H: number, W: number, classes: number): { values: Float32Array; labels: Int32Array } {
  const r = rng(seed);
  const values = new Float32Array(count * H * W);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % classes;
    labels[i] = label;
    const angle = (Math.PI * label) / classes;
    const phase = r() * 2 * Math.PI;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const v = Math.sin((Math.cos(angle) * x + Math.sin(angle) * y) * 1.6 + phase);
        values[(i * H + y) * W + x] = Math.max(-1, Math.min(1, 0.8 * v + 0.3 * randn(r)));
      }
    }
  }
  return { values, labels };
}
