/**
 * The autotuner (`compile --autotune`): each layer's kernel variant picked by its measured cost, not by a
 * rule. Today a layer on a DSP target has two variants, int8 weights or weights split into 16-bit SMLAD
 * pairs (faster, twice the bytes); which layers deserve the split under a Flash budget depends on what the
 * split saves in each layer, and that varies with its shapes far more than MACs say (a first layer over RGB,
 * a 1x1 layer with few outputs per weight, a fully-connected row). So the project is built both ways for
 * the target's core under QEMU (`-icount`: instructions), each step counted by the runner's profile hook,
 * and the split set is the one that saves the most measured instructions within the budget (a knapsack).
 *
 * Counts are kept in a cache keyed by the step's generated C (its kernel, struct constants and weight
 * layout decide its instructions), written into the project as tinyml-tune.json: a later compile of the
 * same model reuses it and runs nothing.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Board } from '../boards/boards.js';
import { findBoard } from '../boards/boards.js';
import { InputError, TinymlError } from '../errors.js';
import type { Graph } from '../graph/graph.js';
import { tensorBytes } from '../graph/graph.js';
import type { MemoryPlan } from '../plan/memory_plan.js';
import { MEASURE_TOOLS_PACKAGES, buildProject, missingTools, runProject } from './toolchain.js';
import type { GeneratedFile, StepCost } from './project.js';
import { generateProject, lowerGraph } from './project.js';
import type { Target } from './target.js';
import { writeProject } from './write_project.js';

/** The file the counts are cached in, inside the generated project. */
export const TUNE_FILE = 'tinyml-tune.json';

/** The QEMU board whose core is the target's (the counts are instructions of that core). */
function tuningBoard(target: Target): Board {
  if (target === 'cortex-m4') return findBoard('mps2-an386');
  if (target === 'cortex-m7') return findBoard('mps2-an500');
  throw new InputError(`--autotune measures kernels on a Cortex-M core under QEMU; target ${target} has none (use --target cortex-m4 or cortex-m7)`);
}

interface CacheFile {
  tool: 'tinyml-ts autotune';
  version: 1;
  target: Target;
  /** Instructions of one step, by the hash of its generated code. */
  entries: Record<string, number>;
}

/** Measured step counts by code hash, for one target. */
export class TuneCache {
  readonly entries = new Map<string, number>();

  constructor(readonly target: Target) {}

  /** The cache in an earlier project folder, if there is one for this target (a stale or foreign file is ignored). */
  static load(dir: string | undefined, target: Target): TuneCache {
    const cache = new TuneCache(target);
    const file = dir ? join(dir, TUNE_FILE) : '';
    if (!file || !existsSync(file)) return cache;
    let j: Partial<CacheFile>;
    try {
      j = JSON.parse(readFileSync(file, 'utf8')) as Partial<CacheFile>;
    } catch {
      return cache;
    }
    if (j.tool !== 'tinyml-ts autotune' || j.version !== 1 || j.target !== target || typeof j.entries !== 'object' || !j.entries) return cache;
    for (const [k, v] of Object.entries(j.entries)) if (typeof v === 'number' && Number.isFinite(v) && v >= 0) cache.entries.set(k, v);
    return cache;
  }

  file(): GeneratedFile {
    const j: CacheFile = { tool: 'tinyml-ts autotune', version: 1, target: this.target, entries: Object.fromEntries([...this.entries].sort(([a], [b]) => (a < b ? -1 : 1))) };
    return { path: TUNE_FILE, contents: `${JSON.stringify(j, null, 1)}\n` };
  }
}

/** A step's generated code as a key: kernel calls, constant structs, and the type and length of its arrays. */
function codeKey(target: Target, code: ReturnType<typeof lowerGraph>[number]['code']): string {
  const h = createHash('sha256');
  h.update(target);
  h.update(JSON.stringify(code.statements));
  h.update(JSON.stringify(code.definitions));
  h.update(JSON.stringify(code.weights.map((a) => [a.type, a.values.length, a.align ?? 0])));
  return h.digest('hex').slice(0, 32);
}

export interface TuneReport {
  /** Per step: measured instructions with int8 and with split weights (equal where the layer cannot split). */
  costs: StepCost[];
  /** QEMU runs this tuning made (0 when the cache had every step). */
  runs: number;
  /** Steps whose counts came from the cache. */
  cached: number;
  cache: TuneCache;
}

/** Build the project on `board` with every layer int8 (budget 0) or split (no limit), run it once, count each step. */
function profileSteps(g: Graph, plan: MemoryPlan, target: Target, board: Board, prefix: string, split: boolean): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'tinyml-tune-'));
  try {
    const project = generateProject(g, plan, { board, target, prefix, modelName: 'autotune_probe', flashBudget: split ? Number.MAX_SAFE_INTEGER : 0 });
    writeProject(dir, project);
    buildProject(dir, { extraCflags: `-DTM_PROFILE -DTM_PROFILE_MAX_STEPS=${plan.order.length}` });
    // A fixed pseudo-random input: the kernels' instruction counts barely depend on the data.
    let seed = 12345;
    const inputs = g.inputs.map((id) => Uint8Array.from({ length: tensorBytes(g.tensors[id]) }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff));
    const r = runProject(dir, project, [inputs], g.outputs.map((id) => tensorBytes(g.tensors[id])));
    const counts = new Array<number>(plan.order.length).fill(-1);
    for (const m of r.log.matchAll(/^tinyml: step (\d+) (\d+)$/gm)) counts[Number(m[1])] = Number(m[2]);
    const missing = counts.findIndex((c) => c < 0);
    if (missing >= 0) throw new TinymlError(`autotune: the runner reported no count for step ${missing} of ${plan.order.length}`);
    return counts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Measured instructions of every step in both weight layouts for `target`'s core, from the cache where it
 * knows the step's code, otherwise from (at most) two QEMU runs. Needs arm-none-eabi-gcc and qemu-system-arm.
 */
export function measureStepCosts(g: Graph, plan: MemoryPlan, target: Target, cache: TuneCache, prefix = ''): TuneReport {
  const board = tuningBoard(target);
  const int8 = lowerGraph(g, plan, prefix).map((l) => codeKey(target, l.code));
  const split = lowerGraph(g, plan, prefix, () => true).map((l) => codeKey(target, l.code));
  let runs = 0;
  const fill = (keys: string[], isSplit: boolean) => {
    if (keys.every((k) => cache.entries.has(k))) return;
    const lacking = missingTools();
    if (lacking.length) throw new InputError(`--autotune builds the model for the ${target} and counts its instructions under QEMU; it needs ${lacking.join(', ')} (Debian: ${MEASURE_TOOLS_PACKAGES})`);
    const counts = profileSteps(g, plan, target, board, prefix, isSplit);
    runs++;
    keys.forEach((k, i) => cache.entries.set(k, counts[i]));
  };
  const cached = int8.filter((k, i) => cache.entries.has(k) && cache.entries.has(split[i])).length;
  fill(int8, false);
  fill(split, true);
  const costs = int8.map((k, i) => ({ int8: cache.entries.get(k) as number, split: cache.entries.get(split[i]) as number }));
  return { costs, runs, cached, cache };
}
