import type { Node } from '../../graph/graph.js';
import { convWindowParams, window2d, zeroPointOf } from '../../ops/conv_util.js';
import { call, constArg, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';
import type { CArg } from './kernel_call.js';
import { is16x8, lower16x8 } from './int16x8.js';
import { foldedBias, layerRequant, requireInt8Layer } from './requant.js';
import { OPS } from '../../ops/registry.js';
import { floatLayerParams, isFloatLayer, requireFloatLayer } from './float_layer.js';
import { ROWPAD_MAX, convShapeFields, rowPaddedWeights, smladPairs } from './conv2d.js';
import { constantValues } from './layer.js';
import type { CArray } from '../c_syntax.js';
import { hasWiderScratch } from '../../plan/widen_scratch.js';

/**
 * DEPTHWISE_CONV_2D -> tm_depthwise_conv2d_s8, or its in-place variant when the memory plan puts the
 * output over the input (TinyEngine's trick): then the plan's scratch holds one channel's input plane.
 */
export function lowerDepthwiseConv2d(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node<'DEPTHWISE_CONV_2D'>;
  const input = ctx.input(0), filter = ctx.input(1), biasT = ctx.optionalInput(2), output = ctx.output();
  if (is16x8(ctx, input, output, filter)) return lower16x8(ctx);
  const float = isFloatLayer(ctx, input, output, filter);
  if (float) requireFloatLayer(ctx, input, filter);
  else requireInt8Layer(ctx, input, output, filter);
  const [, kH, kW, cout] = filter.shape;
  const cin = input.shape[3];
  if (cout % cin !== 0) throw ctx.unsupported(`${cout} output channels are not a multiple of ${cin}`);
  const o = node.options;
  const win = window2d(input.shape, kH, kW, convWindowParams(o));
  const shapeFields = {
    in_h: win.inH, in_w: win.inW, in_c: cin, out_h: win.outH, out_w: win.outW, out_c: cout, depth_mult: cout / cin,
    k_h: kH, k_w: kW, stride_h: win.strideH, stride_w: win.strideW, dil_h: win.dilH, dil_w: win.dilW,
    pad_top: win.padTop, pad_left: win.padLeft, in_zp: float ? 0 : zeroPointOf(input),
  };
  if (float) {
    const fp = floatLayerParams(ctx, biasT, cout, o.activation, output);
    const filterArray = ctx.constantArray(filter, 'filter');
    const shape = ctx.struct('tm_dw_shape', 'shape', shapeFields);
    if (ctx.overlap(input, output) !== 'disjoint') {
      // In place, as the op's in-place rule allows: one channel plane at a time through the plan's scratch.
      const need = OPS.DEPTHWISE_CONV_2D.inPlaceVariant!(node, ctx.graph)?.scratchBytes;
      const scratch = ctx.scratch();
      if (ctx.overlap(input, output) === 'partial' || need === undefined || !scratch || scratch.bytes < need) {
        throw ctx.unsupported(`the memory plan overlays the output on the input without what in-place depthwise needs (same offset, depth multiplier 1, a scratch of ${need ?? '?'} bytes)`);
      }
      return {
        headers: ['tm_depthwise_inplace_f32.h'], definitions: [...fp.definitions, structDef(shape)], weights: [filterArray, ...fp.weights],
        statements: [call('tm_depthwise_conv2d_inplace_f32', structArg(shape), structArg(fp.params), ctx.ptr(input), constArg(filterArray), { ...scratch.ptr, type: 'float' } as CArg)],
      };
    }
    return {
      headers: ['tm_depthwise_conv2d.h'], definitions: [...fp.definitions, structDef(shape)], weights: [filterArray, ...fp.weights],
      statements: ctx.perImage([call('tm_depthwise_conv2d_f32', structArg(shape), structArg(fp.params), ctx.ptr(input), constArg(filterArray), ctx.ptr(output))], input, output),
    };
  }
  const rq = layerRequant(ctx, input, filter, biasT, output, cout, o.activation,
    (bias, w, zp) => foldedBias(bias, w, zp, kH * kW, 1, cout), kH * kW);

  const shape = ctx.struct('tm_dw_shape', 'shape', shapeFields);
  const filterArray = ctx.constantArray(filter, 'filter');
  const definitions = [...rq.definitions, structDef(shape)];
  const weights = [filterArray, ...rq.weights];
  const layout = ctx.overlap(input, output);
  const scratch = ctx.scratch();
  const def = OPS.DEPTHWISE_CONV_2D;
  if (layout === 'disjoint') {
    const need = def.scratchBytes!(node, ctx.graph);
    if (!scratch || scratch.bytes < need) throw ctx.unsupported(`the memory plan gives ${scratch?.bytes ?? 0} bytes of scratch, the kernel needs ${need}`);
    const paddedDepth = kH * ((kW + 3) & ~3);
    if (ctx.splitWeights && cin === 1 && cout % 2 === 0 && kW <= ROWPAD_MAX && 4 * paddedDepth <= scratch.bytes) {
      // One input channel: a convolution with depth_mult filters (a grayscale first layer), which the DSP
      // conv kernel runs on split weights instead of one tap at a time.
      const convWeights = new Int8Array(cout * kH * kW);
      const w = constantValues(filter) as Int8Array;
      for (let m = 0; m < cout; m++) for (let t = 0; t < kH * kW; t++) convWeights[m * kH * kW + t] = w[t * cout + m];
      const pairs: CArray = { name: ctx.name('filter_pairs'), type: 'int32_t', values: smladPairs(rowPaddedWeights(convWeights, cout, kH, kW), cout, paddedDepth, 2), align: 4, linkage: 'extern', comment: `${filter.name} as a convolution's rows padded to words, SMLAD pairs (tm_conv2d_rowpad_w16_s8)` };
      const convShape = ctx.struct('tm_conv_shape', 'shape', convShapeFields(win, cout, kH, kW, zeroPointOf(input)));
      return {
        headers: ['tm_conv2d.h'], definitions: [...rq.definitions, structDef(convShape)], weights: [pairs, ...rq.weights],
        statements: ctx.perImage([call('tm_conv2d_rowpad_w16_s8', structArg(convShape), structArg(rq.params), ctx.ptr(input), constArg(pairs), ctx.ptr(output), scratch.ptr)], input, output),
      };
    }
    return { headers: ['tm_depthwise_conv2d.h'], definitions, weights, statements: ctx.perImage([call('tm_depthwise_conv2d_s8', structArg(shape), structArg(rq.params), ctx.ptr(input), constArg(filterArray), ctx.ptr(output), scratch.ptr)], input, output) };
  }
  // The op's in-place rule is the C kernel's: a node it accepts always compiles.
  const variant = def.inPlaceVariant!(node, ctx.graph);
  const need = variant?.scratchBytes;
  if (layout === 'partial' || need === undefined || !scratch || scratch.bytes < need) {
    throw ctx.unsupported(`the memory plan overlays the output on the input without what in-place depthwise needs (same offset, depth multiplier 1, a scratch of ${need ?? '?'} bytes)`);
  }
  const groups = hasWiderScratch(ctx.graph, ctx.plan, node.index);
  return {
    headers: ['tm_depthwise_conv2d.h'], definitions, weights,
    // The planner widened the scratch where the arena had room (src/plan/widen_scratch.ts): four channels at a time.
    statements: [call(groups ? 'tm_depthwise_conv2d_groups_inplace_s8' : 'tm_depthwise_conv2d_inplace_s8', structArg(shape), structArg(rq.params), ctx.ptr(input), constArg(filterArray), scratch.ptr)],
  };
}
