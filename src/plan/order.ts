import type { Graph, TensorId } from '../graph/graph.js';
import { activationIds, isVariable, tensorBytes } from '../graph/graph.js';

export function defaultOrder(g: Graph): number[] {
  return g.nodes.map((n) => n.index);
}

/** The peak of live bytes (activations plus scratch) when running `order`, as `liveBytesPerStep` counts it. */
export function orderPeak(g: Graph, order: readonly number[], scratch: (nodeIndex: number) => number): number {
  const s = new OrderSearch(g, scratch);
  let done = 0n;
  let held = s.heldBytes(done);
  let peak = 0;
  for (const v of order) {
    peak = Math.max(peak, held + s.outBytes[v] + scratch(v));
    done |= 1n << BigInt(v);
    held = s.heldBytes(done);
  }
  return peak;
}

/**
 * The execution order with the smallest peak of live bytes, by dynamic programming over the sets of
 * nodes already run (only the set matters for what is live, not the order inside it). On layer-by-layer
 * networks those sets are few: a chain has one per step, a residual block a handful. Returns null when
 * the graph is too branchy for `maxStates`, and the model's own order when nothing beats it.
 */
export function minPeakOrder(g: Graph, scratch: (nodeIndex: number) => number, maxStates = 200_000): number[] | null {
  const s = new OrderSearch(g, scratch);
  const n = g.nodes.length;
  const memo = new Map<bigint, { peak: number; next: number }>();
  const all = (1n << BigInt(n)) - 1n;
  let overflow = false;

  const solve = (done: bigint): number => {
    if (done === all) return 0;
    const hit = memo.get(done);
    if (hit) return hit.peak;
    if (memo.size >= maxStates) {
      overflow = true;
      return Infinity;
    }
    const held = s.heldBytes(done);
    let best = { peak: Infinity, next: -1 };
    for (let v = 0; v < n && !overflow; v++) {
      if ((done >> BigInt(v)) & 1n || (s.preds[v] & done) !== s.preds[v]) continue;
      const during = held + s.outBytes[v] + scratch(v);
      if (during >= best.peak) continue;
      const peak = Math.max(during, solve(done | (1n << BigInt(v))));
      if (peak < best.peak) best = { peak, next: v };
    }
    memo.set(done, best);
    return best.peak;
  };
  solve(0n);
  if (overflow) return null;
  const order: number[] = [];
  for (let done = 0n; done !== all;) {
    const v = memo.get(done)!.next;
    order.push(v);
    done |= 1n << BigInt(v);
  }
  return order;
}

/** Per-node facts the order search needs, as bitmasks over node indices. */
class OrderSearch {
  readonly preds: bigint[];
  readonly outBytes: number[];
  private readonly tensors: { bytes: number; producer: number; consumers: bigint; keep: boolean }[];

  constructor(g: Graph, readonly scratch: (nodeIndex: number) => number) {
    const producer = new Map<TensorId, number>();
    for (const node of g.nodes) for (const o of node.outputs) producer.set(o, node.index);
    const consumers = new Map<TensorId, bigint>();
    this.preds = g.nodes.map(() => 0n);
    for (const node of g.nodes) {
      for (const i of node.inputs) {
        if (i < 0) continue;
        consumers.set(i, (consumers.get(i) ?? 0n) | (1n << BigInt(node.index)));
        const p = producer.get(i);
        if (p !== undefined && p !== node.index) this.preds[node.index] |= 1n << BigInt(p);
      }
    }
    const outputs = new Set(g.outputs);
    this.tensors = activationIds(g).map((id) => ({
      bytes: tensorBytes(g.tensors[id]),
      producer: producer.get(id) ?? -1,
      consumers: consumers.get(id) ?? 0n,
      keep: outputs.has(id) || isVariable(g.tensors[id]),
    }));
    this.outBytes = g.nodes.map((node) => node.outputs.reduce((s, o) => s + (g.tensors[o].data ? 0 : tensorBytes(g.tensors[o])), 0));
  }

  /** Bytes held between steps once `done` has run: produced (or graph inputs) and still wanted. */
  heldBytes(done: bigint): number {
    let held = 0;
    for (const t of this.tensors) {
      const available = t.producer < 0 || ((done >> BigInt(t.producer)) & 1n) === 1n;
      if (available && (t.keep || (t.consumers & ~done) !== 0n)) held += t.bytes;
    }
    return held;
  }
}
