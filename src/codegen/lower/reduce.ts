import type { Node, Tensor } from '../../graph/graph.js';
import { numElements } from '../../graph/graph.js';
import { quantizeMultiplier } from '../../quant/fixedpoint.js';
import { meanMultiplier } from '../../ops/mean.js';
import { constInts } from '../../ops/data_move.js';
import type { CStruct } from './kernel_call.js';
import { call, intArg, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';
import { lowerMean } from './mean.js';
import { quantOf } from '../../ops/elementwise_common.js';

const RED_OPS: Readonly<Record<string, number>> = { SUM: 0, REDUCE_MAX: 1, REDUCE_MIN: 2, REDUCE_ALL: 3, MEAN: 4 };

/** The input as 4-D and which of its axes are reduced (constant axes, negative ones counted from the end). */
function reduction(ctx: LayerContext, input: Tensor, output: Tensor): { dims: number[]; reduced: number[]; count: number } {
  const rank = input.shape.length;
  if (rank > 4) throw ctx.unsupported(`rank ${rank} input (the C kernels take up to 4)`);
  const axes = new Set(constInts(ctx.node as Node, ctx.graph, 1, 'axis', ['int32', 'int64']).map((a) => (a < 0 ? a + rank : a)));
  const dims = [...new Array(4 - rank).fill(1), ...input.shape];
  const reduced = dims.map((_, i) => (axes.has(i - (4 - rank)) ? 1 : 0));
  const count = dims.reduce((n, d, i) => (reduced[i] ? n * d : n), 1);
  if (numElements(output.shape) * count !== numElements(input.shape)) throw ctx.unsupported('output size does not match the reduced axes');
  ctx.requireDisjoint(input, output, ctx.node.op);
  return { dims, reduced, count };
}

function sameQuantisation(a: Tensor, b: Tensor): boolean {
  return !!a.quant && !!b.quant && a.quant.scale[0] === b.quant.scale[0] && a.quant.zeroPoint[0] === b.quant.zeroPoint[0];
}

/** QuantizedMeanOrSum on int8 / int16 -> tm_mean_s8 / tm_mean_s16 (SUM: no 1/count in the multiplier). */
function quantisedMeanOrSum(ctx: LayerContext, input: Tensor, output: Tensor): LayerCode {
  if (!input.quant || !output.quant) throw ctx.unsupported('quantised input and output needed');
  const { dims, reduced, count } = reduction(ctx, input, output);
  const base = quantizeMultiplier(input.quant.scale[0] / output.quant.scale[0]);
  const m = ctx.node.op === 'SUM' ? base : meanMultiplier(base.multiplier, base.shift, Math.max(count, 1));
  const params = ctx.struct('tm_mean_params', 'params', {
    in_dims: dims, reduced, count, in_zp: input.quant.zeroPoint[0], out_zp: output.quant.zeroPoint[0], mult: m.multiplier, shift: m.shift,
  });
  const kernel = input.dtype === 'int8' ? 'tm_mean_s8' : 'tm_mean_s16';
  return { headers: [input.dtype === 'int8' ? 'tm_mean.h' : 'tm_reduce.h'], definitions: [structDef(params)], weights: [], statements: [call(kernel, structArg(params), ctx.ptr(input), ctx.ptr(output))] };
}

/** SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_ALL and MEAN over constant axes -> tm_reduce_* / tm_mean_*. */
export function lowerReduce(ctx: LayerContext): LayerCode {
  const op = ctx.node.op;
  const input = ctx.input(0), output = ctx.output();
  if (input.dtype !== output.dtype) throw ctx.unsupported(`${input.dtype} -> ${output.dtype}`);
  const dt = input.dtype;
  if (op === 'MEAN' && dt === 'int8') return lowerMean(ctx);
  if ((op === 'MEAN' || op === 'SUM') && (dt === 'int8' || dt === 'int16')) return quantisedMeanOrSum(ctx, input, output);
  const kernels: Partial<Record<Tensor['dtype'], string>> = op === 'REDUCE_ALL'
    ? { bool: 'tm_reduce_all_u8' }
    : op === 'SUM' || op === 'MEAN' ? { float32: 'tm_reduce_f32', ...(op === 'SUM' ? { int32: 'tm_reduce_s32' } : {}) }
      : { float32: 'tm_reduce_f32', int32: 'tm_reduce_s32', int8: 'tm_reduce_s8', int16: 'tm_reduce_s16' };
  const kernel = kernels[dt];
  if (!kernel) throw ctx.unsupported(`${dt} ${op} is not generated`);
  if ((dt === 'int8' || dt === 'int16') && !sameQuantisation(input, output)) throw ctx.unsupported('input and output quantisations differ');
  const { dims, reduced, count } = reduction(ctx, input, output);
  const params: CStruct = ctx.struct('tm_reduce_params', 'params', { op: RED_OPS[op], in_dims: dims, reduced, count });
  return { headers: ['tm_reduce.h'], definitions: [structDef(params)], weights: [], statements: [call(kernel, structArg(params), ctx.ptr(input), ctx.ptr(output))] };
}

/** ARG_MAX / ARG_MIN along a constant axis, int32 output -> tm_arg_*. */
export function lowerArg(ctx: LayerContext): LayerCode {
  const input = ctx.input(0), output = ctx.output();
  if (output.dtype !== 'int32') throw ctx.unsupported(`${output.dtype} output is not generated`);
  const kernels: Partial<Record<Tensor['dtype'], string>> = { float32: 'tm_arg_f32', int8: 'tm_arg_s8', uint8: 'tm_arg_u8', int16: 'tm_arg_s16', int32: 'tm_arg_s32' };
  const kernel = kernels[input.dtype];
  if (!kernel) throw ctx.unsupported(`${input.dtype} input is not generated`);
  const s = input.shape;
  const [a] = constInts(ctx.node as Node, ctx.graph, 1, 'axis', ['int32', 'int64']);
  const axis = a < 0 ? a + s.length : a;
  ctx.requireDisjoint(input, output, ctx.node.op);
  const params = ctx.struct('tm_arg_params', 'params', {
    op: ctx.node.op === 'ARG_MAX' ? 0 : 1, outer: s.slice(0, axis).reduce((x, y) => x * y, 1), n: s[axis], inner: s.slice(axis + 1).reduce((x, y) => x * y, 1),
  });
  return { headers: ['tm_reduce.h'], definitions: [structDef(params)], weights: [], statements: [call(kernel, structArg(params), ctx.ptr(input), ctx.ptr(output))] };
}

/** L2_NORMALIZATION over the last dimension: float32 -> tm_l2_normalize_f32, int8 -> tm_l2_normalize_s8 (output 1/128, zero point 0). */
export function lowerL2Normalize(ctx: LayerContext): LayerCode {
  const input = ctx.input(0), output = ctx.output();
  const int8 = input.dtype === 'int8' && output.dtype === 'int8';
  if (!int8 && (input.dtype !== 'float32' || output.dtype !== 'float32')) throw ctx.unsupported(`${input.dtype} -> ${output.dtype} L2_NORMALIZATION is not generated (float32 and int8)`);
  const depth = input.shape[input.shape.length - 1];
  const rows = numElements(input.shape) / depth;
  if (ctx.overlap(input, output) === 'partial') throw ctx.unsupported('the memory plan overlays output and input at different offsets');
  if (int8) {
    const zp = quantOf(ctx.node as Node, input).zeroPoint;
    return { headers: ['tm_l2norm.h'], definitions: [], weights: [], statements: [call('tm_l2_normalize_s8', intArg(rows), intArg(depth), intArg(zp), ctx.ptr(input), ctx.ptr(output))] };
  }
  return { headers: ['tm_reduce.h'], definitions: [], weights: [], statements: [call('tm_l2_normalize_f32', intArg(rows), intArg(depth), ctx.ptr(input), ctx.ptr(output))] };
}
