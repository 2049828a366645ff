import type { Node, Tensor } from '../../graph/graph.js';
import { numElements } from '../../graph/graph.js';
import type { Activation, OpName } from '../../graph/options.js';
import { DTYPE_BYTES, dtypeRange } from '../../graph/dtype.js';
import { floatActivationRange, outputActivationRange } from '../../quant/activation.js';
import { quantizeMultiplier } from '../../quant/fixedpoint.js';
import { broadcastShape } from '../../ops/broadcast.js';
import { addSubMultipliers } from '../../ops/add.js';
import { int8DivParams } from '../../ops/binary_math.js';
import type { AddNScaling } from '../../ops/add_n.js';
import { addNMultipliers } from '../../ops/add_n.js';
import { quantOf } from '../../ops/elementwise_common.js';
import type { CArray } from '../c_syntax.js';
import type { CArg, CStruct } from './kernel_call.js';
import { call, constArg, intArg, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';
import { broadcastStrides } from './elementwise.js';

/** The op codes of tm_binary.h (TM_BIN_*, TM_CMP_*), by TFLite op. */
const BINARY_OPS: Partial<Record<OpName, number>> = {
  ADD: 0, SUB: 1, MUL: 2, DIV: 3, FLOOR_DIV: 4, FLOOR_MOD: 5, SQUARED_DIFFERENCE: 6, MAXIMUM: 7, MINIMUM: 8, PRELU: 9,
};
const COMPARE_OPS: Partial<Record<OpName, number>> = {
  EQUAL: 0, NOT_EQUAL: 1, GREATER: 2, GREATER_EQUAL: 3, LESS: 4, LESS_EQUAL: 5, LOGICAL_AND: 6, LOGICAL_OR: 7,
};

const FLT_MAX = 3.4028234663852886e38;

function activationOf(node: Node): Activation {
  return 'activation' in node.options ? (node.options as { activation: Activation }).activation : 'NONE';
}

/** An operand's argument: its arena pointer, or (a constant) an array added to `weights`. */
export function operandArg(ctx: LayerContext, weights: CArray[], t: Tensor, what: string): CArg {
  if (!t.data) return ctx.ptr(t);
  const arr = ctx.constantArray(t, what);
  weights.push(arr);
  return constArg(arr);
}

/**
 * Element i is read before it is written, so the output may lie exactly on an input with as many
 * elements of the same size; any other overlap is refused.
 */
export function requireElementwiseLayout(ctx: LayerContext, inputs: readonly Tensor[], out: Tensor): void {
  for (const t of inputs) {
    const layout = ctx.overlap(t, out);
    const exact = numElements(t.shape) === numElements(out.shape) && DTYPE_BYTES[t.dtype] === DTYPE_BYTES[out.dtype];
    if (layout === 'partial' || (layout === 'same' && !exact)) {
      throw ctx.unsupported(`the memory plan overlays ${out.name} on ${t.name} in a way ${ctx.node.op} cannot compute in place`);
    }
  }
}

/** The output shape as 4-D and each input's broadcast strides (tm_broadcast4d). */
function broadcast4d(ctx: LayerContext, a: Tensor, b: Tensor): CStruct {
  const outShape = broadcastShape(a.shape, b.shape, `node ${ctx.node.index}`);
  if (outShape.length > 4) throw ctx.unsupported(`broadcast over ${outShape.length} dimensions (the C kernels take up to 4)`);
  const dims = [...new Array(4 - outShape.length).fill(1), ...outShape];
  return ctx.struct('tm_broadcast4d', 'broadcast', { dims, stride1: broadcastStrides(a.shape), stride2: broadcastStrides(b.shape) });
}

/** tm_qbinary_params of an int8 / int16 node, computed as the TypeScript op computes them. */
function quantisedParams(ctx: LayerContext, op: OpName, a: Tensor, b: Tensor, out: Tensor): Record<string, number> {
  const node = ctx.node as Node;
  const f: Record<string, number> = {
    in1_offset: 0, in2_offset: 0, in1_mult: 0, in1_shift: 0, in2_mult: 0, in2_shift: 0, out_mult: 0, out_shift: 0, out_zp: 0, left_shift: 0,
  };
  let [lo, hi] = dtypeRange(out.dtype);
  if (op === 'MAXIMUM' || op === 'MINIMUM') return { ...f, act_min: lo, act_max: hi };
  const qa = quantOf(node, a), qb = quantOf(node, b), qo = quantOf(node, out);
  Object.assign(f, { in1_offset: -qa.zeroPoint, in2_offset: -qb.zeroPoint, out_zp: qo.zeroPoint });
  if (op === 'ADD' || op === 'SUB') {
    const leftShift = out.dtype === 'int8' ? 20 : 15;
    const m = addSubMultipliers(node as Node<'ADD'>, ctx.graph, op === 'SUB', leftShift);
    Object.assign(f, { in1_mult: m.m0.multiplier, in1_shift: m.m0.shift, in2_mult: m.m1.multiplier, in2_shift: m.m1.shift, out_mult: m.mOut.multiplier, out_shift: m.mOut.shift, left_shift: leftShift });
    [lo, hi] = outputActivationRange(activationOf(node), out);
  } else if (op === 'MUL') {
    const m = quantizeMultiplier((qa.scale * qb.scale) / qo.scale);
    Object.assign(f, { out_mult: m.multiplier, out_shift: m.shift });
    [lo, hi] = outputActivationRange(activationOf(node), out);
  } else if (op === 'SQUARED_DIFFERENCE') {
    // squared_difference.cc: a common scale with 7 bits of headroom for int8 (none for int16), squared.
    const leftShift = a.dtype === 'int8' ? 7 : 0;
    const twiceMax = 2 * Math.max(qa.scale, qb.scale);
    const m0 = quantizeMultiplier(qa.scale / twiceMax), m1 = quantizeMultiplier(qb.scale / twiceMax);
    const mo = quantizeMultiplier((twiceMax * twiceMax) / ((1 << (leftShift * 2)) * qo.scale));
    Object.assign(f, { in1_mult: m0.multiplier, in1_shift: m0.shift, in2_mult: m1.multiplier, in2_shift: m1.shift, out_mult: mo.multiplier, out_shift: mo.shift, left_shift: leftShift });
  } else if (op === 'DIV' && out.dtype === 'int8') {
    const d = int8DivParams(node as Node<'DIV'>, ctx.graph);
    Object.assign(f, { out_mult: d.m.multiplier, out_shift: d.m.shift });
    [lo, hi] = [d.lo, d.hi];
  } else if (op === 'PRELU') {
    const m1 = quantizeMultiplier(qa.scale / qo.scale), m2 = quantizeMultiplier((qa.scale * qb.scale) / qo.scale);
    Object.assign(f, { in1_mult: m1.multiplier, in1_shift: m1.shift, out_mult: m2.multiplier, out_shift: m2.shift });
  } else {
    throw ctx.unsupported(`${out.dtype} ${op} is not generated`);
  }
  return { ...f, act_min: lo, act_max: hi };
}

/**
 * The binary ops on tm_binary.h's broadcast kernels: float32 and int32 arithmetic, int8 / int16 quantised
 * SUB, ADD, MUL, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM, PRELU. Parameters from the TypeScript op's own helpers.
 */
export function lowerBroadcastBinary(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node;
  const op = node.op;
  const code = BINARY_OPS[op];
  if (code === undefined) throw ctx.unsupported('not a binary op of tm_binary.h');
  const a = ctx.input(0), b = ctx.input(1), out = ctx.output();
  // PRELU on int16 activations takes int8 alphas (the reference requires them).
  const int16Prelu = op === 'PRELU' && a.dtype === 'int16' && b.dtype === 'int8' && out.dtype === 'int16';
  if (op === 'PRELU' && out.dtype === 'int16' && !int16Prelu) throw ctx.unsupported('int16 PRELU takes int8 alphas');
  if (a.dtype !== out.dtype || (b.dtype !== out.dtype && !int16Prelu)) throw ctx.unsupported(`${a.dtype}, ${b.dtype} -> ${out.dtype} is not generated`);
  requireElementwiseLayout(ctx, [a, b], out);
  const bc = broadcast4d(ctx, a, b);
  const weights: CArray[] = [];
  const pa = operandArg(ctx, weights, a, 'operand0'), pb = operandArg(ctx, weights, b, 'operand1');
  let params: CStruct, kernel: string;
  switch (out.dtype) {
    case 'float32': {
      const [lo, hi] = floatActivationRange(activationOf(node));
      params = ctx.struct('tm_binary_f32_params', 'params', { op: code, act_min: Math.max(lo, -FLT_MAX), act_max: Math.min(hi, FLT_MAX) });
      kernel = 'tm_binary_f32';
      break;
    }
    case 'int32': {
      if (op === 'PRELU') throw ctx.unsupported('int32 PRELU is not generated');
      const [lo, hi] = floatActivationRange(activationOf(node));
      params = ctx.struct('tm_binary_s32_params', 'params', { op: code, act_min: Math.max(lo, -2147483648), act_max: Math.min(hi, 2147483647) });
      kernel = 'tm_binary_s32';
      break;
    }
    case 'int8': case 'int16':
      params = ctx.struct('tm_qbinary_params', 'params', { op: code, ...quantisedParams(ctx, op, a, b, out) });
      kernel = op === 'DIV' ? 'tm_div_s8' : out.dtype === 'int8' ? 'tm_qbinary_s8' : int16Prelu ? 'tm_qbinary_s16_s8' : 'tm_qbinary_s16';
      break;
    default:
      throw ctx.unsupported(`${out.dtype} ${op} is not generated`);
  }
  return {
    headers: [kernel === 'tm_div_s8' ? 'tm_div.h' : 'tm_binary.h'], definitions: [structDef(params), structDef(bc)], weights,
    statements: [call(kernel, structArg(params), structArg(bc), pa, pb, ctx.ptr(out))],
  };
}

/** Comparisons (float32, int32, int64, int8 rescaled, bool) and LOGICAL_AND / LOGICAL_OR -> tm_compare_*, bool output. */
export function lowerCompare(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node;
  const code = COMPARE_OPS[node.op];
  if (code === undefined) throw ctx.unsupported('not a comparison');
  const a = ctx.input(0), b = ctx.input(1), out = ctx.output();
  if (a.dtype !== b.dtype || out.dtype !== 'bool') throw ctx.unsupported(`${a.dtype}, ${b.dtype} -> ${out.dtype} is not generated`);
  requireElementwiseLayout(ctx, [a, b], out);
  const f: Record<string, number> = { op: code, in1_offset: 0, in2_offset: 0, in1_mult: 0, in1_shift: 0, in2_mult: 0, in2_shift: 0, left_shift: 0 };
  const kernels: Partial<Record<Tensor['dtype'], string>> = { float32: 'tm_compare_f32', int32: 'tm_compare_s32', int64: 'tm_compare_s64', bool: 'tm_compare_u8', int8: 'tm_compare_s8' };
  const kernel = kernels[a.dtype];
  if (!kernel) throw ctx.unsupported(`${a.dtype} comparison is not generated`);
  if (a.dtype === 'int8') {
    // comparisons.cc: (q - zero point) << 8, each scaled by its own scale.
    const qa = quantOf(node, a), qb = quantOf(node, b);
    const ma = quantizeMultiplier(qa.scale), mb = quantizeMultiplier(qb.scale);
    Object.assign(f, { in1_offset: -qa.zeroPoint, in2_offset: -qb.zeroPoint, in1_mult: ma.multiplier, in1_shift: ma.shift, in2_mult: mb.multiplier, in2_shift: mb.shift, left_shift: 8 });
  }
  const params = ctx.struct('tm_compare_params', 'params', f);
  const bc = broadcast4d(ctx, a, b);
  const weights: CArray[] = [];
  const pa = operandArg(ctx, weights, a, 'operand0'), pb = operandArg(ctx, weights, b, 'operand1');
  return {
    headers: ['tm_binary.h'], definitions: [structDef(params), structDef(bc)], weights,
    statements: [call(kernel, structArg(params), structArg(bc), pa, pb, ctx.ptr(out))],
  };
}

/** SELECT_V2: condition, x and y broadcast to the output -> tm_select (element bytes, any dtype). */
export function lowerSelect(ctx: LayerContext): LayerCode {
  const cond = ctx.input(0), x = ctx.input(1), y = ctx.input(2), out = ctx.output();
  if (cond.dtype !== 'bool' || x.dtype !== out.dtype || y.dtype !== out.dtype) throw ctx.unsupported('SELECT_V2 of mixed types');
  if (out.shape.length > 4) throw ctx.unsupported(`rank ${out.shape.length} (the C kernel takes up to 4)`);
  for (const t of [cond, x, y]) ctx.requireDisjoint(t, out, 'SELECT_V2');
  const pad = (s: readonly number[]) => [...new Array(out.shape.length - s.length).fill(1), ...s];
  const params = ctx.struct('tm_select_params', 'params', {
    dims: [...new Array(4 - out.shape.length).fill(1), ...out.shape],
    stride_cond: broadcastStrides(pad(cond.shape)), stride_x: broadcastStrides(pad(x.shape)), stride_y: broadcastStrides(pad(y.shape)),
    elem_bytes: DTYPE_BYTES[out.dtype],
  });
  const weights: CArray[] = [];
  const args = [cond, x, y].map((t, i) => operandArg(ctx, weights, t, `operand${i}`));
  const asBytes = (c: CArg): CArg => (c.kind === 'arena' ? { ...c, type: 'uint8_t' } : c);
  return {
    headers: ['tm_binary.h'], definitions: [structDef(params)], weights,
    statements: [call('tm_select', structArg(params), asBytes(args[0]), args[1], args[2], ctx.ptr(out))],
  };
}

/**
 * ADD_N of one shape: float32 adds the inputs one by one into the output (the reference's order); int8
 * (one input quantisation) sums every input's rescaled terms into an int32 per element in the layer's
 * scratch (tm_add_n.h), then rescales the sums to the output.
 */
export function lowerAddN(ctx: LayerContext): LayerCode {
  const out = ctx.output();
  const ins = ctx.node.inputs.map((_, i) => ctx.input(i));
  if ((out.dtype !== 'float32' && out.dtype !== 'int8') || ins.some((t) => t.dtype !== out.dtype || t.shape.join() !== out.shape.join())) {
    throw ctx.unsupported(`${ins.map((t) => t.dtype).join(', ')} -> ${out.dtype} ADD_N is not generated (float32 or int8 of one shape)`);
  }
  const weights: CArray[] = [];
  const args = ins.map((t, i) => operandArg(ctx, weights, t, `input${i}`));
  const n = numElements(out.shape);
  if (out.dtype === 'int8') return addNInt8(ctx, args, n, weights);
  for (const t of ins) ctx.requireDisjoint(t, out, 'ADD_N');
  const params = ctx.struct('tm_binary_f32_params', 'params', { op: BINARY_OPS.ADD!, act_min: -FLT_MAX, act_max: FLT_MAX });
  const bc = ctx.struct('tm_broadcast4d', 'broadcast', { dims: [1, 1, 1, n], stride1: [0, 0, 0, 1], stride2: [0, 0, 0, 1] });
  const statements = args.slice(1).map((b, k) => call('tm_binary_f32', structArg(params), structArg(bc), k === 0 ? args[0] : ctx.ptr(out), b, ctx.ptr(out)));
  return { headers: ['tm_binary.h'], definitions: [structDef(params), structDef(bc)], weights, statements };
}

/** int8 ADD_N: the sums live in the layer's scratch until every input is read, so the output may lie anywhere. */
function addNInt8(ctx: LayerContext, args: CArg[], n: number, weights: CArray[]): LayerCode {
  const m = addNMultipliers(ctx.node as Node<'ADD_N'>, ctx.graph);
  const params = ctx.struct('tm_addn_params', 'params', addNFields(m));
  const acc = ctx.scratchBuffer(4 * n, 'int32_t');
  return {
    headers: ['tm_add_n.h'], definitions: [structDef(params)], weights,
    statements: [
      ...args.map((x, k) => call('tm_add_n_s8_acc', structArg(params), intArg(n), intArg(k === 0 ? 1 : 0), x, acc)),
      call('tm_add_n_s8_out', structArg(params), intArg(n), acc, ctx.ptr(ctx.output())),
    ],
  };
}

/** tm_addn_params from the op's own multipliers (ADD_N and CUMSUM share them). */
export function addNFields(m: AddNScaling): Record<string, number> {
  return { in_offset: m.inOffset, in_mult: m.mi.multiplier, in_shift: m.mi.shift, out_mult: m.mo.multiplier, out_shift: m.mo.shift, out_zp: m.outZeroPoint };
}
