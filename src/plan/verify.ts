import type { AnyNode, Graph, TensorId } from '../graph/graph.js';
import { activationIds, isVariable, tensorBytes } from '../graph/graph.js';
import { constInt32 } from '../ops/pad.js';
import { ARENA_ALIGN } from './align.js';
import { scratchId } from './lifetimes.js';
import type { MemoryPlan } from './memory_plan.js';
import type { Placement } from './placement.js';
import type { InPlaceDecision } from './sharing.js';

interface Read {
  step: number;
  /** Bytes of the tensor read, [lo, hi). */
  lo: number;
  hi: number;
}

/** The rows a STRIDED_SLICE of a 4-D batch-1 tensor reads (constant begin/end, unit strides, no masks); else all. */
function sliceRows(g: Graph, node: AnyNode, bytes: number): { lo: number; hi: number } {
  const all = { lo: 0, hi: bytes };
  if (node.op !== 'STRIDED_SLICE') return all;
  const o = node.options;
  const x = g.tensors[node.inputs[0]];
  const [begin, end, strides] = [1, 2, 3].map((k) => constInt32(g, node.inputs[k]));
  if (!begin || !end || !strides || x.shape.length !== 4 || x.shape[0] !== 1 || strides.some((v) => v !== 1)) return all;
  if (o.beginMask || o.endMask || o.ellipsisMask || o.newAxisMask || o.shrinkAxisMask || o.offset) return all;
  const rowBytes = bytes / x.shape[1];
  const lo = Math.max(0, begin[1]);
  const hi = Math.min(x.shape[1], end[1]);
  return hi > lo ? { lo: lo * rowBytes, hi: hi * rowBytes } : all;
}

/**
 * Where an in-place output may start over its input: at the input's first byte; for a pointwise
 * convolution, pixel p of the output must stand for pixel p of the input (same pixel count), which is what
 * lets its kernel overwrite only consumed pixels (forward when narrowing, backward when widening).
 */
function layoutOk(g: Graph, d: InPlaceDecision, outLo: number, input: Placement): boolean {
  if (outLo !== input.offset) return false;
  if (d.kind !== 'pointwise') return true;
  const x = g.tensors[d.input].shape, y = g.tensors[d.output].shape;
  const pixels = (s: readonly number[]): number => s.slice(0, 3).reduce((a, b) => a * b, 1);
  return x.length === 4 && y.length === 4 && pixels(x) === pixels(y);
}

/**
 * A brute-force check of a plan by simulating the memory traffic of one invocation, independent of how
 * the planner reasoned: at every step, the bytes the node writes (its outputs, its scratch) must not
 * hit bytes that are still to be read (an input of this node, anything read later — for a slice, just the
 * rows it reads —, a graph output) —
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
  // Every read of every tensor: at which step, and which bytes of it (a slice reads only its rows).
  const reads = new Map<TensorId, Read[]>();
  const addRead = (id: TensorId, r: Read): void => { reads.set(id, [...(reads.get(id) ?? []), r]); };
  const written = new Set<TensorId>(g.inputs);
  plan.order.forEach((nodeIndex, step) => {
    const node = g.nodes[nodeIndex] as AnyNode;
    node.inputs.forEach((i, k) => {
      if (i < 0) return;
      const bytes = tensorBytes(g.tensors[i]);
      addRead(i, { step, ...(k === 0 && node.op === 'STRIDED_SLICE' ? sliceRows(g, node, bytes) : { lo: 0, hi: bytes }) });
    });
  });
  for (const o of g.outputs) addRead(o, { step: nSteps, lo: 0, hi: tensorBytes(g.tensors[o]) });
  // State tensors hold their value from before the first step to after the last (the next invoke reads it).
  for (const id of ids) {
    if (!isVariable(g.tensors[id])) continue;
    written.add(id);
    addRead(id, { step: nSteps, lo: 0, hi: tensorBytes(g.tensors[id]) });
  }

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
      const p = place(id)!;
      for (const r of reads.get(id) ?? []) {
        if (r.step < step) continue;
        for (const w of writes) {
          if (!(p.offset + r.lo < w.hi && w.lo < p.offset + r.hi)) continue;
          // In place: the input (or an alias of it at the same offset) read here for the last time.
          const allowed = w.mayOverwrite !== null && p.offset === w.mayOverwrite.offset && r.step === step && layoutOk(g, inPlace!, w.lo, p)
            && (reads.get(id) ?? []).every((q) => q.step <= step);
          if (!allowed) errors.push(`step ${step} (node ${nodeIndex} ${node.op}): ${w.what} overwrites ${p.label}, still read at step ${r.step}`);
        }
      }
    }
    for (const o of node.outputs) written.add(o);
  });
  return errors;
}
