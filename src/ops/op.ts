import type { Graph, Node, Tensor, TensorId } from '../graph/graph.js';
import type { OpName } from '../graph/options.js';

/**
 * Typed-array windows onto tensor memory. The interpreter builds them once over its arena (activations)
 * and the model file (constants); kernels capture them in `prepare`, so `invoke` allocates nothing.
 */
export interface TensorViews {
  int8(id: TensorId): Int8Array;
  uint8(id: TensorId): Uint8Array;
  int16(id: TensorId): Int16Array;
  int32(id: TensorId): Int32Array;
  float32(id: TensorId): Float32Array;
  /** Raw bytes of the tensor whatever its dtype. */
  bytes(id: TensorId): Uint8Array;
  /**
   * The scratch buffer the memory plan gives node `nodeIndex` (for an in-place variant, its
   * `InPlaceVariant.scratchBytes`). Optional: views without a plan (tests, training) have none, and a
   * kernel that needs one says so.
   */
  scratch?(nodeIndex: number): Uint8Array;
}

/** What a kernel offers beyond `inPlace`: to run with its output over input 0 given this much scratch. */
export interface InPlaceVariant {
  scratchBytes: number;
}

/** A prepared kernel: all parameters resolved, bound to its tensors' memory. */
export type Kernel = () => void;

/**
 * One operator, in one file: its shape rule, its kernels (int8 and float32), and its cost.
 * Mirrors TFLite Micro's Prepare/Eval split: `prepare` validates and precomputes (requantisation
 * multipliers, padding), the returned kernel only computes.
 */
export interface OpDef<K extends OpName = OpName> {
  name: K;
  /** Highest TFLite op version whose semantics we implement. */
  maxVersion: number;
  /** Output shapes implied by the inputs and options; throws ModelFormatError if inconsistent. */
  inferShapes(node: Node<K>, graph: Graph): number[][];
  /** Check dtypes and quantisation (UnsupportedOpError if outside what we implement), precompute, bind. */
  prepare(node: Node<K>, graph: Graph, views: TensorViews): Kernel;
  /** Multiply-accumulates (or comparable elementwise operations) for one invocation. */
  macs(node: Node<K>, graph: Graph): number;
  /** Bytes of temporary memory the kernel needs during its run (planned into the arena). */
  scratchBytes?(node: Node<K>, graph: Graph): number;
  /**
   * True when the output may share memory with input 0 (element i of the output depends only on
   * element i of the input, or the op is a pure relabelling such as RESHAPE).
   */
  inPlace?: boolean;
  /**
   * The kernel can also run with its output placed over input 0 at the same offset (it sees the two views
   * start at the same byte) given `scratchBytes` of plan scratch; null when not for this node. The planner
   * decides per node (src/plan/inplace_rules.ts holds the rules shared with the C kernels).
   */
  inPlaceVariant?(node: Node<K>, graph: Graph): InPlaceVariant | null;
}

/** True when two views start at the same byte of the same memory: the plan runs the node in place. */
export function sameStart(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.buffer === b.buffer && a.byteOffset === b.byteOffset;
}

/** Helpers shared by op files. */
export function inputTensor(node: Node, g: Graph, i: number): Tensor {
  const id = node.inputs[i];
  if (id === undefined || id < 0) throw new Error(`node ${node.index} (${node.op}) has no input ${i}`);
  return g.tensors[id];
}

export function optionalInput(node: Node, g: Graph, i: number): Tensor | null {
  const id = node.inputs[i];
  return id === undefined || id < 0 ? null : g.tensors[id];
}

export function outputTensor(node: Node, g: Graph, i = 0): Tensor {
  return g.tensors[node.outputs[i]];
}
