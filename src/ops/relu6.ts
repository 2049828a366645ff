/**
 * RELU6: TFLite Micro's activations.cc (Relu6Quantized). Unlike RELU, TFLite Micro does not requantise:
 * it clamps int8 values to [input zero point, quantised 6.0] on the input's scale and writes them out
 * unchanged (the converter gives RELU6 equal input and output quantisation). We do the same.
 */
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { roundHalfAway } from '../quant/fixedpoint.js';
import {
  int8Table, mapKernel, outputElements, quantOf, sameShapeAsInput, unaryKernel,
} from './elementwise_common.js';

/** FloatToQuantizedType<T>(6.0f, scale, zero_point): float division, round, clamp to T (int8 or int16). */
export function quantizedSix(scale: number, zeroPoint: number, hiT = 127, loT = -128): number {
  const v = roundHalfAway(Math.fround(6 / scale)) + zeroPoint;
  return Math.min(hiT, Math.max(loT, v));
}

export const relu6: OpDef<'RELU6'> = {
  name: 'RELU6',
  // v1 float, v2 int8, v3 int16.
  maxVersion: 3,
  inferShapes: sameShapeAsInput,
  prepare(node, g, views) {
    const input = inputTensor(node, g, 0), output = outputTensor(node, g);
    const int16 = () => {
      const qi = quantOf(node, input);
      const lo = qi.zeroPoint, hi = quantizedSix(qi.scale, qi.zeroPoint, 32767, -32768);
      return mapKernel(views.int16(input.id), views.int16(output.id), (q) => (q > hi ? hi : q < lo ? lo : q));
    };
    return unaryKernel(node, g, views, { table: relu6.int8Table!(node, g), float32: (v) => (v > 6 ? 6 : v < 0 ? 0 : v), int16 });
  },
  int8Table(node, g) {
    const input = inputTensor(node, g, 0), output = outputTensor(node, g);
    if (input.dtype !== 'int8' || output.dtype !== 'int8') return null;
    const qi = quantOf(node, input);
    const lo = qi.zeroPoint, hi = quantizedSix(qi.scale, qi.zeroPoint);
    return int8Table((q) => (q > hi ? hi : q < lo ? lo : q));
  },
  macs: outputElements,
  role: 'elementwise',
};
