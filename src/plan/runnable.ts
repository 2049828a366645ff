import type { AnyNode, Graph } from '../graph/graph.js';
import { UnsupportedOpError } from '../errors.js';
import { OPS } from '../ops/registry.js';
import type { MemoryPlan } from './memory_plan.js';
import type { OpTable } from './options.js';
import { opDefOf } from './options.js';
import { scratchId } from './lifetimes.js';

/**
 * Refuse a plan the kernels cannot run: one that puts a node in place (depthwise, PAD, pointwise) where the kernel
 * in `ops` has no in-place mode, where the node breaks the rule the kernel relies on (a plan made from a
 * fake op table), or without the scratch the mode needs; or a patch-based plan given the original graph
 * instead of its rewritten one. Elementwise in-place needs nothing from the kernel beyond `OpDef.inPlace`,
 * and aliases nothing at all.
 */
export function assertRunnable(g: Graph, plan: MemoryPlan, ops: OpTable = OPS): void {
  if (plan.patch && plan.patch.origin.length !== g.nodes.length) {
    throw new Error('a patch-based plan runs on its own graph (the rewritten one, CompiledModel.graph), not on the model');
  }
  const stepOf = new Map(plan.order.map((nodeIndex, step) => [nodeIndex, step]));
  for (const [nodeIndex, d] of plan.inPlaceNodes ?? new Map()) {
    if (d.kind !== 'depthwise' && d.kind !== 'pad' && d.kind !== 'pointwise') continue;
    const node = g.nodes[nodeIndex] as AnyNode;
    const rule = opDefOf(ops, node).inPlaceVariant;
    if (!rule) throw new UnsupportedOpError(node.op, nodeIndex, `the plan runs it in place (${d.kind}) but its kernel has no in-place variant`);
    const variant = rule(node as never, g);
    if (!variant) throw new UnsupportedOpError(node.op, nodeIndex, `the plan runs it in place (${d.kind}) but the node does not meet the in-place kernel's conditions`);
    const scratch = plan.placements.get(scratchId(stepOf.get(nodeIndex) ?? -1));
    if (variant.scratchBytes > 0 && (!scratch || scratch.bytes < variant.scratchBytes)) {
      throw new UnsupportedOpError(node.op, nodeIndex, `runs in place but the plan gives it ${scratch?.bytes ?? 0} bytes of scratch, not ${variant.scratchBytes}`);
    }
  }
}
