import type { Node } from '../../graph/graph.js';
import { activationBounds, window2d } from '../../ops/conv_util.js';
import { call, structArg, structDef } from './kernel_call.js';
import { floatAct } from './float_layer.js';
import type { LayerCode, LayerContext } from './layer.js';

type PoolNode = Node<'AVERAGE_POOL_2D'> | Node<'MAX_POOL_2D'> | Node<'L2_POOL_2D'>;

/**
 * AVERAGE_POOL_2D and MAX_POOL_2D (int8, int16, float32) and L2_POOL_2D (float32) -> the pool kernels,
 * one call per batch (each kernel pools one NHWC image).
 */
export function lowerPool2d(ctx: LayerContext): LayerCode {
  const node = ctx.node as PoolNode;
  const input = ctx.input(0), output = ctx.output();
  const dt = input.dtype;
  if (dt !== output.dtype || !(dt === 'float32' || ((dt === 'int8' || dt === 'int16') && node.op !== 'L2_POOL_2D'))) {
    throw ctx.unsupported(`${dt} -> ${output.dtype} ${node.op} is not generated`);
  }
  const float = dt === 'float32';
  const o = node.options;
  const win = window2d(input.shape, o.filterH, o.filterW, { padding: o.padding, strideH: o.strideH, strideW: o.strideW });
  const [actMin, actMax] = float ? [0, 0] : activationBounds(node, o.activation, output);
  ctx.requireDisjoint(input, output, node.op);
  const shape = ctx.struct('tm_pool_shape', 'shape', {
    in_h: win.inH, in_w: win.inW, c: win.inC, out_h: win.outH, out_w: win.outW, f_h: o.filterH, f_w: o.filterW,
    stride_h: win.strideH, stride_w: win.strideW, pad_top: win.padTop, pad_left: win.padLeft, act_min: actMin, act_max: actMax,
  });
  const base = node.op === 'AVERAGE_POOL_2D' ? 'tm_avg_pool2d' : node.op === 'MAX_POOL_2D' ? 'tm_max_pool2d' : 'tm_l2_pool2d';
  const kernel = `${base}_${float ? 'f32' : dt === 'int8' ? 's8' : 's16'}`;
  const act = float ? floatAct(ctx, o.activation, output) : null;
  const call1 = act ? call(kernel, structArg(shape), structArg(act), ctx.ptr(input), ctx.ptr(output)) : call(kernel, structArg(shape), ctx.ptr(input), ctx.ptr(output));
  const statements = ctx.perImage([call1], input, output);
  const extra = node.op === 'L2_POOL_2D' || dt === 'int16';
  return {
    headers: [extra ? 'tm_pool_extra.h' : 'tm_pool2d.h'],
    definitions: act ? [structDef(shape), structDef(act)] : [structDef(shape)],
    weights: [],
    statements,
  };
}
