import type { OpName } from '../graph/options.js';

/**
 * How many inputs each op takes, as TFLite's kernels check in Prepare (NumInputs): the first `min` are
 * required (never -1), up to `max` may be given, the ones past `min` may be -1 (omitted). Every op here has
 * exactly one output unless it says otherwise. Checked at read time so kernels can index their inputs without guarding.
 */
export interface Arity {
  min: number;
  max: number;
  /** Ops with several outputs (SPLIT, SPLIT_V, UNPACK): how many they may have; others have exactly 1. */
  outputs?: { min: number; max: number };
  /** Positions below `min` that may still be omitted (-1): optional inputs followed by required ones (SVDF's bias). */
  optional?: readonly number[];
}

const fixed = (n: number): Arity => ({ min: n, max: n });

export const ARITY: Readonly<Record<OpName, Arity>> = {
  CONV_2D: { min: 2, max: 3 },
  DEPTHWISE_CONV_2D: { min: 2, max: 3 },
  FULLY_CONNECTED: { min: 2, max: 3 },
  ADD: fixed(2),
  SUB: fixed(2),
  MUL: fixed(2),
  AVERAGE_POOL_2D: fixed(1),
  MAX_POOL_2D: fixed(1),
  MEAN: fixed(2),
  RESHAPE: { min: 1, max: 2 },
  SQUEEZE: fixed(1),
  SOFTMAX: fixed(1),
  LOG_SOFTMAX: fixed(1),
  LOGISTIC: fixed(1),
  TANH: fixed(1),
  RELU: fixed(1),
  RELU6: fixed(1),
  HARD_SWISH: fixed(1),
  QUANTIZE: fixed(1),
  DEQUANTIZE: fixed(1),
  PAD: { min: 2, max: 3 },
  PADV2: { min: 2, max: 3 },
  TRANSPOSE: fixed(2),
  CONCATENATION: { min: 1, max: Infinity },
  RESIZE_NEAREST_NEIGHBOR: fixed(2),
  STRIDED_SLICE: fixed(4),
  EQUAL: fixed(2),
  NOT_EQUAL: fixed(2),
  GREATER: fixed(2),
  GREATER_EQUAL: fixed(2),
  LESS: fixed(2),
  LESS_EQUAL: fixed(2),
  MAXIMUM: fixed(2),
  MINIMUM: fixed(2),
  LOGICAL_AND: fixed(2),
  LOGICAL_OR: fixed(2),
  LOGICAL_NOT: fixed(1),
  ABS: fixed(1),
  NEG: fixed(1),
  FLOOR: fixed(1),
  CEIL: fixed(1),
  ROUND: fixed(1),
  SQUARE: fixed(1),
  SQRT: fixed(1),
  RSQRT: fixed(1),
  EXP: fixed(1),
  LOG: fixed(1),
  SIN: fixed(1),
  COS: fixed(1),
  CAST: fixed(1),
  ZEROS_LIKE: fixed(1),
  PACK: { min: 1, max: Infinity },
  REVERSE_V2: fixed(2),
  SLICE: fixed(3),
  SPACE_TO_DEPTH: fixed(1),
  DEPTH_TO_SPACE: fixed(1),
  SPACE_TO_BATCH_ND: fixed(3),
  BATCH_TO_SPACE_ND: fixed(3),
  BROADCAST_TO: fixed(2),
  MIRROR_PAD: fixed(2),
  EXPAND_DIMS: fixed(2),
  SHAPE: fixed(1),
  FILL: fixed(2),
  DIV: fixed(2),
  FLOOR_DIV: fixed(2),
  FLOOR_MOD: fixed(2),
  SQUARED_DIFFERENCE: fixed(2),
  SUM: fixed(2),
  REDUCE_MAX: fixed(2),
  REDUCE_MIN: fixed(2),
  REDUCE_ALL: fixed(2),
  ARG_MAX: fixed(2),
  ARG_MIN: fixed(2),
  GATHER: fixed(2),
  GATHER_ND: fixed(2),
  EMBEDDING_LOOKUP: fixed(2),
  SELECT_V2: fixed(3),
  LEAKY_RELU: fixed(1),
  PRELU: fixed(2),
  ELU: fixed(1),
  ADD_N: { min: 1, max: Infinity },
  SPLIT: { min: 2, max: 2, outputs: { min: 1, max: Infinity } },
  SPLIT_V: { min: 3, max: 3, outputs: { min: 1, max: Infinity } },
  UNPACK: { min: 1, max: 1, outputs: { min: 1, max: Infinity } },
  DYNAMIC_UPDATE_SLICE: fixed(3),
  BROADCAST_ARGS: fixed(2),
  BATCH_MATMUL: fixed(2),
  TRANSPOSE_CONV: { min: 3, max: 4 },
  L2_POOL_2D: fixed(1),
  L2_NORMALIZATION: fixed(1),
  RESIZE_BILINEAR: fixed(2),
  CUMSUM: fixed(2),
  SVDF: { min: 5, max: 5, optional: [3] },
  // 24 inputs; peepholes (9-11), projection (16-17) and layer norm (20-23) may be omitted.
  UNIDIRECTIONAL_SEQUENCE_LSTM: { min: 24, max: 24, optional: [9, 10, 11, 16, 17, 20, 21, 22, 23] },
  TFLite_Detection_PostProcess: { min: 3, max: 3, outputs: { min: 4, max: 4 } },
  BATCH_NORMALIZE: fixed(1),
};

/** A problem with a node's input/output counts, or null when they fit the op. */
export function arityProblem(op: OpName, inputs: readonly number[], outputs: readonly number[]): string | null {
  const { min, max, outputs: outs = { min: 1, max: 1 }, optional = [] } = ARITY[op];
  if (inputs.length < min || inputs.length > max) {
    return `has ${inputs.length} inputs; ${op} takes ${min === max ? min : max === Infinity ? `at least ${min}` : `${min} to ${max}`}`;
  }
  const omitted = inputs.findIndex((id, k) => k < min && id < 0 && !optional.includes(k));
  if (omitted >= 0) return `required input ${omitted} is omitted (-1)`;
  if (outputs.length < outs.min || outputs.length > outs.max) {
    return `has ${outputs.length} outputs; ${op} has ${outs.min === outs.max ? outs.min : `${outs.min} or more`}`;
  }
  return null;
}
