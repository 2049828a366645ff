import { DTYPE_BYTES } from '../../graph/dtype.js';
import { call, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';
import { constantValues } from './layer.js';
import type { Tensor } from '../../graph/graph.js';
import { stridesOf } from '../../ops/data_move.js';
import type { SliceAxis } from './strided_slice.js';
import { foldWalk } from './strided_slice.js';

/** TRANSPOSE (any element type) -> tm_transpose walking the output through permuted strides (rank <= 4), or a folded strided walk. */
export function lowerTranspose(ctx: LayerContext): LayerCode {
  const input = ctx.input(0), permT = ctx.input(1), output = ctx.output();
  if (!permT.data) throw ctx.unsupported('non-constant permutation');
  const perm = Array.from(constantValues(permT));
  const rank = input.shape.length;
  if (rank > 4) return transposeWalk(ctx, input, output, perm);
  const lead = 4 - rank;
  const dims = [...new Array(lead).fill(1), ...input.shape];
  const perm4 = [...Array.from({ length: lead }, (_, i) => i), ...perm.map((p) => p + lead)];
  const inStrides = [0, 0, 0, 0];
  for (let i = 3, s = 1; i >= 0; i--) { inStrides[i] = s; s *= dims[i]; }
  ctx.requireDisjoint(input, output, 'TRANSPOSE');
  const params = ctx.struct('tm_transpose_params', 'params', {
    out_dims: perm4.map((p) => dims[p]), in_strides: perm4.map((p) => inStrides[p]), elem_bytes: DTYPE_BYTES[input.dtype],
  });
  return {
    headers: ['tm_transpose.h'],
    definitions: [structDef(params)],
    weights: [],
    statements: [call('tm_transpose', structArg(params), ctx.ptr(input), ctx.ptr(output))],
  };
}

/** A transpose of rank > 4 as a strided walk, when its axes fold to four (tm_strided_slice). */
function transposeWalk(ctx: LayerContext, input: Tensor, output: Tensor, perm: readonly number[]): LayerCode {
  const eb = DTYPE_BYTES[input.dtype];
  const strides = stridesOf(input.shape);
  const walk = foldWalk(perm.map((p) => ({ count: input.shape[p], stride: strides[p] * eb })), 0, eb);
  if (walk.axes.length > 4) throw ctx.unsupported(`rank ${input.shape.length} with ${walk.axes.length} axes after folding (the C kernels take 4)`);
  ctx.requireDisjoint(input, output, 'TRANSPOSE');
  const four = [...new Array<SliceAxis>(4 - walk.axes.length).fill({ count: 1, stride: 0 }), ...walk.axes];
  const params = ctx.struct('tm_strided_slice_params', 'params', {
    counts: four.map((a) => a.count), strides: four.map((a) => a.stride), base: walk.base, run_bytes: walk.runBytes,
  });
  return {
    headers: ['tm_strided_slice.h'], definitions: [structDef(params)], weights: [],
    statements: [call('tm_strided_slice', structArg(params), ctx.ptr(input), ctx.ptr(output))],
  };
}
