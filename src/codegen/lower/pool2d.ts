import type { Node } from '../../graph/graph.js';
import { DTYPE_BYTES } from '../../graph/dtype.js';
import { activationBounds, window2d } from '../../ops/conv_util.js';
import type { CArg, Statement } from './kernel_call.js';
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
  const eb = DTYPE_BYTES[dt];
  const image = (t: typeof input, b: number, plane: number): CArg => ({ kind: 'arena', offset: ctx.offset(t) + b * plane * eb, type: ctx.elementType(t) });
  const statements: Statement[] = [];
  for (let b = 0; b < win.batches; b++) {
    const src = image(input, b, win.inH * win.inW * win.inC), dst = image(output, b, win.outH * win.outW * win.inC);
    statements.push(act ? call(kernel, structArg(shape), structArg(act), src, dst) : call(kernel, structArg(shape), src, dst));
  }
  const extra = node.op === 'L2_POOL_2D' || dt === 'int16';
  return {
    headers: [extra ? 'tm_pool_extra.h' : 'tm_pool2d.h'],
    definitions: act ? [structDef(shape), structDef(act)] : [structDef(shape)],
    weights: [],
    statements,
  };
}
