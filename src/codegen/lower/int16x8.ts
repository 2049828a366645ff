import type { Node, Tensor } from '../../graph/graph.js';
import { numElements } from '../../graph/graph.js';
import type { Activation } from '../../graph/options.js';
import type { Window2D } from '../../ops/conv_util.js';
import {
  activationBounds, channelMultipliers, kernelKind, convWindowParams, fullyConnectedMultipliers, nodeWindow2d, requireSymmetricWeights, zeroPointOf,
} from '../../ops/conv_util.js';
import type { CArray } from '../c_syntax.js';
import { arrayDef, call, constArg, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';
import { constantValues } from './layer.js';

/** Bias values of a 16x8 layer as int32 (int64 biases must fit; zeros when absent). */
function bias32(ctx: LayerContext, channels: number): { values: Int32Array; int32: boolean } {
  const b = ctx.optionalInput(2);
  if (!b) return { values: new Int32Array(channels), int32: false };
  if (!b.data) throw ctx.unsupported(`bias ${b.name} is not constant`);
  if (b.dtype === 'int32') return { values: (constantValues(b) as Int32Array).slice(0, channels), int32: true };
  if (b.dtype !== 'int64') throw ctx.unsupported(`16x8 bias ${b.name} is ${b.dtype}`);
  const view = new DataView(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  const values = Int32Array.from({ length: channels }, (_, c) => {
    const v = view.getBigInt64(c * 8, true);
    if (v < -2147483648n || v > 2147483647n) throw ctx.unsupported(`int64 bias ${v} of channel ${c} does not fit 32 bits`);
    return Number(v);
  });
  return { values, int32: false };
}

/** True for a layer in the 16x8 scheme (int16 activations, int8 weights). */
export function is16x8(ctx: LayerContext, input: Tensor, output: Tensor, weights: Tensor): boolean {
  return kernelKind(ctx.node as Node, input, output, weights, true) === 'int16x8';
}

/**
 * CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED with int16 activations and int8 weights -> tm_conv16x8
 * (FULLY_CONNECTED as a 1x1 convolution over its rows).
 */
export function lower16x8(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node<'CONV_2D'> | Node<'DEPTHWISE_CONV_2D'> | Node<'FULLY_CONNECTED'>;
  const input = ctx.input(0), filter = ctx.input(1), output = ctx.output();
  if (!filter.data) throw ctx.unsupported(`weights ${filter.name} are not constant`);
  requireSymmetricWeights(node, filter);
  for (const t of [input, output]) if (zeroPointOf(t) !== 0) throw ctx.unsupported(`16x8 tensor ${t.name} has a non-zero zero point`);
  let win: Window2D, cout: number, depthMultiplier = 0;
  if (node.op === 'FULLY_CONNECTED') {
    const [units, depth] = filter.shape;
    const rows = numElements(input.shape) / depth;
    win = { batches: rows, inH: 1, inW: 1, inC: depth, outH: 1, outW: 1, kH: 1, kW: 1, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padTop: 0, padLeft: 0 };
    cout = units;
  } else {
    const [f0, kH, kW, f3] = filter.shape;
    win = nodeWindow2d(node, input.shape, kH, kW, convWindowParams(node.options as Parameters<typeof convWindowParams>[0]));
    if (node.op === 'DEPTHWISE_CONV_2D') {
      cout = f3;
      depthMultiplier = cout / input.shape[3];
    } else {
      cout = f0;
      if (f3 !== input.shape[3]) throw ctx.unsupported('grouped convolution');
    }
  }
  const { multiplier, shift } = (node.op === 'FULLY_CONNECTED' ? fullyConnectedMultipliers : channelMultipliers)(node, input, filter, output, cout);
  const [lo, hi] = activationBounds(node, (node.options as { activation: Activation }).activation, output);
  const b = bias32(ctx, cout);
  ctx.requireDisjoint(input, output, node.op);
  const biasArray: CArray = { name: ctx.name('bias'), type: 'int32_t', values: b.values, align: 4, linkage: 'extern', comment: `bias of ${output.name}` };
  const mult: CArray = { name: ctx.name('mult'), type: 'int32_t', values: multiplier, linkage: 'static' };
  const shifts: CArray = { name: ctx.name('shift'), type: 'int32_t', values: shift, linkage: 'static' };
  const w = ctx.constantArray(filter, 'filter');
  const params = ctx.struct('tm_conv16x8_params', 'params', {
    batches: win.batches, in_h: win.inH, in_w: win.inW, in_c: win.inC, out_h: win.outH, out_w: win.outW, out_c: cout,
    k_h: win.kH, k_w: win.kW, stride_h: win.strideH, stride_w: win.strideW, dil_h: win.dilH, dil_w: win.dilW, pad_top: win.padTop, pad_left: win.padLeft,
    depth_multiplier: depthMultiplier, int32_bias: b.int32 ? 1 : 0, bias: biasArray, mult, shift: shifts, act_min: lo, act_max: hi,
  });
  return {
    headers: ['tm_conv16x8.h'], definitions: [arrayDef(mult), arrayDef(shifts), structDef(params)], weights: [w, biasArray],
    statements: [call('tm_conv16x8', structArg(params), ctx.ptr(input), constArg(w), ctx.ptr(output))],
  };
}
