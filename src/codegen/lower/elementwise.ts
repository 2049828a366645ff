import type { Node, Tensor } from '../../graph/graph.js';
import { numElements } from '../../graph/graph.js';
import { outputActivationRange } from '../../quant/activation.js';
import { quantizeMultiplier } from '../../quant/fixedpoint.js';
import { broadcastShape } from '../../ops/broadcast.js';
import type { CArray } from '../c_syntax.js';
import type { CArg } from './kernel_call.js';
import { call, constArg, intArg, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';
import { floatAct } from './float_layer.js';
import { lowerBroadcastBinary } from './broadcast_binary.js';

const ADD_LEFT_SHIFT_INT8 = 20;

function quant(ctx: LayerContext, t: Tensor): { scale: number; zp: number } {
  if (t.dtype !== 'int8' || !t.quant) throw ctx.unsupported(`${t.name} is ${t.dtype}${t.quant ? '' : ' without quantisation'} (the C library has int8 ADD and MUL)`);
  return { scale: t.quant.scale[0], zp: t.quant.zeroPoint[0] };
}

/** QuantizeMultiplierSmallerThanOneExp: TFLite refuses a real multiplier outside (0, 1). */
function below1(ctx: LayerContext, real: number, what: string): { multiplier: number; shift: number } {
  if (!(real > 0 && real < 1)) throw ctx.unsupported(`${what} multiplier ${real} is outside (0, 1)`);
  return quantizeMultiplier(real);
}

/**
 * Whether tm_mbqm_fast is exact for every rescaling of this ADD / MUL: each value it scales stays below
 * 2^30 (ADD: (q - zp) * 2^20 and the sum of two rescaled inputs, each below 2^28; MUL: a product of two
 * offset int8 values, below 2^16), so the multipliers and shifts alone decide (see tm_common.h); a shift
 * of 0 is the high multiply alone.
 */
export function fastBinaryExact(op: 'ADD' | 'MUL', f: Record<string, number>): boolean {
  const pairs = op === 'ADD'
    ? [[f.in1_mult, f.in1_shift], [f.in2_mult, f.in2_shift], [f.out_mult, f.out_shift]]
    : [[f.out_mult, f.out_shift]];
  return pairs.every(([m, s]) => (m === 0 || m >= 1073741824) && s <= 0 && s >= -30);
}

/** Right-aligned 4-D element strides of `shape`, 0 along its extent-1 dimensions (which broadcast). */
export function broadcastStrides(shape: readonly number[]): number[] {
  const s4 = [...new Array(4 - shape.length).fill(1), ...shape];
  const strides = [0, 0, 0, 0];
  let stride = 1;
  for (let i = 3; i >= 0; i--) {
    strides[i] = s4[i] === 1 ? 0 : stride; // extent 1: broadcast, or only ever index 0
    stride *= s4[i];
  }
  return strides;
}

/**
 * int8 ADD and MUL -> tm_add_s8 / tm_mul_s8 (same shapes) or their 4-D broadcast forms; other dtypes and
 * float broadcasts -> tm_binary.h (lowerBroadcastBinary). Parameters as TFLite
 * Micro's add_common.cc / mul_common.cc compute them, in double precision.
 */
export function lowerBinary(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node<'ADD'> | Node<'MUL'>;
  const a = ctx.input(0), b = ctx.input(1), out = ctx.output();
  const floatSameShape = [a, b, out].every((t) => t.dtype === 'float32') && a.shape.join() === b.shape.join();
  // Other dtypes and float broadcasts take the general broadcast kernels.
  if (!floatSameShape && ![a, b, out].every((t) => t.dtype === 'int8')) return lowerBroadcastBinary(ctx);
  if (floatSameShape) return lowerBinaryFloat(ctx, a, b, out);
  const qa = quant(ctx, a), qb = quant(ctx, b), qo = quant(ctx, out);
  const act = node.options.activation;
  if (act !== 'NONE' && act !== 'RELU' && act !== 'RELU6' && act !== 'RELU_N1_TO_1') throw ctx.unsupported(`fused activation ${act}`);
  const [actMin, actMax] = outputActivationRange(act, out);
  let fields: Record<string, number>;
  if (node.op === 'ADD') {
    const twiceMax = 2 * Math.max(qa.scale, qb.scale);
    const m1 = below1(ctx, qa.scale / twiceMax, 'input 0');
    const m2 = below1(ctx, qb.scale / twiceMax, 'input 1');
    const mo = below1(ctx, twiceMax / ((1 << ADD_LEFT_SHIFT_INT8) * qo.scale), 'output');
    fields = {
      in1_mult: m1.multiplier, in1_shift: m1.shift, in2_mult: m2.multiplier, in2_shift: m2.shift,
      out_mult: mo.multiplier, out_shift: mo.shift, left_shift: ADD_LEFT_SHIFT_INT8,
    };
  } else {
    const mo = quantizeMultiplier((qa.scale * qb.scale) / qo.scale);
    fields = { in1_mult: 0, in1_shift: 0, in2_mult: 0, in2_shift: 0, out_mult: mo.multiplier, out_shift: mo.shift, left_shift: 0 };
  }
  const params = ctx.struct('tm_binary_params', 'params', {
    in1_offset: -qa.zp, in2_offset: -qb.zp, ...fields, out_zp: qo.zp, act_min: actMin, act_max: actMax,
    fast: fastBinaryExact(node.op, fields) ? 1 : 0,
  });
  const definitions = [structDef(params)];
  const weights: CArray[] = [];
  const operand = operandOf(ctx, weights);
  // Element i is read before it is written, so the output may sit exactly on a same-shaped input.
  for (const t of [a, b]) {
    const layout = ctx.overlap(t, out);
    if (layout === 'partial' || (layout === 'same' && numElements(t.shape) !== numElements(out.shape))) {
      throw ctx.unsupported(`the memory plan overlays ${out.name} on ${t.name} in a way ${node.op} cannot compute in place`);
    }
  }
  const pa = operand(a, 'operand0'), pb = operand(b, 'operand1');
  const kernel = node.op === 'ADD' ? 'tm_add' : 'tm_mul';
  const outShape = broadcastShape(a.shape, b.shape, `node ${node.index}`);
  if (outShape.length > 4) throw ctx.unsupported(`broadcast over ${outShape.length} dimensions (the C kernels take up to 4)`);
  if (a.shape.join() === b.shape.join()) {
    return { headers: ['tm_elementwise.h'], definitions, weights, statements: [call(`${kernel}_s8`, structArg(params), intArg(numElements(out.shape)), pa, pb, ctx.ptr(out))] };
  }
  const out4 = [...new Array(4 - outShape.length).fill(1), ...outShape];
  const bc = ctx.struct('tm_broadcast4d', 'broadcast', { dims: out4, stride1: broadcastStrides(a.shape), stride2: broadcastStrides(b.shape) });
  definitions.push(structDef(bc));
  return { headers: ['tm_elementwise.h'], definitions, weights, statements: [call(`${kernel}_broadcast_s8`, structArg(params), structArg(bc), pa, pb, ctx.ptr(out))] };
}

/** An operand's argument: its arena pointer, or (a constant) an array added to `weights`. */
function operandOf(ctx: LayerContext, weights: CArray[]): (t: Tensor, what: string) => CArg {
  return (t, what) => {
    if (!t.data) return ctx.ptr(t);
    const arr = ctx.constantArray(t, what);
    weights.push(arr);
    return constArg(arr);
  };
}

/** Float ADD / MUL of same-shaped operands -> tm_add_f32 / tm_mul_f32 (broadcasts: tm_binary_f32). */
function lowerBinaryFloat(ctx: LayerContext, a: Tensor, b: Tensor, out: Tensor): LayerCode {
  const node = ctx.node as Node<'ADD'> | Node<'MUL'>;
  for (const t of [a, b]) {
    if (ctx.overlap(t, out) === 'partial') throw ctx.unsupported(`the memory plan overlays ${out.name} on ${t.name} in a way ${node.op} cannot compute in place`);
  }
  const weights: CArray[] = [];
  const operand = operandOf(ctx, weights);
  const act = floatAct(ctx, node.options.activation, out);
  const kernel = node.op === 'ADD' ? 'tm_add_f32' : 'tm_mul_f32';
  return {
    headers: ['tm_elementwise.h'], definitions: [structDef(act)], weights,
    statements: [call(kernel, structArg(act), intArg(numElements(out.shape)), operand(a, 'operand0'), operand(b, 'operand1'), ctx.ptr(out))],
  };
}
