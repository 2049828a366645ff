/**
 * SOFTMAX over the last dimension: TFLite Micro's softmax.cc / softmax_common.cc, reference/softmax.h.
 *
 * int8: each difference from the row maximum (in [-255, 0]) is scaled by beta * input scale into Q5.26
 * (input_multiplier / left shift from PreprocessSoftmaxScaling); differences below diff_min contribute
 * nothing. exp() of it in Q0.31 is summed in Q12.19; the sum's reciprocal (GetReciprocal) scales each
 * exp to the output, int8 with scale 1/256 and zero point -128 (or int16 with 1/65536, -32768).
 * The exponentials depend only on the difference, so prepare tabulates them (256 entries).
 */
import type { Graph, Node } from '../graph/graph.js';
import { UnsupportedOpError } from '../errors.js';
import {
  multiplyByQuantizedMultiplierGreaterThanOne, quantizeMultiplier, roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
} from '../quant/fixedpoint.js';
import { calculateInputRadius, expOnNegativeValues, getReciprocal, rescale } from '../quant/gemmlowp.js';
import type { Kernel, OpDef, TensorViews } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import {
  checkOutputShape, outputElements, quantOf, sameShapeAsInput, unsupportedTypes,
} from './elementwise_common.js';

const SCALED_DIFF_INTEGER_BITS = 5;
const ACCUMULATION_INTEGER_BITS = 12;

export interface SoftmaxScaling {
  inputMultiplier: number;
  inputLeftShift: number;
  /** Smallest difference (<= 0) from the row maximum that still counts. */
  diffMin: number;
}

/**
 * PreprocessSoftmaxScaling + CalculateInputRadius: beta * scale * 2^(31 - 5), capped at 2^31 - 1, as a
 * multiplier > 1 (QuantizeMultiplierGreaterThanOne aborts otherwise; we refuse).
 */
export function softmaxScaling(node: Node, beta: number, inputScale: number): SoftmaxScaling {
  const real = Math.min(beta * inputScale * 2 ** (31 - SCALED_DIFF_INTEGER_BITS), 2147483647);
  if (!(real > 1)) {
    throw new UnsupportedOpError(node.op, node.index, `beta * input scale is too small (${beta} * ${inputScale})`);
  }
  const { multiplier, shift } = quantizeMultiplier(real);
  return { inputMultiplier: multiplier, inputLeftShift: shift, diffMin: -calculateInputRadius(SCALED_DIFF_INTEGER_BITS, shift) };
}

/** Row geometry: softmax runs over the last dimension. */
export function rows(node: Node, g: Graph): { outer: number; depth: number } {
  const shape = inputTensor(node, g, 0).shape;
  if (shape.length === 0) throw new UnsupportedOpError(node.op, node.index, 'input must have at least one dimension');
  const depth = shape[shape.length - 1];
  let outer = 1;
  for (let i = 0; i < shape.length - 1; i++) outer *= shape[i];
  return { outer, depth };
}

function int8SoftmaxKernel(node: Node<'SOFTMAX'>, g: Graph, views: TensorViews): Kernel {
  const input = inputTensor(node, g, 0);
  const output = outputTensor(node, g);
  const qi = quantOf(node, input);
  const qo = quantOf(node, output);
  const outBits = output.dtype === 'int8' ? 8 : 16;
  const outMin = output.dtype === 'int8' ? -128 : -32768;
  const outMax = output.dtype === 'int8' ? 127 : 32767;
  // softmax_common.cc insists on the fixed output quantisation.
  const okOut = output.dtype === 'int8'
    ? qo.zeroPoint === -128 && qo.scale === 1 / 256
    : qo.zeroPoint === -32768 && Math.abs(qo.scale - 1 / 65536) <= 0.001 / 65536;
  if (!okOut) {
    throw new UnsupportedOpError('SOFTMAX', node.index, `${output.dtype} output must have the fixed quantisation (got scale ${qo.scale}, zero point ${qo.zeroPoint})`);
  }
  const s = softmaxScaling(node, Math.fround(node.options.beta), qi.scale);
  // exp(diff) in Q0.31 and its Q12.19 contribution to the sum, indexed by -diff (0..255).
  const expQ0 = new Int32Array(256);
  const expQ12 = new Int32Array(256);
  const counts = new Uint8Array(256);
  for (let k = 0; k < 256; k++) {
    const diff = -k;
    if (diff < s.diffMin) continue;
    const scaled = multiplyByQuantizedMultiplierGreaterThanOne(diff, s.inputMultiplier, s.inputLeftShift);
    expQ0[k] = expOnNegativeValues(scaled, SCALED_DIFF_INTEGER_BITS);
    expQ12[k] = rescale(expQ0[k], 0, ACCUMULATION_INTEGER_BITS);
    counts[k] = 1;
  }
  const { outer, depth } = rows(node, g);
  const x = views.int8(input.id);
  const y = output.dtype === 'int8' ? views.int8(output.id) : views.int16(output.id);
  const recip = { numBitsOverUnit: 0 };
  return () => {
    for (let r = 0, base = 0; r < outer; r++, base += depth) {
      let max = -128;
      for (let c = 0; c < depth; c++) if (x[base + c] > max) max = x[base + c];
      let sum = 0;
      for (let c = 0; c < depth; c++) sum = (sum + expQ12[max - x[base + c]]) | 0;
      const shiftedScale = getReciprocal(sum, ACCUMULATION_INTEGER_BITS, recip);
      const exponent = recip.numBitsOverUnit + 31 - outBits;
      for (let c = 0; c < depth; c++) {
        const k = max - x[base + c];
        if (counts[k] === 0) { y[base + c] = outMin; continue; }
        const v = roundingDivideByPOT(saturatingRoundingDoublingHighMul(shiftedScale, expQ0[k]), exponent) + outMin;
        y[base + c] = v > outMax ? outMax : v < outMin ? outMin : v;
      }
    }
  };
}

function floatSoftmaxKernel(node: Node<'SOFTMAX'>, g: Graph, views: TensorViews): Kernel {
  const x = views.float32(node.inputs[0]);
  const y = views.float32(node.outputs[0]);
  const beta = Math.fround(node.options.beta);
  const { outer, depth } = rows(node, g);
  // Every step rounded to float as the C code computes it (expf is within an ulp of the rounded exp).
  return () => {
    for (let r = 0, base = 0; r < outer; r++, base += depth) {
      let max = -3.4028234663852886e38;
      for (let c = 0; c < depth; c++) if (x[base + c] > max) max = x[base + c];
      let sum = 0;
      for (let c = 0; c < depth; c++) {
        const e = Math.fround(Math.exp(Math.fround(Math.fround(x[base + c] - max) * beta)));
        y[base + c] = e;
        sum = Math.fround(sum + e);
      }
      for (let c = 0; c < depth; c++) y[base + c] = y[base + c] / sum;
    }
  };
}

export const softmax: OpDef<'SOFTMAX'> = {
  name: 'SOFTMAX',
  // v1 float, v2 int8 (to int8 or int16); v3 is int16 input.
  maxVersion: 2,
  role: 'other',
  inferShapes: sameShapeAsInput,
  prepare(node, g, views) {
    const input = inputTensor(node, g, 0);
    const output = outputTensor(node, g);
    checkOutputShape(node, g, input.shape);
    if (input.dtype === 'int8' && (output.dtype === 'int8' || output.dtype === 'int16')) return int8SoftmaxKernel(node, g, views);
    if (input.dtype === 'float32' && output.dtype === 'float32') return floatSoftmaxKernel(node, g, views);
    throw unsupportedTypes(node, g);
  },
  // exp, sum and scale per element.
  macs: outputElements,
};
