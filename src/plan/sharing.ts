import type { AnyNode, Graph, Node, TensorId } from '../graph/graph.js';
import { activationIds, isVariable, numElements, tensorBytes } from '../graph/graph.js';
import { DTYPE_BYTES } from '../graph/dtype.js';
import type { InPlaceTrick } from '../ops/op.js';
import { ARENA_ALIGN } from './align.js';
import type { BufferRequest } from './lifetimes.js';
import { scratchId, tensorLifetimes } from './lifetimes.js';
import type { ResolvedPlanOptions, ReuseOptions, OpTable } from './options.js';
import { opDefOf, scratchBytesOf } from './options.js';

/** How a node writes its output over its input. */
export type InPlaceKind = 'elementwise' | 'depthwise' | 'pad' | 'pointwise' | 'edge-quantize' | 'concat';

export interface InPlaceDecision {
  kind: InPlaceKind;
  /**
   * The input whose memory the output takes (same offset); it dies at this node. For 'concat', the first
   * input: every input already sits where the output puts it, so the copy moves nothing.
   */
  input: TensorId;
  output: TensorId;
  /** Scratch the kernel needs in this mode (one channel's plane for depthwise). */
  scratchBytes: number;
}

/** Which tensors share memory, decided over one execution order. */
export interface Sharing {
  /** RESHAPE/SQUEEZE output -> input: same bytes, no copy. */
  aliases: Map<TensorId, TensorId>;
  /** Node index -> the in-place decision for it. */
  inPlaceNodes: Map<number, InPlaceDecision>;
  /** Tensor -> its group's id (the first tensor of the group): a group is one arena buffer. */
  groupOf: Map<TensorId, TensorId>;
  /** Tensor -> its byte offset inside its group (concatenation inputs; 0 for everything else). */
  memberOffset: Map<TensorId, number>;
}

/**
 * Concatenation in place: when every dimension before the axis is 1, each input is one contiguous block
 * of the output, so the inputs can be produced right where the output will hold them and the copy moves
 * nothing. Inputs must be plain copies (same dtype and quantisation, no activation) and share with nothing.
 */
function concatSlots(node: Node<'CONCATENATION'>, g: Graph, isActivation: (id: TensorId) => boolean, inputs: Set<TensorId>): number[] | null {
  if (node.options.activation !== 'NONE') return null;
  const out = g.tensors[node.outputs[0]];
  const rank = out.shape.length;
  const axis = node.options.axis < 0 ? node.options.axis + rank : node.options.axis;
  if (out.shape.slice(0, axis).some((d) => d !== 1)) return null;
  const ids = node.inputs;
  if (new Set(ids).size !== ids.length) return null;
  const sameQuant = (a: TensorId): boolean => {
    const t = g.tensors[a];
    if (t.dtype !== out.dtype) return false;
    if (!t.quant || !out.quant) return t.quant === out.quant;
    return t.quant.scale.length === 1 && out.quant.scale.length === 1 && t.quant.scale[0] === out.quant.scale[0] && t.quant.zeroPoint[0] === out.quant.zeroPoint[0];
  };
  if (!ids.every((id) => isActivation(id) && !inputs.has(id) && sameQuant(id))) return null;
  const slots: number[] = [];
  let offset = 0;
  for (const id of ids) {
    // Every buffer starts on the arena's alignment; a slot that would not stays a copy.
    if (offset % ARENA_ALIGN !== 0) return null;
    slots.push(offset);
    offset += tensorBytes(g.tensors[id]);
  }
  return offset === tensorBytes(out) ? slots : null;
}

const TRICK_KIND: Readonly<Record<InPlaceTrick, InPlaceKind>> = { inPlaceDepthwise: 'depthwise', inPlacePad: 'pad', inPlacePointwise: 'pointwise' };

class Groups {
  readonly parent = new Map<TensorId, TensorId>();
  readonly members = new Map<TensorId, TensorId[]>();
  constructor(ids: TensorId[]) {
    for (const id of ids) {
      this.parent.set(id, id);
      this.members.set(id, [id]);
    }
  }
  root(id: TensorId): TensorId {
    let r = id;
    while (this.parent.get(r) !== r) r = this.parent.get(r)!;
    return r;
  }
  /** Moves `joining`'s group into `into`'s. */
  join(into: TensorId, joining: TensorId): void {
    const a = this.root(into);
    const b = this.root(joining);
    if (a === b) return;
    this.parent.set(b, a);
    this.members.get(a)!.push(...this.members.get(b)!);
    this.members.delete(b);
  }
}

/**
 * Decide aliases and in-place writes over `order`, walking it once. An output may take an input's memory
 * only when nothing reads that memory afterwards: the input's whole group (its aliases and earlier
 * in-place outputs) has its last use at this node and holds no graph output.
 */
export function decideSharing(g: Graph, order: readonly number[], opts: ReuseOptions & Pick<ResolvedPlanOptions, 'overlays' | 'standardKernels' | 'peakOnlyAt'>, ops: OpTable): Sharing {
  const ids = activationIds(g);
  const life = new Map(tensorLifetimes(g, order).map((r) => [r.id, r]));
  const groups = new Groups(ids);
  const outputs = new Set(g.outputs);
  const aliases = new Map<TensorId, TensorId>();
  const inPlaceNodes = new Map<number, InPlaceDecision>();
  const memberOffset = new Map<TensorId, number>();
  const graphInputs = new Set(g.inputs);
  // State tensors keep their bytes between invokes: never aliased, overlaid or written over.
  const isActivation = (id: TensorId | undefined): id is TensorId => id !== undefined && id >= 0 && life.has(id) && !isVariable(g.tensors[id]);
  const diesAt = (id: TensorId, step: number): boolean =>
    groups.members.get(groups.root(id))!.every((m) => !outputs.has(m) && life.get(m)!.last <= step);

  order.forEach((nodeIndex, step) => {
    const node = g.nodes[nodeIndex] as AnyNode;
    const outs = node.outputs.filter(isActivation);
    if (outs.length !== 1 || node.outputs.length !== 1) return;
    const out = outs[0];
    const outT = g.tensors[out];
    const in0 = node.inputs[0];
    const def = opDefOf(ops, node);
    if (def.role === 'alias') {
      if (opts.aliasReshape && isActivation(in0) && tensorBytes(g.tensors[in0]) === tensorBytes(outT)) {
        groups.join(in0, out);
        aliases.set(out, in0);
        memberOffset.set(out, memberOffset.get(in0) ?? 0);
      }
      return;
    }
    if (def.role === 'concat') {
      const slots = opts.inPlaceConcat ? concatSlots(node as Node<'CONCATENATION'>, g, isActivation, graphInputs) : null;
      if (slots && node.inputs.every((id) => groups.members.get(groups.root(id))!.length === 1)) {
        node.inputs.forEach((id, k) => {
          groups.join(out, id);
          memberOffset.set(id, slots[k]);
        });
        inPlaceNodes.set(nodeIndex, { kind: 'concat', input: node.inputs[0], output: out, scratchBytes: 0 });
      }
      return;
    }
    const take = (input: TensorId, kind: InPlaceDecision['kind'], scratchBytes: number): void => {
      groups.join(input, out);
      memberOffset.set(out, memberOffset.get(input) ?? 0);
      inPlaceNodes.set(nodeIndex, { kind, input, output: out, scratchBytes });
    };
    // Elementwise: output element i depends on input element i only; a narrower output type is still safe
    // when the kernel reads element i before writing it (forward loop). Any activation input of the same
    // size may give its memory (ADD's second input as well as its first).
    const elementwiseFits = (id: TensorId): boolean => {
      const t = g.tensors[id];
      return numElements(t.shape) === numElements(outT.shape) && DTYPE_BYTES[outT.dtype] <= DTYPE_BYTES[t.dtype] && diesAt(id, step);
    };
    if (def.role === 'elementwise') {
      // Narrowing a float graph input (a float model's input QUANTIZE) is the edge-quantize trick; the rest is elementwise.
      const edge = (id: TensorId): boolean => graphInputs.has(id) && g.tensors[id].dtype === 'float32' && outT.dtype !== 'float32';
      const allowed = (id: TensorId): boolean => (edge(id) ? opts.edgeQuantize : opts.inPlaceElementwise);
      const chosen = node.inputs.find((id) => isActivation(id) && allowed(id) && elementwiseFits(id));
      if (chosen !== undefined) take(chosen, edge(chosen) ? 'edge-quantize' : 'elementwise', scratchBytesOf(ops, g, node));
      return;
    }
    if (!def.inPlaceVariant || opts.standardKernels?.has(nodeIndex) || !isActivation(in0) || !diesAt(in0, step)) return;
    const variant = def.inPlaceVariant(node as never, g);
    if (!variant || !opts[variant.trick] || (variant.peakOnly && !opts.peakOnlyAt?.has(nodeIndex))) return;
    take(in0, TRICK_KIND[variant.trick], variant.scratchBytes);
  });

  for (const o of opts.overlays ?? []) {
    if (!isActivation(o.tensor) || !isActivation(o.host) || groups.root(o.tensor) === groups.root(o.host)) continue;
    const shift = memberOffset.get(o.host) ?? 0;
    for (const m of groups.members.get(groups.root(o.tensor))!) memberOffset.set(m, (memberOffset.get(m) ?? 0) + shift);
    groups.join(o.host, o.tensor);
  }

  const groupOf = new Map<TensorId, TensorId>();
  for (const [root, members] of groups.members) for (const m of members) groupOf.set(m, Math.min(root, ...members));
  return { aliases, inPlaceNodes, groupOf, memberOffset };
}

/** Scratch bytes of the node at each step: the in-place mode's when the node runs in place. */
export function scratchPerStep(g: Graph, order: readonly number[], sharing: Sharing, ops: OpTable): number[] {
  return order.map((i) => sharing.inPlaceNodes.get(i)?.scratchBytes ?? scratchBytesOf(ops, g, g.nodes[i]));
}

/**
 * The buffers to pack: one per group (its lifetime the union of its members', its size at each step the
 * largest member live then) plus one per scratch. Also returns every tensor's own lifetime.
 */
export function groupRequests(g: Graph, order: readonly number[], sharing: Sharing, scratch: readonly number[]): { buffers: BufferRequest[]; tensors: BufferRequest[] } {
  const tensors = tensorLifetimes(g, order);
  const members = new Map<TensorId, BufferRequest[]>();
  for (const t of tensors) {
    const gid = sharing.groupOf.get(t.id) ?? t.id;
    members.set(gid, [...(members.get(gid) ?? []), t]);
  }
  const buffers: BufferRequest[] = [];
  for (const [id, ms] of [...members.entries()].sort((a, b) => a[0] - b[0])) {
    const first = Math.min(...ms.map((m) => m.first));
    const last = Math.max(...ms.map((m) => m.last));
    const top = (m: BufferRequest): number => (sharing.memberOffset.get(m.id) ?? 0) + m.bytes;
    const profile = Array.from({ length: last - first + 1 }, (_, k) =>
      Math.max(0, ...ms.filter((m) => m.first <= first + k && first + k <= m.last).map(top)));
    const bytes = Math.max(...profile);
    const label = ms.map((m) => m.label).join(' = ');
    buffers.push(profile.every((b) => b === bytes) ? { id, bytes, first, last, label } : { id, bytes, first, last, label, profile });
  }
  scratch.forEach((bytes, step) => {
    if (bytes > 0) buffers.push({ id: scratchId(step), bytes, first: step, last: step, label: `scratch of node ${order[step]}` });
  });
  return { buffers, tensors };
}
