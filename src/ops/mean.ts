/**
 * MEAN over the axes given by a constant int32 tensor, as TensorFlow Lite Micro's reduce kernel
 * (EvalMeanHelper) computes it:
 * - float32: the float sum over the reduced elements (in input order) divided by their count;
 * - int8: reference_ops::QuantizedMeanOrSum, the zero-point-corrected int32 sum requantised by
 *   input_scale / output_scale with 1/count folded into the multiplier (integer arithmetic only).
 * Older TFLM releases had two more int8 paths, both since removed: 4-D keep_dims means over axes
 * {1,2} went to reference_integer_ops::Mean, and equal input/output quantisation took a truncating
 * raw-sum division. The reference vectors (mcunet's MEANs have equal quantisation) confirm the
 * current behaviour.
 */
import type { Graph, Node, Tensor } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import { ModelFormatError, UnsupportedOpError } from '../errors.js';
import { multiplyByQuantizedMultiplier, quantizeMultiplier } from '../quant/fixedpoint.js';
import type { Kernel, OpDef, TensorViews } from './op.js';
import { firstInputOnly, inputTensor, outputTensor } from './op.js';
import { kernelKind, scaleOf, where, zeroPointOf } from './conv_util.js';

interface MeanPlan {
  inShape: number[];
  outShape: number[];
  /** Per input dimension, the step in the output index (0 along a reduced axis). */
  outStrides: Int32Array;
  outCount: number;
  /** Number of input elements averaged into each output. */
  reduceCount: number;
}

/** The constant axis tensor, resolved as TFLite's ResolveAxis does: negatives wrapped, duplicates dropped. */
function resolveAxes(node: Node<'MEAN'> | Node<'SUM'>, g: Graph, rank: number): number[] {
  const axisT: Tensor = inputTensor(node, g, 1);
  if (!axisT.data) throw new UnsupportedOpError('MEAN', node.index, 'axes given by a non-constant tensor');
  if (axisT.dtype !== 'int32') throw new ModelFormatError(where(node), `axis tensor is ${axisT.dtype}, expected int32`);
  const dv = new DataView(axisT.data.buffer, axisT.data.byteOffset, axisT.data.byteLength);
  const axes: number[] = [];
  for (let i = 0; i < numElements(axisT.shape); i++) {
    const raw = dv.getInt32(i * 4, true);
    const a = raw < 0 ? raw + rank : raw;
    if (a < 0 || a >= rank) throw new ModelFormatError(where(node), `axis ${raw} out of range for rank ${rank}`);
    if (!axes.includes(a)) axes.push(a);
  }
  return axes;
}

function plan(node: Node<'MEAN'> | Node<'SUM'>, g: Graph): MeanPlan {
  const inShape = inputTensor(node, g, 0).shape;
  const rank = inShape.length;
  const axes = resolveAxes(node, g, rank);
  const outShape: number[] = [];
  for (let d = 0; d < rank; d++) {
    if (!axes.includes(d)) outShape.push(inShape[d]);
    else if (node.options.keepDims) outShape.push(1);
  }
  const outStrides = new Int32Array(rank);
  let stride = 1;
  for (let d = rank - 1; d >= 0; d--) {
    if (axes.includes(d)) continue;
    outStrides[d] = stride;
    stride *= inShape[d];
  }
  let reduceCount = 1;
  for (const a of axes) reduceCount *= inShape[a];
  return { inShape, outShape, outStrides, outCount: stride, reduceCount };
}

/** acc[out(i)] += x[i] over the input in row-major order (the order TFLite's Reduce visits it). */
function reduceSum(x: Int8Array | Int16Array | Float32Array, p: MeanPlan, idx: Int32Array, acc: Int32Array | Float32Array): void {
  const { inShape, outStrides } = p;
  const rank = inShape.length;
  const n = x.length;
  acc.fill(0);
  idx.fill(0);
  let o = 0;
  for (let i = 0; i < n; i++) {
    acc[o] += x[i];
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      o += outStrides[d];
      if (idx[d] < inShape[d]) break;
      o -= outStrides[d] * inShape[d];
      idx[d] = 0;
    }
  }
}

/**
 * QuantizedMeanOrSum's rescaling: fold 1/count into the multiplier with a shift of floor(log2(count)),
 * clamped to 32 and to 31 + shift, computed in 64-bit integers.
 */
export function meanMultiplier(multiplier: number, shift: number, count: number): { multiplier: number; shift: number } {
  // 63 - CountLeadingZeros(uint64 count) = floor(log2(count)); counts here fit in 32 bits.
  const s = Math.min(31 - Math.clz32(count), 32, 31 + shift);
  const m = (BigInt(multiplier) << BigInt(s)) / BigInt(count);
  return { multiplier: Number(BigInt.asIntN(32, m)), shift: shift - s };
}

/**
 * QuantizedMeanOrSum (int8, int16): the raw sum per output less the input zero point's share, rescaled by
 * input/output scale, with 1/count folded into the multiplier for MEAN.
 */
export function quantizedMeanOrSum(node: Node<'MEAN'> | Node<'SUM'>, g: Graph, views: TensorViews, sum: boolean): Kernel {
  const p = plan(node as Node<'MEAN'>, g);
  const input = inputTensor(node, g, 0), output = outputTensor(node, g);
  const i16 = input.dtype === 'int16';
  if (!(input.dtype === output.dtype && (i16 || input.dtype === 'int8'))) {
    throw new UnsupportedOpError(node.op, node.index, `${input.dtype} -> ${output.dtype} (we implement int8, int16 and float32)`);
  }
  const x = i16 ? views.int16(input.id) : views.int8(input.id);
  const y = i16 ? views.int16(output.id) : views.int8(output.id);
  const [lo, hi] = i16 ? [-32768, 32767] : [-128, 127];
  const idx = new Int32Array(p.inShape.length);
  const count = p.reduceCount;
  const acc = new Int32Array(p.outCount);
  const inZp = zeroPointOf(input), outZp = zeroPointOf(output);
  const base = quantizeMultiplier(scaleOf(input) / scaleOf(output));
  const { multiplier, shift } = sum ? base : meanMultiplier(base.multiplier, base.shift, Math.max(count, 1));
  return () => {
    reduceSum(x, p, idx, acc);
    if (count === 0) { y.fill(0); return; }
    for (let i = 0; i < acc.length; i++) {
      const v = multiplyByQuantizedMultiplier((acc[i] - inZp * count) | 0, multiplier, shift) + outZp;
      y[i] = v < lo ? lo : v > hi ? hi : v;
    }
  };
}

export const mean: OpDef<'MEAN'> = {
  name: 'MEAN',
  // v1 float, v2 int8, v3 int16.
  maxVersion: 3,
  role: 'other',
  differentiableInputs: firstInputOnly,

  inferShapes(node, g) {
    return [plan(node, g).outShape];
  },

  prepare(node, g, views) {
    const p = plan(node, g);
    const input = inputTensor(node, g, 0);
    const output = outputTensor(node, g);
    if (numElements(output.shape) !== p.outCount) {
      throw new ModelFormatError(where(node), `output shape [${output.shape.join(',')}], expected [${p.outShape.join(',')}]`);
    }
    const idx = new Int32Array(p.inShape.length);
    const count = p.reduceCount;
    const int16 = input.dtype === 'int16' && output.dtype === 'int16' && !!input.quant && !!output.quant;
    if (!int16 && kernelKind(node, input, output) === 'float32') {
      const x = views.float32(input.id);
      const y = views.float32(output.id);
      // A Float32Array accumulator rounds every partial sum to float32, as the C++ float sum does.
      const acc = new Float32Array(p.outCount);
      return () => {
        reduceSum(x, p, idx, acc);
        if (count === 0) { y.fill(0); return; }
        for (let i = 0; i < acc.length; i++) y[i] = acc[i] / count;
      };
    }
    return quantizedMeanOrSum(node, g, views, false);
  },

  macs(node, g) {
    return numElements(inputTensor(node, g, 0).shape);
  },

  // TFLite Micro's int8 MEAN keeps one int32 partial sum per output in an arena scratch buffer.
  scratchBytes(node, g) {
    const dt = inputTensor(node, g, 0).dtype;
    return dt === 'int8' || dt === 'int16' ? plan(node, g).outCount * 4 : 0;
  },
};
