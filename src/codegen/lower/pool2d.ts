import type { Node } from '../../graph/graph.js';
import { activationBounds, window2d } from '../../ops/conv_util.js';
import { call, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';

/** AVERAGE_POOL_2D and MAX_POOL_2D (int8) -> tm_avg_pool2d_s8 / tm_max_pool2d_s8. */
export function lowerPool2d(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node<'AVERAGE_POOL_2D'> | Node<'MAX_POOL_2D'>;
  const input = ctx.input(0), output = ctx.output();
  if (input.dtype !== 'int8' || output.dtype !== 'int8') throw ctx.unsupported(`${input.dtype} pooling is not generated (int8 only)`);
  if (input.shape[0] !== 1) throw ctx.unsupported(`batch ${input.shape[0]} (generated code runs batch 1)`);
  const o = node.options;
  const win = window2d(input.shape, o.filterH, o.filterW, { padding: o.padding, strideH: o.strideH, strideW: o.strideW });
  const [actMin, actMax] = activationBounds(node, o.activation, output);
  ctx.requireDisjoint(input, output, node.op);
  const shape = ctx.struct('tm_pool_shape', 'shape', {
    in_h: win.inH, in_w: win.inW, c: win.inC, out_h: win.outH, out_w: win.outW, f_h: o.filterH, f_w: o.filterW,
    stride_h: win.strideH, stride_w: win.strideW, pad_top: win.padTop, pad_left: win.padLeft, act_min: actMin, act_max: actMax,
  });
  const kernel = node.op === 'AVERAGE_POOL_2D' ? 'tm_avg_pool2d_s8' : 'tm_max_pool2d_s8';
  return {
    headers: ['tm_pool2d.h'],
    definitions: [structDef(shape)],
    weights: [],
    statements: [call(kernel, structArg(shape), ctx.ptr(input), ctx.ptr(output))],
  };
}
