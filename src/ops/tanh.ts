/**
 * TANH: TFLite Micro's tanh.cc. The int8 kernel (reference_integer_ops::Tanh) rescales the input to
 * Q4.27 like LOGISTIC, evaluates gemmlowp's fixed-point tanh and writes Q0.7, i.e. the converter's fixed
 * output quantisation (scale 1/128, zero point 0). TFLite Micro does not check the output parameters; nor
 * do we, so the bytes match it whatever they say. int16 is the 16x8 table-interpolation kernel
 * (src/ops/sigmoid_int16.ts).
 */
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { sigmoidInt16Kernel } from './sigmoid_int16.js';
import { multiplyByQuantizedMultiplier, roundingDivideByPOT } from '../quant/fixedpoint.js';
import { tanh as fixedTanh } from '../quant/gemmlowp.js';
import { sigmoidInputParams } from './logistic.js';
import {
  int8Table, outputElements, quantOf, sameShapeAsInput, unaryKernel,
} from './elementwise_common.js';

export function tanhInt8Table(inScale: number, inZeroPoint: number): Int8Array {
  const { multiplier, leftShift, rangeRadius } = sigmoidInputParams(inScale);
  return int8Table((q) => {
    const x = q - inZeroPoint;
    if (x <= -rangeRadius) return -128;
    if (x >= rangeRadius) return 127;
    const inQ4 = multiplyByQuantizedMultiplier(x, multiplier, leftShift);
    const v = roundingDivideByPOT(fixedTanh(inQ4, 4), 24);
    return v < -128 ? -128 : v > 127 ? 127 : v;
  });
}

export const tanh: OpDef<'TANH'> = {
  name: 'TANH',
  // v1 float, v2 int8, v3 int16.
  maxVersion: 3,
  inferShapes: sameShapeAsInput,
  prepare(node, g, views) {
    return unaryKernel(node, g, views, { table: tanh.int8Table!(node, g), float32: Math.tanh, int16: () => sigmoidInt16Kernel(node, g, views) });
  },
  int8Table(node, g) {
    const input = inputTensor(node, g, 0), output = outputTensor(node, g);
    if (input.dtype !== 'int8' || output.dtype !== 'int8') return null;
    const qi = quantOf(node, input);
    return tanhInt8Table(qi.scale, qi.zeroPoint);
  },
  macs: outputElements,
  role: 'elementwise',
};
