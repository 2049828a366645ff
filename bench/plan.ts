import { patchName } from '../src/plan/memory_plan.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../src/model.js';
import { compileModel } from '../src/compiler/compile_model.js';
import { planMemory } from '../src/plan/memory_plan.js';
import { NO_TRICKS } from '../src/plan/options.js';
import type { BenchManifest } from './shared.js';
import { SHARED, benchManifests } from './shared.js';
import { tflmM4Figures } from './references.js';
import { int as n } from '../src/report/format.js';

/** One model's memory plans, from TFLite Micro's figure down to what `tinyml plan` chooses by default. */
export interface PlanBenchRow {
  model: string;
  tflmArenaBytes: number;
  /** Greedy by size, no reuse tricks: TFLite Micro's planner on our lifetimes. */
  greedyBytes: number;
  /** Best packing of the strategies, layer by layer, no reuse tricks. */
  layerwiseBytes: number;
  layerwiseStrategy: string;
  /** `--objective speed`: layer by layer with every trick that costs no speed. */
  speedBytes: number;
  /** Least layer-wise peak: every trick, slower in-place kernels only where they lower the peak. */
  leastLayerwiseBytes: number;
  slowInPlace: number;
  /** Lower bound (max live bytes) of the least layer-wise plan's buffers. */
  lowerBound: number;
  /** `--objective memory`: the smallest peak of every plan weighed (patch-based included). */
  smallestBytes: number;
  smallestPatch: { n: number; cols: number; firstNode: number; lastNode: number; extraMacsPercent: number } | null;
  /** What `tinyml plan` / `inspect` / `compile` without a board choose: the least peak x estimated time. */
  defaultBytes: number;
  defaultKind: string;
  patch: { n: number; cols: number; firstNode: number; lastNode: number; extraMacsPercent: number } | null;
  milliseconds: number;
}

export function benchPlan(m: BenchManifest): PlanBenchRow {
  const g = loadModel(join(SHARED, m.model));
  const t0 = performance.now();
  const greedy = planMemory(g, 'greedy');
  const layerwise = planMemory(g, { ...NO_TRICKS });
  const byDefault = compileModel(g);
  const speed = compileModel(g, { objective: 'speed' });
  const least = compileModel(g, { patch: 'off', objective: 'memory' });
  const smallest = compileModel(g, { objective: 'memory' });
  const patchOf = (c: typeof byDefault) => {
    const p = c.patch;
    return p ? { n: p.n, cols: p.cols, firstNode: p.firstNode, lastNode: p.lastNode, extraMacsPercent: (100 * p.extraMacs) / Math.max(1, c.patchSearch?.totalMacs ?? 1) } : null;
  };
  return {
    model: m.id,
    tflmArenaBytes: tflmM4Figures().get(m.id)?.arenaBytes ?? m.tflm_reference.arena_used_bytes,
    greedyBytes: greedy.arenaBytes,
    layerwiseBytes: layerwise.arenaBytes,
    layerwiseStrategy: layerwise.strategy,
    speedBytes: speed.plan.arenaBytes,
    leastLayerwiseBytes: least.plan.arenaBytes,
    slowInPlace: least.kernels.filter((k) => k.variant === 'in-place depthwise').length,
    lowerBound: least.plan.lowerBound,
    smallestBytes: smallest.plan.arenaBytes,
    smallestPatch: patchOf(smallest),
    defaultBytes: byDefault.plan.arenaBytes,
    defaultKind: byDefault.kind,
    patch: patchOf(byDefault),
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
    '| model | TFLM arena | greedy by size, no tricks | best packing, no tricks (strategy) | `--objective speed` | least layer-wise (slow in-place DW layers) | lower bound | smallest (`--objective memory`) | **default** (`tinyml plan`) | default / TFLM |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  const plan = (bytes: number, p: PlanBenchRow['patch'], bold: boolean) => {
    const b = bold ? `**${n(bytes)}**` : n(bytes);
    return p ? `${b} (${patchName(p)}, nodes ${p.firstNode}..${p.lastNode}, ${p.extraMacsPercent >= 0 ? '+' : ''}${p.extraMacsPercent.toFixed(1)} % MACs)` : `${b} (layer-wise)`;
  };
  for (const x of rows) {
    lines.push(`| ${x.model} | ${n(x.tflmArenaBytes)} | ${n(x.greedyBytes)} | ${n(x.layerwiseBytes)} (${x.layerwiseStrategy}) | ${n(x.speedBytes)} | ${n(x.leastLayerwiseBytes)} (${x.slowInPlace}) | ${n(x.lowerBound)} | ${plan(x.smallestBytes, x.smallestPatch, false)} | ${plan(x.defaultBytes, x.patch, true)} | ${r(x.defaultBytes, x.tflmArenaBytes)} |`);
  }
  lines.push('', 'TFLM arena: ../shared/README.md ("Measured here", 32-bit arena_used_bytes) where listed, else the vector manifest.');
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(planTable(benchPlans()));
}
