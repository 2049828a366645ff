import type { Node } from '../../graph/graph.js';
import { transposeConvGeometry } from '../../ops/transpose_conv.js';
import { activationBounds, biasInt32, channelMultipliers, requireSymmetricWeights, zeroPointOf } from '../../ops/conv_util.js';
import type { CArray } from '../c_syntax.js';
import { arrayDef, call, constArg, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';
import { constantValues } from './layer.js';
import { floatLayerParams } from './float_layer.js';

/** TRANSPOSE_CONV with constant weights (int8 per-channel, or float32) -> tm_transpose_conv_s8 / _f32. */
export function lowerTransposeConv(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node<'TRANSPOSE_CONV'>;
  const geo = transposeConvGeometry(node, ctx.graph);
  const { shape, cout, kH, kW, cin, padTop, padLeft, input, filter } = geo;
  const out = ctx.output(), biasT = ctx.optionalInput(3);
  if (!filter.data) throw ctx.unsupported(`weights ${filter.name} are not constant`);
  if (biasT && !biasT.data) throw ctx.unsupported(`bias ${biasT.name} is not constant`);
  ctx.requireDisjoint(input, out, 'TRANSPOSE_CONV');
  const float = input.dtype === 'float32' && filter.dtype === 'float32' && out.dtype === 'float32';
  if (!float && !(input.dtype === 'int8' && filter.dtype === 'int8' && out.dtype === 'int8')) throw ctx.unsupported(`input ${input.dtype}, weights ${filter.dtype}, output ${out.dtype} is not generated`);
  const g = ctx.struct('tm_tconv_params', 'geometry', {
    batches: shape[0], in_h: input.shape[1], in_w: input.shape[2], in_c: cin, out_h: shape[1], out_w: shape[2], out_c: cout,
    k_h: kH, k_w: kW, stride_h: node.options.strideH, stride_w: node.options.strideW, pad_top: padTop, pad_left: padLeft,
    in_offset: float ? 0 : -zeroPointOf(input),
  });
  const w: CArray = ctx.constantArray(filter, 'weights');
  if (float) {
    const fp = floatLayerParams(ctx, biasT, cout, node.options.activation, out);
    return {
      headers: ['tm_transpose_conv.h'], definitions: [structDef(g), ...fp.definitions], weights: [w, ...fp.weights],
      statements: [call('tm_transpose_conv_f32', structArg(g), structArg(fp.params), ctx.ptr(input), constArg(w), ctx.ptr(out))],
    };
  }
  requireSymmetricWeights(node, filter);
  const { multiplier, shift } = channelMultipliers(node, input, filter, out, cout);
  const [actMin, actMax] = activationBounds(node, node.options.activation, out);
  const bias: CArray = { name: ctx.name('bias'), type: 'int32_t', values: biasInt32(node, biasT, biasT ? (constantValues(biasT) as Int32Array) : null, cout), align: 4, linkage: 'extern', comment: `bias of ${out.name}` };
  const mult: CArray = { name: ctx.name('mult'), type: 'int32_t', values: multiplier, linkage: 'static' };
  const shifts: CArray = { name: ctx.name('shift'), type: 'int8_t', values: shift, linkage: 'static' };
  const q = ctx.struct('tm_requant_params', 'q', { bias, mult, shift: shifts, out_zp: zeroPointOf(out), act_min: actMin, act_max: actMax, fast: 0 });
  return {
    headers: ['tm_transpose_conv.h'], definitions: [structDef(g), arrayDef(mult), arrayDef(shifts), structDef(q)], weights: [w, bias],
    statements: [call('tm_transpose_conv_s8', structArg(g), structArg(q), ctx.ptr(input), constArg(w), ctx.ptr(out))],
  };
}
