import { DTYPE_BYTES } from '../../graph/dtype.js';
import { call, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';
import { constantValues } from './layer.js';

/** TRANSPOSE (any element type, rank <= 4) -> tm_transpose walking the output through permuted strides. */
export function lowerTranspose(ctx: LayerContext): LayerCode {
  const input = ctx.input(0), permT = ctx.input(1), output = ctx.output();
  if (!permT.data) throw ctx.unsupported('non-constant permutation');
  const perm = Array.from(constantValues(permT));
  const rank = input.shape.length;
  if (rank > 4) throw ctx.unsupported(`rank ${rank} (the C kernel takes up to 4)`);
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
