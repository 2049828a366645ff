import type { Node, Tensor } from '../../graph/graph.js';
import type { Window2D } from '../../ops/conv_util.js';
import { convWindowParams, window2d, zeroPointOf } from '../../ops/conv_util.js';
import { call, constArg, intArg, structArg, structDef } from './kernel_call.js';
import type { CArray } from '../c_syntax.js';
import type { LayerCode, LayerContext } from './layer.js';
import { constantValues } from './layer.js';
import { is16x8, lower16x8 } from './int16x8.js';
import { foldedBias, layerRequant, requireInt8Layer } from './requant.js';
import { int8ConvScratchBytes, isCPointwise } from '../../ops/conv2d.js';
import { pointwiseInPlace, pointwiseInPlaceGeometry } from '../../ops/conv2d_inplace.js';
import { floatLayerParams, isFloatLayer, requireFloatLayer, transposedWeights } from './float_layer.js';

export type ConvPath = 'tm_conv2d_1x1_s8' | 'tm_conv2d_s8';

/**
 * CONV_2D -> one of two C paths: pointwise convolutions are a matrix multiply straight off the input,
 * other kernels go through im2col columns; both work in the layer's plan scratch (never the stack).
 */
export function lowerConv2d(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node<'CONV_2D'>;
  const input = ctx.input(0), filter = ctx.input(1), biasT = ctx.optionalInput(2), output = ctx.output();
  if (is16x8(ctx, input, output, filter)) return lower16x8(ctx);
  const float = isFloatLayer(ctx, input, output, filter);
  if (float) requireFloatLayer(ctx, input, filter);
  else requireInt8Layer(ctx, input, output, filter);
  const [cout, kH, kW, cinFilter] = filter.shape;
  const o = node.options;
  const win = window2d(input.shape, kH, kW, convWindowParams(o));
  if (cinFilter !== input.shape[3]) {
    if (float) throw ctx.unsupported(`grouped float convolution (${input.shape[3]} input channels, filters of ${cinFilter})`);
    return lowerGroupedConv(ctx, win, input.shape[3] / cinFilter);
  }
  if (float) {
    ctx.requireDisjoint(input, output, 'CONV_2D');
    const fp = floatLayerParams(ctx, biasT, cout, o.activation, output);
    const filterArray = transposedWeights(ctx, filter, cout);
    const shape = ctx.struct('tm_conv_shape', 'shape', convShapeFields(win, cout, kH, kW, 0));
    return {
      headers: ['tm_conv2d.h'],
      definitions: [...fp.definitions, structDef(shape)],
      weights: [filterArray, ...fp.weights],
      statements: ctx.perImage([call('tm_conv2d_f32', structArg(shape), structArg(fp.params), ctx.ptr(input), constArg(filterArray), ctx.ptr(output))], input, output),
    };
  }
  const depth = kH * kW * cinFilter;
  const rq = layerRequant(ctx, input, filter, biasT, output, cout, o.activation,
    (bias, w, zp) => foldedBias(bias, w, zp, depth, depth, 1), depth);
  if (ctx.overlap(input, output) !== 'disjoint') return lowerPointwiseInPlace(ctx, rq, win, cout);
  ctx.requireDisjoint(input, output, 'CONV_2D');

  const path: ConvPath = isCPointwise(win) ? 'tm_conv2d_1x1_s8' : 'tm_conv2d_s8';
  const need = int8ConvScratchBytes(win, depth);
  const scratch = ctx.scratch();
  if (!scratch || scratch.bytes < need) throw ctx.unsupported(`the memory plan gives ${scratch?.bytes ?? 0} bytes of scratch, the kernel needs ${need}`);
  const rowBytes = kW * cinFilter, paddedDepth = kH * ((rowBytes + 3) & ~3);
  let kernel: string = path, filterArray: CArray;
  if (ctx.splitWeights && !isCPointwise(win) && depth % 4 !== 0 && rowBytes <= ROWPAD_MAX && cout % 2 === 0 && 4 * paddedDepth <= scratch.bytes) {
    // DSP targets, window rows of a few bytes (a first conv over RGB): rows padded to words, weights split.
    kernel = 'tm_conv2d_rowpad_w16_s8';
    filterArray = smladPairArray(ctx, filter, rowPaddedWeights(constantValues(filter) as Int8Array, cout, kH, rowBytes), cout, paddedDepth, kernel);
  } else if (ctx.splitWeights && depth % 4 === 0 && cout % 2 === 0) {
    // DSP targets: weights split into SMLAD pairs offline (int16 in Flash, twice the bytes, a third fewer instructions).
    kernel = path === 'tm_conv2d_1x1_s8' ? 'tm_conv2d_1x1_w16_s8' : 'tm_conv2d_w16_s8';
    filterArray = smladPairArray(ctx, filter, constantValues(filter) as Int8Array, cout, depth, kernel);
  } else {
    filterArray = ctx.constantArray(filter, 'filter');
  }
  const shape = ctx.struct('tm_conv_shape', 'shape', convShapeFields(win, cout, kH, kW, zeroPointOf(input)));
  return {
    headers: ['tm_conv2d.h'],
    definitions: [...rq.definitions, structDef(shape)],
    weights: [filterArray, ...rq.weights],
    statements: ctx.perImage([call(kernel, structArg(shape), structArg(rq.params), ctx.ptr(input), constArg(filterArray), ctx.ptr(output), scratch.ptr)], input, output),
  };
}

/** A filter [cout][depth] as the SMLAD pairs of the split-weight kernel `kernel` (blocks of two rows). */
function smladPairArray(ctx: LayerContext, filter: Tensor, w: Int8Array, cout: number, depth: number, kernel: string): CArray {
  return { name: ctx.name('filter_pairs'), type: 'int32_t', values: smladPairs(w, cout, depth, 2), align: 4, linkage: 'extern', comment: `${filter.name} as SMLAD pairs (${kernel})` };
}

/**
 * The plan put the output over the input (src/ops/conv2d_inplace.ts): tm_conv2d_1x1_inplace_s8 runs the
 * same kernel block by block through the plan's scratch. The op's rule is the C kernel's, so a node the
 * planner put in place always lowers; anything else is a plan this kernel cannot run.
 */
function lowerPointwiseInPlace(ctx: LayerContext, rq: ReturnType<typeof layerRequant>, win: Window2D, cout: number): LayerCode {
  const node = ctx.node as Node<'CONV_2D'>;
  const input = ctx.input(0), filter = ctx.input(1);
  const geo = pointwiseInPlaceGeometry(node, ctx.graph);
  const need = pointwiseInPlace(node, ctx.graph)?.scratchBytes;
  const scratch = ctx.scratch();
  if (!geo || need === undefined || ctx.overlap(input, ctx.output()) !== 'same' || !scratch || scratch.bytes < need) {
    throw ctx.unsupported(`the memory plan overlays the output on the input without what in-place pointwise needs (1x1 stride 1 int8 batch 1, same offset, a scratch of ${need ?? '?'} bytes)`);
  }
  const shape = ctx.struct('tm_conv_shape', 'shape', convShapeFields(win, cout, 1, 1, zeroPointOf(input)));
  // Split weights when the Flash budget gives them to this layer, as the out-of-place kernel would take them.
  const split = ctx.splitWeights && win.inC % 4 === 0 && cout % 2 === 0;
  const kernel = split ? 'tm_conv2d_1x1_inplace_w16_s8' : 'tm_conv2d_1x1_inplace_s8';
  const filterArray = split ? smladPairArray(ctx, filter, constantValues(filter) as Int8Array, cout, win.inC, kernel) : ctx.constantArray(filter, 'filter');
  return {
    headers: ['tm_conv_pointwise_inplace.h'],
    definitions: [...rq.definitions, structDef(shape)],
    weights: [filterArray, ...rq.weights],
    statements: [call(kernel, structArg(shape), structArg(rq.params), ctx.ptr(input), constArg(filterArray), scratch.ptr, intArg(geo.block))],
  };
}

/**
 * Weights [cout][depth] in the layout of the DSP kernels that take them split (tm_conv2d_*w16_s8: blocks of
 * 2 rows; tm_fully_connected_w16_s8: 4): per block of rows, per group of four values k..k+3, each row's
 * words (k, k+2) and (k+1, k+3), the first value in the low half (what SXTB16 and SXTB16 ROR 8 make of the
 * int8 word). depth % 4 == 0 and cout % block == 0.
 */
export function smladPairs(w: Int8Array, cout: number, depth: number, block: number): Int32Array {
  const out = new Int32Array(cout * depth / 2);
  let o = 0;
  const pair = (lo: number, hi: number) => ((hi << 16) | (lo & 0xffff)) | 0;
  for (let r = 0; r < cout; r += block) {
    for (let k = 0; k < depth; k += 4) {
      for (let row = r; row < r + block; row++) {
        const b = row * depth + k;
        out[o++] = pair(w[b], w[b + 2]);
        out[o++] = pair(w[b + 1], w[b + 3]);
      }
    }
  }
  return out;
}

/** TM_DSP_ROWPAD_MAX in tm_conv2d.h: the longest window row tm_conv2d_rowpad_w16_s8 takes. */
export const ROWPAD_MAX = 16;

/** Weights [cout][kH][rowBytes] with each row padded by zeros to a multiple of four (tm_conv2d_rowpad_w16_s8). */
export function rowPaddedWeights(w: Int8Array, cout: number, kH: number, rowBytes: number): Int8Array {
  const padded = (rowBytes + 3) & ~3;
  const out = new Int8Array(cout * kH * padded);
  for (let r = 0; r < cout * kH; r++) out.set(w.subarray(r * rowBytes, (r + 1) * rowBytes), r * padded);
  return out;
}

/** tm_conv_shape's fields (the float kernels ignore the zero point). */
export function convShapeFields(win: Window2D, cout: number, kH: number, kW: number, inZp: number): Record<string, number> {
  return {
    in_h: win.inH, in_w: win.inW, in_c: win.inC, out_h: win.outH, out_w: win.outW, out_c: cout,
    k_h: kH, k_w: kW, stride_h: win.strideH, stride_w: win.strideW, dil_h: win.dilH, dil_w: win.dilW,
    pad_top: win.padTop, pad_left: win.padLeft, in_zp: inZp,
  };
}

/** Grouped int8 CONV_2D -> tm_conv_grouped_s8 (raw bias: the kernel skips the taps outside the input). */
function lowerGroupedConv(ctx: LayerContext, win: Window2D, groups: number): LayerCode {
  const node = ctx.node as Node<'CONV_2D'>;
  const input = ctx.input(0), filter = ctx.input(1), biasT = ctx.optionalInput(2), output = ctx.output();
  const [cout, kH, kW] = filter.shape;
  const rq = layerRequant(ctx, input, filter, biasT, output, cout, node.options.activation, (bias) => bias, kH * kW * filter.shape[3]);
  ctx.requireDisjoint(input, output, 'CONV_2D (grouped)');
  const filterArray = ctx.constantArray(filter, 'filter');
  const shape = ctx.struct('tm_conv_shape', 'shape', convShapeFields(win, cout, kH, kW, zeroPointOf(input)));
  return {
    headers: ['tm_conv_grouped.h'],
    definitions: [...rq.definitions, structDef(shape)],
    weights: [filterArray, ...rq.weights],
    statements: ctx.perImage([call('tm_conv_grouped_s8', structArg(shape), intArg(groups), structArg(rq.params), ctx.ptr(input), constArg(filterArray), ctx.ptr(output))], input, output),
  };
}
