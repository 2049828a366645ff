/**
 * Binary math on float32 and int32 with broadcasting (TFLite Micro's div.cc, floor_div.cc, floor_mod.cc,
 * squared_difference.cc, and the int32 paths of maximum-style kernels): DIV (with its fused clamp),
 * FLOOR_DIV, FLOOR_MOD, SQUARED_DIFFERENCE; int8 DIV and int8/int16 SQUARED_DIFFERENCE as the reference
 * requantises them. Other quantised variants are refused by dtype.
 */
import type { OpName } from '../graph/options.js';
import type { Graph, Node } from '../graph/graph.js';
import { dtypeRange } from '../graph/dtype.js';
import {
  multiplyByQuantizedMultiplier, multiplyByQuantizedMultiplierGreaterThanOne, quantizeMultiplier, roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
} from '../quant/fixedpoint.js';
import { getReciprocal } from '../quant/gemmlowp.js';
import { quantizedActivationRange } from '../quant/activation.js';
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

/** CountLeadingSignBits of an int32 (GCC's __builtin_clrsb; 31 for 0 and for -1). */
function countLeadingSignBits(x: number): number {
  return (x >= 0 ? Math.clz32(x) : Math.clz32(~x)) - 1;
}

/**
 * gemmlowp's RoundingDivideByPOT as the reference DIV runs it, exponents past 31 included: a small
 * dividend over a large divisor reaches them (dividend headroom + reciprocal exponent - output shift). The
 * mask (1ll << e) - 1 then truncates to all ones and x86's SAR shifts by e mod 32, so the result is
 * (x >> (e & 31)) + (x >= 0): TFLite Micro's outputs (computed on x86-64) carry that, e.g. zero point + 1
 * for a zero dividend and saturation for +-1 over a divisor of 128.
 */
function divRoundingDivideByPOT(x: number, exponent: number): number {
  if (exponent <= 31) return roundingDivideByPOT(x, exponent);
  return (x >> (exponent & 31)) + (x >= 0 ? 1 : 0);
}

/** Prepare of int8 DIV: the zero points, the output multiplier in1 / (in2 * out) (a float32 quotient) and the clamp. */
export function int8DivParams(node: Node<'DIV'>, g: Graph) {
  const t0 = inputTensor(node, g, 0), t1 = inputTensor(node, g, 1), out = outputTensor(node, g);
  const q0 = quantOf(node, t0), q1 = quantOf(node, t1), qo = quantOf(node, out);
  const m = quantizeMultiplier(Math.fround(q0.scale / Math.fround(q1.scale * qo.scale)));
  const [lo, hi] = quantizedActivationRange(node.options.activation, qo.scale, qo.zeroPoint, 'int8');
  return { q0, q1, qo, m, lo, hi };
}

/**
 * div.h DivElementwise for int8: the divisor (made positive, flipping both signs) becomes a Q0.31
 * reciprocal mantissa and exponent (GetReciprocal), the dividend is normalised by its sign-bit headroom
 * before the multiply, and one output multiplier (in1 / (in2 * out), a float32 quotient) with the summed
 * exponents brings the quotient to the output scale.
 */
function quantizedDiv(node: Node<'DIV'>, g: Graph): (a: Element, b: Element) => Element {
  const { q0, q1, qo, m, lo, hi } = int8DivParams(node, g);
  const recip = { numBitsOverUnit: 0 };
  return (a, b) => {
    let x = (a as number) - q0.zeroPoint, d = (b as number) - q1.zeroPoint;
    if (d === 0) throw new InputError(`node ${node.index} (DIV): int8 divisor equal to its zero point (division by zero)`);
    if (d < 0) { x = -x; d = -d; }
    const inv = getReciprocal(d, 31, recip);
    const headroom = countLeadingSignBits(x);
    const unscaled = multiplyByQuantizedMultiplierGreaterThanOne(x, inv, headroom);
    const totalShift = m.shift - recip.numBitsOverUnit - headroom;
    const v = qo.zeroPoint + divRoundingDivideByPOT(saturatingRoundingDoublingHighMul(unscaled, m.multiplier), -totalShift);
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
      if (name === 'DIV' && t0.dtype === 'int8' && t1.dtype === 'int8' && out.dtype === 'int8') {
        return broadcastKernel(node, g, views, quantizedDiv(node as Node<'DIV'>, g));
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

// DIV: v1 float32/int32, v2 int8.
export const div = binaryMath('DIV', 2);
export const floorDiv = binaryMath('FLOOR_DIV', 2);
export const floorMod = binaryMath('FLOOR_MOD', 2);
export const squaredDifference = binaryMath('SQUARED_DIFFERENCE', 2);
