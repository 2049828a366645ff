/**
 * LOGISTIC: TFLite Micro's logistic.cc / logistic_common.cc. The int8 kernel is the fixed-point one
 * (reference_integer_ops::Logistic: input rescaled to Q4.27, gemmlowp logistic, output in Q0.8 on the
 * fixed output quantisation 1/256, zero point -128), not the LUT of TFLite's optimised kernels.
 * A function of one int8 value, so prepare tabulates it. int16 is the 16x8 table-interpolation kernel
 * (src/ops/sigmoid_int16.ts).
 */
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { sigmoidInt16Kernel } from './sigmoid_int16.js';
import { UnsupportedOpError } from '../errors.js';
import { frexp, multiplyByQuantizedMultiplier, roundHalfAway, roundingDivideByPOT } from '../quant/fixedpoint.js';
import { calculateInputRadius, logistic as fixedLogistic } from '../quant/gemmlowp.js';
import {
  int8Table, outputElements, quantOf, sameShapeAsInput, unaryKernel,
} from './elementwise_common.js';

/** The input rescaling of LOGISTIC and TANH: multiplier for Q(integerBits).(31-integerBits), and its radius. */
export interface SigmoidInputParams {
  multiplier: number;
  leftShift: number;
  /** |input - zero point| at or beyond this saturates the function (CalculateInputRadius). */
  rangeRadius: number;
}

/**
 * Prepare of the int8 LOGISTIC / TANH kernels: input_real_multiplier = scale * 2^(31 - 4), split by
 * frexp into a Q31 multiplier (not renormalised when it rounds up to 2^31: the C cast to int32 then
 * yields INT32_MIN on x86, and so do we) and a left shift.
 */
export function sigmoidInputParams(inputScale: number, integerBits = 4): SigmoidInputParams {
  const real = inputScale * 2 ** (31 - integerBits);
  const { fraction, exponent } = frexp(real);
  let multiplier = roundHalfAway(fraction * 2147483648);
  if (multiplier >= 2147483648) multiplier = -2147483648;
  return { multiplier, leftShift: exponent, rangeRadius: calculateInputRadius(integerBits, exponent) };
}

const CUTOFF_UPPER = Math.fround(16.619047164916992188);

/**
 * reference_ops::Logistic on one float: saturate above the cut-off, exp(x) below -9, else
 * 1 / (1 + exp(-x)), each step rounded to float (also the LSTM's float gates).
 */
export function logisticF32(v: number): number {
  if (v > CUTOFF_UPPER) return 1;
  if (v < -9) return Math.fround(Math.exp(v));
  return Math.fround(1 / Math.fround(1 + Math.fround(Math.exp(-v))));
}

export function logisticInt8Table(inScale: number, inZeroPoint: number): Int8Array {
  const { multiplier, leftShift, rangeRadius } = sigmoidInputParams(inScale);
  return int8Table((q) => {
    const x = q - inZeroPoint;
    if (x <= -rangeRadius) return -128;
    if (x >= rangeRadius) return 127;
    const inQ4 = multiplyByQuantizedMultiplier(x, multiplier, leftShift);
    const outQ0 = fixedLogistic(inQ4, 4);
    const v = roundingDivideByPOT(outQ0, 23) - 128;
    return v < -128 ? -128 : v > 127 ? 127 : v;
  });
}

export const logistic: OpDef<'LOGISTIC'> = {
  name: 'LOGISTIC',
  // v1 float, v2 int8, v3 int16.
  maxVersion: 3,
  inferShapes: sameShapeAsInput,
  prepare(node, g, views) {
    return unaryKernel(node, g, views, { table: logistic.int8Table!(node, g), float32: logisticF32, int16: () => sigmoidInt16Kernel(node, g, views) });
  },
  int8Table(node, g) {
    const input = inputTensor(node, g, 0), output = outputTensor(node, g);
    if (input.dtype !== 'int8' || output.dtype !== 'int8') return null;
    const qi = quantOf(node, input), qo = quantOf(node, output);
    if (qo.zeroPoint !== -128) {
      throw new UnsupportedOpError('LOGISTIC', node.index, `int8 output zero point must be -128, got ${qo.zeroPoint}`);
    }
    return logisticInt8Table(qi.scale, qi.zeroPoint);
  },
  macs: outputElements,
  role: 'elementwise',
};
