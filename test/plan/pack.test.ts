import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BufferRequest } from '../../src/plan/lifetimes.js';
import { bytesAt, liveBytesPerStep } from '../../src/plan/lifetimes.js';
import type { Placement } from '../../src/plan/placement.js';
import { alignedLowerBound, arenaTop, overlapsInTime } from '../../src/plan/placement.js';
import { STRATEGIES } from '../../src/plan/pack/registry.js';
import type { StrategyName } from '../../src/plan/pack/registry.js';
import { prng } from '../../src/plan/pack/local_search.js';
import { packGreedyBySize } from '../../src/plan/memory_plan.js';

const CTX = { budget: 5_000, seed: 7 };

/** Brute force: every pair of buffers live at the same time must not share a byte. */
function overlaps(requests: readonly BufferRequest[], placements: Map<number, Placement>): string[] {
  const bad: string[] = [];
  for (let i = 0; i < requests.length; i++) {
    for (let j = i + 1; j < requests.length; j++) {
      const a = placements.get(requests[i].id)!;
      const b = placements.get(requests[j].id)!;
      if (overlapsInTime(a, b) && a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes) bad.push(`${a.label} / ${b.label}`);
    }
  }
  return bad;
}

function randomRequests(rand: () => number, n: number, steps: number, unit: number, maxUnits: number): BufferRequest[] {
  return Array.from({ length: n }, (_, id) => {
    const a = Math.floor(rand() * steps);
    const b = Math.floor(rand() * steps);
    return { id, bytes: unit * (1 + Math.floor(rand() * maxUnits)) - Math.floor(rand() * 8), first: Math.min(a, b), last: Math.max(a, b), label: `b${id}` };
  });
}

/** The optimum by exhaustive search over aligned offsets (tiny instances only). */
function bruteForceOptimum(requests: readonly BufferRequest[]): number {
  const size = requests.map((r) => Math.ceil(r.bytes / 16) * 16);
  const offsets: number[] = [];
  let best = size.reduce((s, x) => s + x, 0);
  const go = (i: number, height: number): void => {
    if (height >= best) return;
    if (i === requests.length) {
      best = height;
      return;
    }
    for (let off = 0; off + size[i] < best; off += 16) {
      let ok = true;
      for (let j = 0; j < i && ok; j++) {
        if (overlapsInTime(requests[i], requests[j]) && off < offsets[j] + size[j] && offsets[j] < off + size[i]) ok = false;
      }
      if (!ok) continue;
      offsets[i] = off;
      go(i + 1, Math.max(height, off + size[i]));
    }
  };
  go(0, 0);
  return best;
}

const names = Object.keys(STRATEGIES) as StrategyName[];

test('pack: every strategy places every buffer without overlapping a live one (random lifetimes)', () => {
  const rand = prng(42);
  for (let trial = 0; trial < 200; trial++) {
    const reqs = randomRequests(rand, 2 + Math.floor(rand() * 40), 1 + Math.floor(rand() * 30), 64, 50);
    const lb = alignedLowerBound(reqs);
    for (const name of names) {
      const { placements } = STRATEGIES[name].pack(reqs, CTX);
      assert.equal(placements.size, reqs.length, `${name}: every buffer placed`);
      assert.deepEqual(overlaps(reqs, placements), [], `${name} trial ${trial}`);
      for (const p of placements.values()) assert.equal(p.offset % 16, 0, `${name}: aligned offsets`);
      assert.ok(arenaTop(placements.values()) >= lb, `${name}: never below the lower bound`);
    }
  }
});

test('pack: exact branch-and-bound finds the brute-force optimum; no strategy beats it', () => {
  const rand = prng(3);
  for (let trial = 0; trial < 150; trial++) {
    const reqs = randomRequests(rand, 3 + Math.floor(rand() * 4), 6, 16, 4);
    const opt = bruteForceOptimum(reqs);
    const ex = STRATEGIES.exact.pack(reqs, CTX);
    assert.ok(ex.provenOptimal, `trial ${trial}: the search completes`);
    assert.equal(arenaTop(ex.placements.values()), opt, `trial ${trial}: exact = brute force`);
    for (const name of names) assert.ok(arenaTop(STRATEGIES[name].pack(reqs, CTX).placements.values()) >= opt);
  }
});

test('pack: local search and exact are never worse than greedy by size', () => {
  const rand = prng(11);
  for (let trial = 0; trial < 100; trial++) {
    const reqs = randomRequests(rand, 10 + Math.floor(rand() * 20), 12, 64, 30);
    const greedy = arenaTop(packGreedyBySize(reqs).values());
    for (const name of ['local-search', 'exact'] as const) {
      assert.ok(arenaTop(STRATEGIES[name].pack(reqs, CTX).placements.values()) <= greedy, `${name} trial ${trial}`);
    }
  }
});

test('pack: a known case where greedy by size wastes memory and the search does not', () => {
  // Greedy by size puts the two 3-unit buffers at 0 and stacks the others on top of them;
  // the optimum interleaves: 5 units, which is also the live-bytes bound (steps 1 and 2).
  const u = 16;
  const reqs: BufferRequest[] = [
    { id: 0, bytes: 3 * u, first: 0, last: 1, label: 'A' },
    { id: 1, bytes: 3 * u, first: 2, last: 3, label: 'B' },
    { id: 2, bytes: 2 * u, first: 1, last: 2, label: 'C' },
    { id: 3, bytes: 2 * u, first: 3, last: 4, label: 'D' },
    { id: 4, bytes: 2 * u, first: 0, last: 0, label: 'E' },
  ];
  const lb = Math.max(...liveBytesPerStep(reqs, 5));
  assert.equal(lb, 5 * u);
  const ls = STRATEGIES['local-search'].pack(reqs, CTX);
  assert.equal(arenaTop(ls.placements.values()), lb);
  assert.ok(ls.provenOptimal);
  assert.deepEqual(overlaps(reqs, ls.placements), []);
});

/** Per step: what each buffer holds then ([offset, offset + bytes at that step)) must not meet another's. */
function overlapsByStep(requests: readonly BufferRequest[], placements: Map<number, Placement>): string[] {
  const bad: string[] = [];
  const nSteps = Math.max(...requests.map((r) => r.last + 1));
  for (let s = 0; s < nSteps; s++) {
    const live = requests.filter((r) => r.first <= s && s <= r.last && bytesAt(r, s) > 0)
      .map((r) => ({ lo: placements.get(r.id)!.offset, hi: placements.get(r.id)!.offset + bytesAt(r, s), label: r.label }))
      .sort((a, b) => a.lo - b.lo);
    for (let k = 1; k < live.length; k++) if (live[k].lo < live[k - 1].hi) bad.push(`step ${s}: ${live[k - 1].label} / ${live[k].label}`);
  }
  return bad;
}

test('pack: buffers whose size changes over time (in-place groups) never overlap at any step', () => {
  const rand = prng(77);
  for (let trial = 0; trial < 150; trial++) {
    const reqs = randomRequests(rand, 3 + Math.floor(rand() * 25), 1 + Math.floor(rand() * 15), 64, 40).map((r) => {
      if (rand() < 0.5 || r.first === r.last) return r;
      const profile = Array.from({ length: r.last - r.first + 1 }, () => 16 + Math.floor(rand() * r.bytes));
      return { ...r, profile, bytes: Math.max(...profile) };
    });
    const lb = alignedLowerBound(reqs);
    for (const name of names) {
      const { placements } = STRATEGIES[name].pack(reqs, CTX);
      assert.deepEqual(overlapsByStep(reqs, placements), [], `${name} trial ${trial}`);
      assert.ok(arenaTop(placements.values()) >= lb);
    }
  }
});

test('pack: a shrinking buffer frees its top for a later one (the point of profiles)', () => {
  // A float input (64 units) quantised in place to 16 units at step 1; B (48 units) lives at steps 1-2.
  const u = 16;
  const reqs: BufferRequest[] = [
    { id: 0, bytes: 64 * u, first: 0, last: 2, label: 'input=quantised', profile: [64 * u, 16 * u, 16 * u] },
    { id: 1, bytes: 48 * u, first: 1, last: 2, label: 'B' },
  ];
  for (const name of ['greedy-size', 'greedy-breadth', 'local-search', 'exact'] as const) {
    assert.equal(arenaTop(STRATEGIES[name].pack(reqs, CTX).placements.values()), 64 * u, name);
  }
});

test('pack: empty and single-buffer inputs', () => {
  for (const name of names) {
    assert.equal(STRATEGIES[name].pack([], CTX).placements.size, 0);
    const one = STRATEGIES[name].pack([{ id: 5, bytes: 10, first: 0, last: 0, label: 'x' }], CTX);
    assert.equal(one.placements.get(5)!.offset, 0);
  }
});
