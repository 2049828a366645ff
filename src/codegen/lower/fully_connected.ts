import type { Node } from '../../graph/graph.js';
import { numElements } from '../../graph/graph.js';
import { call, constArg, intArg, structArg } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';
import { constantValues } from './layer.js';
import type { CArray } from '../c_syntax.js';
import { smladPairs } from './conv2d.js';
import { is16x8, lower16x8 } from './int16x8.js';
import { foldedBias, layerRequant, requireInt8Layer } from './requant.js';
import { floatLayerParams, isFloatLayer, requireFloatLayer, transposedWeights } from './float_layer.js';

/** FULLY_CONNECTED -> tm_fully_connected_s8: rows of `depth` inputs times weights [n_out][depth]. */
export function lowerFullyConnected(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node<'FULLY_CONNECTED'>;
  const input = ctx.input(0), weightsT = ctx.input(1), biasT = ctx.optionalInput(2), output = ctx.output();
  if (is16x8(ctx, input, output, weightsT)) return lower16x8(ctx);
  const float = isFloatLayer(ctx, input, output, weightsT);
  if (float) requireFloatLayer(ctx, input, weightsT);
  else requireInt8Layer(ctx, input, output, weightsT);
  const [nOut, depth] = weightsT.shape;
  const rows = numElements(input.shape) / depth;
  if (!Number.isInteger(rows)) throw ctx.unsupported(`input of ${numElements(input.shape)} values is not a multiple of depth ${depth}`);
  if (float) {
    ctx.requireDisjoint(input, output, 'FULLY_CONNECTED');
    const fp = floatLayerParams(ctx, biasT, nOut, node.options.activation, output);
    const w = transposedWeights(ctx, weightsT, nOut);
    return {
      headers: ['tm_fully_connected.h'], definitions: fp.definitions, weights: [w, ...fp.weights],
      statements: [call('tm_fully_connected_f32', intArg(rows), intArg(depth), intArg(nOut), structArg(fp.params), ctx.ptr(input), constArg(w), ctx.ptr(output))],
    };
  }
  const rq = layerRequant(ctx, input, weightsT, biasT, output, nOut, node.options.activation,
    (bias, w, zp) => foldedBias(bias, w, zp, depth, depth, 1), depth);
  ctx.requireDisjoint(input, output, 'FULLY_CONNECTED');
  if (ctx.splitWeights && depth % 4 === 0 && nOut % 4 === 0) {
    // DSP targets: weights split into SMLAD pairs offline (int16 in Flash, twice the bytes, no SXTB16 of weights).
    const pairs: CArray = { name: ctx.name('weights_pairs'), type: 'int32_t', values: smladPairs(constantValues(weightsT) as Int8Array, nOut, depth, 4), align: 4, linkage: 'extern', comment: `${weightsT.name} as SMLAD pairs (tm_fully_connected_w16_s8)` };
    return {
      headers: ['tm_fully_connected.h'],
      definitions: rq.definitions,
      weights: [pairs, ...rq.weights],
      statements: [call('tm_fully_connected_w16_s8', intArg(rows), intArg(depth), intArg(nOut), structArg(rq.params), ctx.ptr(input), constArg(pairs), ctx.ptr(output))],
    };
  }
  const w = ctx.constantArray(weightsT, 'weights');
  return {
    headers: ['tm_fully_connected.h'],
    definitions: rq.definitions,
    weights: [w, ...rq.weights],
    statements: [call('tm_fully_connected_s8', intArg(rows), intArg(depth), intArg(nOut), structArg(rq.params), ctx.ptr(input), constArg(w), ctx.ptr(output))],
  };
}
