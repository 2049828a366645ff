import type { AnyNode, Graph } from '../graph/graph.js';
import { tensorBytes } from '../graph/graph.js';
import type { OpDef } from '../ops/op.js';
import { OPS } from '../ops/registry.js';
import type { MemoryPlan } from '../plan/memory_plan.js';
import { patchName, planMemory } from '../plan/memory_plan.js';
import { NO_TRICKS } from '../plan/options.js';
import type { CompiledModel } from '../compiler/compile_model.js';
import { modelMacs } from '../compiler/compile_model.js';
import type { KernelChoice } from '../compiler/kernels.js';

/** One way of running the model, as `tinyml plan` lists them. */
export interface PlanRow {
  name: string;
  /** Arena bytes: the peak SRAM for activations and scratch. */
  arenaBytes: number;
  /** The live-bytes bound of the buffers this row packs. */
  lowerBound: number;
  /** MACs beyond one layer-by-layer run (patch-based recomputation); 0 for layer-wise plans. */
  extraMacs: number;
  provenOptimal: boolean;
  note: string;
  chosen: boolean;
}

export interface StepRow {
  step: number;
  /** Node index in the plan's graph (the rewritten one for a patch-based plan). */
  node: number;
  op: string;
  liveBytes: number;
  outputBytes: number;
  macs: number;
  /** How the node shares memory ('alias', 'elementwise', 'depthwise', …), or null. */
  inPlace: string | null;
  /** The model layer (node of the prepared graph) this step computes; null for a patch plan's slicing and joining. */
  layer: number | null;
}

/** One layer of the model: in a patch-based plan, the largest live bytes over all its patches' steps. */
export interface LayerMemoryRow {
  node: number;
  op: string;
  liveBytes: number;
  outputBytes: number;
  macs: number;
  /** Run patch by patch. */
  patched: boolean;
}

export interface PatchSummary {
  n: number;
  /** n (tiles) or 1 (strips with row caches). */
  cols: number;
  /** As reports print it: '4x4 patches', '12x1 strips (row caches)'. */
  name: string;
  firstNode: number;
  lastNode: number;
  splitTensor: string;
  extraMacs: number;
  arenaBytes: number;
}

export interface PlanSummary {
  model: string;
  /** The chosen plan's arena: the SRAM the model needs for activations. */
  peakBytes: number;
  /** Lower bound of the chosen plan's buffers. */
  lowerBound: number;
  strategy: string;
  /** An arena to compare with (e.g. TFLite Micro's for this model), given by the user; null when none. */
  referenceArenaBytes: number | null;
  /** What chose among the plans: memory, speed, or the fastest that fits the board. */
  objective: CompiledModel['objective'];
  /** Greedy by size with no reuse tricks: what TFLite Micro's planner would do with our lifetimes. */
  baselineBytes: number;
  /** The best layer-by-layer plan. */
  layerwiseBytes: number;
  /** The patch-based plan found (chosen or not), null when none was searched or none beat layer-wise. */
  patch: PatchSummary | null;
  /** Why there is no patch-based plan (search off, nothing under the MACs cap, nothing better). */
  patchNote: string;
  rows: PlanRow[];
  /** Steps of the chosen plan. */
  steps: StepRow[];
  /** Layers of the model (what the per-layer bars show). */
  layers: LayerMemoryRow[];
  peakStep: number;
  totalMacs: number;
  aliases: number;
  inPlaceNodes: number;
  /** PAD/PADV2 nodes folded into the next convolution before planning (`--fuse-pad`). */
  fusedPads: number;
  /** The kernel variant of every step, and why. */
  kernels: KernelChoice[];
  buffers: { id: number; label: string; offset: number; bytes: number; first: number; last: number; profile?: number[] }[];
}

function macsOf(g: Graph, nodeIndex: number): number {
  const n = g.nodes[nodeIndex] as AnyNode;
  return (OPS[n.op] as OpDef).macs(n as never, g);
}

/** Rows for every strategy the plan tried. */
export function strategyRows(plan: MemoryPlan): PlanRow[] {
  return plan.candidates.map((c) => ({
    name: `${c.strategy}${c.order === 'reordered' ? ' (reordered)' : ''}`,
    arenaBytes: c.arenaBytes,
    lowerBound: c.lowerBound,
    extraMacs: 0,
    provenOptimal: c.provenOptimal,
    note: c.note ?? '',
    chosen: false,
  }));
}

/**
 * Per model layer: a layer-wise plan's steps as they are; a patch plan's steps folded onto the layer they
 * compute (slices and pads go with the op after them, joins with the op before).
 */
function layers(model: Graph, plan: MemoryPlan, st: StepRow[]): LayerMemoryRow[] {
  // `model`: the graph patch origins refer to (PADs fused, before the patch rewrite).
  const origin = plan.patch?.origin;
  const live = new Map<number, number>();
  const patched = new Set<number>();
  st.forEach((r, k) => {
    let o = origin ? origin[r.node] : r.node;
    if (o < 0) {
      const dir = r.op === 'CONCATENATION' ? -1 : 1;
      for (let j = k + dir; j >= 0 && j < st.length && o < 0; j += dir) o = origin![st[j].node];
    }
    if (o < 0) return;
    live.set(o, Math.max(live.get(o) ?? 0, r.liveBytes));
    if (origin && plan.patch && plan.patch.firstNode <= o && o <= plan.patch.lastNode) patched.add(o);
  });
  return model.nodes.map((n) => ({
    node: n.index,
    op: n.op,
    liveBytes: live.get(n.index) ?? 0,
    outputBytes: n.outputs.reduce((s, o) => s + tensorBytes(model.tensors[o]), 0),
    macs: macsOf(model, n.index),
    patched: patched.has(n.index),
  }));
}

function steps(g: Graph, plan: MemoryPlan): StepRow[] {
  return plan.order.map((nodeIndex, step) => {
    const n = g.nodes[nodeIndex];
    const outputBytes = n.outputs.reduce((s, o) => s + (plan.placements.get(o)?.bytes ?? 0), 0);
    return {
      step, node: nodeIndex, op: n.op, liveBytes: plan.liveBytes[step] ?? 0, outputBytes, macs: macsOf(g, nodeIndex),
      inPlace: plan.inPlaceNodes.get(nodeIndex)?.kind ?? (n.outputs.some((o) => plan.aliases.has(o)) ? 'alias' : null),
      layer: plan.patch ? (plan.patch.origin[nodeIndex] >= 0 ? plan.patch.origin[nodeIndex] : null) : nodeIndex,
    };
  });
}

/**
 * What `tinyml plan` reports for a compiled model: every layer-wise packing strategy, the plans the
 * pipeline weighed (fastest, least peak, patch-based) and the chosen one step by step.
 */
export function summarise(c: CompiledModel, referenceArenaBytes: number | null = null): PlanSummary {
  const baseline = planMemory(c.model, { ...NO_TRICKS, strategies: ['greedy-size'], ops: c.layerwise.options.ops });
  const rows = strategyRows(c.layerwise);
  const macs = modelMacs(c.model);
  // Estimated times relative to the fastest plan weighed (the estimate weighs MACs by kernel, so it is no MAC count).
  const fastest = Math.max(1, Math.min(...c.candidates.map((x) => x.cost)));
  for (const cand of c.candidates) {
    rows.push({
      name: cand.name, arenaBytes: cand.arenaBytes, lowerBound: cand.kind === 'layer-wise' ? c.layerwise.lowerBound : 0,
      extraMacs: cand.extraMacs, provenOptimal: false,
      note: `est. time ${(cand.cost / fastest).toFixed(2)}x fastest`, chosen: cand.chosen,
    });
  }
  // The patch plan to describe: the one run, else the search's smallest.
  const best = c.plan.patch ? (c.plan as typeof c.plan & { patch: NonNullable<typeof c.plan.patch> }) : c.patchSearch?.best ?? null;
  const chosen = c.plan;
  const st = steps(c.graph, chosen);
  return {
    model: c.model.name,
    peakBytes: chosen.arenaBytes,
    lowerBound: chosen.lowerBound,
    strategy: chosen.patch ? `patch ${chosen.patch.n}x${chosen.patch.cols} + ${chosen.strategy}` : chosen.strategy,
    objective: c.objective,
    referenceArenaBytes,
    baselineBytes: baseline.arenaBytes,
    layerwiseBytes: c.layerwise.arenaBytes,
    patch: best ? {
      n: best.patch.n, cols: best.patch.cols, name: patchName(best.patch), firstNode: best.patch.firstNode, lastNode: best.patch.lastNode,
      splitTensor: c.prepared.tensors[best.patch.splitTensor]?.name ?? String(best.patch.splitTensor), extraMacs: best.patch.extraMacs,
      arenaBytes: c.plan.patch ? c.plan.arenaBytes : c.candidates.find((x) => x.kind === 'patch-based')?.arenaBytes ?? best.arenaBytes,
    } : null,
    patchNote: c.patchNote,
    rows,
    steps: st,
    layers: layers(c.prepared, chosen, st),
    peakStep: chosen.peakStep,
    totalMacs: macs,
    aliases: chosen.aliases.size,
    inPlaceNodes: chosen.inPlaceNodes.size,
    fusedPads: c.fusedPads,
    kernels: c.kernels,
    buffers: chosen.buffers.map((b) => ({ id: b.id, label: b.label, offset: b.offset, bytes: b.bytes, first: b.first, last: b.last, ...(b.profile ? { profile: b.profile } : {}) })),
  };
}
