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
  checkOutputShape, int8Table, int8TableKernel, outputElements, quantOf, sameShapeAsInput, unsupportedTypes,
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
    const input = inputTensor(node, g, 0);
    const output = outputTensor(node, g);
    checkOutputShape(node, g, input.shape);
    const table = tanh.int8Table!(node, g);
    if (table) return int8TableKernel(views, input.id, output.id, table);
    if (input.dtype === 'float32' && output.dtype === 'float32') {
      const x = views.float32(input.id);
      const y = views.float32(output.id);
      const n = y.length;
      return () => {
        for (let i = 0; i < n; i++) y[i] = Math.tanh(x[i]);
      };
    }
    if (input.dtype === 'int16' && output.dtype === 'int16') return sigmoidInt16Kernel(node, g, views);
    throw unsupportedTypes(node, g);
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
