import type { AnyNode, Graph } from '../../graph/graph.js';
import { tensorBytes } from '../../graph/graph.js';
import type { OpDef } from '../../ops/op.js';
import { OPS } from '../../ops/registry.js';
import type { MemoryPlan, PatchInfo, PlanOptions } from '../memory_plan.js';
import { planMemory } from '../memory_plan.js';
import { defaultOrder } from '../order.js';
import type { PatchGraph } from './rewrite.js';
import { estimateExtraMacs, patchGraph } from './rewrite.js';
import type { Stage } from './stage.js';
import { stageOf } from './stage.js';
import { stripGraph } from './strips.js';

/** A patch-based plan: a MemoryPlan over the rewritten graph, with how it splits the model. */
export type PatchPlan = MemoryPlan & { patch: PatchInfo };

export interface PatchCandidate {
  firstNode: number;
  lastNode: number;
  n: number;
  /** Patches across: n (n x n tiles) or 1 (full-width strips with row caches). */
  cols: number;
  extraMacs: number;
  /** Arena of the candidate (greedy packing during the search); null when over the MACs cap or unable to beat a planned one. */
  arenaBytes: number | null;
}

export interface PatchSearchOptions extends PlanOptions {
  /** Let the split tensor take the stage input's memory as the input's rows are used up (default on). */
  overlaySplitOnInput?: boolean;
  /** Cap on extra MACs as a fraction of the model's MACs (0.2 = 20 %). */
  maxOverhead?: number;
  /** Patch counts per side to try. */
  patchCounts?: readonly number[];
  /** Strip counts to try (full-width strips with row caches); [] tries none. */
  stripCounts?: readonly number[];
  /** Also plan the split of fewest extra MACs in full, for callers that weigh time too (default on). */
  front?: boolean;
  /** Only this split: n x cols patches (cols n: tiles, cols 1: strips), stage ending at original node `lastNode`. */
  fixed?: { n: number; cols: number; lastNode: number };
}

export interface PatchSearchResult {
  /** The best patch-based plan found, or null when none beats layer-by-layer. */
  best: PatchPlan | null;
  /** The graph `best` runs: the model with its first stage rewritten into per-patch ops. */
  graph: Graph | null;
  /**
   * The plans a caller weighing time too chooses from, smallest peak first: `best`, then (with `front`) the
   * one of fewest extra MACs where it has a larger peak, both under layer-by-layer's; each with its graph.
   */
  front: { plan: PatchPlan; graph: Graph }[];
  layerwise: MemoryPlan;
  candidates: PatchCandidate[];
  totalMacs: number;
}

function totalMacs(g: Graph): number {
  return g.nodes.reduce((s, n) => s + (OPS[n.op] as OpDef).macs(n as never, g), 0);
}

/** What planning a patch graph adds to the caller's options: the split tensor over the stage input. */
function patchOptions(pg: PatchGraph, stage: Stage, opts: PatchSearchOptions): PlanOptions {
  return { overlays: pg.overlayOnInput && opts.overlaySplitOnInput !== false ? [{ tensor: stage.output, host: stage.input }] : [] };
}

/** The largest tensor the network writes from the split on: live at its step in any plan of any split there. */
function largestAfter(g: Graph, order: readonly number[], stage: Stage): number {
  return Math.max(0, ...order.slice(stage.last + 1).flatMap((i) => g.nodes[i].outputs.map((t) => tensorBytes(g.tensors[t]))), tensorBytes(g.tensors[stage.output]));
}

/** Tiles (n x n, halos recomputed) or strips (n x 1, rows cached), as the search names them. */
interface Split {
  n: number;
  cols: number;
}

function splitsToTry(opts: PatchSearchOptions): Split[] {
  if (opts.fixed) return [{ n: opts.fixed.n, cols: opts.fixed.cols }];
  const tiles = (opts.patchCounts ?? [2, 3, 4, 5, 6, 7, 8]).map((n) => ({ n, cols: n }));
  const strips = (opts.stripCounts ?? [4, 8, 12, 16, 24, 48]).map((n) => ({ n, cols: 1 }));
  return [...tiles, ...strips];
}

/** Where a stage may begin: at the start, or after leading nodes that are not spatial (QUANTIZE of the input). */
function stageStarts(g: Graph, order: readonly number[]): number[] {
  const starts = [0];
  for (let k = 0; k < Math.min(order.length - 1, 3); k++) {
    const node = g.nodes[order[k]] as AnyNode;
    if ((OPS[node.op] as OpDef).role !== 'elementwise' || node.inputs.length !== 1) break;
    starts.push(k + 1);
  }
  return starts;
}

function stages(g: Graph, order: readonly number[], fixedLast?: number): Stage[] {
  const out: Stage[] = [];
  for (const first of stageStarts(g, order)) {
    for (let last = first; last < order.length - 1; last++) {
      if (fixedLast !== undefined && order[last] !== fixedLast) continue;
      const s = stageOf(g, order, first, last);
      if (s) out.push(s);
      else if (!stageOf(g, order, first, first)) break;
    }
  }
  return out;
}

/**
 * MCUNetV2's search: every split point and patch count whose recomputation stays under the MACs cap,
 * each planned in full (the rest of the network included) with the fast packers, the smallest arena kept
 * and re-planned with every strategy. A patch plan is returned only when it beats layer-by-layer.
 */
export function searchPatchPlan(g: Graph, opts: PatchSearchOptions = {}): PatchSearchResult {
  const order = defaultOrder(g);
  const layerwise = planMemory(g, opts);
  const macs = totalMacs(g);
  const cap = (opts.maxOverhead ?? 0.2) * macs;
  const fast: PlanOptions = { ...opts, reorder: false, strategies: ['greedy-size', 'greedy-breadth'] };
  const candidates: PatchCandidate[] = [];
  const ranked: { pg: PatchGraph; stage: Stage; arena: number; lowerBound: number }[] = [];
  // Every split is built (cheap), then planned from the lowest floor up: a split whose floor (bytes some
  // step holds in any packing) is above an arena already planned cannot win and is not planned.
  const built: { pg: PatchGraph; stage: Stage; base: Omit<PatchCandidate, 'extraMacs' | 'arenaBytes'>; floor: number }[] = [];
  for (const split of splitsToTry(opts)) {
    for (const stage of stages(g, order, opts.fixed?.lastNode)) {
      const { n, cols } = split;
      const T = g.tensors[stage.output];
      if (cols > 1 && (T.shape[1] < n || T.shape[2] < cols)) continue;
      const base = { firstNode: order[stage.first], lastNode: order[stage.last], n, cols };
      // Strips recompute nothing: only tiles are screened by the estimate before being built.
      const estimate = cols === 1 ? 0 : estimateExtraMacs(g, stage, n);
      if (estimate > cap && !opts.fixed) {
        candidates.push({ ...base, extraMacs: Math.round(estimate), arenaBytes: null });
        continue;
      }
      const pg = cols === 1 ? stripGraph(g, order, stage, n) : patchGraph(g, order, stage, n);
      if (pg) built.push({ pg, stage, base, floor: Math.max(pg.floorBytes ?? 0, largestAfter(g, order, stage)) });
    }
  }
  built.sort((a, b) => a.floor - b.floor);
  let bestArena = Infinity;
  for (const { pg, stage, base, floor } of built) {
    if (floor > bestArena && !opts.fixed) {
      candidates.push({ ...base, extraMacs: pg.extraMacs, arenaBytes: null });
      continue;
    }
    // Strip graphs are long (a layer per strip per row): one packer ranks them (it matched both on every model tried).
    const quick = planMemory(pg.graph, { ...fast, ...(base.cols === 1 ? { strategies: ['greedy-size'] } : {}), ...patchOptions(pg, stage, opts) });
    const arena = quick.arenaBytes;
    candidates.push({ ...base, extraMacs: pg.extraMacs, arenaBytes: arena });
    if (pg.extraMacs <= cap || opts.fixed) {
      ranked.push({ pg, stage, arena, lowerBound: quick.lowerBound });
      bestArena = Math.min(bestArena, arena);
    }
  }
  // The fast packers rank the candidates; the best few are planned with every strategy, and so is the one
  // of fewest extra MACs (the far end of the quick plans' front: strips, which recompute nothing, against
  // tiles of a smaller peak), so a caller that weighs time as well as memory can choose.
  ranked.sort((a, b) => a.arena - b.arena || a.pg.extraMacs - b.pg.extraMacs);
  const front = paretoFront(ranked, (c) => c.arena, (c) => c.pg.extraMacs).filter((c, i, all) => i === 0 || (i === all.length - 1 && opts.front !== false));
  const planned: { c: (typeof ranked)[number]; plan: MemoryPlan }[] = [];
  let best: { c: (typeof ranked)[number]; plan: MemoryPlan } | null = null;
  for (const c of new Set([...ranked.slice(0, 3), ...front])) {
    // No packing goes under the live bytes (of the quick plan's sharing decisions, which the full plan
    // rarely improves on): a candidate whose bound the best already reaches is not re-planned.
    const onFront = front.includes(c);
    if (!onFront && best && (c.lowerBound > best.plan.arenaBytes || (c.lowerBound === best.plan.arenaBytes && c.pg.extraMacs >= best.c.pg.extraMacs))) continue;
    const plan = planMemory(c.pg.graph, { ...opts, reorder: false, ...patchOptions(c.pg, c.stage, opts) });
    planned.push({ c, plan });
    if (!best || plan.arenaBytes < best.plan.arenaBytes || (plan.arenaBytes === best.plan.arenaBytes && c.pg.extraMacs < best.c.pg.extraMacs)) best = { c, plan };
  }
  if (!best) return { best: null, graph: null, front: [], layerwise, candidates, totalMacs: macs };
  const asPatchPlan = ({ c, plan }: { c: (typeof ranked)[number]; plan: MemoryPlan }): PatchPlan => ({
    ...plan,
    patch: {
      n: c.pg.n, cols: c.pg.cols, firstNode: order[c.stage.first], lastNode: order[c.stage.last],
      splitTensor: c.stage.output, extraMacs: c.pg.extraMacs, origin: c.pg.origin,
    },
  });
  const beats = (p: MemoryPlan): boolean => p.arenaBytes < layerwise.arenaBytes;
  const keep = beats(best.plan) || opts.fixed;
  const fullFront = paretoFront(planned.filter((p) => beats(p.plan)).sort((a, b) => a.plan.arenaBytes - b.plan.arenaBytes || a.c.pg.extraMacs - b.c.pg.extraMacs), (p) => p.plan.arenaBytes, (p) => p.c.pg.extraMacs);
  return {
    best: keep ? asPatchPlan(best) : null, graph: keep ? best.c.pg.graph : null,
    front: keep ? fullFront.map((p) => ({ plan: asPatchPlan(p), graph: p.c.pg.graph })) : [],
    layerwise, candidates, totalMacs: macs,
  };
}

/** Of items sorted by `a` (then `b`) ascending, those no other item beats on both: each has less `b` than every one before it. */
function paretoFront<T>(sorted: readonly T[], a: (x: T) => number, b: (x: T) => number): T[] {
  const out: T[] = [];
  for (const x of sorted) {
    const last = out[out.length - 1];
    if (!last || b(x) < b(last)) out.push(x);
  }
  return out;
}
