/**
 * The compiled training step: a flat list of steps over named buffers, fixed at compile time. The
 * runtime binds each step to a kernel once; the memory planner turns the buffers' lifetimes over the
 * steps into an arena. Nothing here is decided at run time.
 */
import type { Graph, TensorId } from '../graph/graph.js';
import type { BackwardOp } from './gradients.js';
import type { LossHead } from './graph_prep.js';
import type { ResolvedUpdate } from './update.js';
import type { OptimizerSpec, Rounding } from './optimizer_spec.js';

export type BufferCategory = 'activation' | 'saved' | 'gradient' | 'parameter' | 'optimizer' | 'shadow';

export type BufferDType = 'int8' | 'int32' | 'float32' | 'bits';

export interface TrainBuffer {
  id: number;
  category: BufferCategory;
  label: string;
  dtype: BufferDType;
  elements: number;
  bytes: number;
  /** The forward tensor it holds, or whose gradient / saved form / parameter state it is. */
  tensor: TensorId | null;
  /** Lives for the whole step (parameters and optimizer state); their bytes are always taken. */
  persistent: boolean;
}

/** How a backward op reads a forward value it declared in `uses`. */
export type ValueBinding =
  | { form: 'full'; buffer: number; tensor: TensorId }
  /** lo < v < hi evaluated on the kept value itself. */
  | { form: 'mask-from-value'; buffer: number; tensor: TensorId; lo: number; hi: number }
  /** A 1-bit mask saved during forward. */
  | { form: 'bits'; buffer: number; tensor: TensorId }
  /**
   * Channels of the value: `pick[j]` is where channel j of the op's selection lies in the buffer's last
   * dimension of `channels` entries (null: the buffer holds exactly the selection, in order).
   */
  | { form: 'channels'; buffer: number; tensor: TensorId; channels: number; pick: Int32Array | null };

interface StepBase {
  label: string;
  reads: number[];
  writes: number[];
  /** Temporary bytes a device kernel needs during the step. */
  scratchBytes: number;
}

export type TrainStep = StepBase & (
  | { kind: 'forward'; node: number }
  | { kind: 'save-mask'; tensor: TensorId; lo: number; hi: number; from: number; to: number }
  | { kind: 'save-channels'; tensor: TensorId; channels: Int32Array; from: number; to: number }
  | { kind: 'loss'; from: number; to: number }
  | {
    kind: 'backward';
    op: BackwardOp;
    /** Buffer holding the gradient the op reads. */
    src: number;
    /** Buffer it writes (an input's gradient), -1 for parameter ops. */
    dst: number;
    /** dst already holds a contribution: add to it. */
    accumulate: boolean;
    values: ValueBinding[];
    /** Parameter ops: the gradient buffer the op fills (-1: fused with the update, one channel at a time). */
    paramGrad: number;
    /** Parameter ops on a frozen parameter (pruning off): computed, then dropped. */
    discard: boolean;
  }
  | { kind: 'update'; param: TensorId; grad: number }
);

export interface CompileOptions {
  /** Training batch (the graph is re-batched); the memory report of a device uses 1. Default 1. */
  batch?: number;
  /** Skip gradients that nothing trained needs and stop at the earliest trained layer. Default true. */
  prune?: boolean;
  /**
   * Apply each update right after its gradient, in place, one output channel at a time, so no
   * gradient buffer outlives its step. Off: every gradient is kept until all are computed, then the
   * updates run (a framework's optimizer.step()). Default true.
   */
  reorder?: boolean;
  /** Keep 1-bit masks and channel subsets instead of whole activations where backward needs no more. Default true. */
  compactSaves?: boolean;
  /** Also compute the gradient of the graph input (for gradient checks). Default false. */
  inputGradient?: boolean;
  optimizer?: OptimizerSpec;
  rounding?: Rounding;
}

export type ResolvedCompileOptions = Required<CompileOptions>;

export interface TrainingProgram {
  /** The graph the steps run (a private copy, re-batched). */
  graph: Graph;
  /** The same private copy at batch 1, sharing every parameter with `graph`: the trained model. */
  base: Graph;
  batch: number;
  /** The model computes in int8 (the forward is the int8 inference kernels). */
  int8: boolean;
  head: LossHead;
  update: ResolvedUpdate;
  options: ResolvedCompileOptions;
  buffers: TrainBuffer[];
  steps: TrainStep[];
  /** Forward tensor -> its activation buffer. */
  activation: Map<TensorId, number>;
  /** Tensor -> the buffer holding its gradient (several tensors may share one: in-place backward ops). */
  gradients: Map<TensorId, number>;
  /** Trained parameter tensor -> its parameter buffer (and optimizer / shadow buffers). */
  paramBuffers: Map<TensorId, { param: number; state: number[]; shadow: number }>;
}
