import type { Node, Tensor } from '../../graph/graph.js';
import type { Activation } from '../../graph/options.js';
import {
  activationBounds, biasInt32, channelMultipliers, kernelKind, requireSymmetricWeights, zeroPointOf,
} from '../../ops/conv_util.js';
import type { CArray } from '../c_syntax.js';
import type { CStruct, Definition } from './kernel_call.js';
import { arrayDef, structDef } from './kernel_call.js';
import type { LayerContext } from './layer.js';
import { constantValues } from './layer.js';

/**
 * The requantisation of a conv / depthwise / fully-connected layer, computed once here with the same
 * helpers the TypeScript kernels use (so both sides agree by construction): per-channel Q31 multipliers
 * and shifts (model.c), and the bias with the input offset folded in (weights.c).
 */
export interface LayerRequant {
  definitions: Definition[];
  weights: CArray[];
  /** The tm_requant_params struct. */
  params: CStruct;
}

/** int8 activations with int8 symmetric weights; anything else is refused with the reason. */
export function requireInt8Layer(ctx: LayerContext, input: Tensor, output: Tensor, weights: Tensor): void {
  const node = ctx.node as Node;
  if (kernelKind(node, input, output, weights) !== 'int8') {
    throw ctx.unsupported(`${input.dtype} ${node.op} is not generated (the C library has int8 kernels only)`);
  }
  requireSymmetricWeights(node, weights);
  if (!weights.data) throw ctx.unsupported(`weights ${weights.name} are not constant`);
}

/**
 * Folded bias: bias[c] - zp_in * (sum of channel c's weights), where channel c's weights are
 * `tapsPerChannel` values at w[c * channelStride + t * tapStride].
 */
export function foldedBias(bias: Int32Array, w: Int8Array, inputZeroPoint: number, tapsPerChannel: number, channelStride: number, tapStride: number): Int32Array {
  const out = new Int32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    let s = 0;
    for (let t = 0; t < tapsPerChannel; t++) s += w[c * channelStride + t * tapStride];
    out[c] = bias[c] - inputZeroPoint * s;
  }
  return out;
}

/** Largest |x * w| of one int8 product: the accumulator grows by at most this per tap. */
const MAX_PRODUCT = 128 * 128;

/**
 * Whether tm_requant_fast (QADD, SMMULR, rounding shift) is exact for every channel (see the proof beside
 * it in tm_common.h): multipliers 0 or in [2^30, 2^31), right shifts of 1 to 30 bits, and either the
 * accumulator provably below 2^30 (|bias| + taps * 128 * 128) or a right shift of at most 20 bits.
 */
export function fastRequantExact(multiplier: ArrayLike<number>, shift: ArrayLike<number>, bias: ArrayLike<number>, taps: number): boolean {
  for (let c = 0; c < multiplier.length; c++) {
    const m = multiplier[c];
    if (!(m === 0 || (m >= 1073741824 && m <= 2147483647))) return false;
    if (!(shift[c] <= -1 && shift[c] >= -30)) return false;
    const accBounded = Math.abs(bias[c]) + taps * MAX_PRODUCT < 1073741824;
    if (!accBounded && shift[c] < -20) return false;
  }
  return true;
}

/**
 * Whether tm_requant_zp_pre (the zero point added before the shift, tm_common.h) is exact too, given
 * fastRequantExact: |x| + 2^(e-1) + |zp| 2^e + 1 < 2^31 for every channel, x the high word of 2 acc m
 * (|x| <= |acc| when the accumulator is bounded, else < 2^30 after QADD saturates).
 */
export function zpFoldExact(shift: ArrayLike<number>, bias: ArrayLike<number>, taps: number, outZeroPoint: number): boolean {
  for (let c = 0; c < shift.length; c++) {
    const e = -shift[c];
    const accBound = Math.abs(bias[c]) + taps * MAX_PRODUCT;
    const x = Math.min(accBound, 2 ** 30);
    if (x + 2 ** (e - 1) + Math.abs(outZeroPoint) * 2 ** e + 1 >= 2 ** 31) return false;
  }
  return true;
}

/** tm_requant_params.fast: 0 (reference form), 1 (tm_requant_fast), 2 (also tm_requant_zp_pre). */
export function fastRequantLevel(multiplier: ArrayLike<number>, shift: ArrayLike<number>, bias: ArrayLike<number>, taps: number, outZeroPoint: number): number {
  if (!fastRequantExact(multiplier, shift, bias, taps)) return 0;
  return zpFoldExact(shift, bias, taps, outZeroPoint) ? 2 : 1;
}

export function layerRequant(
  ctx: LayerContext, input: Tensor, weights: Tensor, biasT: Tensor | null, output: Tensor, channels: number,
  activation: Activation, fold: (bias: Int32Array, w: Int8Array, zp: number) => Int32Array, tapsPerOutput: number,
): LayerRequant {
  const node = ctx.node as Node;
  const { multiplier, shift } = channelMultipliers(node, input, weights, output, channels);
  // A zero multiplier gives 0 whatever the shift: give it one the fast form accepts.
  for (let c = 0; c < channels; c++) if (multiplier[c] === 0) shift[c] = -1;
  const [actMin, actMax] = activationBounds(node, activation, output);
  const biasView = biasT ? (constantValues(biasT) as Int32Array) : null;
  if (biasT && !biasT.data) throw ctx.unsupported(`bias ${biasT.name} is not constant`);
  const bias = biasInt32(node, biasT, biasView, channels);
  const folded = fold(bias, constantValues(weights) as Int8Array, zeroPointOf(input));
  const mult: CArray = { name: ctx.name('mult'), type: 'int32_t', values: multiplier, linkage: 'static' };
  const shifts: CArray = { name: ctx.name('shift'), type: 'int8_t', values: shift, linkage: 'static' };
  const biasArray: CArray = { name: ctx.name('bias'), type: 'int32_t', values: folded, align: 4, linkage: 'extern', comment: `bias of ${output.name}, input offset folded in` };
  const params = ctx.struct('tm_requant_params', 'q', {
    bias: biasArray, mult, shift: shifts,
    out_zp: zeroPointOf(output), act_min: actMin, act_max: actMax, fast: fastRequantLevel(multiplier, shift, folded, tapsPerOutput, zeroPointOf(output)),
  });
  return { definitions: [arrayDef(mult), arrayDef(shifts), structDef(params)], weights: [biasArray], params };
}
