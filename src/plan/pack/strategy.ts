import type { BufferRequest } from '../lifetimes.js';
import type { Placement } from '../placement.js';

/** Knobs for the searching strategies; the greedy ones ignore them. */
export interface PackContext {
  /** Work budget: decode steps for local search, search nodes for branch-and-bound. */
  budget: number;
  /** Seed of the local search's random moves (plans are reproducible). */
  seed: number;
}

export interface PackResult {
  placements: Map<number, Placement>;
  /** The search finished and proved that no packing of these buffers needs a smaller arena. */
  provenOptimal: boolean;
  /** Why the result may be short of optimal (e.g. the budget ran out), for reports. */
  note?: string;
}

/** One way of assigning arena offsets to buffers with lifetimes (dynamic storage allocation). */
export interface PackingStrategy {
  name: string;
  description: string;
  pack(requests: readonly BufferRequest[], ctx: PackContext): PackResult;
}

export function toPlacements(requests: readonly BufferRequest[], offsets: ArrayLike<number>): Map<number, Placement> {
  const out = new Map<number, Placement>();
  requests.forEach((r, i) => out.set(r.id, { ...r, offset: offsets[i] }));
  return out;
}
