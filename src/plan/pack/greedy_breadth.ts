import type { BufferRequest } from '../lifetimes.js';
import { bytesAt } from '../lifetimes.js';
import type { Placement } from '../placement.js';
import { bestFitOffset } from '../placement.js';
import type { PackingStrategy } from './strategy.js';

/**
 * Greedy by breadth with best fit (Pisarchyk & Lee, "Efficient Memory Management for Deep Neural Net
 * Inference", 2020): visit steps from the most crowded to the least; at each, place its still unplaced
 * buffers largest first into the smallest gap left by time-overlapping buffers. Crowded steps decide the
 * arena, so they are packed while the arena is still empty. Returns the placement order too (a seed for
 * local search).
 */
export function greedyBreadthOrder(requests: readonly BufferRequest[]): number[] {
  const nSteps = requests.reduce((m, r) => Math.max(m, r.last + 1), 1);
  const breadth = new Array<number>(nSteps).fill(0);
  for (const r of requests) for (let s = r.first; s <= r.last; s++) breadth[s] += bytesAt(r, s);
  const steps = breadth.map((b, s) => ({ b, s })).sort((x, y) => y.b - x.b || x.s - y.s).map((x) => x.s);
  const order: number[] = [];
  const taken = new Array<boolean>(requests.length).fill(false);
  for (const s of steps) {
    const here = requests
      .map((r, i) => ({ r, i }))
      .filter(({ r, i }) => !taken[i] && r.first <= s && s <= r.last)
      .sort((a, b) => b.r.bytes - a.r.bytes || a.r.first - b.r.first || a.r.id - b.r.id);
    for (const { i } of here) {
      taken[i] = true;
      order.push(i);
    }
  }
  return order;
}

export function packGreedyByBreadth(requests: readonly BufferRequest[]): Map<number, Placement> {
  const placed: Placement[] = [];
  const out = new Map<number, Placement>();
  for (const i of greedyBreadthOrder(requests)) {
    const r = requests[i];
    const placement = { ...r, offset: bestFitOffset(r, placed) };
    placed.push(placement);
    out.set(r.id, placement);
  }
  return out;
}

export const greedyByBreadth: PackingStrategy = {
  name: 'greedy-breadth',
  description: 'greedy by breadth, best fit (crowded steps first)',
  pack: (requests) => ({ placements: packGreedyByBreadth(requests), provenOptimal: false }),
};
