import type { Node, Tensor } from '../../graph/graph.js';
import type { Activation } from '../../graph/options.js';
import { activationBounds, kernelKind } from '../../ops/conv_util.js';
import type { CArray } from '../c_syntax.js';
import type { CStruct, Definition } from './kernel_call.js';
import { structDef } from './kernel_call.js';
import type { LayerContext } from './layer.js';
import { constantValues } from './layer.js';

/** TFLite's float bounds for "no activation": the largest finite floats (the C struct holds finite values). */
const FLT_MAX = 3.4028234663852886e38;

/** The activation clamp of a float layer as the kernels take it. */
export function floatBounds(ctx: LayerContext, act: Activation, output: Tensor): { act_min: number; act_max: number } {
  const [lo, hi] = activationBounds(ctx.node as Node, act, output);
  return { act_min: Math.max(lo, -FLT_MAX), act_max: Math.min(hi, FLT_MAX) };
}

/** tm_float_act for pools and elementwise ops. */
export function floatAct(ctx: LayerContext, act: Activation, output: Tensor): CStruct {
  return ctx.struct('tm_float_act', 'act', floatBounds(ctx, act, output));
}

/** True when a weighted layer computes in float32 (input, weights and output), so it takes the float kernels. */
export function isFloatLayer(ctx: LayerContext, input: Tensor, output: Tensor, weights: Tensor): boolean {
  return kernelKind(ctx.node as Node, input, output, weights) === 'float32';
}

/** The float layer's bias (zeros when the model has none) and clamp: tm_float_params, and the bias array for weights.c. */
export function floatLayerParams(ctx: LayerContext, biasT: Tensor | null, channels: number, act: Activation, output: Tensor): { params: CStruct; definitions: Definition[]; weights: CArray[] } {
  if (biasT && !biasT.data) throw ctx.unsupported(`bias ${biasT.name} is not constant`);
  const bias = new Float32Array(channels);
  if (biasT) bias.set((constantValues(biasT) as Float32Array).subarray(0, channels));
  const biasArray: CArray = { name: ctx.name('bias'), type: 'float', values: bias, align: 4, linkage: 'extern', comment: `bias of ${output.name}` };
  const params = ctx.struct('tm_float_params', 'params', { bias: biasArray, ...floatBounds(ctx, act, output) });
  return { params, definitions: [structDef(params)], weights: [biasArray] };
}

/** Generated code takes constant float weights (a batch runs image by image: LayerContext.perImage). */
export function requireFloatLayer(ctx: LayerContext, input: Tensor, weights: Tensor): void {
  if (!weights.data) throw ctx.unsupported(`weights ${weights.name} are not constant`);
}

/**
 * A float layer's weights [n_out][taps] transposed to [taps][n_out] for the float kernels, whose SIMD
 * lanes are output channels (each lane then sums in the reference's order).
 */
export function transposedWeights(ctx: LayerContext, weights: Tensor, nOut: number): CArray {
  const w = constantValues(weights) as Float32Array;
  const taps = w.length / nOut;
  const t = new Float32Array(w.length);
  for (let c = 0; c < nOut; c++) for (let k = 0; k < taps; k++) t[k * nOut + c] = w[c * taps + k];
  return { name: ctx.name('weights_t'), type: 'float', values: t, align: 16, linkage: 'extern', comment: `${weights.name} transposed to [${taps}][${nOut}]` };
}
