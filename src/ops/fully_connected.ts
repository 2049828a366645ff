/**
 * FULLY_CONNECTED: weights [units, K], optional bias [units]; every run of K input values is one
 * batch row. Semantics of TFLite's reference FullyConnected / FullyConnectedPerChannel (int8) and
 * FullyConnected (float32); `keepNumDims` keeps the input's leading dimensions in the output.
 */
import type { Graph, Node } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import { ModelFormatError } from '../errors.js';
import { fullyConnected16x8 } from './int16x8.js';
import type { Kernel, OpDef, TensorViews } from './op.js';
import { firstInputOnly, inputTensor, optionalInput, outputTensor } from './op.js';
import type { Int8Requant } from './gemm.js';
import { gemmFloat, prepareInt8Gemm, runInt8Gemm } from './gemm.js';
import {
  activationBounds, biasInt32, expectRank, foldInputOffset, fullyConnectedMultipliers, kernelKind,
  requireSymmetricWeights, where, zeroPointOf,
} from './conv_util.js';

interface FcGeometry {
  units: number;
  K: number;
  batches: number;
  outShape: number[];
}

function geometry(node: Node<'FULLY_CONNECTED'>, g: Graph): FcGeometry {
  const input = inputTensor(node, g, 0);
  const weights = inputTensor(node, g, 1);
  expectRank(node, weights, 2, 'weights');
  const [units, K] = weights.shape;
  const n = numElements(input.shape);
  if (K <= 0 || n % K !== 0) {
    throw new ModelFormatError(where(node), `input of ${n} values does not split into rows of ${K}`);
  }
  const batches = n / K;
  if (node.options.keepNumDims) {
    if (input.shape[input.shape.length - 1] !== K) {
      throw new ModelFormatError(where(node), `keep_num_dims needs the input's last dimension to be ${K}`);
    }
    return { units, K, batches, outShape: [...input.shape.slice(0, -1), units] };
  }
  return { units, K, batches, outShape: [batches, units] };
}

function prepareInt8(node: Node<'FULLY_CONNECTED'>, g: Graph, views: TensorViews, geo: FcGeometry): Kernel {
  const input = inputTensor(node, g, 0);
  const weights = inputTensor(node, g, 1);
  const biasT = optionalInput(node, g, 2);
  const output = outputTensor(node, g);
  requireSymmetricWeights(node, weights);
  const { units, K, batches } = geo;
  const w = views.int8(weights.id);
  const { multiplier, shift } = fullyConnectedMultipliers(node, input, weights, output, units);
  const [actMin, actMax] = activationBounds(node, node.options.activation, output);
  const bias = biasInt32(node, biasT, biasT ? views.int32(biasT.id) : null, units);
  const q: Int8Requant = { bias: foldInputOffset(bias, w, K, -zeroPointOf(input)), multiplier, shift, outZp: zeroPointOf(output), actMin, actMax };
  const x = views.int8(input.id);
  const y = views.int8(output.id);
  const gm = prepareInt8Gemm(w, units, K, q);
  return () => runInt8Gemm(gm, x, 0, K, batches, y, 0);
}

function prepareFloat(node: Node<'FULLY_CONNECTED'>, g: Graph, views: TensorViews, geo: FcGeometry): Kernel {
  const input = inputTensor(node, g, 0);
  const weights = inputTensor(node, g, 1);
  const biasT = optionalInput(node, g, 2);
  const output = outputTensor(node, g);
  const { units, K, batches } = geo;
  const w = views.float32(weights.id);
  const bias = new Float32Array(units);
  if (biasT) bias.set(views.float32(biasT.id).subarray(0, units));
  const [actMin, actMax] = activationBounds(node, node.options.activation, output);
  const x = views.float32(input.id);
  const y = views.float32(output.id);
  return () => gemmFloat(x, 0, K, batches, K, w, units, bias, actMin, actMax, y, 0);
}

export const fullyConnected: OpDef<'FULLY_CONNECTED'> = {
  name: 'FULLY_CONNECTED',
  // v1 float, v4 int8, v5 keep_num_dims, v6 no bias, v7 16x8, v11/v12 per-channel (int8, 16x8); v3/v8
  // (hybrid) are refused by dtype; v10 int4 weights are unpacked to int8 at load. v2 (shuffled weights) cannot be told
  // apart here and is not implemented by TFLite Micro either.
  maxVersion: 12,
  role: 'layer',
  differentiableInputs: firstInputOnly,

  inferShapes(node, g) {
    return [geometry(node, g).outShape];
  },

  prepare(node, g, views) {
    const geo = geometry(node, g);
    const input = inputTensor(node, g, 0);
    const output = outputTensor(node, g);
    if (numElements(output.shape) !== geo.batches * geo.units || output.shape[output.shape.length - 1] !== geo.units) {
      throw new ModelFormatError(where(node), `output shape [${output.shape.join(',')}], expected ${geo.batches} rows of ${geo.units}`);
    }
    const kind = kernelKind(node, input, output, inputTensor(node, g, 1), true);
    if (kind === 'int16x8') return fullyConnected16x8(node, g, views, geo.batches, geo.units, geo.K);
    return kind === 'int8' ? prepareInt8(node, g, views, geo) : prepareFloat(node, g, views, geo);
  },

  macs(node, g) {
    const { units, K, batches } = geometry(node, g);
    return batches * units * K;
  },
};
