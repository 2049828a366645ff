import type { Graph, Node } from '../graph/graph.js';
import { numElements, shapeStr } from '../graph/graph.js';
import { ModelFormatError, UnsupportedOpError } from '../errors.js';
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import {
  MOVABLE, constInts, movedWords, planCopy, requireDtype, requireOutputShape, requireSameDtype, runCopy, stridesOf, wordViews,
} from './data_move.js';

/**
 * STRIDED_SLICE with constant begin/end/strides and all five masks plus the `offset` flag, as TFLite computes
 * it: BuildStridedSliceParams folds ellipsis and new-axis bits into an "effective" input shape (new axes are
 * size-1 dimensions, the ellipsis and the unspecified trailing axes are full ranges), then each axis gets
 * StridedSliceStartForAxis / StridedSliceEndForAxis and the reference loop walks them. Shrunk axes are dropped
 * from the output shape, whose length per axis is ceil((end - begin) / stride) in float32 (or, with `offset`,
 * ceil(end / stride): `end` is then a size).
 */

const MAX_DIMS = 5;

interface SliceParams {
  start: number[];
  stop: number[];
  strides: number[];
  beginMask: number;
  endMask: number;
  shrinkMask: number;
  offset: boolean;
  /** Input shape with the new axes inserted. */
  shape: number[];
}

interface SliceInputs { begin: number[]; end: number[]; strides: number[] }

function sliceInputs(node: Node<'STRIDED_SLICE'>, g: Graph): SliceInputs {
  const begin = constInts(node, g, 1, 'begin');
  const end = constInts(node, g, 2, 'end');
  const strides = constInts(node, g, 3, 'strides');
  for (const [i, t] of [1, 2, 3].map((i) => [i, inputTensor(node, g, i)] as const)) {
    if (t.shape.length !== 1) throw new ModelFormatError(`node ${node.index} (STRIDED_SLICE) input ${i}`, `must be a vector, has shape ${shapeStr(t.shape)}`);
  }
  if (end.length !== begin.length || strides.length < begin.length) {
    throw new ModelFormatError(`node ${node.index} (STRIDED_SLICE)`, `begin, end and strides have ${begin.length}, ${end.length} and ${strides.length} entries`);
  }
  return { begin, end, strides };
}

function bitCount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v !== 0; v &= v - 1) n++;
  return n;
}

/** TFLite's BuildStridedSliceParams: masks and indices over the effective (new-axis-expanded) input. */
function buildParams(node: Node<'STRIDED_SLICE'>, g: Graph, startAndEnd: boolean): SliceParams {
  const o = node.options;
  const inShape = inputTensor(node, g, 0).shape;
  const { begin, end, strides } = sliceInputs(node, g);
  if (bitCount(o.ellipsisMask) > 1) throw new ModelFormatError(`node ${node.index} (STRIDED_SLICE)`, 'more than one ellipsis');
  const beginCount = begin.length;
  const inputDims = inShape.length;
  let numAddAxis = 0;
  for (let i = 0; i < beginCount; i++) if (!(o.ellipsisMask & (1 << i)) && o.newAxisMask & (1 << i)) numAddAxis++;
  const effDims = inputDims + numAddAxis;
  if (effDims > MAX_DIMS) throw new UnsupportedOpError('STRIDED_SLICE', node.index, `${effDims} dimensions including new axes (TFLite allows ${MAX_DIMS})`);

  // Where the ellipsis expands to, and which effective axes are new.
  let effEllipsis = 0;
  let effNewAxis = 0;
  let ellipsisStart = effDims;
  let expanded = 0;
  for (let i = 0; i < effDims;) {
    if (o.ellipsisMask & (1 << i)) {
      ellipsisStart = i;
      const ellipsisEnd = Math.max(i + 1, Math.min(i + 1 + numAddAxis + inputDims - beginCount, effDims));
      expanded = ellipsisEnd - ellipsisStart - 1;
      for (; i < ellipsisEnd; i++) effEllipsis |= 1 << i;
      continue;
    }
    if (o.newAxisMask & (1 << (i - expanded))) effNewAxis |= 1 << i;
    i++;
  }

  const p: SliceParams = {
    start: [], stop: [], strides: [], beginMask: 0, endMask: 0, shrinkMask: 0, offset: o.offset, shape: [],
  };
  let addedEllipsis = 0;
  let addedAxes = 0;
  for (let i = 0; i < effDims; i++) {
    const bit = 1 << i;
    if (effEllipsis & bit) {
      addedEllipsis = Math.max(0, i - ellipsisStart);
      p.beginMask |= bit;
      p.endMask |= bit;
      p.start[i] = 0;
      p.stop[i] = 0;
      p.strides[i] = 1;
      p.shape[i] = inShape[i - addedAxes];
    } else if (effNewAxis & bit) {
      p.start[i] = 0;
      p.stop[i] = 1;
      p.strides[i] = 1;
      p.shape[i] = 1;
      addedAxes++;
    } else if (i >= beginCount + expanded) {
      p.start[i] = 0;
      p.stop[i] = 0;
      p.strides[i] = 1;
      p.beginMask |= bit;
      p.endMask |= bit;
      p.shape[i] = inShape[i - addedAxes];
    } else {
      const orig = i - addedEllipsis;
      p.start[i] = startAndEnd ? begin[orig] : 0;
      p.stop[i] = startAndEnd ? end[orig] : 0;
      p.strides[i] = strides[orig];
      if (o.beginMask & (1 << orig)) p.beginMask |= bit;
      if (o.endMask & (1 << orig)) p.endMask |= bit;
      if (o.shrinkAxisMask & (1 << orig)) p.shrinkMask |= bit;
      p.shape[i] = inShape[i - addedAxes];
    }
  }
  return p;
}

const clamp = (v: number, lo: number, hi: number): number => (hi < v ? hi : v < lo ? lo : v);

/** StridedSliceStartForAxis: first index visited, in [0, size] (or [-1, size-1] for a negative stride). */
export function startForAxis(p: SliceParams, axis: number): number {
  const size = p.shape[axis];
  const stride = p.strides[axis];
  let start = p.start[axis];
  if (start < 0) start += size;
  start = stride > 0 ? clamp(start, 0, size) : clamp(start, -1, size - 1);
  if (p.beginMask & (1 << axis)) start = stride > 0 ? 0 : size - 1;
  return start;
}

/** StridedSliceEndForAxis: one past the last index visited. */
export function endForAxis(p: SliceParams, axis: number, start: number): number {
  const size = p.shape[axis];
  if (p.shrinkMask & (1 << axis)) return start >= size ? start : start + 1;
  const stride = p.strides[axis];
  let end = p.stop[axis];
  if (p.offset) end += start;
  if (end < 0) end += size;
  end = stride > 0 ? clamp(end, 0, size) : clamp(end, -1, size - 1);
  if (p.endMask & (1 << axis)) end = stride > 0 ? size : -1;
  return end;
}

/** ResizeOutputTensor's shape rule. */
function slicedShape(node: Node<'STRIDED_SLICE'>, g: Graph): number[] {
  const p = buildParams(node, g, !node.options.offset);
  const endData = sliceInputs(node, g).end;
  const out: number[] = [];
  for (let i = 0; i < p.shape.length; i++) {
    const stride = p.strides[i];
    if (stride === 0) throw new ModelFormatError(`node ${node.index} (STRIDED_SLICE)`, `stride of axis ${i} is 0`);
    if (p.shrinkMask & (1 << i)) continue;
    let extent: number;
    if (p.offset) {
      // TFLite indexes `end` by the effective axis here, not by the spec position.
      if (i >= endData.length) throw new UnsupportedOpError('STRIDED_SLICE', node.index, 'offset with an ellipsis or new axis past the end of the spec');
      extent = endData[i];
    } else {
      const begin = startForAxis(p, i);
      extent = endForAxis(p, i, begin) - begin;
    }
    const dim = Math.ceil(Math.fround(extent / stride));
    out.push(dim > 0 ? dim : 0); // also turns ceil's -0 into 0
  }
  return out;
}

/** Iterations of the reference loop `for (i = start; stride > 0 ? i < stop : i > stop; i += stride)`. */
function iterations(start: number, stop: number, stride: number): number {
  const n = stride > 0 ? Math.ceil((stop - start) / stride) : Math.ceil((start - stop) / -stride);
  return n > 0 ? n : 0;
}

export const stridedSlice: OpDef<'STRIDED_SLICE'> = {
  name: 'STRIDED_SLICE',
  // v8 offset, v6 ellipsis/new-axis masks, v4 5-D; v7 (uint32) and v5 (string) are refused by dtype.
  maxVersion: 8,
  role: 'other',
  inferShapes: (node, g) => [slicedShape(node, g)],

  prepare(node, g, views) {
    const input = inputTensor(node, g, 0);
    const output = outputTensor(node, g);
    requireDtype(node, input, MOVABLE);
    requireSameDtype(node, input, output);
    if (input.shape.length > MAX_DIMS) throw new UnsupportedOpError('STRIDED_SLICE', node.index, `${input.shape.length}-D input (TFLite allows ${MAX_DIMS})`);
    const outShape = slicedShape(node, g);
    requireOutputShape(node, output, outShape);
    const p = buildParams(node, g, true);
    const inStrides = stridesOf(p.shape);
    const counts: number[] = [];
    const srcStrides: number[] = [];
    let srcBase = 0;
    p.shape.forEach((_, axis) => {
      const start = startForAxis(p, axis);
      const stop = endForAxis(p, axis, start);
      const n = iterations(start, stop, p.strides[axis]);
      counts.push(n);
      srcStrides.push(inStrides[axis] * p.strides[axis]);
      if (n > 0) srcBase += start * inStrides[axis];
    });
    const visited = counts.reduce((a, b) => a * b, 1);
    if (visited !== numElements(outShape)) {
      throw new ModelFormatError(`node ${node.index} (STRIDED_SLICE)`,
        `the slice visits ${visited} elements but the output ${shapeStr(outShape)} holds ${numElements(outShape)} (offset slice past the input's end?)`);
    }
    const { layout, words } = wordViews(views, [node.inputs[0], node.outputs[0]], input.dtype);
    const [src, dst] = words;
    const plan = planCopy(counts, stridesOf(counts), srcStrides, 0, srcBase, layout.lanes);
    return () => runCopy(plan, dst, src);
  },

  macs: (node, g) => numElements(outputTensor(node, g).shape),
  cost: (node, g) => movedWords(outputTensor(node, g)),
};
