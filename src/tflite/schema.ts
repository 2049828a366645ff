/**
 * Facts from the TFLite flatbuffer schema (tensorflow/lite/schema/schema.fbs, schema version 3).
 * No generated code: the reader and writer address table fields by slot number, so the slots are
 * written down here once. A field's slot is its declaration order in the table; a union field takes
 * two slots (its hidden `_type` byte, then the value), which is why Operator.builtinOptions is 4.
 */
import type { DType } from '../graph/dtype.js';
import type { Activation, Padding } from '../graph/options.js';

export const SCHEMA_VERSION = 3;
export const FILE_IDENTIFIER = 'TFL3';

/**
 * BuiltinOperator, by code (index = code). Named in full, not just the ops we run, so that an error
 * about a real but unsupported op names it. Codes above 127 only fit in OperatorCode.builtin_code.
 */
export const BUILTIN_OPERATORS: readonly string[] = [
  'ADD', 'AVERAGE_POOL_2D', 'CONCATENATION', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'DEPTH_TO_SPACE', 'DEQUANTIZE',
  'EMBEDDING_LOOKUP', 'FLOOR', 'FULLY_CONNECTED', 'HASHTABLE_LOOKUP', 'L2_NORMALIZATION', 'L2_POOL_2D',
  'LOCAL_RESPONSE_NORMALIZATION', 'LOGISTIC', 'LSH_PROJECTION', 'LSTM', 'MAX_POOL_2D', 'MUL', 'RELU',
  'RELU_N1_TO_1', 'RELU6', 'RESHAPE', 'RESIZE_BILINEAR', 'RNN', 'SOFTMAX', 'SPACE_TO_DEPTH', 'SVDF', 'TANH',
  'CONCAT_EMBEDDINGS', 'SKIP_GRAM', 'CALL', 'CUSTOM', 'EMBEDDING_LOOKUP_SPARSE', 'PAD',
  'UNIDIRECTIONAL_SEQUENCE_RNN', 'GATHER', 'BATCH_TO_SPACE_ND', 'SPACE_TO_BATCH_ND', 'TRANSPOSE', 'MEAN',
  'SUB', 'DIV', 'SQUEEZE', 'UNIDIRECTIONAL_SEQUENCE_LSTM', 'STRIDED_SLICE', 'BIDIRECTIONAL_SEQUENCE_RNN',
  'EXP', 'TOPK_V2', 'SPLIT', 'LOG_SOFTMAX', 'DELEGATE', 'BIDIRECTIONAL_SEQUENCE_LSTM', 'CAST', 'PRELU',
  'MAXIMUM', 'ARG_MAX', 'MINIMUM', 'LESS', 'NEG', 'PADV2', 'GREATER', 'GREATER_EQUAL', 'LESS_EQUAL',
  'SELECT', 'SLICE', 'SIN', 'TRANSPOSE_CONV', 'SPARSE_TO_DENSE', 'TILE', 'EXPAND_DIMS', 'EQUAL', 'NOT_EQUAL',
  'LOG', 'SUM', 'SQRT', 'RSQRT', 'SHAPE', 'POW', 'ARG_MIN', 'FAKE_QUANT', 'REDUCE_PROD', 'REDUCE_MAX',
  'PACK', 'LOGICAL_OR', 'ONE_HOT', 'LOGICAL_AND', 'LOGICAL_NOT', 'UNPACK', 'REDUCE_MIN', 'FLOOR_DIV',
  'REDUCE_ANY', 'SQUARE', 'ZEROS_LIKE', 'FILL', 'FLOOR_MOD', 'RANGE', 'RESIZE_NEAREST_NEIGHBOR',
  'LEAKY_RELU', 'SQUARED_DIFFERENCE', 'MIRROR_PAD', 'ABS', 'SPLIT_V', 'UNIQUE', 'CEIL', 'REVERSE_V2',
  'ADD_N', 'GATHER_ND', 'COS', 'WHERE', 'RANK', 'ELU', 'REVERSE_SEQUENCE', 'MATRIX_DIAG', 'QUANTIZE',
  'MATRIX_SET_DIAG', 'ROUND', 'HARD_SWISH', 'IF', 'WHILE', 'NON_MAX_SUPPRESSION_V4',
  'NON_MAX_SUPPRESSION_V5', 'SCATTER_ND', 'SELECT_V2', 'DENSIFY', 'SEGMENT_SUM', 'BATCH_MATMUL',
  'PLACEHOLDER_FOR_GREATER_OP_CODES', 'CUMSUM', 'CALL_ONCE', 'BROADCAST_TO', 'RFFT2D', 'CONV_3D', 'IMAG',
  'REAL', 'COMPLEX_ABS', 'HASHTABLE', 'HASHTABLE_FIND', 'HASHTABLE_IMPORT', 'HASHTABLE_SIZE', 'REDUCE_ALL',
  'CONV_3D_TRANSPOSE', 'VAR_HANDLE', 'READ_VARIABLE', 'ASSIGN_VARIABLE', 'BROADCAST_ARGS',
  'RANDOM_STANDARD_NORMAL', 'BUCKETIZE', 'RANDOM_UNIFORM', 'MULTINOMIAL', 'GELU', 'DYNAMIC_UPDATE_SLICE',
  'RELU_0_TO_1', 'UNSORTED_SEGMENT_PROD', 'UNSORTED_SEGMENT_MAX', 'UNSORTED_SEGMENT_SUM', 'ATAN2',
  'UNSORTED_SEGMENT_MIN', 'SIGN', 'BITCAST', 'BITWISE_XOR', 'RIGHT_SHIFT',
];

export const BUILTIN_CUSTOM = 32;
/** Codes at or above this live only in OperatorCode.builtin_code; deprecated_builtin_code holds 127. */
export const PLACEHOLDER_FOR_GREATER_OP_CODES = 127;

/** StableHLO ops (162..204) are named by range rather than listed: none runs on a microcontroller. */
export function builtinOperatorName(code: number): string {
  const name = BUILTIN_OPERATORS[code];
  if (name !== undefined) return name;
  if (code >= 162 && code <= 202) return `STABLEHLO_OP_${code}`;
  return `UNKNOWN_BUILTIN_${code}`;
}

export function builtinOperatorCode(name: string): number {
  const code = BUILTIN_OPERATORS.indexOf(name);
  if (code < 0) throw new Error(`no TFLite builtin operator named ${name}`);
  return code;
}

/** TensorType names by code (index = code). */
export const TENSOR_TYPES: readonly string[] = [
  'FLOAT32', 'FLOAT16', 'INT32', 'UINT8', 'INT64', 'STRING', 'BOOL', 'INT16', 'COMPLEX64', 'INT8',
  'FLOAT64', 'COMPLEX128', 'UINT64', 'RESOURCE', 'VARIANT', 'UINT32', 'UINT16', 'INT4',
];

/** The tensor types tinyml-ts represents, code -> DType. */
export const TENSOR_TYPE_TO_DTYPE: ReadonlyMap<number, DType> = new Map<number, DType>([
  [0, 'float32'], [2, 'int32'], [3, 'uint8'], [4, 'int64'], [6, 'bool'], [7, 'int16'], [9, 'int8'],
]);

export const DTYPE_TO_TENSOR_TYPE: Readonly<Record<DType, number>> = {
  float32: 0, int32: 2, uint8: 3, int64: 4, bool: 6, int16: 7, int8: 9,
};

/** enum Padding : byte { SAME, VALID } */
export const PADDINGS: readonly Padding[] = ['SAME', 'VALID'];

/** enum ActivationFunctionType : byte, by code. */
export const ACTIVATIONS: readonly Activation[] = ['NONE', 'RELU', 'RELU_N1_TO_1', 'RELU6', 'TANH', 'SIGN_BIT'];

/** union BuiltinOptions type codes (0 = NONE) for the tables our ops use. */
export const BuiltinOptionsType = {
  NONE: 0,
  Conv2DOptions: 1,
  DepthwiseConv2DOptions: 2,
  Pool2DOptions: 5,
  FullyConnectedOptions: 8,
  SoftmaxOptions: 9,
  ConcatenationOptions: 10,
  AddOptions: 11,
  ReshapeOptions: 17,
  MulOptions: 21,
  PadOptions: 22,
  TransposeOptions: 26,
  ReducerOptions: 27,
  SubOptions: 28,
  SqueezeOptions: 30,
  StridedSliceOptions: 32,
  LogSoftmaxOptions: 36,
  DequantizeOptions: 38,
  PadV2Options: 43,
  ResizeNearestNeighborOptions: 74,
  QuantizeOptions: 89,
  HardSwishOptions: 91,
  SpaceToDepthOptions: 19,
  PackOptions: 59,
  MirrorPadOptions: 77,
  DepthToSpaceOptions: 94,
  GatherOptions: 23,
  DivOptions: 29,
  LeakyReluOptions: 75,
  SplitOptions: 35,
  UnpackOptions: 64,
  SplitVOptions: 79,
  TransposeConvOptions: 49,
  BatchMatMulOptions: 101,
  ResizeBilinearOptions: 15,
  CumsumOptions: 102,
  SVDFOptions: 6,
  UnidirectionalSequenceLSTMOptions: 71,
} as const;

/** enum FullyConnectedOptionsWeightsFormat: only DEFAULT is a plain row-major matrix. */
export const FC_WEIGHTS_DEFAULT = 0;

// Field slots, per table. Names follow the schema's snake_case fields.
export const Model = {
  version: 0, operatorCodes: 1, subgraphs: 2, description: 3, buffers: 4, metadataBuffer: 5, metadata: 6,
  signatureDefs: 7,
} as const;
export const Metadata = { name: 0, buffer: 1 } as const;
export const SubGraph = { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 } as const;
export const Tensor = {
  shape: 0, type: 1, buffer: 2, name: 3, quantization: 4, isVariable: 5, sparsity: 6, shapeSignature: 7,
  hasRank: 8, variantTensors: 9,
} as const;
/** Buffer.offset/size locate data outside the flatbuffer (models > 2 GB); valid only when offset > 1. */
export const Buffer = { data: 0, offset: 1, size: 2 } as const;
export const OperatorCode = { deprecatedBuiltinCode: 0, customCode: 1, version: 2, builtinCode: 3 } as const;
export const Operator = {
  opcodeIndex: 0, inputs: 1, outputs: 2, builtinOptionsType: 3, builtinOptions: 4, customOptions: 5,
  customOptionsFormat: 6, mutatingVariableInputs: 7, intermediates: 8, largeCustomOptionsOffset: 9,
  largeCustomOptionsSize: 10, builtinOptions2Type: 11, builtinOptions2: 12,
} as const;
export const QuantizationParameters = {
  min: 0, max: 1, scale: 2, zeroPoint: 3, detailsType: 4, details: 5, quantizedDimension: 6,
} as const;

export const Conv2DOptions = {
  padding: 0, strideW: 1, strideH: 2, fusedActivation: 3, dilationW: 4, dilationH: 5, quantizedBiasType: 6,
} as const;
export const DepthwiseConv2DOptions = {
  padding: 0, strideW: 1, strideH: 2, depthMultiplier: 3, fusedActivation: 4, dilationW: 5, dilationH: 6,
} as const;
export const FullyConnectedOptions = {
  fusedActivation: 0, weightsFormat: 1, keepNumDims: 2, asymmetricQuantizeInputs: 3, quantizedBiasType: 4,
} as const;
export const Pool2DOptions = {
  padding: 0, strideW: 1, strideH: 2, filterWidth: 3, filterHeight: 4, fusedActivation: 5,
} as const;
/** AddOptions and SubOptions share this layout (the second field, pot_scale_int16, defaults to true). */
export const AddOptions = { fusedActivation: 0, potScaleInt16: 1 } as const;
export const SubOptions = AddOptions;
export const MulOptions = { fusedActivation: 0 } as const;
export const ConcatenationOptions = { axis: 0, fusedActivation: 1 } as const;
export const ReshapeOptions = { newShape: 0 } as const;
export const SqueezeOptions = { squeezeDims: 0 } as const;
export const SoftmaxOptions = { beta: 0 } as const;
export const ReducerOptions = { keepDims: 0 } as const;
export const PackOptions = { valuesCount: 0, axis: 1 } as const;
export const GatherOptions = { axis: 0, batchDims: 1 } as const;
export const LeakyReluOptions = { alpha: 0 } as const;
/** SplitOptions and SplitVOptions. */
export const SplitOptions = { numSplits: 0 } as const;
export const UnpackOptions = { num: 0, axis: 1 } as const;
export const BatchMatMulOptions = { adjX: 0, adjY: 1 } as const;
/** Slots 0 and 1 (new_height, new_width) are deprecated: the size comes from input 1. */
export const ResizeBilinearOptions = { alignCorners: 2, halfPixelCenters: 3 } as const;
export const TransposeConvOptions = { padding: 0, strideW: 1, strideH: 2, fusedActivation: 3 } as const;
/** SpaceToDepthOptions and DepthToSpaceOptions. */
export const BlockSizeOptions = { blockSize: 0 } as const;
/** mode: REFLECT = 0, SYMMETRIC = 1. */
export const MirrorPadOptions = { mode: 0 } as const;
export const StridedSliceOptions = {
  beginMask: 0, endMask: 1, ellipsisMask: 2, newAxisMask: 3, shrinkAxisMask: 4, offset: 5,
} as const;
export const ResizeNearestNeighborOptions = { alignCorners: 0, halfPixelCenters: 1 } as const;
export const CumsumOptions = { exclusive: 0, reverse: 1 } as const;
export const UnidirectionalSequenceLSTMOptions = {
  fusedActivation: 0, cellClip: 1, projClip: 2, timeMajor: 3, asymmetricQuantizeInputs: 4, diagonalRecurrentTensors: 5,
} as const;
export const SVDFOptions = { rank: 0, fusedActivation: 1, asymmetricQuantizeInputs: 2 } as const;
