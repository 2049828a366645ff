/**
 * DEQUANTIZE: TFLite Micro's dequantize.cc, reference_ops::Dequantize: x = scale * (q - zero point) with
 * the scale as a float, so one float multiplication (exact in a double, rounded once when stored).
 * int8 and uint8 are tabulated in prepare; int16 is computed (version 3; float16 input is refused).
 */
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { dtypeRange } from '../graph/dtype.js';
import {
  checkOutputShape, outputElements, quantOf, sameShapeAsInput, unsupportedTypes,
} from './elementwise_common.js';

export const dequantize: OpDef<'DEQUANTIZE'> = {
  name: 'DEQUANTIZE',
  // v1 uint8, v2 int8, v3 float16 (refused by dtype), v4 int16; v5 per-channel, v6 int4.
  maxVersion: 4,
  inferShapes: sameShapeAsInput,
  prepare(node, g, views) {
    const input = inputTensor(node, g, 0);
    const output = outputTensor(node, g);
    checkOutputShape(node, g, input.shape);
    if (output.dtype !== 'float32') throw unsupportedTypes(node, g);
    const { scale, zeroPoint } = quantOf(node, input);
    const y = views.float32(output.id);
    const n = y.length;
    // Backward order keeps this correct even if the (larger) output overlays the input.
    if (input.dtype === 'int8' || input.dtype === 'uint8') {
      const base = dtypeRange(input.dtype)[0];
      const table = new Float32Array(256);
      for (let k = 0; k < 256; k++) table[k] = scale * (k + base - zeroPoint);
      const x = input.dtype === 'int8' ? views.int8(input.id) : views.uint8(input.id);
      return () => {
        for (let i = n - 1; i >= 0; i--) y[i] = table[x[i] - base];
      };
    }
    if (input.dtype === 'int16') {
      const x = views.int16(input.id);
      return () => {
        for (let i = n - 1; i >= 0; i--) y[i] = scale * (x[i] - zeroPoint);
      };
    }
    throw unsupportedTypes(node, g);
  },
  macs: outputElements,
  role: 'elementwise',
};
