/** Typed operator options, one interface per TFLite builtin-options table we use. */
export type Padding = 'SAME' | 'VALID';
export type Activation = 'NONE' | 'RELU' | 'RELU_N1_TO_1' | 'RELU6' | 'TANH' | 'SIGN_BIT';

export interface Conv2DOptions {
  padding: Padding;
  strideW: number;
  strideH: number;
  dilationW: number;
  dilationH: number;
  activation: Activation;
  /**
   * Internal form (never read from or written to a TFLite file): explicit zero padding in pixels, set when a
   * PAD was fused into the convolution (src/plan/fuse_pad.ts). When present it replaces `padding`: the
   * output extent is floor((in + before + after - effectiveFilter) / stride) + 1 and the window starts
   * `top`/`left` pixels before the input.
   */
  explicitPadding?: ExplicitPadding;
}
export interface ExplicitPadding {
  top: number;
  bottom: number;
  left: number;
  right: number;
}
export interface DepthwiseConv2DOptions extends Conv2DOptions {
  depthMultiplier: number;
}
export interface FullyConnectedOptions {
  activation: Activation;
  keepNumDims: boolean;
}
export interface Pool2DOptions {
  padding: Padding;
  strideW: number;
  strideH: number;
  filterW: number;
  filterH: number;
  activation: Activation;
}
/** ADD, SUB, MUL. */
export interface ElementwiseOptions {
  activation: Activation;
}
export interface ConcatenationOptions {
  axis: number;
  activation: Activation;
}
export interface ReshapeOptions {
  /** From the options table; the optional second input (a shape tensor) wins when present. */
  newShape: number[] | null;
}
export interface SqueezeOptions {
  squeezeDims: number[];
}
export interface SoftmaxOptions {
  beta: number;
}
export interface ReducerOptions {
  keepDims: boolean;
}
export interface StridedSliceOptions {
  beginMask: number;
  endMask: number;
  ellipsisMask: number;
  newAxisMask: number;
  shrinkAxisMask: number;
  offset: boolean;
}
export interface ResizeNearestNeighborOptions {
  alignCorners: boolean;
  halfPixelCenters: boolean;
}
export interface PackOptions {
  axis: number;
}
/** SPACE_TO_DEPTH, DEPTH_TO_SPACE. */
export interface BlockSizeOptions {
  blockSize: number;
}
export interface MirrorPadOptions {
  mode: 'REFLECT' | 'SYMMETRIC';
}
export interface GatherOptions {
  axis: number;
  batchDims: number;
}
export interface LeakyReluOptions {
  alpha: number;
}
/** SPLIT and SPLIT_V. */
export interface SplitOptions {
  numSplits: number;
}
export interface UnpackOptions {
  num: number;
  axis: number;
}
export interface ResizeBilinearOptions {
  alignCorners: boolean;
  halfPixelCenters: boolean;
}
export interface BatchMatmulOptions {
  adjX: boolean;
  adjY: boolean;
}
export interface TransposeConvOptions {
  padding: Padding;
  strideW: number;
  strideH: number;
  activation: Activation;
}
export interface CumsumOptions {
  exclusive: boolean;
  reverse: boolean;
}
export interface SvdfOptions {
  rank: number;
  activation: Activation;
}
/**
 * TFLite_Detection_PostProcess (a custom op): its flexbuffer custom options, parsed, plus the raw bytes
 * (written back unchanged).
 */
export interface DetectionPostProcessOptions {
  maxDetections: number;
  maxClassesPerDetection: number;
  detectionsPerClass: number;
  useRegularNms: boolean;
  nmsScoreThreshold: number;
  nmsIouThreshold: number;
  numClasses: number;
  yScale: number;
  xScale: number;
  hScale: number;
  wScale: number;
  customOptions: Uint8Array;
}
export interface SequenceLstmOptions {
  /** The cell gate's non-linearity (TANH, or another fused activation TFLite allows there). */
  activation: Activation;
  cellClip: number;
  projClip: number;
  timeMajor: boolean;
}
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface NoOptions {}
/** BATCH_NORMALIZE (ours, training only): the variance's epsilon. */
export interface BatchNormalizeOptions {
  epsilon: number;
}

export interface OpOptionsMap {
  CONV_2D: Conv2DOptions;
  DEPTHWISE_CONV_2D: DepthwiseConv2DOptions;
  FULLY_CONNECTED: FullyConnectedOptions;
  ADD: ElementwiseOptions;
  SUB: ElementwiseOptions;
  MUL: ElementwiseOptions;
  AVERAGE_POOL_2D: Pool2DOptions;
  MAX_POOL_2D: Pool2DOptions;
  MEAN: ReducerOptions;
  RESHAPE: ReshapeOptions;
  SQUEEZE: SqueezeOptions;
  SOFTMAX: SoftmaxOptions;
  LOG_SOFTMAX: NoOptions;
  LOGISTIC: NoOptions;
  TANH: NoOptions;
  RELU: NoOptions;
  RELU6: NoOptions;
  HARD_SWISH: NoOptions;
  QUANTIZE: NoOptions;
  DEQUANTIZE: NoOptions;
  PAD: NoOptions;
  PADV2: NoOptions;
  TRANSPOSE: NoOptions;
  CONCATENATION: ConcatenationOptions;
  RESIZE_NEAREST_NEIGHBOR: ResizeNearestNeighborOptions;
  STRIDED_SLICE: StridedSliceOptions;
  EQUAL: NoOptions;
  NOT_EQUAL: NoOptions;
  GREATER: NoOptions;
  GREATER_EQUAL: NoOptions;
  LESS: NoOptions;
  LESS_EQUAL: NoOptions;
  MAXIMUM: NoOptions;
  MINIMUM: NoOptions;
  LOGICAL_AND: NoOptions;
  LOGICAL_OR: NoOptions;
  LOGICAL_NOT: NoOptions;
  ABS: NoOptions;
  NEG: NoOptions;
  FLOOR: NoOptions;
  CEIL: NoOptions;
  ROUND: NoOptions;
  SQUARE: NoOptions;
  SQRT: NoOptions;
  RSQRT: NoOptions;
  EXP: NoOptions;
  LOG: NoOptions;
  SIN: NoOptions;
  COS: NoOptions;
  CAST: NoOptions;
  ZEROS_LIKE: NoOptions;
  PACK: PackOptions;
  REVERSE_V2: NoOptions;
  SLICE: NoOptions;
  SPACE_TO_DEPTH: BlockSizeOptions;
  DEPTH_TO_SPACE: BlockSizeOptions;
  SPACE_TO_BATCH_ND: NoOptions;
  BATCH_TO_SPACE_ND: NoOptions;
  BROADCAST_TO: NoOptions;
  MIRROR_PAD: MirrorPadOptions;
  EXPAND_DIMS: NoOptions;
  SHAPE: NoOptions;
  FILL: NoOptions;
  DIV: ElementwiseOptions;
  FLOOR_DIV: NoOptions;
  FLOOR_MOD: NoOptions;
  SQUARED_DIFFERENCE: NoOptions;
  SUM: ReducerOptions;
  REDUCE_MAX: ReducerOptions;
  REDUCE_MIN: ReducerOptions;
  REDUCE_ALL: ReducerOptions;
  ARG_MAX: NoOptions;
  ARG_MIN: NoOptions;
  GATHER: GatherOptions;
  GATHER_ND: NoOptions;
  EMBEDDING_LOOKUP: NoOptions;
  SELECT_V2: NoOptions;
  LEAKY_RELU: LeakyReluOptions;
  PRELU: NoOptions;
  ELU: NoOptions;
  ADD_N: NoOptions;
  SPLIT: SplitOptions;
  SPLIT_V: SplitOptions;
  UNPACK: UnpackOptions;
  DYNAMIC_UPDATE_SLICE: NoOptions;
  BROADCAST_ARGS: NoOptions;
  BATCH_MATMUL: BatchMatmulOptions;
  TRANSPOSE_CONV: TransposeConvOptions;
  L2_POOL_2D: Pool2DOptions;
  L2_NORMALIZATION: NoOptions;
  RESIZE_BILINEAR: ResizeBilinearOptions;
  CUMSUM: CumsumOptions;
  SVDF: SvdfOptions;
  TFLite_Detection_PostProcess: DetectionPostProcessOptions;
  UNIDIRECTIONAL_SEQUENCE_LSTM: SequenceLstmOptions;
  /** Not a TFLite builtin: a training graph's batch normalisation (src/ops/batch_normalize.ts); not in OP_NAMES. */
  BATCH_NORMALIZE: BatchNormalizeOptions;
}

export type OpName = keyof OpOptionsMap;

/** The TFLite builtins we implement (what a .tflite may contain); OpName also has our training-only ops. */
export const OP_NAMES: readonly OpName[] = [
  'CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'ADD', 'SUB', 'MUL', 'AVERAGE_POOL_2D', 'MAX_POOL_2D',
  'MEAN', 'RESHAPE', 'SQUEEZE', 'SOFTMAX', 'LOG_SOFTMAX', 'LOGISTIC', 'TANH', 'RELU', 'RELU6', 'HARD_SWISH',
  'QUANTIZE', 'DEQUANTIZE', 'PAD', 'PADV2', 'TRANSPOSE', 'CONCATENATION', 'RESIZE_NEAREST_NEIGHBOR',
  'STRIDED_SLICE',
  'EQUAL', 'NOT_EQUAL', 'GREATER', 'GREATER_EQUAL', 'LESS', 'LESS_EQUAL', 'MAXIMUM', 'MINIMUM', 'LOGICAL_AND', 'LOGICAL_OR', 'LOGICAL_NOT', 'ABS', 'NEG', 'FLOOR', 'CEIL', 'ROUND', 'SQUARE', 'SQRT', 'RSQRT', 'EXP', 'LOG', 'SIN', 'COS', 'CAST', 'ZEROS_LIKE',
  'PACK', 'REVERSE_V2', 'SLICE', 'SPACE_TO_DEPTH', 'DEPTH_TO_SPACE', 'SPACE_TO_BATCH_ND', 'BATCH_TO_SPACE_ND', 'BROADCAST_TO', 'MIRROR_PAD',
  'EXPAND_DIMS', 'SHAPE', 'FILL', 'DIV', 'FLOOR_DIV', 'FLOOR_MOD', 'SQUARED_DIFFERENCE', 'SUM', 'REDUCE_MAX', 'REDUCE_MIN', 'REDUCE_ALL', 'ARG_MAX', 'ARG_MIN', 'GATHER', 'GATHER_ND', 'EMBEDDING_LOOKUP', 'SELECT_V2', 'LEAKY_RELU', 'PRELU', 'ELU', 'ADD_N',
  'SPLIT', 'SPLIT_V', 'UNPACK', 'DYNAMIC_UPDATE_SLICE', 'BROADCAST_ARGS',
  'BATCH_MATMUL', 'TRANSPOSE_CONV', 'L2_POOL_2D', 'L2_NORMALIZATION', 'RESIZE_BILINEAR', 'CUMSUM', 'SVDF',
  'UNIDIRECTIONAL_SEQUENCE_LSTM', 'TFLite_Detection_PostProcess',
];

/** The custom ops we implement (BuiltinOperator CUSTOM with this custom_code); they are named by it. */
export const CUSTOM_OP_NAMES: readonly OpName[] = ['TFLite_Detection_PostProcess'];

export function isOpName(name: string): name is OpName {
  return (OP_NAMES as readonly string[]).includes(name);
}
