/**
 * LEAKY_RELU (float and int8, leaky_relu.cc), PRELU, ELU (float) and ADD_N (float): TFLite Micro's
 * reference kernels. int8 LEAKY_RELU requantises the input with one multiplier (in/out scale) for x >= 0
 * and another (alpha * in/out scale) for x < 0, each QuantizeMultiplier'd in double.
 */
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { UnsupportedOpError } from '../errors.js';
import { multiplyByQuantizedMultiplier, quantizeMultiplier } from '../quant/fixedpoint.js';
import { broadcastInferShapes, broadcastKernel } from './binary_broadcast.js';
import type { Element } from './element_access.js';
import {
  checkOutputShape, int8Table, int8TableKernel, outputElements, quantOf, sameShapeAsInput, unsupportedTypes,
} from './elementwise_common.js';

export const leakyRelu: OpDef<'LEAKY_RELU'> = {
  name: 'LEAKY_RELU',
  // v1 float, v2 int8; int16 is refused by dtype.
  maxVersion: 2,
  inferShapes: sameShapeAsInput,
  prepare(node, g, views) {
    const input = inputTensor(node, g, 0), output = outputTensor(node, g);
    checkOutputShape(node, g, input.shape);
    const alpha = Math.fround(node.options.alpha);
    if (input.dtype === 'float32' && output.dtype === 'float32') {
      const x = views.float32(input.id), y = views.float32(output.id);
      return () => { for (let i = 0; i < y.length; i++) { const v = x[i]; y[i] = v > 0 ? v : Math.fround(v * alpha); } };
    }
    if (input.dtype === 'int8' && output.dtype === 'int8') {
      const qi = quantOf(node, input), qo = quantOf(node, output);
      const id = quantizeMultiplier(qi.scale / qo.scale);
      const al = quantizeMultiplier((alpha * qi.scale) / qo.scale);
      return int8TableKernel(views, input.id, output.id, int8Table((q) => {
        const d = q - qi.zeroPoint;
        const m = d >= 0 ? id : al;
        const v = qo.zeroPoint + multiplyByQuantizedMultiplier(d, m.multiplier, m.shift);
        return v < -128 ? -128 : v > 127 ? 127 : v;
      }));
    }
    throw unsupportedTypes(node, g);
  },
  macs: outputElements,
  role: 'elementwise',
};

export const prelu: OpDef<'PRELU'> = {
  name: 'PRELU',
  maxVersion: 1,
  inferShapes: broadcastInferShapes,
  prepare(node, g, views) {
    const [x, a] = [inputTensor(node, g, 0), inputTensor(node, g, 1)];
    if (x.dtype !== 'float32' || a.dtype !== 'float32' || outputTensor(node, g).dtype !== 'float32') throw unsupportedTypes(node, g, 'float32 only');
    return broadcastKernel(node, g, views, (v: Element, al: Element) => ((v as number) >= 0 ? v : Math.fround((v as number) * (al as number))));
  },
  macs: outputElements,
  role: 'other',
};

export const elu: OpDef<'ELU'> = {
  name: 'ELU',
  maxVersion: 1,
  inferShapes: sameShapeAsInput,
  prepare(node, g, views) {
    const input = inputTensor(node, g, 0), output = outputTensor(node, g);
    checkOutputShape(node, g, input.shape);
    if (input.dtype !== 'float32' || output.dtype !== 'float32') throw unsupportedTypes(node, g, 'float32 only');
    const x = views.float32(input.id), y = views.float32(output.id);
    return () => { for (let i = 0; i < y.length; i++) { const v = x[i]; y[i] = v < 0 ? Math.fround(Math.expm1(v)) : v; } };
  },
  macs: outputElements,
  role: 'elementwise',
};

export const addN: OpDef<'ADD_N'> = {
  name: 'ADD_N',
  maxVersion: 1,
  inferShapes: sameShapeAsInput,
  prepare(node, g, views) {
    const ins = node.inputs.map((_, i) => inputTensor(node, g, i));
    const output = outputTensor(node, g);
    checkOutputShape(node, g, ins[0].shape);
    if (ins.some((t) => t.dtype !== 'float32' || t.shape.join() !== ins[0].shape.join()) || output.dtype !== 'float32') {
      throw new UnsupportedOpError(node.op, node.index, 'float32 inputs of one shape only');
    }
    const xs = ins.map((t) => views.float32(t.id)), y = views.float32(output.id);
    // The reference sums input by input into the output (input 0 + input 1, then + input 2, ...).
    return () => {
      for (let i = 0; i < y.length; i++) {
        let s = xs[0][i];
        for (let k = 1; k < xs.length; k++) s = Math.fround(s + xs[k][i]);
        y[i] = s;
      }
    };
  },
  macs: outputElements,
  role: 'other',
};
