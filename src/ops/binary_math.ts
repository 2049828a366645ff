/**
 * Binary math on float32 and int32 with broadcasting (TFLite Micro's div.cc, floor_div.cc, floor_mod.cc,
 * squared_difference.cc, and the int32 paths of maximum-style kernels): DIV (with its fused clamp),
 * FLOOR_DIV, FLOOR_MOD, SQUARED_DIFFERENCE. Quantised variants are refused by dtype.
 */
import type { OpName } from '../graph/options.js';
import type { Node } from '../graph/graph.js';
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { InputError } from '../errors.js';
import { floatActivationRange } from '../quant/activation.js';
import { broadcastInferShapes, broadcastKernel } from './binary_broadcast.js';
import type { Element } from './element_access.js';
import { outputElements, requireClampActivation, unsupportedTypes } from './elementwise_common.js';

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
export const squaredDifference = binaryMath('SQUARED_DIFFERENCE', 1);
