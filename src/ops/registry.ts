import type { OpName } from '../graph/options.js';
import type { AnyNode, Graph } from '../graph/graph.js';
import { UnsupportedOpError } from '../errors.js';
import type { OpDef } from './op.js';

import { add } from './add.js';
import { batchNormalize } from './batch_normalize.js';
import { averagePool2d } from './average_pool2d.js';
import { concatenation } from './concatenation.js';
import { conv2d } from './conv2d.js';
import { depthwiseConv2d } from './depthwise_conv2d.js';
import { dequantize } from './dequantize.js';
import { fullyConnected } from './fully_connected.js';
import { hardSwish } from './hard_swish.js';
import { logSoftmax } from './log_softmax.js';
import { logistic } from './logistic.js';
import { maxPool2d } from './max_pool2d.js';
import { mean } from './mean.js';
import { mul } from './mul.js';
import { pad } from './pad.js';
import { padv2 } from './padv2.js';
import { quantize } from './quantize.js';
import { relu } from './relu.js';
import { relu6 } from './relu6.js';
import { reshape } from './reshape.js';
import { resizeNearestNeighbor } from './resize_nearest_neighbor.js';
import { softmax } from './softmax.js';
import { squeeze } from './squeeze.js';
import { stridedSlice } from './strided_slice.js';
import { sub } from './sub.js';
import { tanh } from './tanh.js';
import { transpose } from './transpose.js';
import { equal, greater, greaterEqual, less, lessEqual, notEqual } from './comparisons.js';
import { maximum, minimum } from './maximum_minimum.js';
import { logicalAnd, logicalNot, logicalOr } from './logical.js';
import { abs, ceil, cos, exp, floor, log, neg, round, rsqrt, sin, sqrt, square } from './unary_math.js';
import { cast, zerosLike } from './cast.js';
import { expandDims, fill, shape } from './shape_ops.js';
import { div, floorDiv, floorMod, squaredDifference } from './binary_math.js';
import { argMax, argMin, reduceAll, reduceMax, reduceMin, sum } from './reduce.js';
import { embeddingLookup, gather, gatherNd } from './gather.js';
import { selectV2 } from './select_v2.js';
import { split, splitV, unpack } from './split.js';
import { broadcastArgs, dynamicUpdateSlice } from './update_slice.js';
import { batchMatmul } from './batch_matmul.js';
import { transposeConv } from './transpose_conv.js';
import { l2Normalization, l2Pool2d } from './l2.js';
import { resizeBilinear } from './resize_bilinear.js';
import { elu, leakyRelu, prelu } from './activations_extra.js';
import { addN } from './add_n.js';
import { cumsum } from './cumsum.js';
import { svdf } from './svdf.js';
import { unidirectionalSequenceLstm } from './lstm.js';
import { detectionPostProcess } from './detection_postprocess.js';
import { batchToSpaceNd, broadcastTo, depthToSpace, mirrorPad, pack, reverseV2, slice, spaceToBatchNd, spaceToDepth } from './rearrange.js';

/** The one table of operators: TFLite builtin name -> its definition. */
export const OPS: { [K in OpName]: OpDef<K> } = {
  ADD: add,
  BATCH_NORMALIZE: batchNormalize,
  AVERAGE_POOL_2D: averagePool2d,
  CONCATENATION: concatenation,
  CONV_2D: conv2d,
  DEPTHWISE_CONV_2D: depthwiseConv2d,
  DEQUANTIZE: dequantize,
  FULLY_CONNECTED: fullyConnected,
  HARD_SWISH: hardSwish,
  LOGISTIC: logistic,
  LOG_SOFTMAX: logSoftmax,
  MAX_POOL_2D: maxPool2d,
  MEAN: mean,
  MUL: mul,
  PAD: pad,
  PADV2: padv2,
  QUANTIZE: quantize,
  RELU6: relu6,
  RELU: relu,
  RESHAPE: reshape,
  RESIZE_NEAREST_NEIGHBOR: resizeNearestNeighbor,
  SOFTMAX: softmax,
  SQUEEZE: squeeze,
  STRIDED_SLICE: stridedSlice,
  SUB: sub,
  TANH: tanh,
  TRANSPOSE: transpose,
  EQUAL: equal,
  NOT_EQUAL: notEqual,
  GREATER: greater,
  GREATER_EQUAL: greaterEqual,
  LESS: less,
  LESS_EQUAL: lessEqual,
  MAXIMUM: maximum,
  MINIMUM: minimum,
  LOGICAL_AND: logicalAnd,
  LOGICAL_OR: logicalOr,
  LOGICAL_NOT: logicalNot,
  ABS: abs,
  NEG: neg,
  FLOOR: floor,
  CEIL: ceil,
  ROUND: round,
  SQUARE: square,
  SQRT: sqrt,
  RSQRT: rsqrt,
  EXP: exp,
  LOG: log,
  SIN: sin,
  COS: cos,
  CAST: cast,
  ZEROS_LIKE: zerosLike,
  PACK: pack,
  REVERSE_V2: reverseV2,
  SLICE: slice,
  SPACE_TO_DEPTH: spaceToDepth,
  DEPTH_TO_SPACE: depthToSpace,
  SPACE_TO_BATCH_ND: spaceToBatchNd,
  BATCH_TO_SPACE_ND: batchToSpaceNd,
  BROADCAST_TO: broadcastTo,
  MIRROR_PAD: mirrorPad,
  EXPAND_DIMS: expandDims,
  SHAPE: shape,
  FILL: fill,
  DIV: div,
  FLOOR_DIV: floorDiv,
  FLOOR_MOD: floorMod,
  SQUARED_DIFFERENCE: squaredDifference,
  SUM: sum,
  REDUCE_MAX: reduceMax,
  REDUCE_MIN: reduceMin,
  REDUCE_ALL: reduceAll,
  ARG_MAX: argMax,
  ARG_MIN: argMin,
  GATHER: gather,
  GATHER_ND: gatherNd,
  EMBEDDING_LOOKUP: embeddingLookup,
  SELECT_V2: selectV2,
  LEAKY_RELU: leakyRelu,
  PRELU: prelu,
  ELU: elu,
  ADD_N: addN,
  SPLIT: split,
  SPLIT_V: splitV,
  UNPACK: unpack,
  DYNAMIC_UPDATE_SLICE: dynamicUpdateSlice,
  BROADCAST_ARGS: broadcastArgs,
  BATCH_MATMUL: batchMatmul,
  TRANSPOSE_CONV: transposeConv,
  L2_POOL_2D: l2Pool2d,
  L2_NORMALIZATION: l2Normalization,
  RESIZE_BILINEAR: resizeBilinear,
  CUMSUM: cumsum,
  SVDF: svdf,
  UNIDIRECTIONAL_SEQUENCE_LSTM: unidirectionalSequenceLstm,
  TFLite_Detection_PostProcess: detectionPostProcess,
};

export function opDef<K extends OpName>(name: K): OpDef<K> {
  return OPS[name];
}

/**
 * Refuse, before anything runs, any node whose op version is newer than what we implement, or that reads
 * a variable (state) tensor its op does not keep as state.
 */
export function checkSupported(g: Graph): void {
  for (const n of g.nodes as AnyNode[]) {
    const def = OPS[n.op] as OpDef;
    if (n.version > def.maxVersion) {
      throw new UnsupportedOpError(n.op, n.index, `op version ${n.version} (we implement up to ${def.maxVersion})`);
    }
    const state = def.stateInputs?.(n as never) ?? [];
    n.inputs.forEach((id, k) => {
      const t = id >= 0 ? g.tensors[id] : null;
      if (t?.variable && !state.includes(k)) {
        throw new UnsupportedOpError(n.op, n.index, `input ${k}, tensor ${id} (${JSON.stringify(t.name)}), is a variable (state) tensor, which ${n.op} does not keep`);
      }
    });
  }
}
