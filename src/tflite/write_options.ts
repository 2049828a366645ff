import type { Builder } from 'flatbuffers';
import type { AnyNode } from '../graph/graph.js';
import type { Activation, Conv2DOptions, Padding, Pool2DOptions } from '../graph/options.js';
import * as S from './schema.js';
import { ExplicitPaddingNotWritableError, UnsupportedOpError } from '../errors.js';

const T = S.BuiltinOptionsType;

/** A written options table and its union type code (type NONE, offset 0 when the op has none). */
export interface WrittenOptions {
  type: number;
  offset: number;
}

const padding = (p: Padding): number => S.PADDINGS.indexOf(p);
const activation = (a: Activation): number => S.ACTIVATIONS.indexOf(a);

function int32Vector(b: Builder, v: readonly number[]): number {
  b.startVector(4, v.length, 4);
  for (let i = v.length - 1; i >= 0; i--) b.addInt32(v[i]);
  return b.endVector();
}

/** Fields equal to the schema default are omitted, as flatbuffers writers do; the reader restores them. */
function conv(b: Builder, o: Conv2DOptions, f: typeof S.Conv2DOptions | typeof S.DepthwiseConv2DOptions, extra?: number): void {
  b.addFieldInt8(f.padding, padding(o.padding), 0);
  b.addFieldInt32(f.strideW, o.strideW, 0);
  b.addFieldInt32(f.strideH, o.strideH, 0);
  b.addFieldInt32(f.dilationW, o.dilationW, 1);
  b.addFieldInt32(f.dilationH, o.dilationH, 1);
  b.addFieldInt8(f.fusedActivation, activation(o.activation), 0);
  if (extra !== undefined) b.addFieldInt32(S.DepthwiseConv2DOptions.depthMultiplier, extra, 0);
}

function pool(b: Builder, o: Pool2DOptions): void {
  const f = S.Pool2DOptions;
  b.addFieldInt8(f.padding, padding(o.padding), 0);
  b.addFieldInt32(f.strideW, o.strideW, 0);
  b.addFieldInt32(f.strideH, o.strideH, 0);
  b.addFieldInt32(f.filterWidth, o.filterW, 0);
  b.addFieldInt32(f.filterHeight, o.filterH, 0);
  b.addFieldInt8(f.fusedActivation, activation(o.activation), 0);
}

/** A table with `fields` slots filled by `fill`; vectors it refers to must be built before. */
function table(b: Builder, type: number, fields: number, fill: () => void): WrittenOptions {
  b.startObject(fields);
  fill();
  return { type, offset: b.endObject() };
}

/** Refuse options TFLite has no form for (explicit padding of a fused PAD). */
export function assertWritableOptions(n: AnyNode): void {
  if ((n.op === 'CONV_2D' || n.op === 'DEPTHWISE_CONV_2D') && n.options.explicitPadding) {
    throw new ExplicitPaddingNotWritableError(n.op, n.index);
  }
}

/** The builtin options table of one node, as the TFLite converter writes it. */
export function writeOptions(b: Builder, n: AnyNode): WrittenOptions {
  assertWritableOptions(n);
  switch (n.op) {
    case 'CONV_2D': return table(b, T.Conv2DOptions, 7, () => conv(b, n.options, S.Conv2DOptions));
    case 'DEPTHWISE_CONV_2D':
      return table(b, T.DepthwiseConv2DOptions, 7, () => conv(b, n.options, S.DepthwiseConv2DOptions, n.options.depthMultiplier));
    case 'FULLY_CONNECTED': return table(b, T.FullyConnectedOptions, 5, () => {
      b.addFieldInt8(S.FullyConnectedOptions.fusedActivation, activation(n.options.activation), 0);
      b.addFieldInt8(S.FullyConnectedOptions.keepNumDims, n.options.keepNumDims ? 1 : 0, 0);
    });
    case 'ADD': case 'SUB': case 'MUL': {
      const type = n.op === 'ADD' ? T.AddOptions : n.op === 'SUB' ? T.SubOptions : T.MulOptions;
      return table(b, type, 2, () => b.addFieldInt8(S.AddOptions.fusedActivation, activation(n.options.activation), 0));
    }
    case 'AVERAGE_POOL_2D': case 'MAX_POOL_2D': case 'L2_POOL_2D': return table(b, T.Pool2DOptions, 6, () => pool(b, n.options));
    case 'MEAN': return table(b, T.ReducerOptions, 1, () => b.addFieldInt8(S.ReducerOptions.keepDims, n.options.keepDims ? 1 : 0, 0));
    case 'RESHAPE': {
      // A null newShape is written as no table at all: the reader maps both to null.
      if (n.options.newShape === null) return { type: T.NONE, offset: 0 };
      const v = int32Vector(b, n.options.newShape);
      return table(b, T.ReshapeOptions, 1, () => b.addFieldOffset(S.ReshapeOptions.newShape, v, 0));
    }
    case 'SQUEEZE': {
      const v = int32Vector(b, n.options.squeezeDims);
      return table(b, T.SqueezeOptions, 1, () => b.addFieldOffset(S.SqueezeOptions.squeezeDims, v, 0));
    }
    case 'SOFTMAX': return table(b, T.SoftmaxOptions, 1, () => b.addFieldFloat32(S.SoftmaxOptions.beta, n.options.beta, 0));
    case 'CONCATENATION': return table(b, T.ConcatenationOptions, 2, () => {
      b.addFieldInt32(S.ConcatenationOptions.axis, n.options.axis, 0);
      b.addFieldInt8(S.ConcatenationOptions.fusedActivation, activation(n.options.activation), 0);
    });
    case 'RESIZE_NEAREST_NEIGHBOR': return table(b, T.ResizeNearestNeighborOptions, 2, () => {
      b.addFieldInt8(S.ResizeNearestNeighborOptions.alignCorners, n.options.alignCorners ? 1 : 0, 0);
      b.addFieldInt8(S.ResizeNearestNeighborOptions.halfPixelCenters, n.options.halfPixelCenters ? 1 : 0, 0);
    });
    case 'STRIDED_SLICE': return table(b, T.StridedSliceOptions, 6, () => {
      const f = S.StridedSliceOptions;
      const o = n.options;
      b.addFieldInt32(f.beginMask, o.beginMask, 0);
      b.addFieldInt32(f.endMask, o.endMask, 0);
      b.addFieldInt32(f.ellipsisMask, o.ellipsisMask, 0);
      b.addFieldInt32(f.newAxisMask, o.newAxisMask, 0);
      b.addFieldInt32(f.shrinkAxisMask, o.shrinkAxisMask, 0);
      b.addFieldInt8(f.offset, o.offset ? 1 : 0, 0);
    });
    // Ops without options: the converter still writes an empty table for these, so do we.
    case 'PAD': return table(b, T.PadOptions, 0, () => {});
    case 'PADV2': return table(b, T.PadV2Options, 0, () => {});
    case 'TRANSPOSE': return table(b, T.TransposeOptions, 0, () => {});
    case 'LOG_SOFTMAX': return table(b, T.LogSoftmaxOptions, 0, () => {});
    case 'QUANTIZE': return table(b, T.QuantizeOptions, 0, () => {});
    case 'DEQUANTIZE': return table(b, T.DequantizeOptions, 0, () => {});
    case 'HARD_SWISH': return table(b, T.HardSwishOptions, 0, () => {});
    case 'LOGISTIC': case 'TANH': case 'RELU': case 'RELU6': return { type: T.NONE, offset: 0 };
    // Options tables with no fields (or fields TFLite reads from the tensors): written absent.
    case 'EQUAL':
    case 'NOT_EQUAL':
    case 'GREATER':
    case 'GREATER_EQUAL':
    case 'LESS':
    case 'LESS_EQUAL':
    case 'MAXIMUM':
    case 'MINIMUM':
    case 'LOGICAL_AND':
    case 'LOGICAL_OR':
    case 'LOGICAL_NOT':
    case 'ABS':
    case 'NEG':
    case 'FLOOR':
    case 'CEIL':
    case 'ROUND':
    case 'SQUARE':
    case 'SQRT':
    case 'RSQRT':
    case 'EXP':
    case 'LOG':
    case 'SIN':
    case 'COS':
    case 'CAST':
    case 'ZEROS_LIKE':
    case 'REVERSE_V2': case 'SLICE': case 'SPACE_TO_BATCH_ND': case 'BATCH_TO_SPACE_ND': case 'BROADCAST_TO':
    case 'DYNAMIC_UPDATE_SLICE': case 'BROADCAST_ARGS': case 'L2_NORMALIZATION':
    case 'EXPAND_DIMS':
    case 'SHAPE':
    case 'FILL':
    case 'FLOOR_DIV':
    case 'FLOOR_MOD':
    case 'SQUARED_DIFFERENCE':
    case 'ARG_MAX':
    case 'ARG_MIN':
    case 'GATHER_ND':
    case 'EMBEDDING_LOOKUP':
    case 'SELECT_V2':
    case 'PRELU':
    case 'ELU':
    case 'ADD_N':
    case 'TFLite_Detection_PostProcess': // custom: its options are the custom_options bytes (writer.ts)
      return { type: T.NONE, offset: 0 };
    case 'DIV': return table(b, T.DivOptions, 1, () => b.addFieldInt8(S.AddOptions.fusedActivation, activation(n.options.activation), 0));
    case 'SUM': case 'REDUCE_MAX': case 'REDUCE_MIN': case 'REDUCE_ALL':
      return table(b, T.ReducerOptions, 1, () => b.addFieldInt8(S.ReducerOptions.keepDims, n.options.keepDims ? 1 : 0, 0));
    case 'GATHER': return table(b, T.GatherOptions, 2, () => {
      b.addFieldInt32(S.GatherOptions.axis, n.options.axis, 0);
      b.addFieldInt32(S.GatherOptions.batchDims, n.options.batchDims, 0);
    });
    case 'SPLIT': case 'SPLIT_V': return table(b, n.op === 'SPLIT' ? T.SplitOptions : T.SplitVOptions, 1, () => b.addFieldInt32(S.SplitOptions.numSplits, n.options.numSplits, 0));
    case 'UNPACK': return table(b, T.UnpackOptions, 2, () => {
      b.addFieldInt32(S.UnpackOptions.num, n.options.num, 0);
      b.addFieldInt32(S.UnpackOptions.axis, n.options.axis, 0);
    });
    case 'BATCH_MATMUL': return table(b, T.BatchMatMulOptions, 2, () => {
      b.addFieldInt8(S.BatchMatMulOptions.adjX, n.options.adjX ? 1 : 0, 0);
      b.addFieldInt8(S.BatchMatMulOptions.adjY, n.options.adjY ? 1 : 0, 0);
    });
    case 'TRANSPOSE_CONV': return table(b, T.TransposeConvOptions, 4, () => {
      b.addFieldInt8(S.TransposeConvOptions.padding, n.options.padding === 'SAME' ? 0 : 1, 0);
      b.addFieldInt32(S.TransposeConvOptions.strideW, n.options.strideW, 0);
      b.addFieldInt32(S.TransposeConvOptions.strideH, n.options.strideH, 0);
      b.addFieldInt8(S.TransposeConvOptions.fusedActivation, activation(n.options.activation), 0);
    });
    case 'BATCH_NORMALIZE':
      throw new UnsupportedOpError(n.op, n.index, 'a training-only op, not a TFLite builtin: fold batch normalisation into the convolution before writing');
    case 'RESIZE_BILINEAR': return table(b, T.ResizeBilinearOptions, 4, () => {
      b.addFieldInt8(S.ResizeBilinearOptions.alignCorners, n.options.alignCorners ? 1 : 0, 0);
      b.addFieldInt8(S.ResizeBilinearOptions.halfPixelCenters, n.options.halfPixelCenters ? 1 : 0, 0);
    });
    case 'UNIDIRECTIONAL_SEQUENCE_LSTM': return table(b, T.UnidirectionalSequenceLSTMOptions, 6, () => {
      const f = S.UnidirectionalSequenceLSTMOptions;
      b.addFieldInt8(f.fusedActivation, activation(n.options.activation), 0);
      b.addFieldFloat32(f.cellClip, n.options.cellClip, 0);
      b.addFieldFloat32(f.projClip, n.options.projClip, 0);
      b.addFieldInt8(f.timeMajor, n.options.timeMajor ? 1 : 0, 0);
    });
    case 'SVDF': return table(b, T.SVDFOptions, 3, () => {
      b.addFieldInt32(S.SVDFOptions.rank, n.options.rank, 0);
      b.addFieldInt8(S.SVDFOptions.fusedActivation, activation(n.options.activation), 0);
    });
    case 'CUMSUM': return table(b, T.CumsumOptions, 2, () => {
      b.addFieldInt8(S.CumsumOptions.exclusive, n.options.exclusive ? 1 : 0, 0);
      b.addFieldInt8(S.CumsumOptions.reverse, n.options.reverse ? 1 : 0, 0);
    });
    case 'LEAKY_RELU': return table(b, T.LeakyReluOptions, 1, () => b.addFieldFloat32(S.LeakyReluOptions.alpha, n.options.alpha, 0));
    case 'PACK': return table(b, T.PackOptions, 2, () => {
      b.addFieldInt32(S.PackOptions.valuesCount, n.inputs.length, 0);
      b.addFieldInt32(S.PackOptions.axis, n.options.axis, 0);
    });
    case 'SPACE_TO_DEPTH': return table(b, T.SpaceToDepthOptions, 1, () => b.addFieldInt32(S.BlockSizeOptions.blockSize, n.options.blockSize, 0));
    case 'DEPTH_TO_SPACE': return table(b, T.DepthToSpaceOptions, 1, () => b.addFieldInt32(S.BlockSizeOptions.blockSize, n.options.blockSize, 0));
    case 'MIRROR_PAD': return table(b, T.MirrorPadOptions, 1, () => b.addFieldInt8(S.MirrorPadOptions.mode, n.options.mode === 'SYMMETRIC' ? 1 : 0, 0));
  }
}
