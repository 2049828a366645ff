/**
 * The float32 unary math ops of TFLite Micro's elementwise.cc, floor.cc, ceil.cc, round.cc, neg.cc and
 * exp.cc: ABS, NEG, FLOOR, CEIL, ROUND (half to even, as TFLite's RoundToNearest), SQUARE, SQRT, RSQRT,
 * EXP, LOG, SIN, COS. Each result is rounded to float; the transcendental ones are within an ulp of the
 * C library's (the manifests compare floats with a tolerance). NEG and ABS also take int32.
 */
import type { OpName } from '../graph/options.js';
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import type { Graph, Node } from '../graph/graph.js';
import { multiplyByQuantizedMultiplier, quantizeMultiplier } from '../quant/fixedpoint.js';
import {
  int8Table, outputElements, quantOf, sameShapeAsInput, unaryKernel,
} from './elementwise_common.js';

type UnaryMath = 'ABS' | 'NEG' | 'FLOOR' | 'CEIL' | 'ROUND' | 'SQUARE' | 'SQRT' | 'RSQRT' | 'EXP' | 'LOG' | 'SIN' | 'COS';

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  return diff < 0.5 || (diff === 0.5 && f % 2 === 0) ? f : f + 1;
}

const FLOAT: Record<UnaryMath, (x: number) => number> = {
  ABS: Math.abs, NEG: (x) => -x, FLOOR: Math.floor, CEIL: Math.ceil, ROUND: roundHalfEven,
  SQUARE: (x) => x * x, SQRT: Math.sqrt, RSQRT: (x) => 1 / Math.sqrt(x), EXP: Math.exp, LOG: Math.log,
  SIN: Math.sin, COS: Math.cos,
};

const INT32: Partial<Record<UnaryMath, (x: number) => number>> = {
  ABS: (x) => Math.abs(x) | 0, NEG: (x) => -x | 0,
};

/** int8 ABS (elementwise.cc): |q - input zero point|, rescaled by input/output scale when they differ. */
function absTable(node: Node, g: Graph): Int8Array | null {
  const input = inputTensor(node, g, 0), output = outputTensor(node, g);
  if (input.dtype !== 'int8' || output.dtype !== 'int8') return null;
  const qi = quantOf(node, input), qo = quantOf(node, output);
  const rescale = qi.scale !== qo.scale;
  const { multiplier, shift } = quantizeMultiplier(qi.scale / qo.scale);
  return int8Table((q) => {
    const v = Math.abs(q - qi.zeroPoint);
    const r = (rescale ? multiplyByQuantizedMultiplier(v, multiplier, shift) : v) + qo.zeroPoint;
    return r < -128 ? -128 : r > 127 ? 127 : r;
  });
}

function unaryMath<K extends UnaryMath & OpName>(name: K): OpDef<K> {
  const f = FLOAT[name];
  const fi = INT32[name];
  return {
    name,
    // v1 float (and int32 ABS/NEG); v2 int8 ABS; int8/int16 RSQRT and int16 ABS are refused by dtype.
    maxVersion: name === 'ABS' ? 2 : 1,
    inferShapes: sameShapeAsInput,
    prepare(node, g, views) {
      return unaryKernel(node, g, views, { table: name === 'ABS' ? absTable(node, g) : null, float32: f, ...(fi ? { int32: fi } : {}) });
    },
    int8Table: name === 'ABS' ? absTable : undefined,
    macs: outputElements,
    role: 'elementwise',
  };
}

export const abs = unaryMath('ABS');
export const neg = unaryMath('NEG');
export const floor = unaryMath('FLOOR');
export const ceil = unaryMath('CEIL');
export const round = unaryMath('ROUND');
export const square = unaryMath('SQUARE');
export const sqrt = unaryMath('SQRT');
export const rsqrt = unaryMath('RSQRT');
export const exp = unaryMath('EXP');
export const log = unaryMath('LOG');
export const sin = unaryMath('SIN');
export const cos = unaryMath('COS');
