import type { Graph, TensorId } from '../graph/graph.js';
import { activationIds, isVariable, tensorBytes } from '../graph/graph.js';

/** A buffer that needs arena memory from step `first` to step `last` inclusive. */
export interface BufferRequest {
  /** Tensor id, or a negative id for a node's scratch buffer (-(step + 1)). */
  id: number;
  bytes: number;
  first: number;
  last: number;
  label: string;
  /**
   * Bytes at each step from `first` to `last` when they vary (a group of tensors sharing memory: an
   * in-place QUANTIZE's float input, then its int8 output); `bytes` is then the largest. Absent: constant.
   */
  profile?: number[];
}

/** Bytes the buffer holds at `step` (0 outside its lifetime). */
export function bytesAt(r: BufferRequest, step: number): number {
  if (step < r.first || step > r.last) return 0;
  return r.profile ? r.profile[step - r.first] : r.bytes;
}

export function scratchId(step: number): number {
  return -(step + 1);
}

/**
 * Lifetimes over an execution order (`order[step]` = node index). Graph inputs are live from step 0,
 * graph outputs to the last step, so callers can write inputs before and read outputs after `invoke`.
 * Variable (state) tensors live over the whole run: they hold their value between invokes, so nothing
 * may ever share their bytes.
 */
export function tensorLifetimes(g: Graph, order: readonly number[], scratch: (nodeIndex: number) => number = () => 0): BufferRequest[] {
  const nSteps = order.length;
  const first = new Map<TensorId, number>();
  const last = new Map<TensorId, number>();
  for (const id of g.inputs) first.set(id, 0);
  order.forEach((nodeIndex, step) => {
    const node = g.nodes[nodeIndex];
    for (const id of node.inputs) if (id >= 0) last.set(id, step);
    for (const id of node.outputs) {
      if (!first.has(id)) first.set(id, step);
      if (!last.has(id) || last.get(id)! < step) last.set(id, step);
    }
  });
  for (const id of g.outputs) last.set(id, Math.max(nSteps - 1, 0));
  for (const t of g.tensors) {
    if (!isVariable(t)) continue;
    first.set(t.id, 0);
    last.set(t.id, Math.max(nSteps - 1, 0));
  }
  const requests: BufferRequest[] = [];
  for (const id of activationIds(g)) {
    const t = g.tensors[id];
    requests.push({ id, bytes: tensorBytes(t), first: first.get(id) ?? 0, last: last.get(id) ?? first.get(id) ?? 0, label: t.name });
  }
  order.forEach((nodeIndex, step) => {
    const bytes = scratch(nodeIndex);
    if (bytes > 0) requests.push({ id: scratchId(step), bytes, first: step, last: step, label: `scratch of node ${nodeIndex}` });
  });
  return requests;
}

/** Bytes live at each step: the lower bound no packing can beat is the maximum of this. */
export function liveBytesPerStep(requests: readonly BufferRequest[], nSteps: number): number[] {
  const live = new Array<number>(Math.max(nSteps, 1)).fill(0);
  for (const r of requests) for (let s = r.first; s <= r.last; s++) live[s] += bytesAt(r, s);
  return live;
}
