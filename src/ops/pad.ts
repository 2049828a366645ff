import type { DType } from '../graph/dtype.js';
import { DTYPE_BYTES, dtypeRange } from '../graph/dtype.js';
import type { Graph, Node, Tensor } from '../graph/graph.js';
import { numElements, shapeStr } from '../graph/graph.js';
import { ModelFormatError, UnsupportedOpError } from '../errors.js';
import type { InPlaceVariant, Kernel, OpDef, SpatialWindow, TensorViews } from './op.js';
import { IDENTITY_WINDOW, inputTensor, optionalInput, outputTensor, sameStart } from './op.js';
import {
  MOVABLE, asWords, constInts, fillPattern, planCopy, requireDtype, requireOutputShape, requireSameDtype, runCopy, stridesOf,
  wordViews,
} from './data_move.js';

/**
 * PAD (and, through `preparePad`, PADV2): surrounds the input with a constant. Paddings are a constant
 * int32 (or int64) [rank, 2] tensor of (before, after) counts. As TFLite's reference PadImpl does, every
 * output element is either the pad value or the next input element; we fill, then copy the interior.
 */

type PadNode = Node<'PAD'> | Node<'PADV2'>;

export function padAmounts(node: PadNode, g: Graph): { before: number[]; after: number[] } {
  const rank = inputTensor(node, g, 0).shape.length;
  const paddingsTensor = inputTensor(node, g, 1);
  const flat = constInts(node, g, 1, 'paddings', ['int32', 'int64']);
  const ok = paddingsTensor.shape.length === 2 && paddingsTensor.shape[0] === rank && paddingsTensor.shape[1] === 2;
  if (!ok) {
    throw new ModelFormatError(`node ${node.index} (${node.op}) input 1 (paddings)`,
      `shape ${shapeStr(paddingsTensor.shape)}, expected [${rank},2] for a rank-${rank} input`);
  }
  const before: number[] = [];
  const after: number[] = [];
  for (let k = 0; k < rank; k++) {
    const [b, a] = [flat[2 * k], flat[2 * k + 1]];
    if (b < 0 || a < 0) throw new ModelFormatError(`node ${node.index} (${node.op}) input 1 (paddings)`, `negative padding (${b}, ${a}) on axis ${k}`);
    before.push(b);
    after.push(a);
  }
  return { before, after };
}

export function paddedShape(node: PadNode, g: Graph): number[] {
  const shape = inputTensor(node, g, 0).shape;
  const { before, after } = padAmounts(node, g);
  return shape.map((d, k) => d + before[k] + after[k]);
}

/** Bytes of one element holding `value` (little-endian) for the integer dtypes a pad value can be. */
export function integerElementBytes(dtype: DType, value: number): Uint8Array {
  const b = new Uint8Array(DTYPE_BYTES[dtype]);
  const dv = new DataView(b.buffer);
  switch (dtype) {
    case 'int8': dv.setInt8(0, value); break;
    case 'uint8': case 'bool': dv.setUint8(0, value); break;
    case 'int16': dv.setInt16(0, value, true); break;
    case 'int32': dv.setInt32(0, value, true); break;
    case 'int64': dv.setBigInt64(0, BigInt(value), true); break;
    case 'float32': dv.setFloat32(0, value, true); break;
  }
  return b;
}

/** PAD's implicit value: the output zero point for quantised integers (real 0.0), else 0. */
export function implicitPadValue(node: PadNode, out: Tensor): Uint8Array {
  const quantised = out.dtype === 'int8' || out.dtype === 'uint8' || out.dtype === 'int16';
  const zp = quantised ? out.quant?.zeroPoint[0] ?? 0 : 0;
  if (quantised) {
    const [lo, hi] = dtypeRange(out.dtype);
    if (zp < lo || zp > hi) throw new UnsupportedOpError(node.op, node.index, `output zero point ${zp} cannot be represented in ${out.dtype}`);
  }
  return integerElementBytes(out.dtype, zp);
}

/**
 * Shared kernel. `padValue` is either the element's bytes (known at prepare) or a function returning the
 * current bytes of a pad-value tensor (PADV2 with a non-constant value, read at each invoke).
 */
export function preparePad(node: PadNode, g: Graph, views: TensorViews, padValue: Uint8Array | (() => Uint8Array)): Kernel {
  const input = inputTensor(node, g, 0);
  const output = outputTensor(node, g);
  requireDtype(node, input, MOVABLE);
  requireSameDtype(node, input, output);
  requireOutputShape(node, output, paddedShape(node, g));
  const { before } = padAmounts(node, g);
  if (sameStart(views.bytes(node.inputs[0]), views.bytes(node.outputs[0]))) return preparePadInPlace(input, output, before, views, padValue);
  const { layout, words } = wordViews(views, [node.inputs[0], node.outputs[0]], input.dtype);
  const [src, dst] = words;
  const outStrides = stridesOf(output.shape);
  const dstBase = before.reduce((acc, b, k) => acc + b * outStrides[k], 0);
  const plan = planCopy(input.shape, outStrides, stridesOf(input.shape), dstBase, 0, layout.lanes);
  // The pad element, as words, in an aligned buffer of our own (constants may sit at any offset).
  const valueBytes = new Uint8Array(DTYPE_BYTES[input.dtype]);
  const valueWords = asWords(valueBytes, layout.width);
  if (numElements(output.shape) === 0) return () => {};
  if (typeof padValue === 'function') {
    const read = padValue;
    return () => {
      valueBytes.set(read());
      fillPattern(dst, valueWords);
      runCopy(plan, dst, src);
    };
  }
  valueBytes.set(padValue);
  return () => {
    fillPattern(dst, valueWords);
    runCopy(plan, dst, src);
  };
}

/**
 * PAD over its own input (the plan put the output at the input's first byte; src/plan/inplace_rules.ts,
 * padInPlace). Output rows (runs along the last axis) are written from the last to the first: a row's
 * input moves first (memmove, so a row may overlap its own source), then its pad bytes are filled. Every
 * input element not yet moved lies before the current row's start (its destination, earlier in the
 * output, is at or after it, as paddings are non-negative), so nothing is overwritten before it is read.
 */
function preparePadInPlace(input: Tensor, output: Tensor, before: number[], views: TensorViews, padValue: Uint8Array | (() => Uint8Array)): Kernel {
  const rank = output.shape.length;
  if (rank === 0 || numElements(output.shape) === 0) return () => {};
  const e = DTYPE_BYTES[input.dtype];
  const buf = views.bytes(output.id);
  const inShape = input.shape;
  const outer = output.shape.slice(0, -1);
  const rowOut = output.shape[rank - 1] * e;
  const rowIn = inShape[rank - 1] * e;
  const lead = before[rank - 1] * e;
  const tail = rowOut - lead - rowIn;
  // Input rows per step along each outer axis.
  const inRowStrides = outer.map((_, k) => inShape.slice(k + 1, rank - 1).reduce((a, d) => a * d, 1));
  const nRows = outer.reduce((a, d) => a * d, 1);
  const padRow = new Uint8Array(rowOut);
  const fillPadRow = (value: Uint8Array): void => {
    for (let i = 0; i < rowOut; i += e) padRow.set(value.subarray(0, e), i);
  };
  const coord = new Int32Array(outer.length);
  const run = (): void => {
    for (let k = 0; k < outer.length; k++) coord[k] = outer[k] - 1;
    for (let r = nRows - 1; r >= 0; r--) {
      const dst = r * rowOut;
      let inRow = 0;
      let interior = rowIn > 0;
      for (let k = 0; k < outer.length && interior; k++) {
        const i = coord[k] - before[k];
        if (i < 0 || i >= inShape[k]) interior = false;
        inRow += i * inRowStrides[k];
      }
      if (interior) {
        const src = inRow * rowIn;
        buf.copyWithin(dst + lead, src, src + rowIn);
        if (lead > 0) buf.set(padRow.subarray(0, lead), dst);
        if (tail > 0) buf.set(padRow.subarray(0, tail), dst + lead + rowIn);
      } else {
        buf.set(padRow, dst);
      }
      for (let k = outer.length - 1; k >= 0; k--) {
        if (--coord[k] >= 0) break;
        coord[k] = outer[k] - 1;
      }
    }
  };
  if (typeof padValue === 'function') {
    const read = padValue;
    return () => {
      fillPadRow(read());
      run();
    };
  }
  fillPadRow(padValue);
  return run;
}

/**
 * The pad value: input 2 when present (PADV2; TFLite Micro's PAD kernel honours it too), taken as stored —
 * for quantised types it must share the output's scale and zero point, as TFLM requires — else the implicit one.
 */
export function padValueSource(node: PadNode, g: Graph, views: TensorViews): Uint8Array | (() => Uint8Array) {
  const input = inputTensor(node, g, 0);
  const output = outputTensor(node, g);
  const value = optionalInput(node, g, 2);
  if (value === null) return implicitPadValue(node, output);
  const at = `node ${node.index} (${node.op}) input 2 (constant_values)`;
  if (value.dtype !== input.dtype) throw new ModelFormatError(at, `is ${value.dtype}, the input is ${input.dtype}`);
  if (numElements(value.shape) !== 1) throw new ModelFormatError(at, `must hold one element, has shape ${shapeStr(value.shape)}`);
  if (input.dtype === 'int8' || input.dtype === 'uint8' || input.dtype === 'int16') {
    const vq = value.quant;
    const oq = output.quant;
    const same = vq === null || oq === null
      ? vq === oq
      : vq.scale[0] === oq.scale[0] && vq.zeroPoint[0] === oq.zeroPoint[0];
    if (!same) throw new UnsupportedOpError(node.op, node.index, 'pad value quantised differently from the output (we do not requantise it)');
  }
  const bytes = DTYPE_BYTES[input.dtype];
  if (value.data !== null) {
    if (value.data.byteLength < bytes) throw new ModelFormatError(at, `holds ${value.data.byteLength} bytes, needs ${bytes}`);
    return value.data.slice(0, bytes);
  }
  const view = views.bytes(node.inputs[2]);
  return () => view;
}

/**
 * PAD over its own input: output element e is the input element that lands there or the pad value, and
 * its index never precedes that input element's (paddings are non-negative), so a kernel that writes the
 * output from the last element to the first never overwrites an input element before reading it. The
 * backward copy costs what the forward one does.
 */
export function padInPlace(node: Node<'PAD'> | Node<'PADV2'>, g: Graph): InPlaceVariant | null {
  const input = g.tensors[node.inputs[0]];
  const output = g.tensors[node.outputs[0]];
  if (!input || !output || input.data || input.dtype !== output.dtype) return null;
  if (numElements(output.shape) < numElements(input.shape)) return null;
  return { scratchBytes: 0, trick: 'inPlacePad', slowdown: 1 };
}

/** A constant int32 tensor's values (PAD's paddings), or null when it is not constant int32. */
export function constInt32(g: Graph, id: number): number[] | null {
  const t = g.tensors[id];
  if (!t?.data || t.dtype !== 'int32') return null;
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return Array.from({ length: t.data.byteLength / 4 }, (_, i) => dv.getInt32(4 * i, true));
}

/** PAD's (before, after) rows and columns, or null when it pads batch or channels (not a spatial pad). */
export function spatialPads(node: Node<'PAD'> | Node<'PADV2'>, g: Graph): { top: number; bottom: number; left: number; right: number } | null {
  const p = constInt32(g, node.inputs[1]);
  if (!p || p.length !== 8 || p[0] !== 0 || p[1] !== 0 || p[6] !== 0 || p[7] !== 0) return null;
  return { top: p[2], bottom: p[3], left: p[4], right: p[5] };
}

/** A spatial pad with a constant value crosses patches: a patch reads the pad where its window leaves the tensor. */
export function padSpatialWindow(node: Node<'PAD'> | Node<'PADV2'>, g: Graph): SpatialWindow | null {
  const x = g.tensors[node.inputs[0]];
  if (!x || x.shape.length !== 4 || x.shape[0] !== 1) return null;
  const p = spatialPads(node, g);
  const value = node.inputs[2];
  if (!p || (value !== undefined && value >= 0 && !g.tensors[value].data)) return null;
  return { ...IDENTITY_WINDOW, padTop: p.top, padLeft: p.left };
}

export const pad: OpDef<'PAD'> = {
  name: 'PAD',
  // v4 adds inputs of more than 4 dimensions; our copy handles any rank.
  maxVersion: 4,
  role: 'other',
  inferShapes: (node, g) => [paddedShape(node, g)],
  prepare: (node, g, views) => preparePad(node, g, views, padValueSource(node, g, views)),
  macs: (node, g) => numElements(outputTensor(node, g).shape),
  inPlaceVariant: padInPlace,
  window: padSpatialWindow,
};
