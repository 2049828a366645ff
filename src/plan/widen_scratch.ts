/**
 * Some in-place kernels have a faster form that needs more scratch (InPlaceVariant.widerScratchBytes: the
 * in-place depthwise runs four channels at a time through four input planes instead of one). Once the
 * arena is packed, a node's scratch is widened to that size wherever the arena already has room for it at
 * that step (first fit among the buffers live then), so the arena never grows; the code generator reads
 * the planned size to pick the kernel. The interpreter's kernels need only the narrow size.
 */
import type { Graph } from '../graph/graph.js';
import { scratchId } from './lifetimes.js';
import type { OpTable } from './options.js';
import { opDefOf } from './options.js';
import type { Placement } from './placement.js';
import { firstFitOffset } from './placement.js';

/** Widens in place, in `placements` and `buffers` (the plan being assembled); returns how many were widened. */
export function widenInPlaceScratch(g: Graph, order: readonly number[], inPlaceNodes: ReadonlyMap<number, unknown>, ops: OpTable,
  arenaBytes: number, placements: Map<number, Placement>, buffers: Placement[]): number {
  let widened = 0;
  order.forEach((nodeIndex, step) => {
    if (!inPlaceNodes.has(nodeIndex)) return;
    const node = g.nodes[nodeIndex];
    const wider = widerScratchOf(g, ops, node);
    const narrow = placements.get(scratchId(step));
    if (wider === undefined || !narrow || narrow.bytes >= wider) return;
    const k = buffers.indexOf(narrow);
    const others = buffers.filter((_, i) => i !== k);
    const request = { ...narrow, bytes: wider };
    const offset = firstFitOffset(request, others);
    if (offset + wider > arenaBytes) return;
    const placed: Placement = { ...request, offset };
    placements.set(placed.id, placed);
    if (k >= 0) buffers[k] = placed;
    widened++;
  });
  return widened;
}

/**
 * Whether the planned scratch of `nodeIndex` reaches its variant's wider size: the node then runs the faster
 * form (the code generator and the reports both ask this, so they cannot disagree).
 */
export function hasWiderScratch(g: Graph, plan: { order: readonly number[]; placements: ReadonlyMap<number, Placement>; inPlaceNodes: ReadonlyMap<number, unknown>; options: { ops: OpTable } }, nodeIndex: number): boolean {
  if (!plan.inPlaceNodes.has(nodeIndex)) return false;
  const node = g.nodes[nodeIndex];
  const wider = widerScratchOf(g, plan.options.ops, node);
  const scratch = plan.placements.get(scratchId(plan.order.indexOf(nodeIndex)));
  return wider !== undefined && scratch !== undefined && scratch.bytes >= wider;
}

/** The scratch of the node's faster in-place form, if its op has one for this node. */
function widerScratchOf(g: Graph, ops: OpTable, node: Graph['nodes'][number]): number | undefined {
  return opDefOf(ops, node).inPlaceVariant?.(node as never, g)?.widerScratchBytes;
}
