import type { Graph } from '../graph/graph.js';
import type { BufferRequest } from './lifetimes.js';
import { liveBytesPerStep, tensorLifetimes } from './lifetimes.js';
import { OPS } from '../ops/registry.js';
import type { OpDef } from '../ops/op.js';

/** Where one buffer lives in the arena. */
export interface Placement extends BufferRequest {
  offset: number;
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
  /** Placement by buffer id (tensor id, or negative scratch id). */
  placements: Map<number, Placement>;
  /** Sum of live buffer bytes at each step. */
  liveBytes: number[];
  /** max(liveBytes): no packing of these buffers can use less. */
  lowerBound: number;
}

export const ARENA_ALIGN = 16;

export function alignUp(n: number, a = ARENA_ALIGN): number {
  return Math.ceil(n / a) * a;
}

export function defaultOrder(g: Graph): number[] {
  return g.nodes.map((n) => n.index);
}

export function scratchOf(g: Graph): (nodeIndex: number) => number {
  return (i) => {
    const n = g.nodes[i];
    const def = OPS[n.op] as OpDef;
    return def.scratchBytes ? def.scratchBytes(n as never, g) : 0;
  };
}

/**
 * Greedy by size, first fit (the planner of TFLite Micro and TinyEngine): largest buffers first,
 * each at the lowest offset that does not collide with a time-overlapping buffer already placed.
 */
export function packGreedyBySize(requests: readonly BufferRequest[]): Map<number, Placement> {
  const sorted = [...requests].sort((a, b) => b.bytes - a.bytes || a.first - b.first || a.id - b.id);
  const placed: Placement[] = [];
  const out = new Map<number, Placement>();
  for (const r of sorted) {
    const conflicts = placed
      .filter((p) => p.first <= r.last && r.first <= p.last)
      .sort((a, b) => a.offset - b.offset);
    let offset = 0;
    const need = alignUp(r.bytes);
    for (const p of conflicts) {
      if (offset + need <= p.offset) break;
      offset = Math.max(offset, alignUp(p.offset + p.bytes));
    }
    const placement = { ...r, offset };
    placed.push(placement);
    out.set(r.id, placement);
  }
  return out;
}

/** Every buffer in its own slot: for debugging (every intermediate stays readable after invoke). */
export function packNoReuse(requests: readonly BufferRequest[]): Map<number, Placement> {
  const out = new Map<number, Placement>();
  let offset = 0;
  for (const r of requests) {
    out.set(r.id, { ...r, offset });
    offset = alignUp(offset + r.bytes);
  }
  return out;
}

export function planMemory(g: Graph, strategy: 'greedy' | 'no-reuse' = 'greedy'): MemoryPlan {
  const order = defaultOrder(g);
  const requests = tensorLifetimes(g, order, scratchOf(g));
  const placements = strategy === 'greedy' ? packGreedyBySize(requests) : packNoReuse(requests);
  let arena = 0;
  for (const p of placements.values()) arena = Math.max(arena, p.offset + p.bytes);
  const liveBytes = liveBytesPerStep(requests, order.length);
  return {
    strategy,
    order,
    arenaBytes: alignUp(arena),
    placements,
    liveBytes,
    lowerBound: Math.max(0, ...liveBytes),
  };
}
