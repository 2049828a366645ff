import type { DType } from './dtype.js';
import { DTYPE_BYTES } from './dtype.js';
import type { OpName, OpOptionsMap } from './options.js';

export type TensorId = number;

/**
 * Affine quantisation: real = scale * (q - zeroPoint). Per-tensor when scale has one entry,
 * per-channel along `axis` otherwise (TFLite uses axis 0 for conv filters, 3 for depthwise).
 */
export interface QuantParams {
  scale: number[];
  zeroPoint: number[];
  axis: number;
}

export interface Tensor {
  id: TensorId;
  name: string;
  shape: number[];
  dtype: DType;
  quant: QuantParams | null;
  /** Constant contents: a view into the model file's bytes (never copied). Null for activations. */
  data: Uint8Array | null;
  /**
   * A variable (state) tensor (TFLite `is_variable`): no node outputs it; the ops that take it as a state
   * input (OpDef.stateInputs) read and update it in place, and it keeps its value from one invoke to the
   * next. It starts at zero (its zero point when quantised) and lives in the arena for the whole run.
   */
  variable?: boolean;
}

export interface Node<K extends OpName = OpName> {
  /** Position in the model's operator list. */
  index: number;
  op: K;
  /** TFLite op version from the operator code table. */
  version: number;
  /** Tensor ids; -1 marks an omitted optional input (e.g. no bias). */
  inputs: TensorId[];
  outputs: TensorId[];
  options: OpOptionsMap[K];
}

/** Any node, with `options` narrowed by `op` when switched on. */
export type AnyNode = { [K in OpName]: Node<K> }[OpName];

export interface Graph {
  name: string;
  tensors: Tensor[];
  /** Nodes in the model's execution order (TFLite stores them topologically sorted). */
  nodes: AnyNode[];
  inputs: TensorId[];
  outputs: TensorId[];
  /** Free text the model carries (TFLite `description`). */
  description: string;
  /** Named metadata buffers (TFLite `Model.metadata`), e.g. `tinyml.preprocessing`; absent when there are none. */
  metadata?: Readonly<Record<string, Uint8Array>>;
}

export function numElements(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function tensorBytes(t: Tensor): number {
  return numElements(t.shape) * DTYPE_BYTES[t.dtype];
}

/**
 * The byte every element of a variable (state) tensor starts at, as TFLite Micro's ResetVariableTensors:
 * an int8 one its zero point, every other zero. The interpreter and the generated C both reset with it.
 */
export function stateFillByte(t: Tensor): number {
  return t.dtype === 'int8' ? (t.quant?.zeroPoint[0] ?? 0) & 0xff : 0;
}

/** Every node input slot reading each tensor, in node order (omitted inputs, -1, left out). */
export function tensorReaders(g: Graph): Map<TensorId, { node: number; slot: number }[]> {
  const readers = new Map<TensorId, { node: number; slot: number }[]>();
  g.nodes.forEach((n, node) => n.inputs.forEach((t, slot) => {
    if (t < 0) return;
    const list = readers.get(t);
    if (list) list.push({ node, slot });
    else readers.set(t, [{ node, slot }]);
  }));
  return readers;
}

export function isConstant(t: Tensor): boolean {
  return t.data !== null;
}

export function isVariable(t: Tensor): boolean {
  return t.variable === true;
}

/** Tensors that need arena memory: produced by a node, fed as a graph input, or variable (state). */
export function activationIds(g: Graph): TensorId[] {
  const ids = new Set<TensorId>(g.inputs);
  for (const n of g.nodes) for (const o of n.outputs) ids.add(o);
  for (const t of g.tensors) if (isVariable(t)) ids.add(t.id);
  return [...ids].filter((id) => g.tensors[id].data === null).sort((a, b) => a - b);
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
