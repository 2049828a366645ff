import type { OpName } from '../../graph/options.js';
import type { LayerCode, LayerContext } from './layer.js';
import { lowerConv2d } from './conv2d.js';
import { lowerDepthwiseConv2d } from './depthwise_conv2d.js';
import { lowerFullyConnected } from './fully_connected.js';
import { lowerBinary } from './elementwise.js';
import { lowerPool2d } from './pool2d.js';
import { lowerSoftmax } from './softmax.js';
import { lowerQuantize } from './quantize.js';
import { lowerPad } from './pad.js';
import { lowerTranspose } from './transpose.js';
import { lowerReshape } from './reshape.js';
import { lowerStridedSlice } from './strided_slice.js';
import { lowerConcatenation } from './concatenation.js';
import { lowerLut } from './lut.js';
import { lowerAddN, lowerBroadcastBinary, lowerCompare, lowerSelect } from './broadcast_binary.js';
import { lowerCast, lowerFill, lowerShape, lowerUnary } from './unary.js';
import { lowerIndexMap, lowerSplit } from './index_walk.js';
import { lowerBroadcastArgs, lowerEmbeddingLookup, lowerGather, lowerGatherNd, lowerUpdateSlice } from './gather.js';
import { lowerArg, lowerL2Normalize, lowerReduce } from './reduce.js';
import { lowerBatchMatmul } from './batch_matmul.js';
import { lowerTransposeConv } from './transpose_conv.js';
import { lowerLogSoftmax } from './log_softmax.js';
import { lowerResizeBilinear } from './resize.js';
import { lowerCumsum } from './cumsum.js';
import { lowerSvdf } from './svdf.js';
import { lowerLstm } from './lstm.js';
import { lowerDetectionPostProcess } from './detection.js';
import type { OpDef } from '../../ops/op.js';
import { OPS } from '../../ops/registry.js';

export type Lowering = (ctx: LayerContext) => LayerCode;

/** The ops the C library implements: op name -> how a node becomes kernel calls. */
export const LOWERINGS: Partial<Record<OpName, Lowering>> = {
  CONV_2D: lowerConv2d,
  DEPTHWISE_CONV_2D: lowerDepthwiseConv2d,
  FULLY_CONNECTED: lowerFullyConnected,
  ADD: lowerBinary,
  MUL: lowerBinary,
  AVERAGE_POOL_2D: lowerPool2d,
  MAX_POOL_2D: lowerPool2d,
  MEAN: lowerReduce,
  SOFTMAX: lowerSoftmax,
  QUANTIZE: lowerQuantize,
  DEQUANTIZE: lowerQuantize,
  PAD: lowerPad,
  PADV2: lowerPad,
  TRANSPOSE: lowerTranspose,
  RESHAPE: lowerReshape,
  SQUEEZE: lowerReshape,
  STRIDED_SLICE: lowerStridedSlice,
  CONCATENATION: lowerConcatenation,
  SUB: lowerBroadcastBinary,
  DIV: lowerBroadcastBinary,
  FLOOR_DIV: lowerBroadcastBinary,
  FLOOR_MOD: lowerBroadcastBinary,
  SQUARED_DIFFERENCE: lowerBroadcastBinary,
  MAXIMUM: lowerBroadcastBinary,
  MINIMUM: lowerBroadcastBinary,
  PRELU: lowerBroadcastBinary,
  EQUAL: lowerCompare,
  NOT_EQUAL: lowerCompare,
  GREATER: lowerCompare,
  GREATER_EQUAL: lowerCompare,
  LESS: lowerCompare,
  LESS_EQUAL: lowerCompare,
  LOGICAL_AND: lowerCompare,
  LOGICAL_OR: lowerCompare,
  SELECT_V2: lowerSelect,
  RELU: lowerUnary,
  RELU6: lowerUnary,
  LOGISTIC: lowerUnary,
  TANH: lowerUnary,
  ELU: lowerUnary,
  HARD_SWISH: lowerUnary,
  LEAKY_RELU: lowerUnary,
  ABS: lowerUnary,
  NEG: lowerUnary,
  FLOOR: lowerUnary,
  CEIL: lowerUnary,
  ROUND: lowerUnary,
  SQUARE: lowerUnary,
  SQRT: lowerUnary,
  RSQRT: lowerUnary,
  EXP: lowerUnary,
  LOG: lowerUnary,
  SIN: lowerUnary,
  COS: lowerUnary,
  LOGICAL_NOT: lowerUnary,
  CAST: lowerCast,
  FILL: lowerFill,
  ZEROS_LIKE: lowerFill,
  SHAPE: lowerShape,
  EXPAND_DIMS: lowerReshape,
  SPLIT: lowerSplit,
  SPLIT_V: lowerSplit,
  UNPACK: lowerSplit,
  GATHER: lowerGather,
  SUM: lowerReduce,
  REDUCE_MAX: lowerReduce,
  REDUCE_MIN: lowerReduce,
  REDUCE_ALL: lowerReduce,
  ARG_MAX: lowerArg,
  ARG_MIN: lowerArg,
  BATCH_MATMUL: lowerBatchMatmul,
  TRANSPOSE_CONV: lowerTransposeConv,
  LOG_SOFTMAX: lowerLogSoftmax,
  L2_POOL_2D: lowerPool2d,
  RESIZE_BILINEAR: lowerResizeBilinear,
  GATHER_ND: lowerGatherNd,
  DYNAMIC_UPDATE_SLICE: lowerUpdateSlice,
  EMBEDDING_LOOKUP: lowerEmbeddingLookup,
  ADD_N: lowerAddN,
  L2_NORMALIZATION: lowerL2Normalize,
  BROADCAST_ARGS: lowerBroadcastArgs,
  CUMSUM: lowerCumsum,
  SVDF: lowerSvdf,
  UNIDIRECTIONAL_SEQUENCE_LSTM: lowerLstm,
  TFLite_Detection_PostProcess: lowerDetectionPostProcess,
};

/**
 * How a node of `op` becomes C: its own lowering, the lookup kernel when the op's int8 kernel is a table,
 * or strided copies when its output is an index map.
 */
export function loweringFor(op: OpName): Lowering | undefined {
  const def = OPS[op] as OpDef;
  return LOWERINGS[op] ?? (def.int8Table ? lowerLut : def.indexMap ? lowerIndexMap : undefined);
}
