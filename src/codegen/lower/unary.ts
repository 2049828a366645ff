import type { Node, Tensor } from '../../graph/graph.js';
import { numElements, tensorBytes } from '../../graph/graph.js';
import type { OpName } from '../../graph/options.js';
import { DTYPE_BYTES } from '../../graph/dtype.js';
import type { OpDef } from '../../ops/op.js';
import { OPS } from '../../ops/registry.js';
import type { CArray } from '../c_syntax.js';
import type { CArg } from './kernel_call.js';
import { call, constArg, intArg, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';
import { lowerLut } from './lut.js';
import { quantOf } from '../../ops/elementwise_common.js';
import { quantizedSix } from '../../ops/relu6.js';
import { quantizeMultiplier, roundHalfAway } from '../../quant/fixedpoint.js';
import { requireElementwiseLayout } from './broadcast_binary.js';
import { sigmoidInt16Params } from '../../ops/sigmoid_int16.js';

/** The op codes of tm_unary_f32 (TM_UN_*), by TFLite op. */
export const UNARY_F32: Partial<Record<OpName, number>> = {
  ABS: 0, NEG: 1, FLOOR: 2, CEIL: 3, ROUND: 4, SQUARE: 5, SQRT: 6, RSQRT: 7, EXP: 8, LOG: 9, SIN: 10, COS: 11,
  RELU: 12, RELU6: 13, LOGISTIC: 14, TANH: 15, ELU: 16, HARD_SWISH: 17, LEAKY_RELU: 18,
};

/** Element type codes of tm_cast / tm_fill (TM_T_*). */
const TYPE_CODE: Partial<Record<Tensor['dtype'], number>> = { float32: 0, int8: 1, uint8: 2, int16: 3, int32: 4, bool: 5 };

/**
 * A unary op: its int8 table when it has one (tm_lut_s8), float32 -> tm_unary_f32, bool LOGICAL_NOT as a
 * byte table; other dtypes are refused.
 */
export function lowerUnary(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node;
  const input = ctx.input(0), output = ctx.output();
  const def = OPS[node.op] as OpDef;
  if (input.dtype === 'int8' && def.int8Table) return lowerLut(ctx);
  if (node.op === 'LOGICAL_NOT') return logicalNot(ctx, input, output);
  if (input.dtype === 'int16' && output.dtype === 'int16' && (node.op === 'RELU' || node.op === 'RELU6' || node.op === 'LEAKY_RELU')) return activation16(ctx, input, output);
  if (input.dtype === 'int16' && output.dtype === 'int16' && (node.op === 'LOGISTIC' || node.op === 'TANH')) return sigmoid16(ctx, input, output);
  const code = UNARY_F32[node.op];
  if (code === undefined || input.dtype !== 'float32' || output.dtype !== 'float32') {
    throw ctx.unsupported(`${input.dtype} -> ${output.dtype} is not generated (int8 tables and float32)`);
  }
  requireElementwiseLayout(ctx, [input], output);
  const alpha = node.op === 'LEAKY_RELU' ? Math.fround((node as Node<'LEAKY_RELU'>).options.alpha) : 0;
  const params = ctx.struct('tm_unary_f32_params', 'params', { op: code, alpha });
  return {
    headers: ['tm_unary.h'], definitions: [structDef(params)], weights: [],
    statements: [call('tm_unary_f32', structArg(params), intArg(numElements(output.shape)), ctx.ptr(input), ctx.ptr(output))],
  };
}

/** int16 RELU, RELU6, LEAKY_RELU -> tm_act_s16 with the TypeScript op's multipliers and bounds. */
function activation16(ctx: LayerContext, input: Tensor, output: Tensor): LayerCode {
  const node = ctx.node as Node;
  const qi = quantOf(node, input), qo = quantOf(node, output);
  const f: Record<string, number> = { in_zp: qi.zeroPoint, out_zp: qo.zeroPoint, pos_mult: 0, pos_shift: 0, neg_mult: 0, neg_shift: 0, lo: -32768, hi: 32767, identity: 0 };
  if (node.op === 'RELU6') {
    Object.assign(f, { identity: 1, lo: qi.zeroPoint, hi: quantizedSix(qi.scale, qi.zeroPoint, 32767, -32768) });
  } else {
    const pos = quantizeMultiplier(qi.scale / qo.scale);
    const neg = node.op === 'LEAKY_RELU' ? quantizeMultiplier((Math.fround((node as Node<'LEAKY_RELU'>).options.alpha) * qi.scale) / qo.scale) : pos;
    Object.assign(f, { pos_mult: pos.multiplier, pos_shift: pos.shift, neg_mult: neg.multiplier, neg_shift: neg.shift });
    if (node.op === 'RELU') f.lo = Math.max(-32768, qo.zeroPoint + roundHalfAway(Math.fround(0 / qo.scale)));
  }
  requireElementwiseLayout(ctx, [input], output);
  const params = ctx.struct('tm_act_s16_params', 'params', f);
  return {
    headers: ['tm_unary.h'], definitions: [structDef(params)], weights: [],
    statements: [call('tm_act_s16', structArg(params), intArg(numElements(output.shape)), ctx.ptr(input), ctx.ptr(output))],
  };
}

/** int16 LOGISTIC and TANH -> tm_sigmoid_s16 (TFLite's interpolated table) with the op's input rescaling. */
function sigmoid16(ctx: LayerContext, input: Tensor, output: Tensor): LayerCode {
  const node = ctx.node as Node<'LOGISTIC' | 'TANH'>;
  const { multiplier, shift } = sigmoidInt16Params(node, ctx.graph);
  requireElementwiseLayout(ctx, [input], output);
  return {
    headers: ['tm_sigmoid16.h'], definitions: [], weights: [],
    statements: [call('tm_sigmoid_s16', intArg(node.op === 'LOGISTIC' ? 0 : 1), intArg(multiplier), intArg(shift), intArg(numElements(output.shape)), ctx.ptr(input), ctx.ptr(output))],
  };
}

/** LOGICAL_NOT on bool bytes: the lookup kernel with a table of "is zero". */
function logicalNot(ctx: LayerContext, input: Tensor, output: Tensor): LayerCode {
  if (input.dtype !== 'bool' || output.dtype !== 'bool') throw ctx.unsupported('LOGICAL_NOT takes bool');
  requireElementwiseLayout(ctx, [input], output);
  const table: CArray = { name: ctx.name('table'), type: 'int8_t', values: Int8Array.from({ length: 256 }, (_, i) => (i === 128 ? 1 : 0)), align: 4, linkage: 'extern', comment: 'not: 1 for the byte 0, indexed by (int8) byte + 128' };
  const bytes = (t: Tensor): CArg => ({ kind: 'arena', offset: ctx.offset(t), type: 'int8_t' });
  return {
    headers: ['tm_lut.h'], definitions: [], weights: [table],
    statements: [call('tm_lut_s8', constArg(table), intArg(numElements(output.shape)), bytes(input), bytes(output))],
  };
}

function typeCode(ctx: LayerContext, t: Tensor): number {
  const c = TYPE_CODE[t.dtype];
  if (c === undefined) throw ctx.unsupported(`${t.name} is ${t.dtype} (not generated)`);
  return c;
}

/** CAST -> tm_cast (static_cast semantics between float32, int8, uint8, int16, int32 and bool). */
export function lowerCast(ctx: LayerContext): LayerCode {
  const input = ctx.input(0), output = ctx.output();
  const from = typeCode(ctx, input), to = typeCode(ctx, output);
  if (input.data) throw ctx.unsupported('cast of a constant');
  requireElementwiseLayout(ctx, [input], output);
  return {
    headers: ['tm_unary.h'], definitions: [], weights: [],
    statements: [call('tm_cast', intArg(from), intArg(to), intArg(numElements(output.shape)), ctx.ptr(input), ctx.ptr(output))],
  };
}

/** FILL (a constant value) and ZEROS_LIKE -> tm_fill with the value's element in Flash. */
export function lowerFill(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node;
  const output = ctx.output();
  const eb = DTYPE_BYTES[output.dtype];
  const weights: CArray[] = [];
  let value: CArg;
  if (node.op === 'FILL') {
    const v = ctx.input(1);
    if (v.dtype !== output.dtype) throw ctx.unsupported('the fill value must have the output type');
    value = v.data ? constArg(ctx.constantArray(v, 'value')) : ctx.ptr(v);
  } else {
    value = constArg({ name: ctx.name('zero'), type: ctx.elementType(output), values: [0], align: 4, linkage: 'extern' });
  }
  if (value.kind === 'const') weights.push(value.array);
  if (!node.inputs.every((id) => id < 0 || ctx.overlap(ctx.tensor(id), output) === 'disjoint')) throw ctx.unsupported('the memory plan overlays the output on an input');
  return {
    headers: ['tm_unary.h'], definitions: [], weights,
    statements: [call('tm_fill', intArg(eb), intArg(numElements(output.shape)), value, ctx.ptr(output))],
  };
}

/** SHAPE: the input's dimensions are known here, so the output is a constant copied in. */
export function lowerShape(ctx: LayerContext): LayerCode {
  const input = ctx.input(0), output = ctx.output();
  if (output.dtype !== 'int32') throw ctx.unsupported(`${output.dtype} SHAPE is not generated`);
  const dims: CArray = { name: ctx.name('dims'), type: 'int32_t', values: Int32Array.from(input.shape), align: 4, linkage: 'extern', comment: `shape of ${input.name}` };
  const bytes = tensorBytes(output);
  return {
    headers: ['tm_concatenation.h'], definitions: [], weights: [dims],
    statements: [call('tm_concat_copy', intArg(1), intArg(bytes), intArg(bytes), constArg(dims), ctx.ptr(output))],
  };
}

