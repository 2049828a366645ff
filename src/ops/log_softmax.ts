/**
 * LOG_SOFTMAX over the last dimension: TFLite Micro's log_softmax.cc, reference LogSoftmaxQuantized.
 *
 * int8: differences from the row maximum go to Q5.26 (beta = 1), exp() is summed in Q12.19 and its log
 * taken in Q5.26 (log_x_for_x_greater_than_or_equal_to_1); the output is diff - log(sum) on the fixed
 * output quantisation 16/256, zero point 127. Differences too negative to be representable after
 * subtracting the log (adjusted_diff_min, from the reverse scaling divisor) give -128.
 */
import type { Graph, Node } from '../graph/graph.js';
import { UnsupportedOpError } from '../errors.js';
import { multiplyByQuantizedMultiplier, quantizeMultiplier, roundingDivideByPOT } from '../quant/fixedpoint.js';
import { expOnNegativeValues, logXForXGreaterThanOrEqualTo1, rescale } from '../quant/gemmlowp.js';
import type { Kernel, OpDef, TensorViews } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { rows, softmaxScaling } from './softmax.js';
import {
  checkOutputShape, outputElements, quantOf, sameShapeAsInput, unsupportedTypes,
} from './elementwise_common.js';

const INPUT_INTEGER_BITS = 5;
const ACCUMULATION_INTEGER_BITS = 12;
const OUTPUT_INTEGER_BITS = 4;

/** What int8 LOG_SOFTMAX works out in Prepare; its C lowering takes the same numbers. */
export interface LogSoftmaxInt8Params {
  diffMin: number;
  reverse: { multiplier: number; shift: number };
  /** Per difference from the row maximum (indexed by -diff): its Q5.26 value and exp() of it in Q12.19. */
  diffQ5: Int32Array;
  expQ12: Int32Array;
}

export function logSoftmaxInt8Params(node: Node<'LOG_SOFTMAX'>, g: Graph): LogSoftmaxInt8Params {
  const input = inputTensor(node, g, 0);
  const output = outputTensor(node, g);
  const qi = quantOf(node, input);
  const qo = quantOf(node, output);
  if (qo.scale !== 16 / 256 || qo.zeroPoint !== 127) {
    throw new UnsupportedOpError('LOG_SOFTMAX', node.index, `int8 output must have scale 16/256 and zero point 127 (got ${qo.scale}, ${qo.zeroPoint})`);
  }
  // PreprocessLogSoftmaxScalingExp with beta = 1.
  const s = softmaxScaling(node, 1, qi.scale);
  const reverseReal = 2 ** (31 - s.inputLeftShift) / s.inputMultiplier;
  if (!(reverseReal > 0 && reverseReal < 1)) {
    throw new UnsupportedOpError('LOG_SOFTMAX', node.index, `input scale ${qi.scale} gives a reverse scaling divisor of ${reverseReal}`);
  }
  const reverse = quantizeMultiplier(reverseReal);
  const diffQ5 = new Int32Array(256);
  const expQ12 = new Int32Array(256);
  for (let k = 0; k < 256; k++) {
    const diff = -k;
    diffQ5[k] = multiplyByQuantizedMultiplier(diff, s.inputMultiplier, s.inputLeftShift);
    if (diff >= s.diffMin) expQ12[k] = rescale(expOnNegativeValues(diffQ5[k], INPUT_INTEGER_BITS), 0, ACCUMULATION_INTEGER_BITS);
  }
  return { diffMin: s.diffMin, reverse, diffQ5, expQ12 };
}

function int8LogSoftmaxKernel(node: Node<'LOG_SOFTMAX'>, g: Graph, views: TensorViews): Kernel {
  const input = inputTensor(node, g, 0);
  const output = outputTensor(node, g);
  const { diffMin, reverse, diffQ5, expQ12 } = logSoftmaxInt8Params(node, g);
  const { outer, depth } = rows(node, g);
  const x = views.int8(input.id);
  const y = views.int8(output.id);
  const outShift = 31 - INPUT_INTEGER_BITS - OUTPUT_INTEGER_BITS;
  return () => {
    for (let r = 0, base = 0; r < outer; r++, base += depth) {
      let max = -128;
      for (let c = 0; c < depth; c++) if (x[base + c] > max) max = x[base + c];
      let sum = 0;
      for (let c = 0; c < depth; c++) sum = (sum + expQ12[max - x[base + c]]) | 0;
      const logSum = logXForXGreaterThanOrEqualTo1(sum, ACCUMULATION_INTEGER_BITS, INPUT_INTEGER_BITS);
      const shiftedLogSum = (logSum - 2147483648) | 0;
      const adjustedDiffMin = Math.max(diffMin - 1, multiplyByQuantizedMultiplier(shiftedLogSum, reverse.multiplier, reverse.shift));
      for (let c = 0; c < depth; c++) {
        const k = max - x[base + c];
        if (-k > adjustedDiffMin) {
          const v = roundingDivideByPOT((diffQ5[k] - logSum) | 0, outShift) + 127;
          y[base + c] = v > 127 ? 127 : v < -128 ? -128 : v;
        } else {
          y[base + c] = -128;
        }
      }
    }
  };
}

function floatLogSoftmaxKernel(node: Node<'LOG_SOFTMAX'>, g: Graph, views: TensorViews): Kernel {
  const x = views.float32(node.inputs[0]);
  const y = views.float32(node.outputs[0]);
  const { outer, depth } = rows(node, g);
  return () => {
    for (let r = 0, base = 0; r < outer; r++, base += depth) {
      let max = -3.4028234663852886e38;
      for (let c = 0; c < depth; c++) if (x[base + c] > max) max = x[base + c];
      let sum = 0;
      for (let c = 0; c < depth; c++) sum = Math.fround(sum + Math.fround(Math.exp(Math.fround(x[base + c] - max))));
      const logSum = Math.fround(Math.log(sum));
      for (let c = 0; c < depth; c++) y[base + c] = Math.fround(x[base + c] - max) - logSum;
    }
  };
}

export const logSoftmax: OpDef<'LOG_SOFTMAX'> = {
  name: 'LOG_SOFTMAX',
  // v1 float, v2 int8.
  maxVersion: 2,
  role: 'other',
  inferShapes: sameShapeAsInput,
  prepare(node, g, views) {
    const input = inputTensor(node, g, 0);
    const output = outputTensor(node, g);
    checkOutputShape(node, g, input.shape);
    if (input.dtype === 'int8' && output.dtype === 'int8') return int8LogSoftmaxKernel(node, g, views);
    if (input.dtype === 'float32' && output.dtype === 'float32') return floatLogSoftmaxKernel(node, g, views);
    throw unsupportedTypes(node, g);
  },
  macs: outputElements,
};
