import type { Graph, Node, Tensor, TensorId } from '../graph/graph.js';
import type { OpName } from '../graph/options.js';
import type { IndexMap } from './index_map.js';

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

/**
 * How an op relates its output to its inputs, as the planner, the patch analysis and the training
 * compiler see it:
 * - `layer`: weighted (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED): trainable, gradient flows to input 0;
 * - `alias`: a pure relabelling (RESHAPE, SQUEEZE): the output is the input's bytes;
 * - `elementwise`: output element i depends on element i of each input (same shapes), so the output may
 *   take the memory of an input that dies at the node (forward loop; output no wider than the input);
 * - `concat`: copies each input into a block of the output;
 * - `other`: everything else.
 */
export type OpRole = 'layer' | 'alias' | 'elementwise' | 'concat' | 'other';

/** The planner switch that governs an in-place kernel variant (each can be turned off). */
export type InPlaceTrick = 'inPlaceDepthwise' | 'inPlacePad' | 'inPlacePointwise';

/**
 * What a kernel offers beyond its role: to run with its output over input 0 (same offset) given
 * `scratchBytes` of plan scratch. Both the TypeScript kernel and the C kernel honour exactly this rule,
 * limits included, so a node the planner puts in place always runs and always compiles.
 */
export interface InPlaceVariant {
  scratchBytes: number;
  trick: InPlaceTrick;
  /**
   * Relative run time of the in-place kernel to the standard one (1: as fast). A variant that is slower is
   * used only where it lowers the peak or the board needs it (src/compiler).
   */
  slowdown: number;
  /**
   * Use the variant only on nodes where it lowers the arena (src/plan/memory_plan.ts, planAtPeaks): it ties
   * input and output into one buffer, which can keep other tricks from applying (a concatenation in place
   * needs its inputs alone in their buffers), or it costs speed.
   */
  peakOnly?: boolean;
  /**
   * A faster form of the C kernel that needs this much scratch: the planner gives it wherever the packed
   * arena has room at that step (src/plan/widen_scratch.ts), and the code generator picks the form by the
   * scratch it was given.
   */
  widerScratchBytes?: number;
}

/** The window through which an op reads its input 0 (rows and columns), for receptive-field analysis. */
export interface SpatialWindow {
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  dilH: number;
  dilW: number;
  padTop: number;
  padLeft: number;
}

/** A 1x1, stride-1 window: elementwise ops read the pixel they write. */
export const IDENTITY_WINDOW: SpatialWindow = { kH: 1, kW: 1, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padTop: 0, padLeft: 0 };

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
  /**
   * Estimated run time in MAC units, where it differs from `macs` (the planner weighs plans by it): data
   * movement copies whole words, so an element moved costs a fraction of a multiply-accumulate.
   */
  cost?(node: Node<K>, graph: Graph): number;
  /** Bytes of temporary memory the kernel needs during its run (planned into the arena). */
  scratchBytes?(node: Node<K>, graph: Graph): number;
  /** How the output relates to the inputs (see OpRole): decides aliasing, in-place and patch crossing. */
  role: OpRole;
  /**
   * The kernel can also run with its output placed over input 0 at the same offset (it sees the two views
   * start at the same byte); null when not for this node. The planner decides per node.
   */
  inPlaceVariant?(node: Node<K>, graph: Graph): InPlaceVariant | null;
  /**
   * The spatial window through which the op reads input 0, when running it on a patch of its input
   * gives that patch of its output (patch-based inference); null or absent when it cannot.
   */
  window?(node: Node<K>, graph: Graph): SpatialWindow | null;
  /**
   * When the op's int8 kernel is a function of one int8 value: its 256-entry table (entry q + 128), else
   * null. The C library then runs it as one lookup kernel (tm_lut_s8), on the MCU and in WebAssembly.
   * Throws UnsupportedOpError for int8 nodes the op refuses, as prepare does.
   */
  int8Table?(node: Node<K>, graph: Graph): Int8Array | null;
  /**
   * When every output element is one element of an input (or a fill), fixed by shapes and constants: that
   * map (index_map.ts). The C library then runs it as strided copies when the map is a walk (tm_strided_slice).
   */
  indexMap?(node: Node<K>, graph: Graph): IndexMap;
  /**
   * Input positions that hold the op's state: variable tensors (Tensor.variable) it reads and updates in
   * place, which keep their value from one invoke to the next (SVDF's activation state, the LSTM's output
   * and cell states). A variable tensor in any other position is refused. Default: none.
   */
  stateInputs?(node: Node<K>): number[];
  /** Which inputs carry gradients (activations, not weights, biases, shapes or axes). Default: all. */
  differentiableInputs?(node: Node<K>): boolean[];
}

/** True for input 0 only: layers and reshapes take gradients through their data input alone. */
export function firstInputOnly(node: Node): boolean[] {
  return node.inputs.map((_, i) => i === 0);
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
