/**
 * Binary math on float32 and int32 with broadcasting (TFLite Micro's div.cc, floor_div.cc, floor_mod.cc,
 * squared_difference.cc, and the int32 paths of maximum-style kernels): DIV (with its fused clamp),
 * FLOOR_DIV, FLOOR_MOD, SQUARED_DIFFERENCE. Quantised variants are refused by dtype.
 */
import type { OpName } from '../graph/options.js';
import type { Graph, Node } from '../graph/graph.js';
import { dtypeRange } from '../graph/dtype.js';
import { multiplyByQuantizedMultiplier, quantizeMultiplier } from '../quant/fixedpoint.js';
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { InputError } from '../errors.js';
import { floatActivationRange } from '../quant/activation.js';
import { broadcastInferShapes, broadcastKernel } from './binary_broadcast.js';
import type { Element } from './element_access.js';
import { outputElements, quantOf, requireClampActivation, unsupportedTypes } from './elementwise_common.js';

type MathOp = 'DIV' | 'FLOOR_DIV' | 'FLOOR_MOD' | 'SQUARED_DIFFERENCE';

function fmodFloor(x: number, y: number): number {
  const m = x % y;
  return m !== 0 && (y < 0) !== (m < 0) ? m + y : m;
}

function zeroDivisor(node: Node): never {
  throw new InputError(`node ${node.index} (${node.op}): division by zero in an int32 input`);
}

const FLOAT: Record<MathOp, (a: number, b: number) => number> = {
  DIV: (a, b) => a / b,
  FLOOR_DIV: (a, b) => Math.floor(a / b),
  FLOOR_MOD: fmodFloor,
  SQUARED_DIFFERENCE: (a, b) => (a - b) * (a - b),
};

function intOp(op: MathOp, node: Node): (a: number, b: number) => number {
  switch (op) {
    case 'DIV': return (a, b) => (b === 0 ? zeroDivisor(node) : Math.trunc(a / b) | 0);
    case 'FLOOR_DIV': return (a, b) => (b === 0 ? zeroDivisor(node) : Math.floor(a / b) | 0);
    case 'FLOOR_MOD': return (a, b) => (b === 0 ? zeroDivisor(node) : fmodFloor(a, b) | 0);
    case 'SQUARED_DIFFERENCE': return (a, b) => Math.imul(a - b, a - b);
  }
}

/**
 * squared_difference.cc for int8 / int16: both inputs rescaled to a common scale with `left_shift` bits of
 * headroom (7 for int8, 0 for int16), the difference squared in int32, then rescaled to the output.
 */
function quantizedSquaredDifference(node: Node, g: Graph): (a: Element, b: Element) => Element {
  const t0 = inputTensor(node, g, 0), t1 = inputTensor(node, g, 1), out = outputTensor(node, g);
  const q0 = quantOf(node, t0), q1 = quantOf(node, t1), qo = quantOf(node, out);
  const leftShift = t0.dtype === 'int8' ? 7 : 0;
  const twiceMax = 2 * Math.max(q0.scale, q1.scale);
  const m0 = quantizeMultiplier(q0.scale / twiceMax), m1 = quantizeMultiplier(q1.scale / twiceMax);
  const mo = quantizeMultiplier((twiceMax * twiceMax) / ((1 << (leftShift * 2)) * qo.scale));
  const [lo, hi] = dtypeRange(out.dtype);
  return (a, b) => {
    const s0 = multiplyByQuantizedMultiplier(((a as number) - q0.zeroPoint) * (1 << leftShift), m0.multiplier, m0.shift);
    const s1 = multiplyByQuantizedMultiplier(((b as number) - q1.zeroPoint) * (1 << leftShift), m1.multiplier, m1.shift);
    const d = s0 - s1;
    const v = multiplyByQuantizedMultiplier(Math.imul(d, d), mo.multiplier, mo.shift) + qo.zeroPoint;
    return v < lo ? lo : v > hi ? hi : v;
  };
}

function binaryMath<K extends MathOp & OpName>(name: K, maxVersion: number): OpDef<K> {
  return {
    name,
    maxVersion,
    inferShapes: broadcastInferShapes,
    prepare(node, g, views) {
      const t0 = inputTensor(node, g, 0), t1 = inputTensor(node, g, 1), out = outputTensor(node, g);
      const act = 'activation' in node.options ? (node.options as { activation: Parameters<typeof floatActivationRange>[0] }).activation : 'NONE';
      requireClampActivation(node, act);
      const [lo, hi] = floatActivationRange(act);
      if (t0.dtype === 'float32' && t1.dtype === 'float32' && out.dtype === 'float32') {
        const f = FLOAT[name];
        return broadcastKernel(node, g, views, (a: Element, b: Element) => { const v = Math.fround(f(a as number, b as number)); return v < lo ? lo : v > hi ? hi : v; });
      }
      if (name === 'SQUARED_DIFFERENCE' && (t0.dtype === 'int8' || t0.dtype === 'int16') && t1.dtype === t0.dtype && out.dtype === t0.dtype) {
        return broadcastKernel(node, g, views, quantizedSquaredDifference(node, g));
      }
      if (t0.dtype === 'int32' && t1.dtype === 'int32' && out.dtype === 'int32') {
        const f = intOp(name, node);
        const [ilo, ihi] = [Math.max(lo, -2147483648), Math.min(hi, 2147483647)];
        return broadcastKernel(node, g, views, (a: Element, b: Element) => { const v = f(a as number, b as number); return v < ilo ? ilo : v > ihi ? ihi : v; });
      }
      throw unsupportedTypes(node, g);
    },
    macs: outputElements,
    role: 'other',
  };
}

export const div = binaryMath('DIV', 1);
export const floorDiv = binaryMath('FLOOR_DIV', 2);
export const floorMod = binaryMath('FLOOR_MOD', 2);
export const squaredDifference = binaryMath('SQUARED_DIFFERENCE', 2);
