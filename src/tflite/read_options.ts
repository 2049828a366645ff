import * as flexbuffers from 'flatbuffers/js/flexbuffers.js';
import type {
  Activation, Conv2DOptions, DetectionPostProcessOptions, ElementwiseOptions, NoOptions, OpName, OpOptionsMap, Padding,
  Pool2DOptions,
} from '../graph/options.js';
import { UnsupportedOpError } from '../errors.js';
import type { Table } from './checked_buffer.js';
import * as S from './schema.js';

const T = S.BuiltinOptionsType;

/**
 * The BuiltinOptions table each op with real options carries. A different table there would be read with
 * the wrong field layout, so it is refused; ops without options ignore whatever empty table they carry.
 */
export const OPTIONS_TABLE: Partial<Record<OpName, number>> = {
  CONV_2D: T.Conv2DOptions,
  DEPTHWISE_CONV_2D: T.DepthwiseConv2DOptions,
  FULLY_CONNECTED: T.FullyConnectedOptions,
  ADD: T.AddOptions,
  SUB: T.SubOptions,
  MUL: T.MulOptions,
  AVERAGE_POOL_2D: T.Pool2DOptions,
  MAX_POOL_2D: T.Pool2DOptions,
  MEAN: T.ReducerOptions,
  RESHAPE: T.ReshapeOptions,
  SQUEEZE: T.SqueezeOptions,
  SOFTMAX: T.SoftmaxOptions,
  CONCATENATION: T.ConcatenationOptions,
  RESIZE_NEAREST_NEIGHBOR: T.ResizeNearestNeighborOptions,
  STRIDED_SLICE: T.StridedSliceOptions,
  PACK: T.PackOptions,
  SPACE_TO_DEPTH: T.SpaceToDepthOptions,
  DEPTH_TO_SPACE: T.DepthToSpaceOptions,
  MIRROR_PAD: T.MirrorPadOptions,
  SPLIT: T.SplitOptions,
  SPLIT_V: T.SplitVOptions,
  UNPACK: T.UnpackOptions,
  BATCH_MATMUL: T.BatchMatMulOptions,
  TRANSPOSE_CONV: T.TransposeConvOptions,
  L2_POOL_2D: T.Pool2DOptions,
  RESIZE_BILINEAR: T.ResizeBilinearOptions,
  DIV: T.DivOptions,
  SUM: T.ReducerOptions,
  REDUCE_MAX: T.ReducerOptions,
  REDUCE_MIN: T.ReducerOptions,
  REDUCE_ALL: T.ReducerOptions,
  GATHER: T.GatherOptions,
  LEAKY_RELU: T.LeakyReluOptions,
  CUMSUM: T.CumsumOptions,
  SVDF: T.SVDFOptions,
  UNIDIRECTIONAL_SEQUENCE_LSTM: T.UnidirectionalSequenceLSTMOptions,
};

/** What option parsing needs besides the options table. */
export interface OptionsContext {
  /** The Operator table (for errors: its `where` names the node). */
  operator: Table;
  nodeIndex: number;
  /** Shape of input i, or null when the input is omitted. */
  inputShape(i: number): number[] | null;
  /** How many outputs the node has (the default piece count of SPLIT / UNPACK). */
  outputCount: number;
}

type Parser<K extends OpName> = (o: Table | null, ctx: OptionsContext) => OpOptionsMap[K];

function padding(o: Table | null, slot: number): Padding {
  const code = o ? o.i8(slot, 0) : 0;
  const p = S.PADDINGS[code];
  if (!p) o?.fail(`padding code ${code} is not SAME (0) or VALID (1)`);
  return p;
}

function activation(o: Table | null, slot: number): Activation {
  const code = o ? o.i8(slot, 0) : 0;
  const a = S.ACTIVATIONS[code];
  if (!a) o?.fail(`fused activation code ${code} is unknown`);
  return a;
}

/**
 * Strides, dilations and filter sizes: the schema default for a field missing from a present table is 0
 * (dilation: 1), which no kernel can use; a missing table means the neutral 1.
 */
function positive(o: Table | null, slot: number, dflt: number, what: string): number {
  const v = o ? o.i32(slot, dflt) : 1;
  if (v < 1) o?.fail(`${what} is ${v}; it must be at least 1`);
  return v;
}

function conv(o: Table | null, f: typeof S.Conv2DOptions | typeof S.DepthwiseConv2DOptions): Conv2DOptions {
  return {
    padding: padding(o, f.padding),
    strideW: positive(o, f.strideW, 0, 'stride_w'),
    strideH: positive(o, f.strideH, 0, 'stride_h'),
    dilationW: positive(o, f.dilationW, 1, 'dilation_w_factor'),
    dilationH: positive(o, f.dilationH, 1, 'dilation_h_factor'),
    activation: activation(o, f.fusedActivation),
  };
}

/**
 * depth_multiplier is "redundant" per the schema and newer converters leave it 0; TFLite derives it from
 * the shapes (filter channels / input channels), and so do we.
 */
function depthMultiplier(o: Table | null, ctx: OptionsContext): number {
  const stored = o ? o.i32(S.DepthwiseConv2DOptions.depthMultiplier, 0) : 0;
  if (stored < 0) ctx.operator.fail(`depth_multiplier ${stored} is negative`);
  if (stored > 0) return stored;
  const input = ctx.inputShape(0);
  const filter = ctx.inputShape(1);
  const inC = input?.[3];
  const outC = filter?.[3];
  if (input?.length !== 4 || filter?.length !== 4 || !inC || outC === undefined || outC % inC !== 0) {
    ctx.operator.fail('depth_multiplier is 0 and cannot be derived from the input and filter shapes');
  }
  return outC / inC;
}

function pool(o: Table | null): Pool2DOptions {
  const f = S.Pool2DOptions;
  return {
    padding: padding(o, f.padding),
    strideW: positive(o, f.strideW, 0, 'stride_w'),
    strideH: positive(o, f.strideH, 0, 'stride_h'),
    filterW: positive(o, f.filterWidth, 0, 'filter_width'),
    filterH: positive(o, f.filterHeight, 0, 'filter_height'),
    activation: activation(o, f.fusedActivation),
  };
}

/**
 * TFLite_Detection_PostProcess keeps its parameters in a flexbuffer map (custom_options), read as TFLite
 * Micro's Init does: ints as int32, floats as C floats, detections_per_class 100 and use_regular_nms
 * false when absent.
 */
function detectionPostProcessOptions(ctx: OptionsContext): DetectionPostProcessOptions {
  const raw = ctx.operator.bytes(S.Operator.customOptions, 'custom_options');
  if (!raw || raw.byteLength === 0) ctx.operator.fail('has no custom_options (the flexbuffer map of its parameters)');
  let map: unknown;
  try {
    map = flexbuffers.toObject(raw.slice().buffer);
  } catch (e) {
    ctx.operator.fail(`custom_options is not a flexbuffer: ${(e as Error).message}`);
  }
  if (typeof map !== 'object' || map === null) ctx.operator.fail('custom_options is not a flexbuffer map');
  const m = map as Record<string, unknown>;
  const num = (key: string, dflt?: number): number => {
    const v = m[key] ?? dflt;
    if (typeof v !== 'number' && typeof v !== 'bigint') ctx.operator.fail(`custom option ${key} is missing or not a number`);
    return Number(v);
  };
  return {
    maxDetections: num('max_detections') | 0,
    maxClassesPerDetection: num('max_classes_per_detection') | 0,
    detectionsPerClass: num('detections_per_class', 100) | 0,
    useRegularNms: Boolean(m.use_regular_nms ?? false),
    nmsScoreThreshold: Math.fround(num('nms_score_threshold')),
    nmsIouThreshold: Math.fround(num('nms_iou_threshold')),
    numClasses: num('num_classes') | 0,
    yScale: Math.fround(num('y_scale')),
    xScale: Math.fround(num('x_scale')),
    hScale: Math.fround(num('h_scale')),
    wScale: Math.fround(num('w_scale')),
    customOptions: raw,
  };
}

const elementwise = (o: Table | null): ElementwiseOptions => ({ activation: activation(o, S.AddOptions.fusedActivation) });
const none = (): NoOptions => ({});

const PARSERS: { [K in OpName]: Parser<K> } = {
  CONV_2D: (o) => conv(o, S.Conv2DOptions),
  DEPTHWISE_CONV_2D: (o, ctx) => ({ ...conv(o, S.DepthwiseConv2DOptions), depthMultiplier: depthMultiplier(o, ctx) }),
  FULLY_CONNECTED: (o, ctx) => {
    const format = o ? o.i8(S.FullyConnectedOptions.weightsFormat, 0) : 0;
    if (format !== S.FC_WEIGHTS_DEFAULT) {
      throw new UnsupportedOpError('FULLY_CONNECTED', ctx.nodeIndex, `weights_format ${format} (only DEFAULT row-major weights are supported)`);
    }
    return {
      activation: activation(o, S.FullyConnectedOptions.fusedActivation),
      keepNumDims: o ? o.bool(S.FullyConnectedOptions.keepNumDims, false) : false,
    };
  },
  ADD: elementwise,
  SUB: elementwise,
  MUL: (o) => ({ activation: activation(o, S.MulOptions.fusedActivation) }),
  AVERAGE_POOL_2D: pool,
  MAX_POOL_2D: pool,
  MEAN: (o) => ({ keepDims: o ? o.bool(S.ReducerOptions.keepDims, false) : false }),
  RESHAPE: (o) => ({ newShape: o ? o.int32s(S.ReshapeOptions.newShape, 'new_shape') : null }),
  SQUEEZE: (o) => ({ squeezeDims: (o ? o.int32s(S.SqueezeOptions.squeezeDims, 'squeeze_dims') : null) ?? [] }),
  SOFTMAX: (o) => {
    // TFLite would zero-fill a missing table (beta 0: a uniform output); converters always write beta, so
    // a missing table is read as the neutral beta = 1.
    const beta = o ? o.f32(S.SoftmaxOptions.beta, 0) : 1;
    if (!Number.isFinite(beta)) o?.fail(`softmax beta ${beta} is not finite`);
    return { beta };
  },
  CONCATENATION: (o) => ({
    axis: o ? o.i32(S.ConcatenationOptions.axis, 0) : 0,
    activation: activation(o, S.ConcatenationOptions.fusedActivation),
  }),
  RESIZE_NEAREST_NEIGHBOR: (o) => ({
    alignCorners: o ? o.bool(S.ResizeNearestNeighborOptions.alignCorners, false) : false,
    halfPixelCenters: o ? o.bool(S.ResizeNearestNeighborOptions.halfPixelCenters, false) : false,
  }),
  STRIDED_SLICE: (o) => {
    const f = S.StridedSliceOptions;
    const int = (slot: number): number => (o ? o.i32(slot, 0) : 0);
    return {
      beginMask: int(f.beginMask), endMask: int(f.endMask), ellipsisMask: int(f.ellipsisMask),
      newAxisMask: int(f.newAxisMask), shrinkAxisMask: int(f.shrinkAxisMask),
      offset: o ? o.bool(f.offset, false) : false,
    };
  },
  LOG_SOFTMAX: none, LOGISTIC: none, TANH: none, RELU: none, RELU6: none, HARD_SWISH: none, QUANTIZE: none,
  DEQUANTIZE: none, PAD: none, PADV2: none, TRANSPOSE: none,
  EQUAL: none,
  NOT_EQUAL: none,
  GREATER: none,
  GREATER_EQUAL: none,
  LESS: none,
  LESS_EQUAL: none,
  MAXIMUM: none,
  MINIMUM: none,
  LOGICAL_AND: none,
  LOGICAL_OR: none,
  LOGICAL_NOT: none,
  ABS: none,
  NEG: none,
  FLOOR: none,
  CEIL: none,
  ROUND: none,
  SQUARE: none,
  SQRT: none,
  RSQRT: none,
  EXP: none,
  LOG: none,
  SIN: none,
  COS: none,
  CAST: none,
  ZEROS_LIKE: none,
  PACK: (o) => ({ axis: o ? o.i32(S.PackOptions.axis, 0) : 0 }),
  SPACE_TO_DEPTH: (o) => ({ blockSize: positive(o, S.BlockSizeOptions.blockSize, 0, 'block_size') }),
  DEPTH_TO_SPACE: (o) => ({ blockSize: positive(o, S.BlockSizeOptions.blockSize, 0, 'block_size') }),
  MIRROR_PAD: (o) => {
    const mode = o ? o.i8(S.MirrorPadOptions.mode, 0) : 0;
    if (mode !== 0 && mode !== 1) o?.fail(`mirror pad mode ${mode} (0 REFLECT or 1 SYMMETRIC)`);
    return { mode: mode === 1 ? 'SYMMETRIC' : 'REFLECT' };
  },
  REVERSE_V2: none, SLICE: none, SPACE_TO_BATCH_ND: none, BATCH_TO_SPACE_ND: none, BROADCAST_TO: none,
  EXPAND_DIMS: none,
  SHAPE: none,
  FILL: none,
  DIV: (o) => ({ activation: activation(o, S.AddOptions.fusedActivation) }),
  FLOOR_DIV: none,
  FLOOR_MOD: none,
  SQUARED_DIFFERENCE: none,
  SUM: (o) => ({ keepDims: o ? o.bool(S.ReducerOptions.keepDims, false) : false }),
  REDUCE_MAX: (o) => ({ keepDims: o ? o.bool(S.ReducerOptions.keepDims, false) : false }),
  REDUCE_MIN: (o) => ({ keepDims: o ? o.bool(S.ReducerOptions.keepDims, false) : false }),
  REDUCE_ALL: (o) => ({ keepDims: o ? o.bool(S.ReducerOptions.keepDims, false) : false }),
  ARG_MAX: none,
  ARG_MIN: none,
  GATHER: (o) => ({ axis: o ? o.i32(S.GatherOptions.axis, 0) : 0, batchDims: o ? o.i32(S.GatherOptions.batchDims, 0) : 0 }),
  GATHER_ND: none,
  EMBEDDING_LOOKUP: none,
  SELECT_V2: none,
  LEAKY_RELU: (o) => ({ alpha: o ? o.f32(S.LeakyReluOptions.alpha, 0) : 0 }),
  PRELU: none,
  ELU: none,
  ADD_N: none,
  SPLIT: (o, ctx) => ({ numSplits: o ? o.i32(S.SplitOptions.numSplits, 0) : ctx.outputCount }),
  SPLIT_V: (o, ctx) => ({ numSplits: o ? o.i32(S.SplitOptions.numSplits, 0) : ctx.outputCount }),
  DYNAMIC_UPDATE_SLICE: none,
  L2_POOL_2D: pool,
  L2_NORMALIZATION: none,
  // Never in a file (the reader maps builtin codes only); here so the table stays total.
  BATCH_NORMALIZE: () => ({ epsilon: 1e-3 }),
  RESIZE_BILINEAR: (o) => ({
    alignCorners: o ? o.bool(S.ResizeBilinearOptions.alignCorners, false) : false,
    halfPixelCenters: o ? o.bool(S.ResizeBilinearOptions.halfPixelCenters, false) : false,
  }),
  BATCH_MATMUL: (o) => ({ adjX: o ? o.bool(S.BatchMatMulOptions.adjX, false) : false, adjY: o ? o.bool(S.BatchMatMulOptions.adjY, false) : false }),
  TRANSPOSE_CONV: (o) => ({
    padding: padding(o, S.TransposeConvOptions.padding),
    strideW: positive(o, S.TransposeConvOptions.strideW, 0, 'stride_w'),
    strideH: positive(o, S.TransposeConvOptions.strideH, 0, 'stride_h'),
    activation: activation(o, S.TransposeConvOptions.fusedActivation),
  }),
  BROADCAST_ARGS: none,
  CUMSUM: (o) => ({
    exclusive: o ? o.bool(S.CumsumOptions.exclusive, false) : false,
    reverse: o ? o.bool(S.CumsumOptions.reverse, false) : false,
  }),
  SVDF: (o) => ({ rank: positive(o, S.SVDFOptions.rank, 0, 'rank'), activation: activation(o, S.SVDFOptions.fusedActivation) }),
  TFLite_Detection_PostProcess: (_o, ctx) => detectionPostProcessOptions(ctx),
  UNIDIRECTIONAL_SEQUENCE_LSTM: (o) => {
    const f = S.UnidirectionalSequenceLSTMOptions;
    return {
      activation: activation(o, f.fusedActivation),
      cellClip: o ? o.f32(f.cellClip, 0) : 0,
      projClip: o ? o.f32(f.projClip, 0) : 0,
      timeMajor: o ? o.bool(f.timeMajor, false) : false,
    };
  },
  UNPACK: (o, ctx) => ({ num: o ? o.i32(S.UnpackOptions.num, 0) : ctx.outputCount, axis: o ? o.i32(S.UnpackOptions.axis, 0) : 0 }),
};

/** The typed options of one operator, with the schema's defaults when its options table is absent. */
export function readOptions<K extends OpName>(op: K, ctx: OptionsContext): OpOptionsMap[K] {
  const expected = OPTIONS_TABLE[op];
  let table: Table | null = null;
  if (expected !== undefined) {
    const type = ctx.operator.u8(S.Operator.builtinOptionsType, T.NONE);
    if (type !== T.NONE && type !== expected) {
      ctx.operator.fail(`builtin options table type ${type} does not belong to ${op} (expected ${expected})`);
    }
    if (type === expected) table = ctx.operator.table(S.Operator.builtinOptions, 'builtin_options');
  }
  const parse: Parser<K> = PARSERS[op];
  return parse(table, ctx);
}
