import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { AnyNode, Graph } from '../graph/graph.js';
import type { OpDef } from '../ops/op.js';
import { OPS } from '../ops/registry.js';
import type { MemoryPlan, PlanOptions } from './memory_plan.js';
import { planMemory } from './memory_plan.js';
import { NO_TRICKS } from './options.js';

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
  node: number;
  op: string;
  liveBytes: number;
  outputBytes: number;
  macs: number;
  inPlace: string | null;
}

export interface PlanSummary {
  model: string;
  /** The chosen plan's arena: the SRAM the model needs for activations. */
  peakBytes: number;
  lowerBound: number;
  strategy: string;
  /** TFLite Micro's arena for this model where a reference manifest knows it. */
  tflmArenaBytes: number | null;
  /** Greedy by size with no reuse tricks: what TFLite Micro's planner would do with our lifetimes. */
  baselineBytes: number;
  rows: PlanRow[];
  steps: StepRow[];
  peakStep: number;
  totalMacs: number;
  aliases: number;
  inPlaceNodes: number;
  buffers: { id: number; label: string; offset: number; bytes: number; first: number; last: number; profile?: number[] }[];
}

function macsOf(g: Graph, nodeIndex: number): number {
  const n = g.nodes[nodeIndex] as AnyNode;
  return (OPS[n.op] as OpDef).macs(n as never, g);
}

/** Rows for every strategy the plan tried (its order), the chosen one marked. */
export function strategyRows(plan: MemoryPlan): PlanRow[] {
  const rows = plan.candidates.map((c) => ({
    name: `${c.strategy}${c.order === 'reordered' ? ' (reordered)' : ''}`,
    arenaBytes: c.arenaBytes,
    lowerBound: c.lowerBound,
    extraMacs: 0,
    provenOptimal: c.provenOptimal,
    note: c.note ?? '',
    chosen: false,
  }));
  const chosen = plan.candidates.findIndex((c) => c.arenaBytes === plan.arenaBytes && c.strategy === plan.strategy);
  if (chosen >= 0) rows[chosen].chosen = true;
  return rows;
}

export function summarise(g: Graph, plan: MemoryPlan, tflmArenaBytes: number | null, extraRows: PlanRow[] = []): PlanSummary {
  const baseline = planMemory(g, { ...NO_TRICKS, strategies: ['greedy-size'], ops: plan.options.ops });
  const steps = plan.order.map((nodeIndex, step) => {
    const n = g.nodes[nodeIndex];
    const outputBytes = n.outputs.reduce((s, o) => s + (plan.placements.get(o)?.bytes ?? 0), 0);
    return {
      step, node: nodeIndex, op: n.op, liveBytes: plan.liveBytes[step] ?? 0, outputBytes, macs: macsOf(g, nodeIndex),
      inPlace: plan.inPlaceNodes.get(nodeIndex)?.kind ?? (n.outputs.some((o) => plan.aliases.has(o)) ? 'alias' : null),
    };
  });
  const rows = [...strategyRows(plan), ...extraRows];
  const best = Math.min(...rows.map((r) => r.arenaBytes));
  if (extraRows.some((r) => r.chosen)) for (const r of rows) r.chosen = extraRows.includes(r) && r.chosen;
  return {
    model: g.name,
    peakBytes: rows.find((r) => r.chosen)?.arenaBytes ?? best,
    lowerBound: plan.lowerBound,
    strategy: plan.strategy,
    tflmArenaBytes,
    baselineBytes: baseline.arenaBytes,
    rows,
    steps,
    peakStep: plan.peakStep,
    totalMacs: steps.reduce((s, r) => s + r.macs, 0),
    aliases: plan.aliases.size,
    inPlaceNodes: plan.inPlaceNodes.size,
    buffers: plan.buffers.map((b) => ({ id: b.id, label: b.label, offset: b.offset, bytes: b.bytes, first: b.first, last: b.last, ...(b.profile ? { profile: b.profile } : {}) })),
  };
}

/**
 * TFLite Micro's arena for a model that has a reference manifest: ../vectors/<dir>/manifest.json beside
 * the models directory naming the same file (the layout of ../shared/). Null when there is none.
 */
export function tflmArenaFor(modelFile: string): number | null {
  const vectors = resolve(dirname(modelFile), '..', 'vectors');
  if (!existsSync(vectors)) return null;
  for (const d of readdirSync(vectors)) {
    const f = join(vectors, d, 'manifest.json');
    if (!existsSync(f)) continue;
    try {
      const m = JSON.parse(readFileSync(f, 'utf8')) as { model?: string; tflm_reference?: { arena_used_bytes?: number } };
      if (m.model && basename(m.model) === basename(modelFile) && typeof m.tflm_reference?.arena_used_bytes === 'number') {
        return m.tflm_reference.arena_used_bytes;
      }
    } catch {
      // A manifest we cannot read just gives no reference figure.
    }
  }
  return null;
}

export type { PlanOptions };
