import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../src/model.js';
import { OPS } from '../src/ops/registry.js';
import { planMemory } from '../src/plan/memory_plan.js';
import { NO_TRICKS } from '../src/plan/options.js';
import { searchPatchPlan } from '../src/plan/patch/search.js';
import type { BenchManifest } from './shared.js';
import { SHARED, benchManifests } from './shared.js';
import { int as n } from '../src/report/format.js';

/** One model's memory plans, from TFLite Micro's figure down to the lower bound. */
export interface PlanBenchRow {
  model: string;
  tflmArenaBytes: number;
  /** Greedy by size, no reuse tricks: TFLite Micro's planner on our lifetimes. */
  greedyBytes: number;
  /** Best packing of the strategies, layer by layer, no reuse tricks. */
  layerwiseBytes: number;
  layerwiseStrategy: string;
  /** Best packing with every trick the kernels support today (aliases, in-place elementwise, edge quantize, reorder). */
  inPlaceBytes: number;
  inPlaceStrategy: string;
  /** Lower bound (max live bytes) of the in-place plan's buffers. */
  lowerBound: number;
  /** With in-place DEPTHWISE_CONV_2D and PAD as well: a projection until those kernel variants land. */
  projectedBytes: number;
  projectedLowerBound: number;
  /** Patch-based (MCUNetV2) under a 20 % extra-MACs cap, with today's kernels; null when it does not beat layer-wise. */
  patch: { arenaBytes: number; n: number; firstNode: number; lastNode: number; extraMacs: number; extraMacsPercent: number } | null;
  /** The same search with the projected in-place DEPTHWISE_CONV_2D and PAD. */
  patchProjectedBytes: number | null;
  milliseconds: number;
}

export function benchPlan(m: BenchManifest): PlanBenchRow {
  const g = loadModel(join(SHARED, m.model));
  const t0 = performance.now();
  const greedy = planMemory(g, 'greedy');
  const layerwise = planMemory(g, { ...NO_TRICKS });
  const inPlace = planMemory(g, {});
  const projected = planMemory(g, { ops: OPS });
  const search = searchPatchPlan(g, {});
  const searchProjected = searchPatchPlan(g, { ops: OPS });
  const p = search.best?.patch;
  return {
    model: m.id,
    tflmArenaBytes: m.tflm_reference.arena_used_bytes,
    greedyBytes: greedy.arenaBytes,
    layerwiseBytes: layerwise.arenaBytes,
    layerwiseStrategy: layerwise.strategy,
    inPlaceBytes: inPlace.arenaBytes,
    inPlaceStrategy: inPlace.strategy,
    lowerBound: inPlace.lowerBound,
    projectedBytes: projected.arenaBytes,
    projectedLowerBound: projected.lowerBound,
    patch: p && search.best ? {
      arenaBytes: search.best.arenaBytes, n: p.n, firstNode: p.firstNode, lastNode: p.lastNode, extraMacs: p.extraMacs,
      extraMacsPercent: (100 * p.extraMacs) / search.totalMacs,
    } : null,
    patchProjectedBytes: searchProjected.best?.arenaBytes ?? null,
    milliseconds: performance.now() - t0,
  };
}

export function benchPlans(): PlanBenchRow[] {
  return benchManifests().map(benchPlan);
}

function r(a: number, b: number): string {
  return `${(a / b).toFixed(2)}`;
}

/** The Markdown table for the README. */
export function planTable(rows: readonly PlanBenchRow[]): string {
  const lines = [
    '| model | TFLM arena | greedy by size | best layer-wise (strategy) | + in-place, aliases | lower bound | patch-based (n, nodes, extra MACs) | best / TFLM | projected: + in-place DW/PAD, layer-wise / patch |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const x of rows) {
    const patch = x.patch ? `${n(x.patch.arenaBytes)} (${x.patch.n}x${x.patch.n}, ${x.patch.firstNode}..${x.patch.lastNode}, +${x.patch.extraMacsPercent.toFixed(1)} %)` : '–';
    const best = Math.min(x.inPlaceBytes, x.patch?.arenaBytes ?? Infinity);
    const proj = `${n(x.projectedBytes)} / ${x.patchProjectedBytes !== null ? n(x.patchProjectedBytes) : '–'}`;
    lines.push(`| ${x.model} | ${n(x.tflmArenaBytes)} | ${n(x.greedyBytes)} | ${n(x.layerwiseBytes)} (${x.layerwiseStrategy}) | ${n(x.inPlaceBytes)} | ${n(x.lowerBound)} | ${patch} | ${r(best, x.tflmArenaBytes)} | ${proj} |`);
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(planTable(benchPlans()));
}
