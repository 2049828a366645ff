import type { Board } from '../../src/boards/boards.js';
import { compileOptionsFrom } from '../../src/cli/compile_flags.js';
import type { CompiledModel } from '../../src/compiler/compile_model.js';
import { compileModel } from '../../src/compiler/compile_model.js';
import type { CompileOptions } from '../../src/compiler/options.js';
import type { MemoryPlan } from '../../src/plan/memory_plan.js';
import { patchName } from '../../src/plan/memory_plan.js';
import { loadModelBytes } from '../../src/model_bytes.js';
import type { ModelReport } from '../../src/report/layers.js';
import { modelReport } from '../../src/report/layers.js';
import type { PlanSummary } from '../../src/report/plan_summary.js';
import { summarise } from '../../src/report/plan_summary.js';

/**
 * What the page shows for one model on one board: the one compile pipeline, with the options the CLI
 * builds from `--board NAME`, so every figure is what `tinyml inspect` and `tinyml plan` print.
 */
export interface Analysis {
  compiled: CompiledModel;
  options: CompileOptions;
  board: Board;
  /** `tinyml inspect`'s rows and totals. */
  report: ModelReport;
  /** `tinyml plan`'s summary. */
  summary: PlanSummary;
  /** Memory over execution steps of the layer-wise and the patch-based plan (null when there is none). */
  timelines: { layerwise: Timeline; patch: Timeline | null };
}

export interface Timeline {
  label: string;
  liveBytes: number[];
  arenaBytes: number;
  peakStep: number;
  chosen: boolean;
}

function timeline(label: string, plan: MemoryPlan, chosen: boolean): Timeline {
  return { label, liveBytes: plan.liveBytes, arenaBytes: plan.arenaBytes, peakStep: plan.peakStep, chosen };
}

/**
 * The chosen plan for its kind; for the other kind, the plan the pipeline weighed: the least-peak
 * layer-wise plan, or the patch search's best.
 */
function timelines(c: CompiledModel): Analysis['timelines'] {
  const patchBest = c.patchSearch?.best ?? null;
  const layerwise = c.kind === 'layer-wise' ? timeline(`layer-wise (${c.plan.strategy})`, c.plan, true) : timeline(`layer-wise (${c.layerwise.strategy})`, c.layerwise, false);
  let patch: Timeline | null = null;
  if (c.kind === 'patch-based' && c.patch) patch = timeline(`patch-based ${patchName(c.patch)}, nodes ${c.patch.firstNode}..${c.patch.lastNode}`, c.plan, true);
  else if (patchBest?.patch) patch = timeline(`patch-based ${patchName(patchBest.patch)}, nodes ${patchBest.patch.firstNode}..${patchBest.patch.lastNode} (not chosen)`, patchBest, false);
  return { layerwise, patch };
}

/** Load (ModelFormatError / UnsupportedOpError on a bad model), compile for the board, and report. */
export function analyse(bytes: Uint8Array, modelName: string, boardName: string): Analysis {
  const options = compileOptionsFrom({ board: boardName });
  const compiled = compileModel(loadModelBytes(bytes, modelName), options);
  return {
    compiled, options, board: options.board!,
    report: modelReport(compiled.graph, compiled.plan),
    summary: summarise(compiled),
    timelines: timelines(compiled),
  };
}
