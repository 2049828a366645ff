/**
 * RELU: TFLite Micro's activations.cc (ReluQuantized). int8 requantises from the input to the output
 * scale (QuantizeMultiplier of in/out scale), then clamps at the output's quantised zero; the function of
 * one int8 value is tabulated once in prepare.
 */
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { multiplyByQuantizedMultiplier, quantizeMultiplier, roundHalfAway } from '../quant/fixedpoint.js';
import {
  int8Table, mapKernel, outputElements, quantOf, sameShapeAsInput, unaryKernel,
} from './elementwise_common.js';

/** ReLU of one int8 value, as CalculateReluOpData + ReluQuantized compute it. */
export function reluInt8Table(inScale: number, inZeroPoint: number, outScale: number, outZeroPoint: number): Int8Array {
  const { multiplier, shift } = quantizeMultiplier(inScale / outScale);
  // quantized_activation_min = max(-128, zp + roundf(0.0f / scale)); the max stays at 127.
  const lo = Math.max(-128, outZeroPoint + roundHalfAway(Math.fround(0 / outScale)));
  return int8Table((q) => {
    const v = outZeroPoint + multiplyByQuantizedMultiplier(q - inZeroPoint, multiplier, shift);
    return v < lo ? lo : v > 127 ? 127 : v;
  });
}

export const relu: OpDef<'RELU'> = {
  name: 'RELU',
  // v1 float, v2 int8/uint8, v3 int16.
  maxVersion: 3,
  inferShapes: sameShapeAsInput,
  prepare(node, g, views) {
    const input = inputTensor(node, g, 0), output = outputTensor(node, g);
    // ReluQuantized on int16: the same rescale, clamped to int16 (too many values to tabulate).
    const int16 = () => {
      const qi = quantOf(node, input), qo = quantOf(node, output);
      const { multiplier, shift } = quantizeMultiplier(qi.scale / qo.scale);
      const lo = Math.max(-32768, qo.zeroPoint + roundHalfAway(Math.fround(0 / qo.scale)));
      return mapKernel(views.int16(input.id), views.int16(output.id), (q) => {
        const v = qo.zeroPoint + multiplyByQuantizedMultiplier(q - qi.zeroPoint, multiplier, shift);
        return v < lo ? lo : v > 32767 ? 32767 : v;
      });
    };
    return unaryKernel(node, g, views, { table: relu.int8Table!(node, g), float32: (v) => (v < 0 ? 0 : v), int16 });
  },
  int8Table(node, g) {
    const input = inputTensor(node, g, 0), output = outputTensor(node, g);
    if (input.dtype !== 'int8' || output.dtype !== 'int8') return null;
    const qi = quantOf(node, input), qo = quantOf(node, output);
    return reluInt8Table(qi.scale, qi.zeroPoint, qo.scale, qo.zeroPoint);
  },
  macs: outputElements,
  role: 'elementwise',
};
