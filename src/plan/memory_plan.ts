import type { Graph, TensorId } from '../graph/graph.js';
import type { BufferRequest } from './lifetimes.js';
import { liveBytesPerStep } from './lifetimes.js';
import { OPS } from '../ops/registry.js';
import type { Placement } from './placement.js';
import { alignedLowerBound, arenaTop } from './placement.js';
import type { InPlaceDecision } from './sharing.js';
import { decideSharing, groupRequests, scratchPerStep } from './sharing.js';
import type { PlanOptions, ResolvedPlanOptions } from './options.js';
import { NO_TRICKS, opDefOf, resolvePlanOptions, scratchBytesOf } from './options.js';
import { defaultOrder, minPeakOrder } from './order.js';
import { widenInPlaceScratch } from './widen_scratch.js';
import type { StrategyName } from './pack/registry.js';
import { STRATEGIES } from './pack/registry.js';

export type { Placement } from './placement.js';
export { ARENA_ALIGN, alignUp } from './align.js';
export { defaultOrder } from './order.js';
export { packGreedyBySize } from './pack/greedy_size.js';
export { packNoReuse } from './pack/no_reuse.js';
export type { PlanOptions, ResolvedPlanOptions, ReuseOptions } from './options.js';
export type { InPlaceDecision, InPlaceKind } from './sharing.js';
export type { StrategyName } from './pack/registry.js';

/** One packing tried by the planner (reports show them all; the plan keeps the smallest). */
export interface StrategyResult {
  strategy: StrategyName;
  /** 'model': the model's own node order; 'reordered': the order search's. */
  order: 'model' | 'reordered';
  arenaBytes: number;
  lowerBound: number;
  provenOptimal: boolean;
  note?: string;
  milliseconds: number;
}

/**
 * The one memory plan: computed once, consumed by the interpreter, the reports and the code generator,
 * so the SRAM figure printed is the arena really used.
 */
export interface MemoryPlan {
  strategy: string;
  /** Execution order: node indices. */
  order: number[];
  /** Arena size in bytes (aligned). */
  arenaBytes: number;
  /**
   * Placement by buffer id: every activation tensor (with its own size and lifetime; tensors that share
   * memory have the same offset) and every scratch buffer (negative id, see `scratchId`).
   */
  placements: Map<number, Placement>;
  /** Sum of live buffer bytes at each step. */
  liveBytes: number[];
  /** max(liveBytes): no packing of these buffers can use less. */
  lowerBound: number;
  /** Step at which live bytes peak. */
  peakStep: number;
  /** What was packed: one buffer per group of tensors sharing memory (id: the group's first tensor), plus scratch. */
  buffers: Placement[];
  /** RESHAPE/SQUEEZE output -> input whose bytes it reuses (same offset, no copy). */
  aliases: Map<TensorId, TensorId>;
  /** Node index -> how it writes its output over its input (the kernel sees overlapping views). */
  inPlaceNodes: Map<number, InPlaceDecision>;
  /** Every packing tried, the chosen one included. */
  candidates: StrategyResult[];
  options: ResolvedPlanOptions;
  /**
   * Set for a patch-based plan: its order and placements refer to the graph it was made for, the model
   * with its first stage rewritten into per-patch ops (a CompiledModel holds the two together).
   */
  patch?: PatchInfo;
}

/** How a patch-based plan splits the model (MCUNetV2). */
export interface PatchInfo {
  /** n rows of patches of the split tensor. */
  n: number;
  /** Patches per row: n (n x n tiles, halos recomputed) or 1 (full-width strips, rows cached per layer). */
  cols: number;
  /** Original node indices of the first and last node run patch by patch. */
  firstNode: number;
  lastNode: number;
  /** The tensor assembled from the patches, where layer-by-layer execution resumes. */
  splitTensor: TensorId;
  /** MACs recomputed in the patches' overlapping halos. */
  extraMacs: number;
  /** Original node each node of `graph` computes (-1: slicing, padding, joining). */
  origin: number[];
}

/** How a split reads in reports: '4x4 patches' (tiles) or '12x1 strips (row caches)'. */
export function patchName(p: Pick<PatchInfo, 'n' | 'cols'>): string {
  return p.cols === 1 ? `${p.n}x1 strips (row caches)` : `${p.n}x${p.cols} patches`;
}

/** Scratch bytes of each node as its op declares them. */
export function scratchOf(g: Graph): (nodeIndex: number) => number {
  return (i) => scratchBytesOf(OPS, g, g.nodes[i]);
}

/** The legacy string form: one strategy, no reuse tricks ('greedy' is greedy by size). */
export type LegacyStrategy = 'greedy' | 'no-reuse' | StrategyName;

function optionsFrom(arg: LegacyStrategy | PlanOptions | undefined): ResolvedPlanOptions {
  if (arg === undefined || typeof arg === 'string') {
    const name = arg === undefined || arg === 'greedy' ? 'greedy-size' : arg;
    return resolvePlanOptions({ ...NO_TRICKS, strategies: [name] });
  }
  return resolvePlanOptions(arg);
}

interface Layout {
  order: number[];
  orderKind: StrategyResult['order'];
  buffers: BufferRequest[];
  tensors: BufferRequest[];
  sharing: ReturnType<typeof decideSharing>;
}

function layout(g: Graph, order: number[], orderKind: Layout['orderKind'], o: ResolvedPlanOptions): Layout {
  const sharing = decideSharing(g, order, o, o.ops);
  const { buffers, tensors } = groupRequests(g, order, sharing, scratchPerStep(g, order, sharing, o.ops));
  return { order, orderKind, buffers, tensors, sharing };
}

/**
 * Plan the arena. `planMemory(g)` and `planMemory(g, 'greedy' | 'no-reuse' | strategy)` pack with one
 * strategy and no reuse tricks; `planMemory(g, options)` tries every strategy in `options.strategies`
 * with every trick not switched off, over the model's order and (with `reorder`) the order of least peak,
 * and keeps the smallest arena; peak-only in-place variants go where they lower it (planAtPeaks), unless
 * `options.peakOnlyAt` already says where.
 */
export function planMemory(g: Graph, arg?: LegacyStrategy | PlanOptions): MemoryPlan {
  const o = optionsFrom(arg);
  if (o.peakOnlyAt) return planOnce(g, o);
  const eligible = peakOnlyCandidates(g, o);
  return eligible.length === 0 ? planOnce(g, o) : planAtPeaks(g, o, eligible);
}

/** Nodes whose in-place variant is peak-only and allowed: where planAtPeaks may put it. */
function peakOnlyCandidates(g: Graph, o: ResolvedPlanOptions): number[] {
  return g.nodes.filter((n) => {
    if (o.standardKernels.has(n.index)) return false;
    const v = opDefOf(o.ops, n).inPlaceVariant?.(n as never, g);
    return !!v && v.peakOnly === true && o[v.trick];
  }).map((n) => n.index);
}

/** Rounds of planAtPeaks: each puts the candidates above the current floor in place, so a few reach it. */
const PEAK_ROUNDS = 6;

/** The packers fast enough to compare candidate decisions (the final plan uses all of `strategies`). */
const EXPLORE: readonly StrategyName[] = ['greedy-size', 'greedy-breadth'];

/**
 * Peak-only variants (InPlaceVariant.peakOnly) where they lower the arena: from the plan without them, put
 * in place every candidate whose step holds more live bytes than the highest step without a candidate (a
 * patch plan repeats a layer per patch: all copies must go), or else those at the top, and keep that while
 * the arena shrinks; then also try all of them at once. The rounds pack with the fast packers; the choice is
 * then planned with every strategy beside the plan without them and the smaller kept, so it is never larger.
 * The decision is recorded in `options.peakOnlyAt`, so re-planning from a plan's options repeats it.
 */
function planAtPeaks(g: Graph, o: ResolvedPlanOptions, eligible: readonly number[]): MemoryPlan {
  const fast = o.strategies.filter((x) => EXPLORE.includes(x));
  const explore: ResolvedPlanOptions = { ...o, strategies: fast.length ? fast : o.strategies };
  const none = planOnce(g, { ...explore, peakOnlyAt: new Set() });
  let best = none;
  let chosen = new Set<number>();
  for (let round = 0; round < PEAK_ROUNDS; round++) {
    const stepOf = new Map(best.order.map((n, s) => [n, s]));
    const live = (i: number): number => best.liveBytes[stepOf.get(i) ?? 0];
    const open = eligible.filter((i) => !chosen.has(i) && stepOf.has(i));
    if (open.length === 0) break;
    // Every candidate above the highest step no candidate can lower must go in place together.
    const openSet = new Set(open);
    const floor = Math.max(0, ...best.order.map((n, s) => (openSet.has(n) ? 0 : best.liveBytes[s])));
    const top = Math.max(...open.map(live));
    const above = open.filter((i) => live(i) > floor);
    const trial = new Set([...chosen, ...(above.length ? above : open.filter((i) => live(i) === top))]);
    const plan = planOnce(g, { ...explore, peakOnlyAt: trial });
    if (plan.arenaBytes >= best.arenaBytes) break;
    best = plan;
    chosen = trial;
  }
  if (chosen.size < eligible.length) {
    const all = new Set(eligible);
    const plan = planOnce(g, { ...explore, peakOnlyAt: all });
    if (plan.arenaBytes < best.arenaBytes) chosen = all;
  }
  const without = explore.strategies === o.strategies ? none : planOnce(g, { ...o, peakOnlyAt: new Set() });
  if (chosen.size === 0) return without;
  const withChosen = planOnce(g, { ...o, peakOnlyAt: chosen });
  return withChosen.arenaBytes < without.arenaBytes ? withChosen : without;
}

function planOnce(g: Graph, o: ResolvedPlanOptions): MemoryPlan {
  const layouts = [layout(g, defaultOrder(g), 'model', o)];
  if (o.reorder && g.nodes.length > 1) {
    const scratch = (i: number): number => scratchBytesOf(o.ops, g, g.nodes[i]);
    const better = minPeakOrder(g, scratch);
    if (better && better.some((v, k) => v !== layouts[0].order[k])) layouts.push(layout(g, better, 'reordered', o));
  }
  const candidates: StrategyResult[] = [];
  let best: { l: Layout; placements: Map<number, Placement>; result: StrategyResult } | null = null;
  for (const l of layouts) {
    const lowerBound = Math.max(0, ...liveBytesPerStep(l.buffers, l.order.length));
    const reachable = alignedLowerBound(l.buffers);
    for (const name of o.strategies) {
      const t0 = performance.now();
      const packed = STRATEGIES[name].pack(l.buffers, { budget: o.searchBudget, seed: o.seed });
      const arenaBytes = arenaTop(packed.placements.values());
      const result: StrategyResult = {
        strategy: name, order: l.orderKind, arenaBytes, lowerBound, provenOptimal: packed.provenOptimal || arenaBytes <= reachable,
        note: packed.note, milliseconds: performance.now() - t0,
      };
      candidates.push(result);
      if (!best || arenaBytes < best.result.arenaBytes) best = { l, placements: packed.placements, result };
    }
  }
  if (!best) throw new Error('planMemory: no packing strategy given');
  return assemble(g, best.l, best.placements, best.result, candidates, o);
}

function assemble(g: Graph, l: Layout, packed: Map<number, Placement>, chosen: StrategyResult, candidates: StrategyResult[], o: ResolvedPlanOptions): MemoryPlan {
  const placements = new Map<number, Placement>();
  for (const t of l.tensors) {
    const gid = l.sharing.groupOf.get(t.id) ?? t.id;
    placements.set(t.id, { ...t, offset: packed.get(gid)!.offset + (l.sharing.memberOffset.get(t.id) ?? 0) });
  }
  const buffers = [...packed.values()].sort((a, b) => a.first - b.first || a.offset - b.offset);
  for (const b of buffers) if (b.id < 0) placements.set(b.id, b);
  if (o.widerScratch) widenInPlaceScratch(g, l.order, l.sharing.inPlaceNodes, o.ops, chosen.arenaBytes, placements, buffers);
  const liveBytes = liveBytesPerStep(l.buffers, l.order.length);
  let peakStep = 0;
  liveBytes.forEach((b, s) => { if (b > liveBytes[peakStep]) peakStep = s; });
  return {
    strategy: chosen.strategy,
    order: l.order,
    arenaBytes: chosen.arenaBytes,
    placements,
    liveBytes,
    lowerBound: Math.max(0, ...liveBytes),
    peakStep,
    buffers,
    aliases: l.sharing.aliases,
    inPlaceNodes: l.sharing.inPlaceNodes,
    candidates,
    options: o,
  };
}
