import type { Graph } from '../graph/graph.js';
import { UnsupportedOpError } from '../errors.js';
import { OPS } from '../ops/registry.js';
import type { MemoryPlan } from './memory_plan.js';
import type { OpTable } from './options.js';
import { opDefOf } from './options.js';

/**
 * Refuse a plan the kernels cannot run: one that puts a node in place through a variant its kernel does
 * not offer (a plan made for projections with `withInPlaceVariants`), or a patch-based plan given the
 * original graph instead of its rewritten one. Elementwise in-place needs nothing
 * from the kernel beyond `OpDef.inPlace`, and aliases nothing at all.
 */
export function assertRunnable(g: Graph, plan: MemoryPlan, ops: OpTable = OPS): void {
  if (plan.patch && plan.patch.graph !== g) {
    throw new Error('a patch-based plan runs on its own graph: new Interpreter(plan.patch.graph, { plan })');
  }
  for (const [nodeIndex, d] of plan.inPlaceNodes ?? new Map()) {
    if (d.kind !== 'depthwise' && d.kind !== 'pad') continue;
    const node = g.nodes[nodeIndex];
    if (!opDefOf(ops, node).inPlaceVariant) {
      throw new UnsupportedOpError(node.op, nodeIndex, `the plan runs it in place (${d.kind}) but its kernel has no in-place variant`);
    }
  }
}
