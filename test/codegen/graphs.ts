import type { Graph, QuantParams, TensorId } from '../../src/graph/graph.js';
import { GraphBuilder, perTensor } from '../../src/graph/builder.js';
import type { Activation, Padding } from '../../src/graph/options.js';
import { prng } from '../../src/plan/pack/local_search.js';

/**
 * Hand-built int8 graphs that reach kernel paths the shared models do not: dilation, depth multipliers,
 * odd channel counts (the SIMD loops' tails), broadcasting, MUL, MAX_POOL, constant operands, padding of
 * the innermost dimension, several fully-connected rows, softmax over several rows.
 */

type Rand = () => number;

function int8s(rand: Rand, n: number): Int8Array {
  return Int8Array.from({ length: n }, () => Math.floor(rand() * 255) - 127);
}

function q(scale: number, zp: number): QuantParams {
  return perTensor(Math.fround(scale), zp);
}

interface Act { id: TensorId; shape: number[]; scale: number }

class Net {
  readonly b: GraphBuilder;
  readonly rand: Rand;
  private n = 0;
  constructor(name: string, seed: number) {
    this.b = new GraphBuilder(name);
    this.rand = prng(seed);
  }

  input(shape: number[], scale = 0.05, zp = -3): Act {
    const id = this.b.tensor(`in${this.n++}`, shape, 'int8', q(scale, zp));
    this.b.input(id);
    return { id, shape, scale };
  }

  private out(shape: number[], scale: number, zp: number): Act {
    return { id: this.b.tensor(`t${this.n++}`, shape, 'int8', q(scale, zp)), shape, scale };
  }

  /** Per-channel filter scales, int32 bias at input_scale * filter_scale. */
  private weights(x: Act, shape: number[], channels: number, axis: number) {
    const scales = Array.from({ length: channels }, () => Math.fround(0.002 + this.rand() * 0.01));
    const w = this.b.constant(`w${this.n++}`, shape, 'int8', int8s(this.rand, shape.reduce((a, d) => a * d, 1)), { scale: scales, zeroPoint: scales.map(() => 0), axis });
    const bias = this.b.constant(`b${this.n++}`, [channels], 'int32', Int32Array.from({ length: channels }, () => Math.floor(this.rand() * 4000) - 2000),
      { scale: scales.map((s) => Math.fround(x.scale * s)), zeroPoint: scales.map(() => 0), axis: 0 });
    return { w, bias };
  }

  conv(x: Act, outC: number, k: [number, number], stride: number, padding: Padding, dil = 1, act: Activation = 'NONE'): Act {
    const [, h, w, c] = x.shape;
    const { w: wt, bias } = this.weights(x, [outC, k[0], k[1], c], outC, 0);
    const out = (n: number, kk: number) => padding === 'SAME' ? Math.ceil(n / stride) : Math.floor((n - ((kk - 1) * dil + 1)) / stride) + 1;
    const y = this.out([1, out(h, k[0]), out(w, k[1]), outC], 0.08, 5);
    this.b.node('CONV_2D', [x.id, wt, bias], [y.id], { padding, strideH: stride, strideW: stride, dilationH: dil, dilationW: dil, activation: act });
    return y;
  }

  depthwise(x: Act, mult: number, k: number, stride: number, padding: Padding, dil = 1, act: Activation = 'NONE'): Act {
    const [, h, w, c] = x.shape;
    const outC = c * mult;
    const { w: wt, bias } = this.weights(x, [1, k, k, outC], outC, 3);
    const out = (n: number) => padding === 'SAME' ? Math.ceil(n / stride) : Math.floor((n - ((k - 1) * dil + 1)) / stride) + 1;
    const y = this.out([1, out(h), out(w), outC], 0.06, -7);
    this.b.node('DEPTHWISE_CONV_2D', [x.id, wt, bias], [y.id], { padding, strideH: stride, strideW: stride, dilationH: dil, dilationW: dil, activation: act, depthMultiplier: mult });
    return y;
  }

  fc(x: Act, rows: number, depth: number, outN: number, act: Activation = 'NONE'): Act {
    const { w, bias } = this.weights(x, [outN, depth], outN, 0);
    const y = this.out([rows, outN], 0.1, 2);
    this.b.node('FULLY_CONNECTED', [x.id, w, bias], [y.id], { activation: act, keepNumDims: false });
    return y;
  }

  pool(op: 'MAX_POOL_2D' | 'AVERAGE_POOL_2D', x: Act, f: number, stride: number, padding: Padding, act: Activation = 'NONE'): Act {
    const [, h, w, c] = x.shape;
    const out = (n: number) => padding === 'SAME' ? Math.ceil(n / stride) : Math.floor((n - f) / stride) + 1;
    const y = { id: this.b.tensor(`t${this.n++}`, [1, out(h), out(w), c], 'int8', q(x.scale, 5)), shape: [1, out(h), out(w), c], scale: x.scale };
    this.b.node(op, [x.id], [y.id], { padding, strideH: stride, strideW: stride, filterH: f, filterW: f, activation: act });
    return y;
  }

  binary(op: 'ADD' | 'MUL', a: Act, bId: TensorId, outShape: number[], act: Activation = 'NONE'): Act {
    const y = this.out(outShape, op === 'MUL' ? 0.02 : 0.07, -1);
    this.b.node(op, [a.id, bId], [y.id], { activation: act });
    return y;
  }

  constInt8(shape: number[], scale: number, zp: number): TensorId {
    return this.b.constant(`k${this.n++}`, shape, 'int8', int8s(this.rand, shape.reduce((a, d) => a * d, 1)), q(scale, zp));
  }

  constInt32(values: number[]): TensorId {
    return this.b.constant(`c${this.n++}`, [values.length], 'int32', Int32Array.from(values));
  }

  build(...outputs: Act[]): Graph {
    for (const o of outputs) this.b.output(o.id);
    return this.b.build();
  }
}

/** Convolutions: strided SAME 3x3, dilated VALID 3x3, 1x1 with stride 2 and over three channels, odd channel counts, depth multipliers 2 and 4. */
export function convGraph(seed = 11): Graph {
  const n = new Net('cg_conv', seed);
  const x = n.input([1, 13, 11, 6]);
  const a = n.conv(x, 10, [3, 3], 2, 'SAME', 1, 'RELU6');
  const d = n.depthwise(a, 2, 5, 1, 'SAME');
  const e = n.depthwise(d, 1, 3, 2, 'SAME', 1, 'RELU');
  const f = n.conv(e, 7, [1, 1], 2, 'VALID');
  const g = n.conv(x, 5, [3, 2], 1, 'VALID', 2);
  const h = n.depthwise(g, 1, 3, 1, 'VALID', 2);
  // A depth multiplier of four (the DSP path's four outputs per weight word), and a pointwise convolution
  // over three channels on an odd pixel count (no whole group of four for the SMLAD loops).
  const m4 = n.depthwise(x, 4, 3, 2, 'SAME');
  const y = n.input([1, 5, 7, 3]);
  const p = n.conv(y, 9, [1, 1], 1, 'VALID');
  return n.build(f, h, m4, p);
}

/**
 * Wide layers whose working buffers outgrow any fixed stack array: 3x3 over 256 input channels (im2col
 * columns of 2,304 bytes), 3x3 over 128 (1,152), 5x5 over 128 (3,200), stride 1 and 2, SAME and VALID; a 1x1 over 256; and
 * 9x9 depthwise windows (81 taps), depth multiplier 1 and 2, stride 1 and 2; a dilated 3x3 over 128 channels; 5x5 and 7x7 depthwise windows on 7x7 and 12x12 maps.
 */
export function wideGraph(seed = 15): Graph {
  const n = new Net('cg_wide', seed);
  const x = n.input([1, 7, 7, 256]);
  const a = n.conv(x, 8, [3, 3], 1, 'SAME', 1, 'RELU');
  const b = n.conv(x, 6, [3, 3], 2, 'VALID');
  const c = n.conv(x, 128, [1, 1], 1, 'VALID');
  const d = n.conv(c, 5, [5, 5], 1, 'SAME');
  const e = n.conv(c, 7, [5, 5], 2, 'VALID');
  const m = n.conv(c, 9, [3, 3], 1, 'SAME', 1, 'RELU6');
  const y = n.input([1, 12, 12, 16], 0.04, 6);
  const f = n.depthwise(y, 1, 9, 1, 'SAME');
  const h = n.depthwise(f, 1, 9, 2, 'SAME', 1, 'RELU6');
  const k = n.depthwise(h, 2, 9, 1, 'SAME');
  // A dilated window over a multiple-of-four depth: the DSP path widens each tap from the input on its own.
  const r = n.conv(c, 6, [3, 3], 1, 'SAME', 2);
  // Windows past 3x3 on small maps, channels a multiple of four: the DSP depthwise sums border windows'
  // valid taps only.
  const dw5 = n.depthwise(c, 1, 5, 1, 'SAME');
  const dw7 = n.depthwise(y, 1, 7, 2, 'SAME', 1, 'RELU');
  return n.build(a, b, d, e, m, k, r, dw5, dw7);
}

/** Pools, broadcast ADD and MUL, a constant operand, several fully-connected rows. */
export function elementwiseGraph(seed = 12): Graph {
  const n = new Net('cg_elementwise', seed);
  const x = n.input([1, 6, 7, 9]);
  const y = n.input([1, 1, 1, 9], 0.03, 4);
  const m = n.pool('MAX_POOL_2D', x, 3, 2, 'SAME');
  const s = n.binary('ADD', m, y.id, m.shape, 'RELU');
  const p = n.binary('MUL', s, m.id, m.shape);
  const k = n.binary('ADD', p, n.constInt8([1, 1, 4, 9], 0.04, 3), p.shape);
  const v = n.pool('AVERAGE_POOL_2D', k, 2, 1, 'VALID', 'RELU6');
  const f = n.fc(v, 3, 18, 5, 'RELU');
  return n.build(f, s);
}

/** Data movement and reductions: PAD of every dimension, TRANSPOSE, MEAN, SOFTMAX over rows. */
export function movementGraph(seed = 13): Graph {
  const n = new Net('cg_movement', seed);
  const x = n.input([1, 5, 4, 7]);
  const padded = { id: n.b.tensor('padded', [1, 8, 5, 9], 'int8', q(0.05, -3)), shape: [1, 8, 5, 9], scale: 0.05 };
  n.b.node('PAD', [x.id, n.b.constant('pads', [4, 2], 'int32', Int32Array.from([0, 0, 1, 2, 0, 1, 1, 1]))], [padded.id], {});
  const tr = { id: n.b.tensor('transposed', [1, 9, 5, 8], 'int8', q(0.05, -3)), shape: [1, 9, 5, 8], scale: 0.05 };
  n.b.node('TRANSPOSE', [padded.id, n.constInt32([0, 3, 2, 1])], [tr.id], {});
  const mean = { id: n.b.tensor('mean', [1, 9, 1, 1], 'int8', q(0.03, 2)), shape: [1, 9, 1, 1], scale: 0.03 };
  n.b.node('MEAN', [tr.id, n.constInt32([2, 3])], [mean.id], { keepDims: true });
  const logits = { id: n.b.tensor('logits', [1, 9, 5, 8], 'int8', q(0.1, 0)), shape: [1, 9, 5, 8], scale: 0.1 };
  n.b.node('ADD', [tr.id, tr.id], [logits.id], { activation: 'NONE' });
  const sm = { id: n.b.tensor('softmax', [1, 9, 5, 8], 'int8', q(1 / 256, -128)), shape: [1, 9, 5, 8], scale: 1 / 256 };
  n.b.node('SOFTMAX', [logits.id], [sm.id], { beta: 1 });
  return n.build(mean, sm);
}

/**
 * The ops of patch-based plans in their general forms: STRIDED_SLICE as a patch crop, with negative and
 * non-unit strides and masks, with a shrunk axis; CONCATENATION along height (in place), and along
 * channels with inputs in other quantisations (requantised) and a constant input.
 */
export function sliceConcatGraph(seed = 14): Graph {
  const n = new Net('cg_slice_concat', seed);
  const x = n.input([1, 6, 7, 5]);
  const y = n.input([1, 4, 4, 3], 0.03, 4);
  const none = { beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0, offset: false };
  const slice = (name: string, shape: number[], begin: number[], end: number[], strides: number[], masks: Partial<typeof none> = {}): Act => {
    const id = n.b.tensor(name, shape, 'int8', q(0.05, -3));
    n.b.node('STRIDED_SLICE', [x.id, n.constInt32(begin), n.constInt32(end), n.constInt32(strides)], [id], { ...none, ...masks });
    return { id, shape, scale: 0.05 };
  };
  const crop = slice('crop', [1, 4, 4, 5], [0, 1, 2, 0], [1, 5, 6, 5], [1, 1, 1, 1]);
  const strided = slice('strided', [1, 3, 3, 2], [0, -1, 0, 1], [1, 0, 7, 5], [1, -2, 3, 2], { endMask: 0b0010 });
  const shrunk = slice('shrunk', [1, 7, 5], [0, 2, 0, 0], [1, 3, 7, 5], [1, 1, 1, 1], { shrinkAxisMask: 0b0010 });
  const top = slice('top', [1, 2, 7, 5], [0, 0, 0, 0], [1, 2, 7, 5], [1, 1, 1, 1]);
  const bottom = slice('bottom', [1, 3, 7, 5], [0, 3, 0, 0], [1, 6, 7, 5], [1, 1, 1, 1]);
  const rows = { id: n.b.tensor('rows', [1, 5, 7, 5], 'int8', q(0.05, -3)), shape: [1, 5, 7, 5], scale: 0.05 };
  n.b.node('CONCATENATION', [top.id, bottom.id], [rows.id], { axis: 1, activation: 'NONE' });
  const channels = { id: n.b.tensor('channels', [1, 4, 4, 10], 'int8', q(0.05, -3)), shape: [1, 4, 4, 10], scale: 0.05 };
  n.b.node('CONCATENATION', [crop.id, y.id, n.constInt8([1, 4, 4, 2], 0.08, 10)], [channels.id], { axis: -1, activation: 'NONE' });
  return n.build(strided, shrunk, rows, channels);
}

/**
 * Ops beyond the layers on random data (the zoo has three cases each): broadcast SUB, SQUARED_DIFFERENCE,
 * LOG_SOFTMAX (its fixed-point log over many sums), a comparison into SELECT_V2, REDUCE_MAX, BATCH_MATMUL
 * with adj_y, SPLIT.
 */
export function extraOpsGraph(seed = 16): Graph {
  const n = new Net('cg_extra_ops', seed);
  const x = n.input([2, 5, 12]);
  const act = (name: string, shape: number[], dtype: 'int8' | 'bool', scale: number, zp: number): Act =>
    ({ id: n.b.tensor(name, shape, dtype, dtype === 'bool' ? null : q(scale, zp)), shape, scale });
  const sub = act('sub', [2, 5, 12], 'int8', 0.08, -2);
  n.b.node('SUB', [x.id, n.constInt8([12], 0.04, 3)], [sub.id], { activation: 'NONE' });
  const sq = act('sqdiff', [2, 5, 12], 'int8', 0.02, -100);
  n.b.node('SQUARED_DIFFERENCE', [sub.id, x.id], [sq.id], {});
  const ls = act('log_softmax', [2, 5, 12], 'int8', 16 / 256, 127);
  n.b.node('LOG_SOFTMAX', [sq.id], [ls.id], {});
  const gt = act('greater', [2, 5, 12], 'bool', 1, 0);
  n.b.node('GREATER', [x.id, sub.id], [gt.id], {});
  const sel = act('select', [2, 5, 12], 'int8', 0.05, -3);
  n.b.node('SELECT_V2', [gt.id, x.id, sub.id], [sel.id], {});
  const rmax = act('reduce_max', [2, 12], 'int8', 0.05, -3);
  n.b.node('REDUCE_MAX', [sel.id, n.constInt32([1])], [rmax.id], { keepDims: false });
  const bm = act('matmul', [2, 5, 5], 'int8', 0.5, 0);
  n.b.node('BATCH_MATMUL', [sub.id, x.id], [bm.id], { adjX: false, adjY: true });
  const parts = [0, 1, 2].map((i) => act(`split${i}`, [2, 5, 4], 'int8', 16 / 256, 127));
  n.b.node('SPLIT', [n.constInt32([2]), ls.id], parts.map((p) => p.id), { numSplits: 3 });
  return n.build(parts[0], parts[2], rmax, bm);
}

/**
 * 3x3 depthwise layers for the Cortex-M 3x3 kernel (tm_dsp_dw3x3_s8): every shift case of its border windows
 * (SAME stride 1 and 3, stride 2 on odd and even maps: padding on both sides or the far side only), no
 * activation (the requantisation's sign correction), RELU and RELU6 at a zero point other than -128,
 * VALID (no border), a 3x3 map (all border but one window) and a 2-row map (the kernel declines it).
 */
export function depthwise3x3Graph(seed = 17): Graph {
  const n = new Net('cg_dw3x3', seed);
  const x = n.input([1, 9, 7, 8]);
  const a = n.depthwise(x, 1, 3, 1, 'SAME');
  const b = n.depthwise(a, 1, 3, 2, 'SAME', 1, 'RELU');
  const c = n.depthwise(x, 1, 3, 3, 'SAME', 1, 'RELU6');
  const y = n.input([1, 8, 6, 12]);
  const d = n.depthwise(y, 1, 3, 2, 'SAME', 1, 'RELU6');
  const e = n.depthwise(y, 1, 3, 1, 'VALID', 1, 'RELU');
  const z = n.input([1, 3, 3, 16]);
  const f = n.depthwise(z, 1, 3, 1, 'SAME', 1, 'RELU');
  const t = n.input([1, 2, 5, 4]);
  const g = n.depthwise(t, 1, 3, 1, 'SAME');
  return n.build(b, c, d, e, f, g);
}

export const HAND_BUILT: readonly (() => Graph)[] = [convGraph, elementwiseGraph, movementGraph, sliceConcatGraph, wideGraph, extraOpsGraph, depthwise3x3Graph];
