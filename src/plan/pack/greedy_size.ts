import type { BufferRequest } from '../lifetimes.js';
import type { Placement } from '../placement.js';
import { firstFitOffset } from '../placement.js';
import type { PackingStrategy } from './strategy.js';

/**
 * Greedy by size, first fit (the planner of TFLite Micro and TinyEngine): largest buffers first,
 * each at the lowest offset that does not collide with a time-overlapping buffer already placed.
 */
export function packGreedyBySize(requests: readonly BufferRequest[]): Map<number, Placement> {
  const sorted = [...requests].sort((a, b) => b.bytes - a.bytes || a.first - b.first || a.id - b.id);
  const placed: Placement[] = [];
  const out = new Map<number, Placement>();
  for (const r of sorted) {
    const placement = { ...r, offset: firstFitOffset(r, placed) };
    placed.push(placement);
    out.set(r.id, placement);
  }
  return out;
}

export const greedyBySize: PackingStrategy = {
  name: 'greedy-size',
  description: 'greedy by size, first fit (TFLite Micro, TinyEngine)',
  pack: (requests) => ({ placements: packGreedyBySize(requests), provenOptimal: false }),
};
