import type { Node } from '../../graph/graph.js';
import { activationBounds, window2d } from '../../ops/conv_util.js';
import { call, structArg, structDef } from './kernel_call.js';
import { floatAct } from './float_layer.js';
import type { LayerCode, LayerContext } from './layer.js';

/** AVERAGE_POOL_2D and MAX_POOL_2D (int8) -> tm_avg_pool2d_s8 / tm_max_pool2d_s8. */
export function lowerPool2d(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node<'AVERAGE_POOL_2D'> | Node<'MAX_POOL_2D'>;
  const input = ctx.input(0), output = ctx.output();
  const float = input.dtype === 'float32' && output.dtype === 'float32';
  if (!float && (input.dtype !== 'int8' || output.dtype !== 'int8')) throw ctx.unsupported(`${input.dtype} pooling is not generated (int8 and float32 only)`);
  if (input.shape[0] !== 1) throw ctx.unsupported(`batch ${input.shape[0]} (generated code runs batch 1)`);
  const o = node.options;
  const win = window2d(input.shape, o.filterH, o.filterW, { padding: o.padding, strideH: o.strideH, strideW: o.strideW });
  const [actMin, actMax] = float ? [0, 0] : activationBounds(node, o.activation, output);
  ctx.requireDisjoint(input, output, node.op);
  const shape = ctx.struct('tm_pool_shape', 'shape', {
    in_h: win.inH, in_w: win.inW, c: win.inC, out_h: win.outH, out_w: win.outW, f_h: o.filterH, f_w: o.filterW,
    stride_h: win.strideH, stride_w: win.strideW, pad_top: win.padTop, pad_left: win.padLeft, act_min: actMin, act_max: actMax,
  });
  const kernel = node.op === 'AVERAGE_POOL_2D' ? 'tm_avg_pool2d' : 'tm_max_pool2d';
  if (float) {
    const act = floatAct(ctx, o.activation, output);
    return {
      headers: ['tm_pool2d.h'], definitions: [structDef(shape), structDef(act)], weights: [],
      statements: [call(`${kernel}_f32`, structArg(shape), structArg(act), ctx.ptr(input), ctx.ptr(output))],
    };
  }
  return {
    headers: ['tm_pool2d.h'],
    definitions: [structDef(shape)],
    weights: [],
    statements: [call(`${kernel}_s8`, structArg(shape), ctx.ptr(input), ctx.ptr(output))],
  };
}
