import type { Graph, Node, TensorId } from '../graph/graph.js';
import type { OpName } from '../graph/options.js';
import type { OpDef } from '../ops/op.js';
import { OPS } from '../ops/registry.js';
import type { StrategyName } from './pack/registry.js';
import { DEFAULT_STRATEGIES } from './pack/registry.js';

export type OpTable = { readonly [K in OpName]: OpDef<K> };

export type { InPlaceVariant } from '../ops/op.js';

/** Which reuse tricks the planner may use. Each can be switched off; none may change any output. */
export interface ReuseOptions {
  /** RESHAPE/SQUEEZE outputs share their input's memory (no copy). */
  aliasReshape: boolean;
  /** Elementwise ops (`OpDef.role`) write over an input that dies at that node. */
  inPlaceElementwise: boolean;
  /** DEPTHWISE_CONV_2D writes over its input with one channel's scratch (N+1 instead of 2N), when the kernel offers it. */
  inPlaceDepthwise: boolean;
  /** PAD writes over its input (copying backwards), when the kernel offers it. */
  inPlacePad: boolean;
  /** A 1x1 CONV_2D writes over its input block by block, where that lowers the arena (cout <= cin). */
  inPlacePointwise: boolean;
  /** CONCATENATION inputs are produced where the output holds them (outer dimensions 1): no copy, no second buffer. */
  inPlaceConcat: boolean;
  /** An elementwise op over a graph input (the QUANTIZE of a float model's input) writes over that input. */
  edgeQuantize: boolean;
  /** Try other topological orders (branches of residual blocks) and keep the one with the smaller arena. */
  reorder: boolean;
  /**
   * An in-place kernel with a faster form that needs more scratch (InPlaceVariant.widerScratchBytes) gets it
   * where the packed arena has room at its step: never a larger arena, fewer instructions.
   */
  widerScratch: boolean;
}

export interface PlanOptions extends Partial<ReuseOptions> {
  /** Packing strategies to try; the smallest arena wins (ties: the earlier in the list). */
  strategies?: readonly StrategyName[];
  /** Work budget of the searching strategies (moves / search nodes). */
  searchBudget?: number;
  /** Seed of the local search (plans are reproducible). */
  seed?: number;
  /** The op table whose capabilities decide the tricks (tests pass fakes). */
  ops?: OpTable;
  /**
   * Tensors to place at the start of another tensor's memory while that one is still partly live: a
   * patch plan's split tensor over the stage input, written row by row only where no later patch reads.
   * The caller proves it from the geometry; `verifyPlan` checks it byte by byte.
   */
  overlays?: readonly Overlay[];
  /**
   * Nodes that run their standard kernel even where an in-place variant would fit: the compile pipeline
   * keeps slower variants off wherever they do not lower the peak (src/compiler).
   */
  standardKernels?: ReadonlySet<number>;
  /**
   * Where the peak-only in-place variants (`InPlaceVariant.peakOnly`) apply. Absent: the planner decides,
   * trying them at the peak (planMemory); a plan records its decision here so re-planning repeats it.
   */
  peakOnlyAt?: ReadonlySet<number>;
}

export interface Overlay {
  tensor: TensorId;
  host: TensorId;
}

export interface ResolvedPlanOptions extends ReuseOptions {
  overlays: readonly Overlay[];
  standardKernels: ReadonlySet<number>;
  peakOnlyAt?: ReadonlySet<number>;
  strategies: readonly StrategyName[];
  searchBudget: number;
  seed: number;
  ops: OpTable;
}

export const ALL_TRICKS: ReuseOptions = {
  aliasReshape: true, inPlaceElementwise: true, inPlaceDepthwise: true, inPlacePad: true, inPlacePointwise: true, inPlaceConcat: true, edgeQuantize: true, reorder: true, widerScratch: true,
};

export const NO_TRICKS: ReuseOptions = {
  aliasReshape: false, inPlaceElementwise: false, inPlaceDepthwise: false, inPlacePad: false, inPlacePointwise: false, inPlaceConcat: false, edgeQuantize: false, reorder: false, widerScratch: false,
};

export const TRICK_NAMES = Object.keys(ALL_TRICKS) as (keyof ReuseOptions)[];

export function resolvePlanOptions(opts: PlanOptions = {}): ResolvedPlanOptions {
  const tricks = Object.fromEntries(TRICK_NAMES.map((k) => [k, opts[k] ?? ALL_TRICKS[k]])) as unknown as ReuseOptions;
  return {
    ...tricks,
    overlays: opts.overlays ?? [],
    standardKernels: opts.standardKernels ?? new Set(),
    ...(opts.peakOnlyAt ? { peakOnlyAt: opts.peakOnlyAt } : {}),
    strategies: opts.strategies ?? DEFAULT_STRATEGIES,
    searchBudget: opts.searchBudget ?? 4000,
    seed: opts.seed ?? 1,
    ops: opts.ops ?? OPS,
  };
}

export function opDefOf(ops: OpTable, node: Node): OpDef {
  return ops[node.op] as unknown as OpDef;
}

export function scratchBytesOf(ops: OpTable, g: Graph, node: Node): number {
  const def = opDefOf(ops, node);
  return def.scratchBytes ? def.scratchBytes(node as never, g) : 0;
}
