import type { AnyNode, Graph, TensorId } from '../graph/graph.js';
import { activationIds } from '../graph/graph.js';
import { ARENA_ALIGN } from './align.js';
import { scratchId } from './lifetimes.js';
import type { MemoryPlan } from './memory_plan.js';
import type { Placement } from './placement.js';

/**
 * A brute-force check of a plan by simulating the memory traffic of one invocation, independent of how
 * the planner reasoned: at every step, the bytes the node writes (its outputs, its scratch) must not
 * hit a value that is still to be read (an input of this node, anything read later, a graph output) —
 * except where the plan says the node runs in place over exactly that input and nothing reads it later.
 * Returns the violations, empty when the plan is sound.
 */
export function verifyPlan(g: Graph, plan: MemoryPlan): string[] {
  const errors: string[] = [];
  const place = (id: number): Placement | undefined => plan.placements.get(id);
  for (const p of plan.placements.values()) {
    if (p.offset % ARENA_ALIGN !== 0) errors.push(`${p.label}: offset ${p.offset} not aligned to ${ARENA_ALIGN}`);
    if (p.offset < 0 || p.offset + p.bytes > plan.arenaBytes) errors.push(`${p.label}: [${p.offset}, ${p.offset + p.bytes}) outside the arena of ${plan.arenaBytes}`);
  }
  const ids = activationIds(g);
  for (const id of ids) if (!place(id)) errors.push(`tensor ${id} (${g.tensors[id].name}) has no placement`);
  if (errors.length > 0) return errors;

  const nSteps = plan.order.length;
  const lastRead = new Map<TensorId, number>();
  const written = new Set<TensorId>(g.inputs);
  plan.order.forEach((nodeIndex, step) => {
    for (const i of g.nodes[nodeIndex].inputs) if (i >= 0) lastRead.set(i, step);
  });
  for (const o of g.outputs) lastRead.set(o, nSteps);
  const overlap = (a: Placement, lo: number, hi: number): boolean => a.offset < hi && lo < a.offset + a.bytes;

  plan.order.forEach((nodeIndex, step) => {
    const node = g.nodes[nodeIndex] as AnyNode;
    const inPlace = plan.inPlaceNodes.get(nodeIndex);
    const writes: { what: string; lo: number; hi: number; mayOverwrite: Placement | null }[] = [];
    if (inPlace?.kind === 'concat') {
      // In place only if every input already sits at its slot of the output: then the copy is the identity.
      const out = place(node.outputs[0])!;
      let slot = out.offset;
      for (const i of node.inputs) {
        const p = place(i)!;
        if (p.offset !== slot) errors.push(`step ${step} (node ${nodeIndex} CONCATENATION): input ${p.label} at ${p.offset}, its slot is ${slot}`);
        slot += p.bytes;
      }
      for (const o of node.outputs) written.add(o);
      return;
    }
    for (const o of node.outputs) {
      const p = place(o);
      if (!p) continue;
      const input = plan.aliases.get(o);
      // An alias at its input's offset is not a write: the kernel moves nothing.
      if (input !== undefined && place(input)!.offset === p.offset) continue;
      writes.push({ what: `output ${p.label}`, lo: p.offset, hi: p.offset + p.bytes, mayOverwrite: inPlace ? place(inPlace.input)! : null });
    }
    const scratch = place(scratchId(step));
    if (scratch) writes.push({ what: scratch.label, lo: scratch.offset, hi: scratch.offset + scratch.bytes, mayOverwrite: null });
    for (const id of ids) {
      if (!written.has(id) || node.outputs.includes(id)) continue;
      const reads = lastRead.get(id) ?? -1;
      if (reads < step) continue;
      const p = place(id)!;
      for (const w of writes) {
        if (!overlap(p, w.lo, w.hi)) continue;
        // In place: the input (or an alias of it at the same offset) read here for the last time.
        const allowed = w.mayOverwrite !== null && p.offset === w.mayOverwrite.offset && reads === step && w.lo === p.offset;
        if (!allowed) errors.push(`step ${step} (node ${nodeIndex} ${node.op}): ${w.what} overwrites ${p.label}, still read at step ${reads}`);
      }
    }
    for (const o of node.outputs) written.add(o);
  });
  return errors;
}
