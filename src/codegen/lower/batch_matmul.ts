import type { Node, Tensor } from '../../graph/graph.js';
import { broadcastShape } from '../../ops/broadcast.js';
import { coordsOf, flatIndex } from '../../ops/index_map.js';
import { quantOf } from '../../ops/elementwise_common.js';
import { quantizeMultiplier } from '../../quant/fixedpoint.js';
import type { CArray } from '../c_syntax.js';
import { arrayDef, call, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';
import { operandArg } from './broadcast_binary.js';

const KERNELS: Partial<Record<Tensor['dtype'], string>> = { float32: 'tm_batch_matmul_f32', int8: 'tm_batch_matmul_s8', int16: 'tm_batch_matmul_s16' };

/** Flat batch index of an operand (right-aligned, broadcast dimensions at 0) for output batch coordinates. */
function batchIndex(c: readonly number[], shape: readonly number[]): number {
  const lead = c.length - shape.length;
  return shape.length ? flatIndex(shape.map((d, i) => (d === 1 ? 0 : c[lead + i])), shape) : 0;
}

/** BATCH_MATMUL (float32, int8, int16) -> tm_batch_matmul_*, transposes as strides, broadcast batches as offset pairs. */
export function lowerBatchMatmul(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node<'BATCH_MATMUL'>;
  const lt = ctx.input(0), rt = ctx.input(1), out = ctx.output();
  const kernel = KERNELS[out.dtype];
  if (!kernel || lt.dtype !== out.dtype || rt.dtype !== out.dtype) throw ctx.unsupported(`${lt.dtype} x ${rt.dtype} -> ${out.dtype} is not generated`);
  const l = lt.shape, r = rt.shape;
  const { adjX, adjY } = node.options;
  const [M, K] = adjX ? [l[l.length - 1], l[l.length - 2]] : [l[l.length - 2], l[l.length - 1]];
  const N = adjY ? r[r.length - 2] : r[r.length - 1];
  const lb = l.slice(0, -2), rb = r.slice(0, -2);
  const batch = broadcastShape(lb, rb, `node ${node.index}`);
  const nb = batch.reduce((a, b) => a * b, 1);
  const c = new Array<number>(batch.length).fill(0);
  const offsets = new Int32Array(2 * nb);
  for (let b = 0; b < nb; b++) {
    coordsOf(b, batch, c);
    offsets[2 * b] = batchIndex(c, lb) * M * K;
    offsets[2 * b + 1] = batchIndex(c, rb) * K * N;
  }
  for (const t of [lt, rt]) ctx.requireDisjoint(t, out, 'BATCH_MATMUL');
  const f: Record<string, number> = { lhs_offset: 0, rhs_offset: 0, out_mult: 0, out_shift: 0, out_zp: 0 };
  if (out.dtype !== 'float32') {
    const ql = quantOf(node, lt), qr = quantOf(node, rt), qo = quantOf(node, out);
    const m = quantizeMultiplier((ql.scale * qr.scale) / qo.scale);
    Object.assign(f, { lhs_offset: -ql.zeroPoint, rhs_offset: -qr.zeroPoint, out_mult: m.multiplier, out_shift: m.shift, out_zp: qo.zeroPoint });
  }
  const offs: CArray = { name: ctx.name('batch_offsets'), type: 'int32_t', values: offsets, linkage: 'static' };
  const params = ctx.struct('tm_batch_matmul_params', 'params', {
    m: M, k: K, n: N, batches: nb,
    lhs_m_stride: adjX ? 1 : K, lhs_k_stride: adjX ? M : 1, rhs_k_stride: adjY ? 1 : N, rhs_n_stride: adjY ? K : 1,
    offsets: offs, ...f,
  });
  const weights: CArray[] = [];
  const pl = operandArg(ctx, weights, lt, 'lhs'), pr = operandArg(ctx, weights, rt, 'rhs');
  return {
    headers: ['tm_batch_matmul.h'], definitions: [arrayDef(offs), structDef(params)], weights,
    statements: [call(kernel, structArg(params), pl, pr, ctx.ptr(out))],
  };
}
