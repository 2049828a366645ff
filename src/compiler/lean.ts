import type { Graph } from '../graph/graph.js';
import type { OpDef } from '../ops/op.js';
import type { MemoryPlan, PlanOptions } from '../plan/memory_plan.js';
import { planMemory } from '../plan/memory_plan.js';

/** A plan that uses a slower in-place kernel only where it lowers the peak. */
export interface LeanPlan {
  plan: MemoryPlan;
  /** Nodes kept in place with a slower kernel -> the arena (fast packers) without that node in place. */
  needed: Map<number, number>;
  /** Nodes whose slower in-place kernel would fit but lowers no peak: they run the standard kernel. */
  dropped: Set<number>;
}

/** Relative run time of node `i` in `plan` (the in-place variant's slowdown when the plan puts it in place). */
export function slowdownOf(g: Graph, plan: MemoryPlan, i: number): number {
  const d = plan.inPlaceNodes.get(i);
  if (!d || (d.kind !== 'depthwise' && d.kind !== 'pad' && d.kind !== 'pointwise')) return 1;
  const def = plan.options.ops[g.nodes[i].op] as unknown as OpDef;
  return def.inPlaceVariant?.(g.nodes[i] as never, g)?.slowdown ?? 1;
}

/** Estimated run time in MAC units: every node's cost (its MACs unless its op says otherwise), times its kernel variant's slowdown. */
export function estimatedCost(g: Graph, plan: MemoryPlan): number {
  return plan.order.reduce((s, i) => {
    const def = plan.options.ops[g.nodes[i].op] as unknown as OpDef;
    const node = g.nodes[i] as never;
    return s + Math.max(1, def.cost ? def.cost(node, g) : def.macs(node, g)) * slowdownOf(g, plan, i);
  }, 0);
}

function withStandard(plan: MemoryPlan, extra: Iterable<number>): PlanOptions {
  return { ...plan.options, standardKernels: new Set([...plan.options.standardKernels, ...extra]) };
}

/**
 * Starting from `full` (every in-place variant allowed), put back the standard kernel on every node whose
 * slower in-place variant does not lower the arena: first all at once (the common case, one re-plan), then
 * one node at a time, the costliest first, re-packed with the fast packers (keeping a node in place when
 * those cannot show it is unneeded errs towards memory, never past `full`'s arena).
 */
export function leanPlan(g: Graph, full: MemoryPlan): LeanPlan {
  const slow = [...full.inPlaceNodes.keys()].filter((i) => slowdownOf(g, full, i) > 1);
  if (slow.length === 0) return { plan: full, needed: new Map(), dropped: new Set() };
  const none = planMemory(g, withStandard(full, slow));
  if (none.arenaBytes <= full.arenaBytes) return { plan: none, needed: new Map(), dropped: new Set(slow) };

  const macs = (i: number): number => (full.options.ops[g.nodes[i].op] as unknown as OpDef).macs(g.nodes[i] as never, g);
  const dropped = new Set<number>();
  const needed = new Map<number, number>();
  for (const i of [...slow].sort((a, b) => macs(b) - macs(a))) {
    const trial = planMemory(g, { ...withStandard(full, [...dropped, i]), strategies: ['greedy-size', 'greedy-breadth'] });
    if (trial.arenaBytes <= full.arenaBytes) dropped.add(i);
    else needed.set(i, trial.arenaBytes);
  }
  if (dropped.size === 0) return { plan: full, needed, dropped };
  const plan = planMemory(g, withStandard(full, dropped));
  return plan.arenaBytes <= full.arenaBytes ? { plan, needed, dropped } : { plan: full, needed: new Map(slow.map((i) => [i, none.arenaBytes])), dropped: new Set() };
}
