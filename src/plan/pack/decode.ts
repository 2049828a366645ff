import type { BufferRequest } from '../lifetimes.js';
import { alignUp } from '../align.js';
import { overlapsInTime, pairExtent } from '../placement.js';

/**
 * Buffers as a conflict graph (two buffers conflict when their lifetimes overlap), sizes aligned. Every
 * first-fit packing is decided by the order in which buffers are placed, and some order yields an optimal
 * packing (place the buffers of an optimal packing in order of offset: each lands at or below its optimal
 * offset, so nothing placed later collides) — so searching orders with first-fit decoding loses nothing.
 */
export class ConflictGraph {
  readonly n: number;
  /** Largest aligned size of each buffer (its height in the arena). */
  readonly size: Int32Array;
  readonly neighbors: Int32Array[];
  /** need[i][k]: aligned bytes i holds while neighbours[i][k] is live; held[i][k]: what that neighbour holds. */
  private readonly need: Int32Array[];
  private readonly held: Int32Array[];

  constructor(readonly requests: readonly BufferRequest[]) {
    this.n = requests.length;
    this.size = Int32Array.from(requests, (r) => alignUp(r.bytes));
    const adj: number[][] = requests.map(() => []);
    const byFirst = requests.map((_, i) => i).sort((a, b) => requests[a].first - requests[b].first);
    for (let x = 0; x < byFirst.length; x++) {
      const i = byFirst[x];
      for (let y = x + 1; y < byFirst.length; y++) {
        const j = byFirst[y];
        if (requests[j].first > requests[i].last) break;
        if (overlapsInTime(requests[i], requests[j])) {
          adj[i].push(j);
          adj[j].push(i);
        }
      }
    }
    this.neighbors = adj.map((a) => Int32Array.from(a));
    this.need = adj.map((a, i) => Int32Array.from(a, (j) => alignUp(pairExtent(requests[i], requests[j])[0])));
    this.held = adj.map((a, i) => Int32Array.from(a, (j) => alignUp(pairExtent(requests[i], requests[j])[1])));
  }

  conflict(i: number, j: number): boolean {
    return overlapsInTime(this.requests[i], this.requests[j]);
  }

  /** Lowest aligned offset for buffer i given the placed neighbours (offset -1 = not placed). */
  firstFit(i: number, offsets: Int32Array): number {
    const nb = this.neighbors[i];
    const lo: number[] = [];
    const hi: number[] = [];
    const idx: number[] = [];
    for (let k = 0; k < nb.length; k++) {
      const off = offsets[nb[k]];
      if (off < 0 || this.need[i][k] === 0 || this.held[i][k] === 0) continue;
      idx.push(lo.length);
      lo.push(off - this.need[i][k]);
      hi.push(off + this.held[i][k]);
    }
    idx.sort((a, b) => lo[a] - lo[b]);
    let offset = 0;
    for (const k of idx) if (offset > lo[k] && offset < hi[k]) offset = hi[k];
    return offset;
  }

  /** Place buffers in `order` by first fit; fills `offsets` and returns the arena height. */
  decode(order: ArrayLike<number>, offsets: Int32Array): number {
    offsets.fill(-1);
    let height = 0;
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      const off = this.firstFit(i, offsets);
      offsets[i] = off;
      height = Math.max(height, off + this.size[i]);
    }
    return height;
  }
}
