import type { BufferRequest } from './lifetimes.js';
import { bytesAt } from './lifetimes.js';
import { alignUp } from './align.js';

/** Where one buffer lives in the arena. */
export interface Placement extends BufferRequest {
  offset: number;
}

export function overlapsInTime(a: BufferRequest, b: BufferRequest): boolean {
  return a.first <= b.last && b.first <= a.last;
}

/**
 * The bytes `a` and `b` hold while both are live: [a's, b's], each the largest over the common steps.
 * Buffers of constant size just give their sizes; a group whose size changes only competes with what
 * it holds at the time.
 */
export function pairExtent(a: BufferRequest, b: BufferRequest): [number, number] {
  if (!a.profile && !b.profile) return [a.bytes, b.bytes];
  let ea = 0;
  let eb = 0;
  for (let s = Math.max(a.first, b.first); s <= Math.min(a.last, b.last); s++) {
    ea = Math.max(ea, bytesAt(a, s));
    eb = Math.max(eb, bytesAt(b, s));
  }
  return [ea, eb];
}

/** Bytes the arena needs for these placements (the top of the highest buffer, aligned). */
export function arenaTop(placements: Iterable<Placement>): number {
  let top = 0;
  for (const p of placements) top = Math.max(top, p.offset + p.bytes);
  return alignUp(top);
}

/**
 * Offsets where a buffer may not start, one open interval (lo, hi) per placed buffer it meets in time:
 * starting at or above hi clears that buffer, ending at or below its offset does too.
 */
export interface Forbidden {
  lo: number;
  hi: number;
}

export function forbiddenIntervals(r: BufferRequest, occupied: readonly Placement[]): Forbidden[] {
  const out: Forbidden[] = [];
  for (const p of occupied) {
    if (!overlapsInTime(p, r)) continue;
    const [need, held] = pairExtent(r, p);
    if (need === 0 || held === 0) continue;
    out.push({ lo: p.offset - alignUp(need), hi: alignUp(p.offset + held) });
  }
  return out.sort((a, b) => a.lo - b.lo);
}

/** The lowest aligned offset outside every forbidden interval (sorted by lo). */
export function lowestFree(forbidden: readonly Forbidden[]): number {
  let offset = 0;
  for (const f of forbidden) if (offset > f.lo && offset < f.hi) offset = f.hi;
  return offset;
}

/**
 * First fit, as TFLite Micro's and TinyEngine's planners do: the lowest aligned offset where `r` does not
 * collide with a placed buffer live at the same time.
 */
export function firstFitOffset(r: BufferRequest, occupied: readonly Placement[]): number {
  return lowestFree(forbiddenIntervals(r, occupied));
}

/**
 * Best fit: of the free starting points (0 and the tops of placed buffers), the one with the least room
 * above it before the next placed buffer — small gaps take small buffers and large gaps stay whole.
 * Falls back to the lowest point with unbounded room.
 */
export function bestFitOffset(r: BufferRequest, occupied: readonly Placement[]): number {
  const forbidden = forbiddenIntervals(r, occupied);
  const free = (x: number): boolean => forbidden.every((f) => !(x > f.lo && x < f.hi));
  let best = -1;
  let bestRoom = Infinity;
  for (const x of [0, ...forbidden.map((f) => f.hi)]) {
    if (!free(x)) continue;
    let room = Infinity;
    for (const f of forbidden) if (f.lo >= x) room = Math.min(room, f.lo - x);
    if (room < bestRoom || (room === bestRoom && x < best)) {
      best = x;
      bestRoom = room;
    }
  }
  return best >= 0 && bestRoom < Infinity ? best : lowestFree(forbidden);
}

/** Max over steps of the (aligned) bytes live: no packing of these buffers into an arena can use less. */
export function alignedLowerBound(requests: readonly BufferRequest[]): number {
  const nSteps = requests.reduce((m, r) => Math.max(m, r.last + 1), 1);
  const live = new Array<number>(nSteps).fill(0);
  for (const r of requests) for (let s = r.first; s <= r.last; s++) live[s] += alignUp(bytesAt(r, s));
  return Math.max(0, ...live);
}
