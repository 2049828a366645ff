/**
 * ADD (and, via `prepareAddSub`, SUB): TFLite Micro's add.cc / sub.cc with the reference kernels
 * integer_ops/add.h and reference/sub.h.
 *
 * int8: both inputs are moved to a common scale with 20 bits of headroom (left_shift = 20; each input
 * multiplier is scale_i / (2 * max scale), always < 1), summed in int32, then rescaled to the output
 * (output multiplier = 2 * max scale / (2^20 * output scale)) and clamped to the fused activation.
 * The per-input step depends on one int8 value only, so it is tabulated once in prepare (256 entries).
 */
import type { Graph, Node } from '../graph/graph.js';
import type { Activation } from '../graph/options.js';
import { UnsupportedOpError } from '../errors.js';
import { floatActivationRange, outputActivationRange } from '../quant/activation.js';
import {
  multiplyByQuantizedMultiplierSmallerThanOne, quantizeMultiplier, roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
} from '../quant/fixedpoint.js';
import type { Kernel, OpDef, TensorViews } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { broadcastShape, forEachRun, planBroadcast } from './broadcast.js';
import { broadcastKernel } from './binary_broadcast.js';
import {
  checkOutputShape, outputElements, quantOf, requireClampActivation, unsupportedTypes,
} from './elementwise_common.js';

type AddSubNode = Node<'ADD'> | Node<'SUB'>;

const LEFT_SHIFT_INT8 = 20;

export function binaryInferShapes(node: Node, g: Graph): number[][] {
  return [broadcastShape(inputTensor(node, g, 0).shape, inputTensor(node, g, 1).shape, `node ${node.index} (${node.op})`)];
}

/** QuantizeMultiplierSmallerThanOneExp: TFLite aborts if the real multiplier is not in (0, 1). */
function multiplierBelowOne(node: Node, real: number, what: string): { multiplier: number; shift: number } {
  if (!(real > 0 && real < 1)) {
    throw new UnsupportedOpError(node.op, node.index, `${what} multiplier ${real} is outside (0, 1)`);
  }
  return quantizeMultiplier(real);
}

interface AddSubParams {
  /** Input i value q -> its rescaled int32 contribution, indexed by q + 128 (negated for SUB's input 1). */
  table0: Int32Array;
  table1: Int32Array;
  outMultiplier: number;
  outRightShift: number;
  outZeroPoint: number;
  actMin: number;
  actMax: number;
}

/** The three rescalings of an ADD / SUB with `leftShift` bits of headroom (20 for int8, 15 for int16). */
export function addSubMultipliers(node: AddSubNode, g: Graph, isSub: boolean, leftShift: number) {
  const in0 = quantOf(node, inputTensor(node, g, 0));
  const in1 = quantOf(node, inputTensor(node, g, 1));
  const out = quantOf(node, outputTensor(node, g));
  let real0: number;
  let real1: number;
  let realOut: number;
  if (isSub) {
    // sub_common.cc computes the multipliers in float, add_common.cc in double: keep the difference.
    const twiceMax = Math.fround(2 * Math.max(in0.scale, in1.scale));
    real0 = Math.fround(in0.scale / twiceMax);
    real1 = Math.fround(in1.scale / twiceMax);
    realOut = Math.fround(twiceMax / Math.fround((1 << leftShift) * out.scale));
  } else {
    const twiceMax = 2 * Math.max(in0.scale, in1.scale);
    real0 = in0.scale / twiceMax;
    real1 = in1.scale / twiceMax;
    realOut = twiceMax / ((1 << leftShift) * out.scale);
  }
  return {
    in0, in1, out,
    m0: multiplierBelowOne(node, real0, 'input 0'),
    m1: multiplierBelowOne(node, real1, 'input 1'),
    mOut: multiplierBelowOne(node, realOut, 'output'),
  };
}

function addSubParams(node: AddSubNode, g: Graph, isSub: boolean): AddSubParams {
  const outT = outputTensor(node, g);
  const { in0, in1, out, m0, m1, mOut } = addSubMultipliers(node, g, isSub, LEFT_SHIFT_INT8);
  const table0 = new Int32Array(256);
  const table1 = new Int32Array(256);
  for (let q = -128; q < 128; q++) {
    table0[q + 128] = multiplyByQuantizedMultiplierSmallerThanOne((q - in0.zeroPoint) * (1 << LEFT_SHIFT_INT8), m0.multiplier, m0.shift);
    const v1 = multiplyByQuantizedMultiplierSmallerThanOne((q - in1.zeroPoint) * (1 << LEFT_SHIFT_INT8), m1.multiplier, m1.shift);
    table1[q + 128] = isSub ? -v1 : v1;
  }
  requireClampActivation(node, node.options.activation);
  const [actMin, actMax] = outputActivationRange(node.options.activation, outT);
  return { table0, table1, outMultiplier: mOut.multiplier, outRightShift: -mOut.shift, outZeroPoint: out.zeroPoint, actMin, actMax };
}

function int8AddSubKernel(node: AddSubNode, g: Graph, views: TensorViews, isSub: boolean): Kernel {
  const p = addSubParams(node, g, isSub);
  const a = views.int8(node.inputs[0]);
  const b = views.int8(node.inputs[1]);
  const out = views.int8(node.outputs[0]);
  const plan = planBroadcast(inputTensor(node, g, 0).shape, inputTensor(node, g, 1).shape, `node ${node.index} (${node.op})`);
  const { table0, table1, outMultiplier, outRightShift, outZeroPoint, actMin, actMax } = p;
  const { stride0, stride1 } = plan;
  const run = (o0: number, o1: number, oo: number, len: number): void => {
    const end = oo + len;
    for (let i = oo; i < end; i++, o0 += stride0, o1 += stride1) {
      const rawSum = table0[a[o0] + 128] + table1[b[o1] + 128];
      const v = roundingDivideByPOT(saturatingRoundingDoublingHighMul(rawSum, outMultiplier), outRightShift) + outZeroPoint;
      out[i] = v < actMin ? actMin : v > actMax ? actMax : v;
    }
  };
  return () => forEachRun(plan, run);
}

function floatAddSubKernel(node: AddSubNode, g: Graph, views: TensorViews, isSub: boolean): Kernel {
  const a = views.float32(node.inputs[0]);
  const b = views.float32(node.inputs[1]);
  const out = views.float32(node.outputs[0]);
  const plan = planBroadcast(inputTensor(node, g, 0).shape, inputTensor(node, g, 1).shape, `node ${node.index} (${node.op})`);
  requireClampActivation(node, node.options.activation);
  const [lo, hi] = floatActivationRange(node.options.activation);
  const sign = isSub ? -1 : 1;
  const { stride0, stride1 } = plan;
  // The double sum of two floats rounds to the float sum when stored; the bounds are exact floats.
  const run = (o0: number, o1: number, oo: number, len: number): void => {
    const end = oo + len;
    for (let i = oo; i < end; i++, o0 += stride0, o1 += stride1) {
      const v = a[o0] + sign * b[o1];
      out[i] = v < lo ? lo : v > hi ? hi : v;
    }
  };
  return () => forEachRun(plan, run);
}

/** int16 ADD / SUB (16x8 scheme): ADD's arithmetic with 15 bits of headroom, element by element. */
function int16AddSubKernel(node: AddSubNode, g: Graph, views: TensorViews, isSub: boolean): Kernel {
  const { in0, in1, out, m0, m1, mOut } = addSubMultipliers(node, g, isSub, 15);
  requireClampActivation(node, node.options.activation);
  const [lo, hi] = outputActivationRange(node.options.activation, outputTensor(node, g));
  const scale = (q: number, zp: number, m: { multiplier: number; shift: number }) => multiplyByQuantizedMultiplierSmallerThanOne((q - zp) * (1 << 15), m.multiplier, m.shift);
  return broadcastKernel(node, g, views, (a, b) => {
    const s1 = scale(a as number, in0.zeroPoint, m0), s2 = scale(b as number, in1.zeroPoint, m1);
    const v = multiplyByQuantizedMultiplierSmallerThanOne(isSub ? s1 - s2 : s1 + s2, mOut.multiplier, mOut.shift) + out.zeroPoint;
    return v < lo ? lo : v > hi ? hi : v;
  });
}

/** int32 ADD / SUB / MUL: the wrapped result clamped to the fused activation's range. */
export function int32Kernel(node: Node, g: Graph, views: TensorViews, act: Activation, f: (a: number, b: number) => number): Kernel {
  requireClampActivation(node, act);
  const [flo, fhi] = floatActivationRange(act);
  const lo = Math.max(flo, -2147483648), hi = Math.min(fhi, 2147483647);
  return broadcastKernel(node, g, views, (a, b) => { const v = f(a as number, b as number); return v < lo ? lo : v > hi ? hi : v; });
}

/** Shared by ADD and SUB: the two differ only in the sign of input 1 and in float vs double set-up. */
export function prepareAddSub(node: AddSubNode, g: Graph, views: TensorViews, isSub: boolean): Kernel {
  const t0 = inputTensor(node, g, 0);
  const t1 = inputTensor(node, g, 1);
  const out = outputTensor(node, g);
  checkOutputShape(node, g, binaryInferShapes(node, g)[0]);
  if (t0.dtype === 'int8' && t1.dtype === 'int8' && out.dtype === 'int8') return int8AddSubKernel(node, g, views, isSub);
  if (t0.dtype === 'float32' && t1.dtype === 'float32' && out.dtype === 'float32') return floatAddSubKernel(node, g, views, isSub);
  if (t0.dtype === 'int32' && t1.dtype === 'int32' && out.dtype === 'int32') {
    return int32Kernel(node, g, views, node.options.activation, isSub ? (a, b) => (a - b) | 0 : (a, b) => (a + b) | 0);
  }
  if (t0.dtype === 'int16' && t1.dtype === 'int16' && out.dtype === 'int16') return int16AddSubKernel(node, g, views, isSub);
  throw unsupportedTypes(node, g);
}

export const add: OpDef<'ADD'> = {
  name: 'ADD',
  // v1 float, v2 int8, v3 int16; v4+ (int64, pot-scale int16) are refused.
  maxVersion: 3,
  inferShapes: binaryInferShapes,
  prepare: (node, g, views) => prepareAddSub(node, g, views, false),
  macs: outputElements,
  // Output element i reads input 0 element i unless input 0 itself is broadcast (the planner must only
  // alias when input 0 and the output have the same size).
  role: 'elementwise',
};
