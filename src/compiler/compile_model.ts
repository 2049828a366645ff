import type { Board } from '../boards/boards.js';
import type { FitReport } from '../boards/boards.js';
import { fitReport } from '../boards/boards.js';
import type { Graph } from '../graph/graph.js';
import { InputError } from '../errors.js';
import type { OpDef } from '../ops/op.js';
import { checkSupported, OPS } from '../ops/registry.js';
import { fusePads } from '../plan/fuse_pad.js';
import type { MemoryPlan, PatchInfo, PlanOptions } from '../plan/memory_plan.js';
import { planMemory } from '../plan/memory_plan.js';
import type { PatchPlan, PatchSearchResult } from '../plan/patch/search.js';
import { searchPatchPlan } from '../plan/patch/search.js';
import { assertRunnable } from '../plan/runnable.js';
import { int8Io } from './int8_io.js';
import type { KernelChoice, StandardReason } from './kernels.js';
import { kernelChoices } from './kernels.js';
import { estimatedCost, leanPlan, slowdownOf } from './lean.js';
import type { CompileOptions, Objective, PatchChoice } from './options.js';
import { DEFAULT_COMPILE_OPTIONS } from './options.js';

/** One way of running the model the pipeline weighed. */
export interface PlanCandidate {
  name: string;
  kind: 'layer-wise' | 'patch-based';
  arenaBytes: number;
  /** Estimated run time in MAC units (MACs times each kernel variant's slowdown; recomputed halos included). */
  cost: number;
  /** MACs the patch plan recomputes (0 for layer-wise plans and strips). */
  extraMacs: number;
  chosen: boolean;
}

/**
 * The one answer to "how does this model run": the graph as run (PADs fused, the patch stage rewritten),
 * the one memory plan over it, and the kernel variant of every node with the reason. The interpreter,
 * `inspect`, `plan`, `compile`, `train` and the bench all consume it, so they all print one figure.
 */
export interface CompiledModel {
  /** The model as loaded (with `io: 'int8'`, its float boundary ops dropped). */
  model: Graph;
  /** The model after graph rewrites (PADs fused), before any patch rewrite: what reports index layers by. */
  prepared: Graph;
  /** The graph the plan refers to and every backend runs. */
  graph: Graph;
  plan: MemoryPlan;
  kind: 'layer-wise' | 'patch-based';
  patch: PatchInfo | null;
  fusedPads: number;
  kernels: KernelChoice[];
  candidates: PlanCandidate[];
  /** The patch search behind the choice (null when patches were off). */
  patchSearch: PatchSearchResult | null;
  /** The layer-wise plan of least peak (every trick allowed), for reports beside the chosen one. */
  layerwise: MemoryPlan;
  /** What decided among the candidates. */
  objective: Objective | 'fit-board';
  board: Board | null;
  fit: FitReport | null;
  /** Why no patch plan was taken, when patches were searched (empty otherwise). */
  patchNote: string;
  options: CompileOptions;
}

interface Candidate {
  name: string;
  kind: PlanCandidate['kind'];
  graph: Graph;
  plan: MemoryPlan;
  cost: number;
  needed: Map<number, number>;
  dropped: Set<number>;
}

function weightBytes(g: Graph): number {
  return g.tensors.reduce((s, t) => s + (t.data ? t.data.byteLength : 0), 0);
}

/** A fixed split's last node as an index of `g`: a node index, or the name of a tensor a node writes. */
function resolvePatch(g: Graph, patch: PatchChoice | undefined): PatchChoice | undefined {
  if (typeof patch !== 'object') return patch;
  const spec = `--patch ${patch.n}x${patch.cols}@${patch.lastNode}`;
  if (typeof patch.lastNode === 'number') {
    if (!g.nodes[patch.lastNode]) throw new InputError(`${spec}: the model has nodes 0..${g.nodes.length - 1}`);
    return patch;
  }
  const name = patch.lastNode;
  const node = g.nodes.find((n) => n.outputs.some((o) => g.tensors[o].name === name));
  if (!node) throw new InputError(`${spec}: no node of the model writes a tensor named '${name}' (give a node index or an output tensor name, as tinyml plan prints them)`);
  return { n: patch.n, cols: patch.cols, lastNode: node.index };
}

function candidate(name: string, kind: Candidate['kind'], graph: Graph, full: MemoryPlan): Candidate {
  const lean = leanPlan(graph, full);
  return { name, kind, graph, plan: lean.plan, cost: estimatedCost(graph, lean.plan), needed: lean.needed, dropped: lean.dropped };
}

/** The layer-wise plan with every slower in-place kernel off: the fastest way to run the model. */
function fastest(graph: Graph, smallest: MemoryPlan): Candidate {
  const slow = [...smallest.inPlaceNodes.keys()].filter((i) => slowdownOf(graph, smallest, i) > 1);
  const plan = slow.length ? planMemory(graph, { ...smallest.options, standardKernels: new Set(slow) } as PlanOptions) : smallest;
  return { name: 'layer-wise, standard kernels', kind: 'layer-wise', graph, plan, cost: estimatedCost(graph, plan), needed: new Map(), dropped: new Set(slow) };
}

function choose(cands: Candidate[], objective: CompiledModel['objective'], board: Board | null, reserved: number): Candidate {
  const byMemory = (a: Candidate, b: Candidate): number => a.plan.arenaBytes - b.plan.arenaBytes || a.cost - b.cost;
  const bySpeed = (a: Candidate, b: Candidate): number => a.cost - b.cost || a.plan.arenaBytes - b.plan.arenaBytes;
  // Peak times time: a plan pays for a fraction more time only with a larger fraction less memory.
  const byBoth = (a: Candidate, b: Candidate): number => a.plan.arenaBytes * a.cost - b.plan.arenaBytes * b.cost || byMemory(a, b);
  if (objective === 'speed') return [...cands].sort(bySpeed)[0];
  if (objective === 'balanced') return [...cands].sort(byBoth)[0];
  if (objective === 'fit-board' && board) {
    const fitting = cands.filter((c) => c.plan.arenaBytes + reserved <= board.sramBytes).sort(bySpeed);
    if (fitting.length) return fitting[0];
  }
  return [...cands].sort(byMemory)[0];
}

/**
 * graph + options -> CompiledModel. The cost-aware rules: a trick that costs speed (a slower in-place
 * kernel, patches) is used only where it lowers the peak, or where the board needs it to fit. With a
 * board: the fastest plan that fits. Without: the least peak x estimated time (`balanced`), so 5 % less
 * memory is not bought with 18 % more MACs. `objective` overrides either.
 */
export function compileModel(loaded: Graph, options: CompileOptions = {}): CompiledModel {
  checkSupported(loaded);
  const o = { ...DEFAULT_COMPILE_OPTIONS, ...options };
  // The I/O contract comes first: every later choice (plans, patches, kernels) is about the model as it runs.
  const model = o.io === 'int8' ? int8Io(loaded).graph : loaded;
  const board = o.board ?? null;
  const objective: CompiledModel['objective'] = o.objective ?? (board ? 'fit-board' : 'balanced');
  const planOptions: PlanOptions = { ...o.tricks, ...(o.strategies ? { strategies: o.strategies } : {}) };

  if (o.preserveAll) {
    const plan = planMemory(model, 'no-reuse');
    return finish(model, model, model, { name: 'no reuse (every tensor kept)', kind: 'layer-wise', graph: model, plan, cost: estimatedCost(model, plan), needed: new Map(), dropped: new Set() }, [], null, plan, 0, objective, board, '', o, new Map());
  }

  const { graph, fused } = o.fusePads ? fusePads(model) : { graph: model, fused: 0 };
  const patch = resolvePatch(graph, o.patch);
  const fixed = typeof patch === 'object' ? { n: patch.n, cols: patch.cols, lastNode: patch.lastNode as number } : null;
  const search = patch === 'off' ? null : searchPatchPlan(graph, { ...planOptions, maxOverhead: o.maxOverhead, front: objective === 'balanced' || objective === 'fit-board', ...(fixed ? { fixed } : {}) });
  if (fixed && !search?.best) {
    throw new InputError(`--patch ${fixed.n}x${fixed.cols}@${fixed.lastNode}: no stage of the model can end at node ${fixed.lastNode} with ${fixed.n}x${fixed.cols} ${fixed.cols === 1 ? 'strips (strips take a chain of layers, each reading only the one before, padded only by int8 or float32 convolutions, and a stage tensor at least N rows high)' : 'patches'}`);
  }
  const smallest = search?.layerwise ?? planMemory(graph, planOptions);
  const cands: Candidate[] = [fastest(graph, smallest)];
  const lean = candidate('layer-wise, least peak', 'layer-wise', graph, smallest);
  if (lean.plan.arenaBytes < cands[0].plan.arenaBytes) cands.push(lean);
  const patchCandidate = (plan: PatchPlan, g: Graph): Candidate => {
    const p = plan.patch;
    const c = candidate(`patch ${p.n}x${p.cols}${p.cols === 1 ? ' strips' : ''}, nodes ${p.firstNode}..${p.lastNode}`, 'patch-based', g, plan);
    c.plan = { ...c.plan, patch: p };
    return c;
  };
  // A fixed split is what the user asked for: it is the only candidate.
  if (fixed && search?.best && search.graph) cands.splice(0, cands.length, patchCandidate(search.best, search.graph));
  else for (const { plan, graph: g } of search?.front ?? []) cands.push(patchCandidate(plan, g));
  const chosen = choose(cands, objective, board, o.reservedSramBytes ?? 0);
  const reasons = new Map<number, StandardReason>();
  const why: StandardReason = objective === 'speed' ? 'objective-speed' : objective === 'fit-board' && chosen.plan.arenaBytes > lean.plan.arenaBytes ? 'fits-board' : 'no-gain';
  for (const i of chosen.dropped) reasons.set(i, why);
  let patchNote = '';
  if (search && chosen.kind !== 'patch-based') {
    if (search.best) patchNote = objective === 'speed' ? 'a patch plan was found; objective speed runs layer by layer' : objective === 'balanced' ? 'a patch plan was found; it saves a smaller fraction of memory than it adds of time (objective balanced)' : `the layer-wise plan fits ${board?.name ?? ''} and is faster`;
    else patchNote = search.candidates.some((c) => c.arenaBytes !== null) ? 'no patch plan beats layer-by-layer' : 'no split under the MACs cap';
  }
  return finish(model, graph, chosen.graph, chosen, cands, search, smallest, fused, objective, board, patchNote, o, reasons);
}

function finish(
  model: Graph, prepared: Graph, graph: Graph, chosen: Candidate, cands: Candidate[], search: PatchSearchResult | null, layerwise: MemoryPlan,
  fusedPads: number, objective: CompiledModel['objective'], board: Board | null, patchNote: string, options: CompileOptions,
  standard: Map<number, StandardReason>,
): CompiledModel {
  assertRunnable(graph, chosen.plan);
  const kernels = kernelChoices(graph, chosen.plan, { needed: chosen.needed, standard, boardName: board?.name });
  return {
    model, prepared, graph, plan: chosen.plan, kind: chosen.kind, patch: chosen.plan.patch ?? null, fusedPads, kernels,
    candidates: cands.map((c) => ({ name: c.name, kind: c.kind, arenaBytes: c.plan.arenaBytes, cost: c.cost, extraMacs: c.plan.patch?.extraMacs ?? 0, chosen: c === chosen })),
    patchSearch: search, layerwise, objective, board,
    fit: board ? fitReport(board, chosen.plan.arenaBytes + (options.reservedSramBytes ?? 0), weightBytes(model)) : null,
    patchNote, options,
  };
}

/** Total MACs of the model as loaded (one inference, no recomputation). */
export function modelMacs(g: Graph): number {
  return g.nodes.reduce((s, n) => s + (OPS[n.op] as OpDef).macs(n as never, g), 0);
}
