import type { BufferRequest } from '../lifetimes.js';
import { alignedLowerBound } from '../placement.js';
import { ConflictGraph } from './decode.js';
import { greedyBreadthOrder } from './greedy_breadth.js';
import type { PackContext, PackResult, PackingStrategy } from './strategy.js';
import { toPlacements } from './strategy.js';
import { seededRandom } from '../../util/random.js';

/** Plans must be reproducible run to run, so the search draws from a seeded generator. */
export const prng = seededRandom;

/** Placement orders the greedy planners would use: the search starts from the best of them. */
function seedOrders(requests: readonly BufferRequest[]): number[][] {
  const idx = requests.map((_, i) => i);
  const bySize = [...idx].sort((a, b) => requests[b].bytes - requests[a].bytes || requests[a].first - requests[b].first);
  const byLength = [...idx].sort((a, b) =>
    (requests[b].last - requests[b].first) - (requests[a].last - requests[a].first) || requests[b].bytes - requests[a].bytes);
  const byArea = [...idx].sort((a, b) =>
    requests[b].bytes * (requests[b].last - requests[b].first + 1) - requests[a].bytes * (requests[a].last - requests[a].first + 1));
  return [bySize, greedyBreadthOrder(requests), byLength, byArea];
}

/**
 * Local search over placement orders with first-fit decoding. A move takes a buffer that touches the top
 * of the arena (the only ones whose place matters for the height) and inserts it earlier in the order; the
 * result is kept when the arena does not grow (sideways moves cross plateaus), and occasionally when it
 * grows a little (annealing). Stops at the aligned lower bound, which proves optimality.
 */
export function packLocalSearch(requests: readonly BufferRequest[], ctx: PackContext): PackResult {
  const cg = new ConflictGraph(requests);
  const n = cg.n;
  if (n === 0) return { placements: new Map(), provenOptimal: true };
  const bound = alignedLowerBound(requests);
  const offsets = new Int32Array(n);
  let best: number[] = [];
  let bestH = Infinity;
  for (const o of seedOrders(requests)) {
    const h = cg.decode(o, offsets);
    if (h < bestH) {
      bestH = h;
      best = o;
    }
  }
  const rand = prng(ctx.seed);
  let cur = [...best];
  let curH = bestH;
  let temperature = Math.max(16, bestH * 0.01);
  for (let it = 0; it < ctx.budget && bestH > bound; it++) {
    cg.decode(cur, offsets);
    const top: number[] = [];
    for (let k = 0; k < n; k++) if (offsets[cur[k]] + cg.size[cur[k]] >= curH) top.push(k);
    const from = rand() < 0.7 ? top[Math.floor(rand() * top.length)] : Math.floor(rand() * n);
    const to = Math.floor(rand() * n);
    if (from === to) continue;
    const next = [...cur];
    const [moved] = next.splice(from, 1);
    next.splice(to, 0, moved);
    const h = cg.decode(next, offsets);
    if (h <= curH || rand() < Math.exp((curH - h) / temperature)) {
      cur = next;
      curH = h;
    }
    if (h < bestH) {
      bestH = h;
      best = next;
    }
    temperature *= 0.999;
  }
  cg.decode(best, offsets);
  return {
    placements: toPlacements(requests, offsets),
    provenOptimal: bestH <= bound,
    note: bestH <= bound ? undefined : `${ctx.budget} moves; ${bestH - bound} bytes above the lower bound`,
  };
}

export const localSearch: PackingStrategy = {
  name: 'local-search',
  description: 'local search over placement order, first-fit decoding',
  pack: packLocalSearch,
};
