/**
 * ADD_N (TFLite Micro's add_n.cc): the elementwise sum of N same-shaped inputs, float32 or int8.
 *
 * int8 (all inputs share one scale and zero point) follows reference_ops::AddN: each input is shifted up
 * 20 bits and rescaled by 1/2 into a common scale of twice the input scale, the terms are summed in int32,
 * and the sum is rescaled to the output. The accumulator starts at the rescaled input offset (-zero point),
 * not at 0 as the reference's comment claims; the reference's outputs carry that term, so ours do too.
 */
import type { Graph, Node } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import { UnsupportedOpError } from '../errors.js';
import { multiplyByQuantizedMultiplierSmallerThanOne, quantizeMultiplier } from '../quant/fixedpoint.js';
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { checkOutputShape, outputElements, quantOf, sameShapeAsInput, unsupportedTypes } from './elementwise_common.js';

const ADD_N_LEFT_SHIFT = 20;

/** The int8 terms' common scale (ADD_N, CUMSUM): input offset, input and output multipliers, output zero point. */
export interface AddNScaling {
  inOffset: number;
  mi: { multiplier: number; shift: number };
  mo: { multiplier: number; shift: number };
  outZeroPoint: number;
}

export function addNScaling(qi: { scale: number; zeroPoint: number }, qo: { scale: number; zeroPoint: number }): AddNScaling {
  const twiceMax = 2 * qi.scale;
  return {
    inOffset: -qi.zeroPoint,
    mi: quantizeMultiplier(qi.scale / twiceMax),
    mo: quantizeMultiplier(twiceMax / ((1 << ADD_N_LEFT_SHIFT) * qo.scale)),
    outZeroPoint: qo.zeroPoint,
  };
}

/** One input value in the common scale: shifted up 20 bits, halved. */
export function addNTerm(s: AddNScaling, q: number): number {
  return multiplyByQuantizedMultiplierSmallerThanOne((s.inOffset + q) * (1 << ADD_N_LEFT_SHIFT), s.mi.multiplier, s.mi.shift);
}

/** A sum rescaled to the int8 output. */
export function addNOutput(s: AddNScaling, acc: number): number {
  const v = multiplyByQuantizedMultiplierSmallerThanOne(acc, s.mo.multiplier, s.mo.shift) + s.outZeroPoint;
  return v < -128 ? -128 : v > 127 ? 127 : v;
}

/** The int8 ADD_N's scaling, checking that every input shares one quantisation. */
export function addNMultipliers(node: Node<'ADD_N'>, g: Graph): AddNScaling {
  const qs = node.inputs.map((_, i) => quantOf(node, inputTensor(node, g, i))), qo = quantOf(node, outputTensor(node, g));
  if (qs.some((q) => q.scale !== qs[0].scale || q.zeroPoint !== qs[0].zeroPoint)) {
    throw new UnsupportedOpError(node.op, node.index, 'int8 inputs must share one scale and zero point');
  }
  return addNScaling(qs[0], qo);
}

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
    const sc = addNMultipliers(node, g);
    const start = addNTerm(sc, 0);
    const xs = ins.map((t) => views.int8(t.id)), y = views.int8(output.id);
    return () => {
      for (let i = 0; i < y.length; i++) {
        let acc = start;
        for (let k = 0; k < xs.length; k++) acc += addNTerm(sc, xs[k][i]);
        y[i] = addNOutput(sc, acc);
      }
    };
  },
  macs: outputElements,
  // The C kernel's int32 sum per element (int8), kept until every input is read.
  scratchBytes: (node, g) => (outputTensor(node, g).dtype === 'int8' ? 4 * numElements(outputTensor(node, g).shape) : 0),
  role: 'other',
};
