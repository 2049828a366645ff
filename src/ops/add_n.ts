/**
 * ADD_N (TFLite Micro's add_n.cc): the elementwise sum of N same-shaped inputs, float32 or int8.
 *
 * int8 (all inputs share one scale and zero point) follows reference_ops::AddN: each input is shifted up
 * 20 bits and rescaled by 1/2 into a common scale of twice the input scale, the terms are summed in int32,
 * and the sum is rescaled to the output. The accumulator starts at the rescaled input offset (-zero point),
 * not at 0 as the reference's comment claims; the reference's outputs carry that term, so ours do too.
 */
import { UnsupportedOpError } from '../errors.js';
import { multiplyByQuantizedMultiplierSmallerThanOne, quantizeMultiplier } from '../quant/fixedpoint.js';
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { checkOutputShape, outputElements, quantOf, sameShapeAsInput, unsupportedTypes } from './elementwise_common.js';

const ADD_N_LEFT_SHIFT = 20;

export const addN: OpDef<'ADD_N'> = {
  name: 'ADD_N',
  maxVersion: 1,
  inferShapes: sameShapeAsInput,
  prepare(node, g, views) {
    const ins = node.inputs.map((_, i) => inputTensor(node, g, i));
    const output = outputTensor(node, g);
    checkOutputShape(node, g, ins[0].shape);
    const dtype = ins[0].dtype;
    if (ins.some((t) => t.dtype !== dtype || t.shape.join() !== ins[0].shape.join()) || output.dtype !== dtype) {
      throw new UnsupportedOpError(node.op, node.index, 'inputs and output must share one dtype and shape');
    }
    if (dtype === 'float32') {
      const xs = ins.map((t) => views.float32(t.id)), y = views.float32(output.id);
      // The reference sums input by input into the output (input 0 + input 1, then + input 2, ...).
      return () => {
        for (let i = 0; i < y.length; i++) {
          let s = xs[0][i];
          for (let k = 1; k < xs.length; k++) s = Math.fround(s + xs[k][i]);
          y[i] = s;
        }
      };
    }
    if (dtype !== 'int8') throw unsupportedTypes(node, g, 'float32 and int8');
    const qs = ins.map((t) => quantOf(node, t)), qo = quantOf(node, output);
    if (qs.some((q) => q.scale !== qs[0].scale || q.zeroPoint !== qs[0].zeroPoint)) {
      throw new UnsupportedOpError(node.op, node.index, 'int8 inputs must share one scale and zero point');
    }
    const offset = -qs[0].zeroPoint;
    const twiceMax = 2 * qs[0].scale;
    const mi = quantizeMultiplier(qs[0].scale / twiceMax);
    const mo = quantizeMultiplier(twiceMax / ((1 << ADD_N_LEFT_SHIFT) * qo.scale));
    const scaled = (v: number): number => multiplyByQuantizedMultiplierSmallerThanOne(v * (1 << ADD_N_LEFT_SHIFT), mi.multiplier, mi.shift);
    const start = scaled(offset);
    const xs = ins.map((t) => views.int8(t.id)), y = views.int8(output.id);
    return () => {
      for (let i = 0; i < y.length; i++) {
        let acc = start;
        for (let k = 0; k < xs.length; k++) acc += scaled(offset + xs[k][i]);
        const v = multiplyByQuantizedMultiplierSmallerThanOne(acc, mo.multiplier, mo.shift) + qo.zeroPoint;
        y[i] = v < -128 ? -128 : v > 127 ? 127 : v;
      }
    };
  },
  macs: outputElements,
  role: 'other',
};
