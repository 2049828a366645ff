/**
 * SPLIT, SPLIT_V and UNPACK (TFLite Micro's split.cc, split_v.cc, unpack.cc): one input cut along an axis
 * into several outputs, each a run of whole slices, so the kernels are block copies for any dtype.
 */
import { DTYPE_BYTES } from '../graph/dtype.js';
import type { Graph, Node, Tensor } from '../graph/graph.js';
import { ModelFormatError } from '../errors.js';
import type { Kernel, OpDef, TensorViews } from './op.js';
import { inputTensor } from './op.js';
import { MOVABLE, constInts, requireDtype, requireOutputShape, requireSameDtype } from './data_move.js';

const bad = (node: Node, detail: string) => new ModelFormatError(`node ${node.index} (${node.op})`, detail);

function normAxis(node: Node, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw bad(node, `axis ${axis} outside rank ${rank}`);
  return a;
}

/** Output shapes of cutting `input` along `axis` into pieces of the given extents (dropping the axis for UNPACK). */
function pieces(input: Tensor, axis: number, extents: number[], dropAxis: boolean): number[][] {
  return extents.map((e) => (dropAxis ? input.shape.filter((_, i) => i !== axis) : input.shape.map((d, i) => (i === axis ? e : d))));
}

function splitKernel(node: Node, g: Graph, views: TensorViews, input: Tensor, axis: number, extents: number[], dropAxis: boolean): Kernel {
  requireDtype(node, input, MOVABLE);
  const shapes = pieces(input, axis, extents, dropAxis);
  if (node.outputs.length !== extents.length) throw bad(node, `${node.outputs.length} outputs for ${extents.length} pieces`);
  node.outputs.forEach((id, k) => { requireSameDtype(node, input, g.tensors[id]); requireOutputShape(node, g.tensors[id], shapes[k]); });
  const eb = DTYPE_BYTES[input.dtype];
  const outer = input.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = input.shape.slice(axis + 1).reduce((a, b) => a * b, 1) * eb;
  const row = input.shape[axis] * inner;
  const src = views.bytes(input.id);
  const dsts = node.outputs.map((id) => views.bytes(id));
  const starts = extents.map((_, k) => extents.slice(0, k).reduce((a, b) => a + b, 0) * inner);
  return () => {
    dsts.forEach((dst, k) => {
      const block = extents[k] * inner;
      for (let o = 0; o < outer; o++) dst.set(src.subarray(o * row + starts[k], o * row + starts[k] + block), o * block);
    });
  };
}

function splitArgs(node: Node<'SPLIT'>, g: Graph): { input: Tensor; axis: number; extents: number[] } {
  const input = inputTensor(node, g, 1);
  const [a] = constInts(node, g, 0, 'axis', ['int32']);
  const axis = normAxis(node, a, input.shape.length);
  const n = node.options.numSplits;
  if (n < 1 || input.shape[axis] % n) throw bad(node, `dimension ${input.shape[axis]} does not split into ${n}`);
  return { input, axis, extents: new Array<number>(n).fill(input.shape[axis] / n) };
}

function splitVArgs(node: Node<'SPLIT_V'>, g: Graph): { input: Tensor; axis: number; extents: number[] } {
  const input = inputTensor(node, g, 0);
  const [a] = constInts(node, g, 2, 'axis', ['int32']);
  const axis = normAxis(node, a, input.shape.length);
  const sizes = constInts(node, g, 1, 'size_splits', ['int32', 'int64']);
  const known = sizes.filter((s) => s !== -1).reduce((x, y) => x + y, 0);
  const extents = sizes.map((s) => (s === -1 ? input.shape[axis] - known : s));
  if (extents.some((e) => e < 0) || extents.reduce((x, y) => x + y, 0) !== input.shape[axis]) throw bad(node, `size_splits ${sizes} do not cover ${input.shape[axis]}`);
  return { input, axis, extents };
}

function unpackArgs(node: Node<'UNPACK'>, g: Graph): { input: Tensor; axis: number; extents: number[] } {
  const input = inputTensor(node, g, 0);
  const axis = normAxis(node, node.options.axis, input.shape.length);
  return { input, axis, extents: new Array<number>(input.shape[axis]).fill(1) };
}

export const split: OpDef<'SPLIT'> = {
  name: 'SPLIT',
  maxVersion: 4,
  role: 'other',
  differentiableInputs: (node) => node.inputs.map((_, i) => i === 1),
  inferShapes: (node, g) => { const a = splitArgs(node, g); return pieces(a.input, a.axis, a.extents, false); },
  prepare: (node, g, views) => { const a = splitArgs(node, g); return splitKernel(node, g, views, a.input, a.axis, a.extents, false); },
  macs: () => 0,
};

export const splitV: OpDef<'SPLIT_V'> = {
  name: 'SPLIT_V',
  maxVersion: 2,
  role: 'other',
  differentiableInputs: (node) => node.inputs.map((_, i) => i === 0),
  inferShapes: (node, g) => { const a = splitVArgs(node, g); return pieces(a.input, a.axis, a.extents, false); },
  prepare: (node, g, views) => { const a = splitVArgs(node, g); return splitKernel(node, g, views, a.input, a.axis, a.extents, false); },
  macs: () => 0,
};

export const unpack: OpDef<'UNPACK'> = {
  name: 'UNPACK',
  maxVersion: 4,
  role: 'other',
  differentiableInputs: (node) => node.inputs.map((_, i) => i === 0),
  inferShapes: (node, g) => { const a = unpackArgs(node, g); return pieces(a.input, a.axis, a.extents, true); },
  prepare: (node, g, views) => { const a = unpackArgs(node, g); return splitKernel(node, g, views, a.input, a.axis, a.extents, true); },
  macs: () => 0,
};

/** The input, axis and piece extents of a SPLIT, SPLIT_V or UNPACK node (its C lowering copies the same blocks). */
export function splitPieces(node: Node<'SPLIT'> | Node<'SPLIT_V'> | Node<'UNPACK'>, g: Graph): { input: Tensor; axis: number; extents: number[] } {
  switch (node.op) {
    case 'SPLIT': return splitArgs(node as Node<'SPLIT'>, g);
    case 'SPLIT_V': return splitVArgs(node as Node<'SPLIT_V'>, g);
    default: return unpackArgs(node as Node<'UNPACK'>, g);
  }
}
