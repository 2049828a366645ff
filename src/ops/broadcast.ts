/**
 * NumPy-style broadcasting for the binary elementwise ops (ADD, SUB, MUL), up to 6-D.
 *
 * Shapes are right-aligned and padded with 1s; adjacent dimensions that broadcast the same way are merged
 * (TFLite's ReduceDimensionsForBroadcast), so the common cases collapse to one or two loops:
 *   same shape               -> one run over everything, both strides 1
 *   scalar operand           -> one run, that operand's stride 0
 *   [1,H,W,C] * [1,1,1,C]    -> H*W runs of length C, the second operand restarting at 0 each run
 * The kernel supplies the inner run; `forEachRun` walks the outer dimensions with an odometer that
 * allocates nothing.
 */
import { ModelFormatError } from '../errors.js';
import { numElements, shapeStr } from '../graph/graph.js';

export const MAX_BROADCAST_RANK = 6;

/** Output shape of broadcasting `a` with `b`; throws ModelFormatError if they are incompatible. */
export function broadcastShape(a: readonly number[], b: readonly number[], where: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = new Array(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ModelFormatError(where, `shapes ${shapeStr(a)} and ${shapeStr(b)} do not broadcast`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** How the output is walked: outer dimensions by odometer, then an inner run the kernel loops over. */
export interface BroadcastPlan {
  outShape: number[];
  size: number;
  /** Length of the innermost (merged) dimension, and each input's stride along it (0 or 1). */
  runLength: number;
  stride0: number;
  stride1: number;
  /** Outer (merged) dimensions, outermost first: extent and each input's stride. */
  outerExtents: Int32Array;
  outerStrides0: Int32Array;
  outerStrides1: Int32Array;
  /** Odometer state, reused across invocations. */
  counters: Int32Array;
  /** True when no input is broadcast: one run of `size` elements. */
  elementwise: boolean;
}

/** Which inputs span a dimension: bit 0 = input 0, bit 1 = input 1. */
type Span = 1 | 2 | 3;

export function planBroadcast(shape0: readonly number[], shape1: readonly number[], where: string): BroadcastPlan {
  const outShape = broadcastShape(shape0, shape1, where);
  const rank = outShape.length;
  if (rank > MAX_BROADCAST_RANK) {
    throw new ModelFormatError(where, `broadcasting supports up to ${MAX_BROADCAST_RANK} dimensions, got ${rank}`);
  }
  // Merge adjacent dimensions with the same span; drop dimensions of extent 1 (they change nothing).
  const extents: number[] = [];
  const spans: Span[] = [];
  for (let i = 0; i < rank; i++) {
    const d0 = shape0[shape0.length - rank + i] ?? 1;
    const d1 = shape1[shape1.length - rank + i] ?? 1;
    const ext = outShape[i];
    if (ext === 1) continue;
    const span = ((d0 === ext ? 1 : 0) | (d1 === ext ? 2 : 0)) as Span;
    const last = spans.length - 1;
    if (last >= 0 && spans[last] === span) extents[last] *= ext;
    else { extents.push(ext); spans.push(span); }
  }
  if (extents.length === 0) { extents.push(1); spans.push(3); }

  const n = extents.length;
  const strides0 = new Int32Array(n);
  const strides1 = new Int32Array(n);
  let acc0 = 1;
  let acc1 = 1;
  for (let d = n - 1; d >= 0; d--) {
    if (spans[d] & 1) { strides0[d] = acc0; acc0 *= extents[d]; }
    if (spans[d] & 2) { strides1[d] = acc1; acc1 *= extents[d]; }
  }
  return {
    outShape,
    size: numElements(outShape),
    runLength: extents[n - 1],
    stride0: strides0[n - 1],
    stride1: strides1[n - 1],
    outerExtents: Int32Array.from(extents.slice(0, n - 1)),
    outerStrides0: strides0.slice(0, n - 1),
    outerStrides1: strides1.slice(0, n - 1),
    counters: new Int32Array(n - 1),
    elementwise: n === 1 && spans[0] === 3,
  };
}

/**
 * An inner run: output elements [outOffset, outOffset + length) from input 0 starting at off0 stepping
 * plan.stride0, and input 1 starting at off1 stepping plan.stride1.
 */
export type RunFn = (off0: number, off1: number, outOffset: number, length: number) => void;

/** Call `run` for every inner run of the plan, in output order. Allocates nothing. */
export function forEachRun(plan: BroadcastPlan, run: RunFn): void {
  const len = plan.runLength;
  if (plan.size === 0) return;
  const outer = plan.outerExtents.length;
  if (outer === 0) { run(0, 0, 0, len); return; }
  const { outerExtents: ext, outerStrides0: s0, outerStrides1: s1, counters } = plan;
  counters.fill(0);
  let off0 = 0;
  let off1 = 0;
  for (let outOffset = 0; outOffset < plan.size; outOffset += len) {
    run(off0, off1, outOffset, len);
    // Advance the odometer: innermost outer dimension first.
    for (let d = outer - 1; d >= 0; d--) {
      off0 += s0[d];
      off1 += s1[d];
      if (++counters[d] < ext[d]) break;
      off0 -= s0[d] * ext[d];
      off1 -= s1[d] * ext[d];
      counters[d] = 0;
    }
  }
}
