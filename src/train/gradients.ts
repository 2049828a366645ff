/**
 * Autodiff as data: one table, op name -> the backward computation of that op (tinygrad's gradient.py
 * shape). A rule looks at one forward node and what is wanted of it (which inputs need a gradient, which
 * parameters train) and returns backward ops: small, typed records the compiler schedules, plans memory
 * for and binds to kernels. Nothing is recorded at run time.
 *
 * Conventions. `src` names the tensor whose gradient an op reads; `dst` the tensor whose gradient it
 * produces (the compiler decides whether that overwrites, accumulates, or reuses `src`'s buffer in place).
 * A layer's fused activation is undone first, in place: after its `clamp` op the output's gradient
 * buffer holds the gradient of the pre-activation sum, which the layer's other ops read.
 * Forward values an op needs are declared in `uses`, so the compiler knows what to keep for backward
 * (the whole tensor, a 1-bit mask of where a clamp passes, or only some channels).
 */
import type { AnyNode, Graph, Node, TensorId } from '../graph/graph.js';
import type { Activation, OpName } from '../graph/options.js';
import { UnsupportedOpError } from '../errors.js';
import { floatActivationRange, quantizedActivationRange } from '../quant/activation.js';
import type { OpDef } from '../ops/op.js';
import { OPS } from '../ops/registry.js';

/** A forward value read by a backward op. */
export type ValueUse =
  | { tensor: TensorId; as: 'full' }
  /** Only whether lo < value < hi (stored units: int8 codes or floats): one bit per element suffices. */
  | { tensor: TensorId; as: 'mask'; lo: number; hi: number }
  /** Only these channels of the last dimension (ascending); null: all of them. */
  | { tensor: TensorId; as: 'channels'; channels: Int32Array | null };

interface Base {
  node: number;
  src: TensorId;
  uses: ValueUse[];
}

export type BackwardOp =
  /** g_dst = g_src where lo < y < hi, else 0 (RELU, RELU6, RELU_N1_TO_1, fused or not). uses[0]: mask of y. */
  | Base & { op: 'clamp'; dst: TensorId }
  /** g_dst = g_src * f'(y) from the output y. uses[0]: y. */
  | Base & { op: 'logistic' | 'tanh'; dst: TensorId }
  /** g_dst = beta * y * (g_src - sum(g_src * y)) per row. uses[0]: y. */
  | Base & { op: 'softmax'; dst: TensorId; beta: number }
  /** Gradient of a layer's input: the transposed layer applied to the output gradient (reads the weights). */
  | Base & { op: 'conv2d_input' | 'depthwise_input' | 'fc_input'; dst: TensorId }
  /** Gradient of a layer's weights over the kept input channels; uses[0]: those channels of the input. */
  | Base & { op: 'conv2d_weight' | 'depthwise_weight' | 'fc_weight'; param: TensorId; channels: Int32Array | null }
  /** Gradient of a bias: the output gradient summed over everything but channels. */
  | Base & { op: 'bias'; param: TensorId }
  /** ADD/SUB: g_dst = sign * g_src summed over the dimensions dst was broadcast along. */
  | Base & { op: 'sum_to'; dst: TensorId; sign: 1 | -1 }
  /** MUL: g_dst = g_src * other, summed to dst's shape. uses[0]: the other operand. */
  | Base & { op: 'mul_input'; dst: TensorId; other: TensorId }
  /** Pools and MEAN: spread each output gradient over its window / reduced elements. */
  | Base & { op: 'avgpool_input' | 'mean_input'; dst: TensorId }
  /** MAX_POOL_2D: route each output gradient to its window's (first) maximum. uses: x, y. */
  | Base & { op: 'maxpool_input'; dst: TensorId }
  /** RESHAPE / SQUEEZE: the same values under another shape. */
  | Base & { op: 'copy'; dst: TensorId }
  /** BATCH_NORMALIZE: through the batch statistics too (recomputed from x). uses[0]: x. */
  | Base & { op: 'batchnorm_input'; dst: TensorId; epsilon: number };

export type BackwardOpName = BackwardOp['op'];

/** What the compiler wants of one node. */
export interface Want {
  /** Per node input: is its gradient needed (it leads back to something trained)? */
  inputs: boolean[];
  /** Weight channels to train (null: all), or undefined when the weight is frozen. */
  weight?: Int32Array | null;
  bias: boolean;
}

export type GradientRule = (node: AnyNode, g: Graph, want: Want) => BackwardOp[];

/** The clamp a fused activation applies, in the output's stored units; null when it is the identity. */
export function activationClamp(node: Node, act: Activation, g: Graph): { lo: number; hi: number } | null {
  const out = g.tensors[node.outputs[0]];
  if (act === 'NONE') return null;
  if (act !== 'RELU' && act !== 'RELU6' && act !== 'RELU_N1_TO_1') {
    throw new UnsupportedOpError(node.op, node.index, `no gradient for fused activation ${act}`);
  }
  if (out.dtype === 'int8') {
    const [lo, hi] = quantizedActivationRange(act, out.quant!.scale[0], out.quant!.zeroPoint[0], 'int8');
    return { lo, hi };
  }
  const [lo, hi] = floatActivationRange(act);
  return { lo, hi };
}

/** Undo a fused activation in place on the output gradient. */
function fused(node: AnyNode, g: Graph, act: Activation): BackwardOp[] {
  const c = activationClamp(node, act, g);
  const y = node.outputs[0];
  return c ? [{ op: 'clamp', node: node.index, src: y, dst: y, uses: [{ tensor: y, as: 'mask', lo: c.lo, hi: c.hi }] }] : [];
}

/** CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED: the same rule over three kernels. */
function layerRule(kind: 'conv2d' | 'depthwise' | 'fc'): GradientRule {
  return (node, g, want) => {
    const n = node as Node<'CONV_2D'> | Node<'DEPTHWISE_CONV_2D'> | Node<'FULLY_CONNECTED'>;
    const [x, w, b] = n.inputs;
    const y = n.outputs[0];
    const at = n.index;
    const ops = fused(node, g, n.options.activation);
    if (want.bias && b !== undefined && b >= 0) ops.push({ op: 'bias', node: at, src: y, param: b, uses: [] });
    // The input gradient reads the weights before this step's update: it runs first.
    if (want.inputs[0]) ops.push({ op: `${kind}_input`, node: at, src: y, dst: x, uses: [] });
    if (want.weight !== undefined) {
      // A flattening FULLY_CONNECTED (input [.., H, W, C] read as rows of K = H*W*C) reads whole rows.
      const flattening = kind === 'fc' && lastDim(g, x) !== g.tensors[w].shape[1];
      if (flattening && want.weight) throw new UnsupportedOpError(n.op, at, 'a channel-sparse update of a flattening FULLY_CONNECTED');
      const use: ValueUse = flattening ? { tensor: x, as: 'full' } : { tensor: x, as: 'channels', channels: want.weight };
      ops.push({ op: `${kind}_weight`, node: at, src: y, param: w, channels: want.weight, uses: [use] });
    }
    return ops;
  };
}

function lastDim(g: Graph, t: TensorId): number {
  const shape = g.tensors[t].shape;
  return shape[shape.length - 1];
}

function unary(op: 'clamp' | 'logistic' | 'tanh', bounds?: (n: AnyNode, g: Graph) => { lo: number; hi: number }): GradientRule {
  return (node, g, want) => {
    if (!want.inputs[0]) return [];
    const y = node.outputs[0];
    const base = { node: node.index, src: y, dst: node.inputs[0] };
    if (op === 'clamp') {
      const { lo, hi } = bounds!(node, g);
      return [{ ...base, op, uses: [{ tensor: y, as: 'mask', lo, hi }] }];
    }
    return [{ ...base, op, uses: [{ tensor: y, as: 'full' }] }];
  };
}

const clampOf = (act: Activation) => (n: AnyNode, g: Graph) => activationClamp(n, act, g)!;

function addSub(sign1: 1 | -1): GradientRule {
  return (node, g, want) => {
    const n = node as Node<'ADD'> | Node<'SUB'>;
    const y = n.outputs[0];
    const ops = fused(node, g, n.options.activation);
    n.inputs.forEach((x, i) => {
      if (want.inputs[i]) ops.push({ op: 'sum_to', node: n.index, src: y, dst: x, sign: i === 0 ? 1 : sign1, uses: [] });
    });
    return ops;
  };
}

const mulRule: GradientRule = (node, g, want) => {
  const n = node as Node<'MUL'>;
  const y = n.outputs[0];
  const ops = fused(node, g, n.options.activation);
  const [a, b] = n.inputs;
  if (want.inputs[0]) ops.push({ op: 'mul_input', node: n.index, src: y, dst: a, other: b, uses: [{ tensor: b, as: 'full' }] });
  if (want.inputs[1]) ops.push({ op: 'mul_input', node: n.index, src: y, dst: b, other: a, uses: [{ tensor: a, as: 'full' }] });
  return ops;
};

function poolRule(op: 'avgpool_input' | 'maxpool_input'): GradientRule {
  return (node, g, want) => {
    const n = node as Node<'AVERAGE_POOL_2D'> | Node<'MAX_POOL_2D'>;
    const ops = fused(node, g, n.options.activation);
    if (!want.inputs[0]) return ops;
    const [x] = n.inputs;
    const y = n.outputs[0];
    const uses: ValueUse[] = op === 'maxpool_input' ? [{ tensor: x, as: 'full' }, { tensor: y, as: 'full' }] : [];
    ops.push({ op, node: n.index, src: y, dst: x, uses });
    return ops;
  };
}

const passThrough = (op: 'copy' | 'mean_input'): GradientRule => (node, _g, want) =>
  want.inputs[0] ? [{ op, node: node.index, src: node.outputs[0], dst: node.inputs[0], uses: [] }] : [];

const softmaxRule: GradientRule = (node, _g, want) => {
  if (!want.inputs[0]) return [];
  const n = node as Node<'SOFTMAX'>;
  const y = n.outputs[0];
  return [{ op: 'softmax', node: n.index, src: y, dst: n.inputs[0], beta: n.options.beta, uses: [{ tensor: y, as: 'full' }] }];
};

const batchNormalizeRule: GradientRule = (node, _g, want) => {
  if (!want.inputs[0]) return [];
  const n = node as Node<'BATCH_NORMALIZE'>;
  const x = n.inputs[0];
  return [{ op: 'batchnorm_input', node: n.index, src: n.outputs[0], dst: x, epsilon: n.options.epsilon, uses: [{ tensor: x, as: 'full' }] }];
};

/** The table. An op missing here cannot be trained through (frozen parts before the first trained layer may use anything). */
export const GRADIENT_RULES: Partial<Record<OpName, GradientRule>> = {
  CONV_2D: layerRule('conv2d'),
  DEPTHWISE_CONV_2D: layerRule('depthwise'),
  FULLY_CONNECTED: layerRule('fc'),
  ADD: addSub(1),
  SUB: addSub(-1),
  MUL: mulRule,
  AVERAGE_POOL_2D: poolRule('avgpool_input'),
  MAX_POOL_2D: poolRule('maxpool_input'),
  MEAN: passThrough('mean_input'),
  RESHAPE: passThrough('copy'),
  SQUEEZE: passThrough('copy'),
  RELU: unary('clamp', clampOf('RELU')),
  RELU6: unary('clamp', clampOf('RELU6')),
  LOGISTIC: unary('logistic'),
  TANH: unary('tanh'),
  SOFTMAX: softmaxRule,
  BATCH_NORMALIZE: batchNormalizeRule,
};

/** Which inputs of a node are differentiable activations (not weights, biases, shapes or axes). */
export function differentiableInputs(node: AnyNode): boolean[] {
  const def = OPS[node.op] as OpDef;
  return def.differentiableInputs ? def.differentiableInputs(node as never) : node.inputs.map(() => true);
}

export function ruleFor(node: AnyNode): GradientRule {
  const rule = GRADIENT_RULES[node.op];
  if (!rule) throw new UnsupportedOpError(node.op, node.index, 'no gradient rule: training cannot pass through this op (train only layers after it)');
  return rule;
}
