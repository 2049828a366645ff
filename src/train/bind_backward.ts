/**
 * Binding backward steps to kernels: each compiled backward op becomes a closure over its buffers'
 * memory, with everything that does not change between steps (geometry, broadcast maps) resolved once.
 * Values stored as int8 are read through `floatOf` / `constantFloat` (dequantised float32).
 */
import type { AnyNode, Graph, Node, Tensor, TensorId } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import type { Kernel } from '../ops/op.js';
import { convWindowParams, window2d } from '../ops/conv_util.js';
import type { Window2D } from '../ops/conv_util.js';
import { InputError } from '../errors.js';
import type { BackwardOp } from './gradients.js';
import type { TrainStep, ValueBinding } from './program.js';
import type { ParamUpdater } from './optimizer.js';
import type { SessionMemory } from './views.js';
import type { TrainKernels } from './kernels/index.js';
import { transposeConvWeights } from './kernels/conv.js';
import { meanInputGrad, reductionStrides } from './kernels/pool.js';
import { broadcastMap, mulInputGrad, sigmoidGrad, softmaxGrad } from './kernels/elementwise.js';

export interface BackwardContext {
  g: Graph;
  memory: SessionMemory;
  updaters: Map<TensorId, ParamUpdater>;
  /** A buffer's values as float32 (dequantised when int8). */
  floatOf(buffer: number): Float32Array;
  /** A constant's values as float32 (dequantised per channel when int8), current as of this step. */
  constantFloat(id: TensorId): Float32Array;
  /** The layer kernels (TypeScript or WebAssembly). */
  kernels: TrainKernels;
  /** A float buffer for the session's lifetime, where the kernels work best on it. */
  floats(n: number): Float32Array;
}

export function bindBackward(ctx: BackwardContext, s: Extract<TrainStep, { kind: 'backward' }>): Kernel {
  const op = s.op;
  const node = ctx.g.nodes[op.node] as AnyNode;
  const gin = ctx.memory.float(s.src);
  if ('param' in op) return bindParamOp(ctx, s, op, node, gin);
  const gout = ctx.memory.float(s.dst);
  const acc = s.accumulate;
  const same = s.dst === s.src;
  const value = (k: number) => s.values[k];
  const kern = ctx.kernels;
  switch (op.op) {
    case 'clamp': {
      const v = value(0);
      if (v.form === 'bits') {
        const bits = ctx.memory.view(v.buffer) as Uint8Array;
        return () => kern.clampGradFromBits(bits, gin, gout, acc);
      }
      const raw = ctx.memory.view(v.buffer) as Int8Array | Float32Array;
      const { lo, hi } = v as Extract<ValueBinding, { form: 'mask-from-value' }>;
      return () => kern.clampGradFromValues(raw, lo, hi, gin, gout, acc);
    }
    case 'logistic': case 'tanh': {
      const b = value(0).buffer;
      return () => sigmoidGrad(op.op as 'logistic' | 'tanh', ctx.floatOf(b), gin, gout, acc);
    }
    case 'softmax': {
      const b = value(0).buffer;
      const depth = lastDim(ctx.g.tensors[op.src]);
      return () => softmaxGrad(ctx.floatOf(b), depth, op.beta, gin, gout, acc);
    }
    case 'copy':
      if (same) return () => {};
      return () => { if (acc) for (let i = 0; i < gout.length; i++) gout[i] += gin[i]; else gout.set(gin); };
    case 'sum_to': {
      if (same) return () => {};
      const m = broadcastMap(ctx.g.tensors[op.src].shape, ctx.g.tensors[op.dst].shape);
      return () => kern.sumToGrad(m, op.sign, gin, gout, acc);
    }
    case 'mul_input': {
      const m = broadcastMap(ctx.g.tensors[op.src].shape, ctx.g.tensors[op.dst].shape);
      const om = broadcastMap(ctx.g.tensors[op.src].shape, ctx.g.tensors[op.other].shape);
      const b = value(0).buffer;
      return () => mulInputGrad(m, om, ctx.floatOf(b), gin, gout, acc);
    }
    case 'batchnorm_input': {
      const b = value(0).buffer;
      const channels = lastDim(ctx.g.tensors[op.dst]);
      // Reads x and writes its gradient: never in place over a buffer it still reads.
      return () => kern.batchNormalizeInputGrad(ctx.floatOf(b), channels, op.epsilon, gin, gout, acc);
    }
    case 'avgpool_input': {
      const win = poolWindow(node as Node<'AVERAGE_POOL_2D'>, ctx.g);
      return () => kern.avgPoolInputGrad(win, gin, gout, acc);
    }
    case 'maxpool_input': {
      const win = poolWindow(node as Node<'MAX_POOL_2D'>, ctx.g);
      const xb = value(0).buffer;
      return () => kern.maxPoolInputGrad(win, ctx.floatOf(xb), gin, gout, acc);
    }
    case 'mean_input': {
      const inShape = ctx.g.tensors[op.dst].shape;
      const { strides, count } = reductionStrides(inShape, meanAxes(node as Node<'MEAN'>, ctx.g));
      return () => meanInputGrad(inShape, strides, count, gin, gout, acc);
    }
    case 'conv2d_input': {
      const { win, cout } = convWindow(node as Node<'CONV_2D'>, ctx.g);
      const wId = node.inputs[1];
      const taps = win.kH * win.kW;
      const wt = new Float32Array(cout * taps * win.inC);
      return () => {
        transposeConvWeights(ctx.constantFloat(wId), cout, taps, win.inC, wt);
        kern.conv2dInputGrad(win, cout, gin, wt, gout, acc);
      };
    }
    case 'depthwise_input': {
      const { win, cout } = convWindow(node as Node<'DEPTHWISE_CONV_2D'>, ctx.g);
      const wId = node.inputs[1];
      return () => kern.depthwiseInputGrad(win, cout / win.inC, gin, ctx.constantFloat(wId), gout, acc);
    }
    case 'fc_input': {
      const w = ctx.g.tensors[node.inputs[1]];
      const [units, K] = w.shape;
      const batches = gout.length / K;
      return () => kern.fcInputGrad(batches, units, K, gin, ctx.constantFloat(w.id), gout, acc);
    }
  }
}

/** Weight and bias gradients: computed row by row, applied at once (fused) or kept for a later update. */
function bindParamOp(ctx: BackwardContext, s: Extract<TrainStep, { kind: 'backward' }>, op: Extract<BackwardOp, { param: TensorId }>, node: AnyNode, dz: Float32Array): Kernel {
  const updater = ctx.updaters.get(op.param);
  const total = s.paramGrad >= 0 ? ctx.memory.float(s.paramGrad).length : updater!.param.elements;
  const rows = ctx.floats(total);
  const compute = paramGradient(ctx, op, node, dz, rows, s.values[0]);
  const keep = s.paramGrad >= 0 ? ctx.memory.float(s.paramGrad) : null;
  return () => {
    compute();
    if (keep) { keep.set(rows); return; }
    const u = updater!;
    for (let r = 0; r < u.layout.rows; r++) u.applyRow(r, rows, r * u.layout.rowLength);
  };
}

function paramGradient(ctx: BackwardContext, op: Extract<BackwardOp, { param: TensorId }>, node: AnyNode, dz: Float32Array, out: Float32Array, x: ValueBinding | undefined): () => void {
  const kern = ctx.kernels;
  if (op.op === 'bias') {
    const channels = numElements(ctx.g.tensors[op.param].shape);
    return () => kern.biasGrad(dz, channels, out);
  }
  // Weight ops read their input as channels, or (flattening FULLY_CONNECTED) as whole rows.
  const xb = x!.form === 'channels' ? x! : { form: 'channels' as const, buffer: x!.buffer, tensor: x!.tensor, channels: ctx.g.tensors[op.param].shape[1], pick: null };
  const pick = xb.pick;
  switch (op.op) {
    case 'conv2d_weight': {
      const { win, cout } = convWindow(node as Node<'CONV_2D'>, ctx.g);
      return () => kern.conv2dWeightGrad(win, cout, dz, ctx.floatOf(xb.buffer), xb.channels, pick, out);
    }
    case 'depthwise_weight': {
      const { win, cout } = convWindow(node as Node<'DEPTHWISE_CONV_2D'>, ctx.g);
      return () => kern.depthwiseWeightGrad(win, cout / win.inC, dz, ctx.floatOf(xb.buffer), xb.channels, pick, op.channels, out);
    }
    case 'fc_weight': {
      const units = ctx.g.tensors[op.param].shape[0];
      const xv = ctx.memory.view(xb.buffer);
      const batches = xv.length / xb.channels;
      return () => kern.fcWeightGrad(batches, units, dz, ctx.floatOf(xb.buffer), xb.channels, pick, out);
    }
  }
}

function lastDim(t: Tensor): number {
  return t.shape[t.shape.length - 1];
}

function convWindow(node: Node<'CONV_2D'> | Node<'DEPTHWISE_CONV_2D'>, g: Graph): { win: Window2D; cout: number } {
  const x = g.tensors[node.inputs[0]];
  const w = g.tensors[node.inputs[1]];
  const o = node.options;
  const [kH, kW] = [w.shape[1], w.shape[2]];
  const win = window2d(x.shape, kH, kW, convWindowParams(o));
  const cout = node.op === 'CONV_2D' ? w.shape[0] : w.shape[3];
  if (node.op === 'CONV_2D' && w.shape[3] !== x.shape[3]) {
    throw new InputError(`node ${node.index} (CONV_2D) is a grouped convolution: training supports groups = 1`);
  }
  return { win, cout };
}

function poolWindow(node: Node<'AVERAGE_POOL_2D'> | Node<'MAX_POOL_2D'>, g: Graph): Window2D {
  const o = node.options;
  return window2d(g.tensors[node.inputs[0]].shape, o.filterH, o.filterW, { padding: o.padding, strideH: o.strideH, strideW: o.strideW });
}

function meanAxes(node: Node<'MEAN'>, g: Graph): number[] {
  const t = g.tensors[node.inputs[1]];
  const rank = g.tensors[node.inputs[0]].shape.length;
  const d = t.data!;
  const raw = new Int32Array(d.slice().buffer, 0, numElements(t.shape));
  return [...new Set(Array.from(raw, (a) => (a < 0 ? a + rank : a)))];
}
