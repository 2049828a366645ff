import type { Node } from '../../graph/graph.js';
import { numElements } from '../../graph/graph.js';
import { DTYPE_BYTES } from '../../graph/dtype.js';
import type { CArray } from '../c_syntax.js';
import { call, floatArg, intArg, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';
import { operandArg } from './broadcast_binary.js';

/* Copies driven by index values, constant or computed (tm_gather.h): GATHER, GATHER_ND, EMBEDDING_LOOKUP, DYNAMIC_UPDATE_SLICE, BROADCAST_ARGS. */

/** GATHER -> tm_gather (indices int32, constant or computed). */
export function lowerGather(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node<'GATHER'>;
  const params = ctx.input(0), idx = ctx.input(1), out = ctx.output();
  if (idx.dtype !== 'int32') throw ctx.unsupported(`${idx.dtype} indices are not generated`);
  const rank = params.shape.length;
  const axis = node.options.axis < 0 ? node.options.axis + rank : node.options.axis;
  const bd = node.options.batchDims < 0 ? node.options.batchDims + idx.shape.length : node.options.batchDims;
  const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  for (const t of [params, idx]) ctx.requireDisjoint(t, out, 'GATHER');
  const p = ctx.struct('tm_gather_params', 'params', {
    batch: prod(params.shape.slice(0, bd)), outer: prod(params.shape.slice(bd, axis)), coord: params.shape[axis],
    per_batch: prod(idx.shape.slice(bd)), inner_bytes: prod(params.shape.slice(axis + 1)) * DTYPE_BYTES[params.dtype],
  });
  const weights: CArray[] = [];
  const indices = operandArg(ctx, weights, idx, 'indices');
  const src = operandArg(ctx, weights, params, 'params');
  return {
    headers: ['tm_gather.h'], definitions: [structDef(p)], weights,
    statements: [call('tm_gather', structArg(p), indices, src, ctx.ptr(out))],
  };
}

/** GATHER_ND (int32 indices, constant or computed, depth <= 8) -> tm_gather_nd. */
export function lowerGatherNd(ctx: LayerContext): LayerCode {
  const params = ctx.input(0), idx = ctx.input(1), out = ctx.output();
  if (idx.dtype !== 'int32') throw ctx.unsupported(`${idx.dtype} indices are not generated`);
  const k = idx.shape[idx.shape.length - 1];
  if (k > 8) throw ctx.unsupported(`index depth ${k} (the C kernel takes 8)`);
  for (const t of [params, idx]) ctx.requireDisjoint(t, out, 'GATHER_ND');
  const dims = [...params.shape.slice(0, k), ...new Array<number>(8 - k).fill(1)];
  const p = ctx.struct('tm_gather_nd_params', 'params', {
    n: numElements(idx.shape) / k, k, slice_bytes: numElements(params.shape.slice(k)) * DTYPE_BYTES[params.dtype], dims,
  });
  const weights: CArray[] = [];
  const indices = operandArg(ctx, weights, idx, 'indices');
  const src = operandArg(ctx, weights, params, 'params');
  return { headers: ['tm_gather.h'], definitions: [structDef(p)], weights, statements: [call('tm_gather_nd', structArg(p), indices, src, ctx.ptr(out))] };
}

/** DYNAMIC_UPDATE_SLICE (rank <= 4, int32 starts) -> tm_dynamic_update_slice; the output may lie on the operand. */
export function lowerUpdateSlice(ctx: LayerContext): LayerCode {
  const operand = ctx.input(0), update = ctx.input(1), starts = ctx.input(2), out = ctx.output();
  const rank = operand.shape.length;
  if (rank > 4) throw ctx.unsupported(`rank ${rank} (the C kernel takes up to 4)`);
  if (starts.dtype !== 'int32') throw ctx.unsupported(`${starts.dtype} start indices are not generated`);
  if (ctx.overlap(operand, out) === 'partial') throw ctx.unsupported('the memory plan overlays the output on the operand at another offset');
  for (const t of [update, starts]) ctx.requireDisjoint(t, out, 'DYNAMIC_UPDATE_SLICE');
  const pad = (s: readonly number[]) => [...new Array<number>(4 - rank).fill(1), ...s];
  const p = ctx.struct('tm_update_slice_params', 'params', { dims: pad(operand.shape), upd_dims: pad(update.shape), lead: 4 - rank, elem_bytes: DTYPE_BYTES[out.dtype] });
  const weights: CArray[] = [];
  const args = [operandArg(ctx, weights, operand, 'operand'), operandArg(ctx, weights, update, 'update'), operandArg(ctx, weights, starts, 'starts')];
  return { headers: ['tm_gather.h'], definitions: [structDef(p)], weights, statements: [call('tm_dynamic_update_slice', structArg(p), ...args, ctx.ptr(out))] };
}

/** EMBEDDING_LOOKUP (int32 ids, a table of the output's type) -> tm_gather of whole rows. */
export function lowerEmbeddingLookup(ctx: LayerContext): LayerCode {
  const ids = ctx.input(0), table = ctx.input(1), out = ctx.output();
  const hybrid = table.dtype === 'int8' && out.dtype === 'float32';
  if (ids.dtype !== 'int32' || (table.dtype !== out.dtype && !hybrid)) throw ctx.unsupported(`ids ${ids.dtype}, table ${table.dtype} -> ${out.dtype} is not generated`);
  for (const t of [ids, table]) ctx.requireDisjoint(t, out, 'EMBEDDING_LOOKUP');
  const rows = table.shape[0];
  if (hybrid) return hybridLookup(ctx, rows, numElements(table.shape) / rows);
  const p = ctx.struct('tm_gather_params', 'params', {
    batch: 1, outer: 1, coord: rows, per_batch: ids.shape[0], inner_bytes: (numElements(table.shape) / rows) * DTYPE_BYTES[table.dtype],
  });
  const weights: CArray[] = [];
  const indices = operandArg(ctx, weights, ids, 'ids');
  const src = operandArg(ctx, weights, table, 'table');
  return { headers: ['tm_gather.h'], definitions: [structDef(p)], weights, statements: [call('tm_gather', structArg(p), indices, src, ctx.ptr(out))] };
}

/** EMBEDDING_LOOKUP of int8 rows into float32 (EvalHybrid: a symmetric table, each value q * scale) -> tm_embedding_lookup_s8_f32. */
function hybridLookup(ctx: LayerContext, rows: number, row: number): LayerCode {
  const ids = ctx.input(0), table = ctx.input(1), out = ctx.output();
  const q = table.quant;
  if (!q || q.scale.length !== 1 || (q.zeroPoint[0] ?? 0) !== 0) throw ctx.unsupported(`int8 table ${table.name} needs one scale and zero point 0`);
  const weights: CArray[] = [];
  const indices = operandArg(ctx, weights, ids, 'ids');
  const src = operandArg(ctx, weights, table, 'table');
  return {
    headers: ['tm_gather.h'], definitions: [], weights,
    statements: [call('tm_embedding_lookup_s8_f32', intArg(rows), intArg(row), intArg(ids.shape[0]), floatArg(q.scale[0]), indices, src, ctx.ptr(out))],
  };
}

/** BROADCAST_ARGS of two int32 or int64 shape vectors -> tm_broadcast_args. */
export function lowerBroadcastArgs(ctx: LayerContext): LayerCode {
  const a = ctx.input(0), b = ctx.input(1), out = ctx.output();
  if (![a, b, out].every((t) => t.dtype === out.dtype) || (out.dtype !== 'int32' && out.dtype !== 'int64')) throw ctx.unsupported('shape vectors of one int32 or int64 type');
  for (const t of [a, b]) ctx.requireDisjoint(t, out, 'BROADCAST_ARGS');
  const weights: CArray[] = [];
  const args = [operandArg(ctx, weights, a, 'shape0'), operandArg(ctx, weights, b, 'shape1')];
  return {
    headers: ['tm_gather.h'], definitions: [], weights,
    statements: [call('tm_broadcast_args', intArg(out.dtype === 'int64' ? 1 : 0), intArg(numElements(a.shape)), intArg(numElements(b.shape)), ...args, ctx.ptr(out))],
  };
}
