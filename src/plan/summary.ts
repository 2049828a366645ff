import type { AnyNode, Graph } from '../graph/graph.js';
import { tensorBytes } from '../graph/graph.js';
import type { OpDef } from '../ops/op.js';
import { OPS } from '../ops/registry.js';
import type { MemoryPlan } from './memory_plan.js';
import { planMemory } from './memory_plan.js';
import { NO_TRICKS } from './options.js';
import type { PatchSearchResult } from './patch/search.js';

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
  /** TFLite Micro's arena for this model where a reference manifest knows it. */
  tflmArenaBytes: number | null;
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
  /** PAD/PADV2 nodes folded into the next convolution before planning (`tinyml plan --fuse-pad`); absent: not asked. */
  fusedPads?: number;
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
    };
  });
}

/**
 * What `tinyml plan` reports: every layer-wise strategy, the patch-based plan if one was found, and the
 * chosen plan (the smallest arena; a patch plan only when it beats layer-by-layer) step by step.
 */
/**
 * `model` is the graph the plans were made for; `unfused` (default `model`) the model as stored, which the
 * no-tricks baseline is planned over (PAD fusion is a reuse trick too).
 */
export function summarise(model: Graph, layerwise: MemoryPlan, search: PatchSearchResult | null, tflmArenaBytes: number | null, patchNote = '', unfused: Graph = model): PlanSummary {
  const baseline = planMemory(unfused, { ...NO_TRICKS, strategies: ['greedy-size'], ops: layerwise.options.ops });
  const rows = strategyRows(layerwise);
  const best = search?.best ?? null;
  let chosen: MemoryPlan = layerwise;
  let note = patchNote;
  if (best) {
    const p = best.patch;
    const wins = best.arenaBytes < layerwise.arenaBytes;
    rows.push({
      name: `patch ${p.n}x${p.n}, nodes ${p.firstNode}..${p.lastNode} (${best.strategy})`,
      arenaBytes: best.arenaBytes, lowerBound: best.lowerBound, extraMacs: p.extraMacs, provenOptimal: false,
      note: wins ? '' : 'not below layer-wise: not chosen', chosen: false,
    });
    if (wins) chosen = best;
  } else if (search && !note) {
    note = search.candidates.some((c) => c.arenaBytes !== null) ? 'no patch plan beats layer-by-layer' : 'no split under the MACs cap';
  }
  const chosenRow = chosen === layerwise
    ? rows.findIndex((r) => r.arenaBytes === layerwise.arenaBytes && r.extraMacs === 0)
    : rows.length - 1;
  rows[chosenRow].chosen = true;
  const g = chosen.patch?.graph ?? model;
  const st = steps(g, chosen);
  return {
    model: model.name,
    peakBytes: chosen.arenaBytes,
    lowerBound: chosen.lowerBound,
    strategy: chosen.patch ? `patch ${chosen.patch.n}x${chosen.patch.n} + ${chosen.strategy}` : chosen.strategy,
    tflmArenaBytes,
    baselineBytes: baseline.arenaBytes,
    layerwiseBytes: layerwise.arenaBytes,
    patch: best ? {
      n: best.patch.n, firstNode: best.patch.firstNode, lastNode: best.patch.lastNode,
      splitTensor: model.tensors[best.patch.splitTensor].name, extraMacs: best.patch.extraMacs, arenaBytes: best.arenaBytes,
    } : null,
    patchNote: note,
    rows,
    steps: st,
    layers: layers(model, chosen, st),
    peakStep: chosen.peakStep,
    totalMacs: model.nodes.reduce((s, n) => s + macsOf(model, n.index), 0),
    aliases: chosen.aliases.size,
    inPlaceNodes: chosen.inPlaceNodes.size,
    buffers: chosen.buffers.map((b) => ({ id: b.id, label: b.label, offset: b.offset, bytes: b.bytes, first: b.first, last: b.last, ...(b.profile ? { profile: b.profile } : {}) })),
  };
}
