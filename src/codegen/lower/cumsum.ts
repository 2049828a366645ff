import type { Node } from '../../graph/graph.js';
import { addNScaling } from '../../ops/add_n.js';
import { cumsumGeometry } from '../../ops/cumsum.js';
import { quantOf } from '../../ops/elementwise_common.js';
import { call, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';
import { addNFields, requireElementwiseLayout } from './broadcast_binary.js';

/** int8 CUMSUM along a constant axis -> tm_cumsum_s8, with ADD_N's rescaling (tm_add_n.h). */
export function lowerCumsum(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node<'CUMSUM'>;
  const input = ctx.input(0), output = ctx.output();
  if (input.dtype !== 'int8' || output.dtype !== 'int8') throw ctx.unsupported(`${input.dtype} -> ${output.dtype} CUMSUM is not generated (int8 only)`);
  requireElementwiseLayout(ctx, [input], output);
  const geo = cumsumGeometry(node, ctx.graph);
  const g = ctx.struct('tm_cumsum_params', 'geometry', { ...geo, exclusive: node.options.exclusive ? 1 : 0, reverse: node.options.reverse ? 1 : 0 });
  const p = ctx.struct('tm_addn_params', 'params', addNFields(addNScaling(quantOf(node, input), quantOf(node, output))));
  return {
    headers: ['tm_add_n.h'], definitions: [structDef(g), structDef(p)], weights: [],
    statements: [call('tm_cumsum_s8', structArg(g), structArg(p), ctx.ptr(input), ctx.ptr(output))],
  };
}
