import type { BufferRequest } from '../lifetimes.js';
import { alignedLowerBound } from '../placement.js';
import { ConflictGraph } from './decode.js';
import { packLocalSearch } from './local_search.js';
import type { PackContext, PackResult, PackingStrategy } from './strategy.js';
import { toPlacements } from './strategy.js';

/**
 * Branch and bound over placement orders with first-fit decoding, which is complete (see ConflictGraph).
 * Two pruning rules keep it small on layer-by-layer graphs, where most buffers never meet:
 * - order reduction: placing two non-conflicting buffers in either order gives the same packing, so after
 *   placing buffer a only buffers that conflict with a, or come after a in index order, are tried next;
 * - bound: first fit never goes down when more buffers are placed, so max over unplaced buffers of
 *   (their first-fit offset now + size) is a floor for any completion, as is the live-bytes lower bound.
 * Starts from the local search's packing, so it is never worse; proven optimal when the search completes.
 */
export function packExact(requests: readonly BufferRequest[], ctx: PackContext): PackResult {
  const start = packLocalSearch(requests, { ...ctx, budget: Math.min(ctx.budget, 2000) });
  if (start.provenOptimal) return start;
  const cg = new ConflictGraph(requests);
  const n = cg.n;
  const bound = alignedLowerBound(requests);
  let bestH = 0;
  const bestOffsets = new Int32Array(n);
  requests.forEach((r, i) => {
    const off = start.placements.get(r.id)!.offset;
    bestOffsets[i] = off;
    bestH = Math.max(bestH, off + cg.size[i]);
  });
  const offsets = new Int32Array(n).fill(-1);
  const bySize = requests.map((_, i) => i).sort((a, b) => cg.size[b] - cg.size[a] || a - b);
  let nodes = 0;
  let cut = false;

  const floor = (height: number): number => {
    let f = Math.max(height, bound);
    for (let i = 0; i < n; i++) if (offsets[i] < 0) f = Math.max(f, cg.firstFit(i, offsets) + cg.size[i]);
    return f;
  };

  const dfs = (placed: number, last: number, height: number): void => {
    if (placed === n) {
      if (height < bestH) {
        bestH = height;
        bestOffsets.set(offsets);
      }
      return;
    }
    for (const i of bySize) {
      if (offsets[i] >= 0) continue;
      if (last >= 0 && i < last && !cg.conflict(i, last)) continue;
      if (++nodes > ctx.budget) {
        cut = true;
        return;
      }
      const off = cg.firstFit(i, offsets);
      const h = Math.max(height, off + cg.size[i]);
      if (h >= bestH) continue;
      offsets[i] = off;
      if (floor(h) < bestH) dfs(placed + 1, i, h);
      offsets[i] = -1;
      if (cut || bestH <= bound) return;
    }
  };
  dfs(0, -1, 0);
  const proven = !cut || bestH <= bound;
  return {
    placements: toPlacements(requests, bestOffsets),
    provenOptimal: proven,
    note: proven ? undefined : `search cut at ${ctx.budget} nodes; ${bestH - bound} bytes above the lower bound`,
  };
}

export const exact: PackingStrategy = {
  name: 'exact',
  description: 'branch and bound over placement orders (optimal when it completes)',
  pack: packExact,
};
