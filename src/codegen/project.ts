import type { Board } from '../boards/boards.js';
import type { AnyNode, Graph } from '../graph/graph.js';
import { DoesNotFitError, InputError, UnsupportedOpError } from '../errors.js';
import type { MemoryPlan } from '../plan/memory_plan.js';
import type { CArray } from './c_syntax.js';
import { cComment, cTypeBytes } from './c_syntax.js';
import type { KernelHeader } from './kernels.js';
import { readCsrc, withDependencies } from './kernels.js';
import type { LayerCode } from './lower/layer.js';
import { LayerContext } from './lower/layer.js';
import { loweringFor } from './lower/registry.js';
import { calledKernels } from './lower/kernel_call.js';
import type { OpDef } from '../ops/op.js';
import { OPS } from '../ops/registry.js';
import type { Target } from './target.js';
import { DEFAULT_STACK_BYTES, UnsupportedTargetError, checkTargetForBoard, isCortexM } from './target.js';
import type { BuildSpec } from './emit/build_files.js';
import { emitCMakeLists, emitLinkerScript, emitMakefile } from './emit/build_files.js';
import { modelInputs, modelOutputs, modelStates } from './emit/io.js';
import { apiNames, emitModelHeader } from './emit/model_h.js';
import type { ScheduledLayer } from './emit/model_c.js';
import { shareIdentical } from './emit/share.js';
import { emitModelSource } from './emit/model_c.js';
import { emitWeightsHeader, emitWeightsSource } from './emit/weights_c.js';

export interface GenerateOptions {
  board: Board;
  target: Target;
  /** Name used in comments and messages (default: the graph's name). */
  modelName?: string;
  /**
   * Inline every kernel into its call site so the compiler specialises it to the layer's constant
   * shapes (TinyEngine's model-adaptive code). Off: one shared copy of each kernel (smaller code).
   */
  specialize?: boolean;
  /** Stack reserved by the Cortex-M linker script (default 8 KiB; kernel buffers live in the arena, not here). */
  stackBytes?: number;
  /**
   * Starts every name the model exports or defines (functions `<prefix>model_init`, macros
   * `<PREFIX>MODEL_ARENA_BYTES`, constant arrays), so several models link into one program. A C
   * identifier, e.g. `kws_`; default none.
   */
  prefix?: string;
  /**
   * Bytes the model's constants may take in Flash when the generator stores weights split into 16-bit SMLAD
   * pairs for the DSP kernels (twice the bytes of int8, about a third fewer instructions per multiply-
   * accumulate). Layers are split in order of MACs per extra byte (early, wide-image layers first) while
   * the constants stay within this; the rest keep int8 weights. Default: half the board's Flash, the other
   * half left to the application. 0: int8 weights everywhere.
   */
  flashBudget?: number;
  /**
   * Measured instructions of each plan step with int8 and with split weights (autotune.ts). Given, the
   * split set is the one that saves the most measured instructions within the Flash budget, and a layer
   * whose split does not pay stays int8; absent, layers go in order of MACs per extra byte.
   */
  stepCosts?: readonly StepCost[];
}

/** One plan step's measured cost (instructions of the target's core) in both weight layouts. */
export interface StepCost {
  int8: number;
  split: number;
}

export interface GeneratedFile {
  path: string;
  contents: string;
}

/** One scheduled node: which C function runs it. */
export interface GeneratedLayer {
  step: number;
  node: number;
  op: string;
  kernels: string[];
}

export interface GeneratedProject {
  modelName: string;
  target: Target;
  board: Board;
  files: GeneratedFile[];
  arenaBytes: number;
  /** Bytes of constant arrays in weights.c (weights, folded biases, constant operands). */
  weightBytes: number;
  /** Stack the linker script reserves (Cortex-M targets; 0 otherwise). */
  stackBytes: number;
  layers: GeneratedLayer[];
  /** Steps whose weights are stored as SMLAD pairs, and the Flash budget that chose them (flashBudget). */
  splitWeights: SplitSummary;
}

export { DEFAULT_STACK_BYTES } from './target.js';

export const HARNESS: Readonly<Record<Target, readonly string[]>> = {
  host: ['tm_runner.c', 'tm_platform_host.c'],
  'cortex-m4': ['tm_runner.c', 'tm_platform_semihost.c', 'tm_startup_cortexm.c'],
  'cortex-m7': ['tm_runner.c', 'tm_platform_semihost.c', 'tm_startup_cortexm.c'],
  generic: [],
};

function arrayBytes(a: CArray): number {
  return a.values.length * cTypeBytes(a.type);
}

function layerTitle(g: Graph, node: AnyNode): string {
  const desc = (ids: number[]) => ids.filter((i) => i >= 0 && !g.tensors[i].data).map((i) => `${g.tensors[i].dtype}[${g.tensors[i].shape.join(',')}]`).join(', ');
  const name = g.tensors[node.outputs[0]].name;
  const short = name.length > 48 ? `${name.slice(0, 45)}...` : name;
  return `node ${node.index} ${node.op} "${short}": ${desc(node.inputs)} -> ${desc(node.outputs)}`;
}

/**
 * Every node of the plan's order, lowered to kernel calls (UnsupportedOpError for anything we lack).
 * splitWeights: whether the layer at a step may store its weights as SMLAD pairs (Cortex-M DSP targets).
 */
export function lowerGraph(g: Graph, plan: MemoryPlan, prefix = '', splitWeights: (step: number) => boolean = () => false): { step: number; node: AnyNode; code: LayerCode }[] {
  return plan.order.map((nodeIndex, step) => {
    const node = g.nodes[nodeIndex];
    const lower = loweringFor(node.op);
    if (!lower) throw new UnsupportedOpError(node.op, node.index, 'no C kernel for this op');
    return { step, node, code: lower(new LayerContext(g, plan, step, node, prefix, splitWeights(step))) };
  });
}

type Lowered = ReturnType<typeof lowerGraph>;

/** Bytes of constants as weights.c stores them: equal arrays once (the patches of a stage share theirs). */
function constantBytes(lowered: Lowered): number {
  const seen = new Set<string>();
  let n = 0;
  for (const a of lowered.flatMap((l) => l.code.weights)) {
    const key = `${a.type}:${Array.prototype.join.call(a.values, ',')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    n += arrayBytes(a);
  }
  return n;
}

const stepBytes = (l: Lowered[number]) => l.code.weights.reduce((n, a) => n + arrayBytes(a), 0);

/**
 * The steps whose weights are stored split, within a Flash budget for all constants. The steps of one layer
 * (the patches of a patch stage) read the same weight tensor, so they are one choice: its bytes counted once,
 * its gain summed. Without measurements the layers that gain the most MACs per extra byte go first (a split
 * saves about the same instructions per MAC everywhere, and costs one more byte per weight); with them, the
 * set that saves the most measured instructions (chooseByCost). Each step lowers on its own, so the result
 * takes every step's code from whichever of the two lowerings it chose.
 */
function lowerWithinFlash(g: Graph, plan: MemoryPlan, prefix: string, budget: number, costs?: readonly StepCost[]): { lowered: Lowered; splitSteps: number[] } {
  const int8 = lowerGraph(g, plan, prefix);
  if (budget <= 0) return { lowered: int8, splitSteps: [] };
  const split = lowerGraph(g, plan, prefix, () => true);
  if (costs && costs.length !== int8.length) throw new InputError(`step costs for ${costs.length} steps, the plan has ${int8.length}`);
  const layers = new Map<number, SplitChoice>();
  for (let i = 0; i < int8.length; i++) {
    const extra = stepBytes(split[i]) - stepBytes(int8[i]);
    if (extra <= 0) continue;
    const node = int8[i].node, key = node.inputs[1] ?? -1 - i;
    const layer = layers.get(key) ?? { steps: [], extra, macs: 0, saved: 0 };
    layer.steps.push(i);
    layer.macs += (OPS[node.op] as OpDef).macs(node as never, g);
    if (costs) layer.saved += costs[i].int8 - costs[i].split;
    layers.set(key, layer);
  }
  const room = budget - constantBytes(int8);
  const all = [...layers.values()];
  const chosen = costs ? chooseByCost(all, room) : greedy(all, room, (l) => l.macs);
  const steps = new Set(chosen.flatMap((l) => l.steps));
  return { lowered: int8.map((l, i) => (steps.has(i) ? split[i] : l)), splitSteps: [...steps].sort((a, b) => a - b) };
}

interface SplitChoice {
  steps: number[];
  /** Extra bytes of the split weights. */
  extra: number;
  macs: number;
  /** Measured instructions the split saves (0 without measurements). */
  saved: number;
}

/** Greedy by gain per extra byte. */
function greedy(layers: readonly SplitChoice[], room: number, gain: (l: SplitChoice) => number): SplitChoice[] {
  const out: SplitChoice[] = [];
  for (const l of [...layers].sort((a, b) => gain(b) / b.extra - gain(a) / a.extra)) {
    if (l.extra > room || gain(l) <= 0) continue;
    room -= l.extra;
    out.push(l);
  }
  return out;
}

const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);

/**
 * The most measured instructions saved within `room` bytes: a 0/1 knapsack over the layers that save any,
 * bytes counted in the extras' common divisor (exact) unless that makes the table too large, then in
 * coarser units rounded up (never over the budget). The greedy picks by measured and by MACs per byte are
 * candidates too, so coarse units never lose to either.
 */
function chooseByCost(layers: readonly SplitChoice[], room: number): SplitChoice[] {
  const items = layers.filter((l) => l.saved > 0 && l.extra <= room);
  if (!items.length || room <= 0) return [];
  const unit = Math.max(items.reduce((d, l) => gcd(d, l.extra), 0), Math.ceil((room * items.length) / 4_000_000));
  const cap = Math.floor(room / unit);
  const size = items.map((l) => Math.ceil(l.extra / unit));
  const best = new Float64Array(cap + 1);
  const take = items.map(() => new Uint8Array(cap + 1));
  items.forEach((l, i) => {
    for (let c = cap; c >= size[i]; c--) {
      const v = best[c - size[i]] + l.saved;
      if (v > best[c]) { best[c] = v; take[i][c] = 1; }
    }
  });
  const knapsack: SplitChoice[] = [];
  for (let i = items.length - 1, c = cap; i >= 0; i--) {
    if (take[i][c]) { knapsack.push(items[i]); c -= size[i]; }
  }
  const saved = (set: readonly SplitChoice[]) => set.reduce((n, l) => n + l.saved, 0);
  return [knapsack, greedy(items, room, (l) => l.saved), greedy(layers, room, (l) => l.macs)].reduce((a, b) => (saved(b) > saved(a) ? b : a));
}

/** A model's own part of a project: model.h/.c and weights.h/.c, and what they need from the library. */
export interface ModelSources {
  modelName: string;
  files: GeneratedFile[];
  headers: KernelHeader[];
  arenaBytes: number;
  weightBytes: number;
  layers: GeneratedLayer[];
  splitWeights: SplitSummary;
}

/** Which steps store their weights split (`list`, in step order), how many, and within what Flash budget. */
export interface SplitSummary {
  steps: number;
  list: number[];
  budget: number;
}

function checkPrefix(prefix: string): void {
  if (prefix && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix)) throw new InputError(`symbol prefix "${prefix}" is not a C identifier`);
}

/** Lower the graph and emit its four sources (after the fit check, before anything is written). */
export function modelSources(g: Graph, plan: MemoryPlan, opts: GenerateOptions): ModelSources {
  const { board, target } = opts;
  const prefix = opts.prefix ?? '';
  checkPrefix(prefix);
  checkTargetForBoard(target, board);
  const modelName = opts.modelName ?? g.name;
  const budget = isCortexM(target) ? opts.flashBudget ?? Math.floor(board.flashBytes / 2) : 0;
  const { lowered, splitSteps } = lowerWithinFlash(g, plan, prefix, budget, opts.stepCosts);
  const arenaBytes = Math.max(plan.arenaBytes, 16);
  const stackBytes = isCortexM(target) ? opts.stackBytes ?? DEFAULT_STACK_BYTES : 0;
  const scheduled: ScheduledLayer[] = lowered.map((l) => ({ step: l.step, title: layerTitle(g, l.node), definitions: l.code.definitions, statements: l.code.statements }));
  // Equal constants once, and one kernel copy per layer shape (the patches of a patch stage share it).
  const { layers, weights, functions: shared } = shareIdentical(scheduled, lowered.flatMap((l) => l.code.weights), prefix);
  const weightBytes = weights.reduce((n, a) => n + arrayBytes(a), 0);
  checkFit({ board, modelName, sramNeed: arenaBytes + stackBytes, arenaBytes, stackBytes, weightBytes });

  const headers: KernelHeader[] = withDependencies(lowered.flatMap((l) => l.code.headers));
  const inputs = modelInputs(g, plan), outputs = modelOutputs(g, plan);
  const modelC = emitModelSource({ modelName, prefix, headers, layers, shared, inputs, outputs, states: modelStates(g, plan) });
  const files: GeneratedFile[] = [
    { path: 'model.h', contents: emitModelHeader({ modelName, prefix, arenaBytes, planStrategy: plan.strategy, inputs, outputs }) },
    { path: 'model.c', contents: opts.specialize === false ? `#define TM_NO_SPECIALIZE 1\n${modelC}` : modelC },
    { path: 'weights.h', contents: emitWeightsHeader(modelName, weights, prefix) },
    { path: 'weights.c', contents: emitWeightsSource(modelName, weights) },
  ];
  return {
    modelName, files, headers, arenaBytes, weightBytes, splitWeights: { steps: splitSteps.length, list: splitSteps, budget },
    layers: lowered.map((l) => ({ step: l.step, node: l.node.index, op: l.node.op, kernels: calledKernels(l.code.statements) })),
  };
}

/** The library headers, the harness of the target and the build files around a project's model sources. */
export function projectFrame(target: Target, headers: readonly KernelHeader[], build: BuildSpec, harness: readonly string[] = HARNESS[target]): GeneratedFile[] {
  const files: GeneratedFile[] = [
    ...headers.map((h) => ({ path: `kernels/${h}`, contents: readCsrc(`kernels/${h}`) })),
    { path: 'Makefile', contents: emitMakefile(build) },
    { path: 'CMakeLists.txt', contents: emitCMakeLists(build) },
  ];
  if (harness.length) {
    files.push({ path: 'harness/tm_platform.h', contents: readCsrc('harness/tm_platform.h') });
    for (const f of harness) files.push({ path: `harness/${f}`, contents: readCsrc(`harness/${f}`) });
  }
  if (isCortexM(target)) files.push({ path: 'board.ld', contents: emitLinkerScript(build) });
  return files;
}

function checkFit(p: { board: Board; modelName: string; sramNeed: number; arenaBytes: number; stackBytes: number; weightBytes: number }): void {
  if (p.sramNeed > p.board.sramBytes) {
    throw new DoesNotFitError('SRAM', p.sramNeed, p.board.sramBytes,
      `${p.modelName} on ${p.board.name}: arena ${p.arenaBytes} bytes${p.stackBytes ? ` + stack ${p.stackBytes}` : ''}`);
  }
  if (p.weightBytes > p.board.flashBytes) {
    throw new DoesNotFitError('Flash', p.weightBytes, p.board.flashBytes, `${p.modelName} on ${p.board.name}: constants alone`);
  }
}

/**
 * The C project for one graph under one memory plan (the same plan object the interpreter runs), or a
 * typed error — unsupported op, unsupported target, does not fit — before anything is written. The
 * project is files in memory: `writeProject` (write_project.ts) puts them in a folder, the web page zips them.
 */
export function generateProject(g: Graph, plan: MemoryPlan, opts: GenerateOptions): GeneratedProject {
  const { board, target } = opts;
  const m = modelSources(g, plan, opts);
  const stackBytes = isCortexM(target) ? opts.stackBytes ?? DEFAULT_STACK_BYTES : 0;
  const harnessSources = HARNESS[target].map((f) => `harness/${f}`);
  // Under a prefix the runner reaches the model through a one-entry table.
  const table = opts.prefix && harnessSources.length ? [{ path: 'tm_models.h', contents: modelTable([{ header: 'model.h', prefix: opts.prefix }], m.modelName) }] : [];
  const build: BuildSpec = { modelName: m.modelName, target, board, stackBytes, harnessSources, defines: table.length ? ['TM_MODEL_TABLE'] : undefined };
  return {
    modelName: m.modelName, target, board, arenaBytes: m.arenaBytes, weightBytes: m.weightBytes, stackBytes, layers: m.layers, splitWeights: m.splitWeights,
    files: [...m.files, ...table, ...projectFrame(target, m.headers, build)],
  };
}

/** One model of a bundle: its graph and plan, and the C identifier that prefixes its names and names its folder. */
export interface BundledModel {
  graph: Graph;
  plan: MemoryPlan;
  name: string;
}

/** Several models in one program; `projects` are the models' own parts (files under `<name>/`). */
export interface GeneratedBundle {
  target: Target;
  board: Board;
  files: GeneratedFile[];
  models: ModelSources[];
}

/** tm_models.h: the runner's table of models, each through its model.h under its prefix. */
function modelTable(models: readonly { header: string; prefix: string }[], name: string): string {
  return [
    cComment(`Generated by tinyml-ts: the ${models.length} model(s) of ${name}, run in this order. Do not edit.`),
    ...models.map((m) => `#include "${m.header}"`),
    `#define TM_MODEL_COUNT ${models.length}`,
    'static const tm_model tm_models[TM_MODEL_COUNT] = {',
    ...models.map(({ prefix }) => {
      const { fn, macro } = apiNames(prefix);
      const fns = ['model_init', 'model_reset_state', 'model_invoke', 'model_input', 'model_output', 'model_input_bytes', 'model_output_bytes'].map(fn);
      return `  {${fns.join(', ')}, ${macro('MODEL_NUM_INPUTS')}, ${macro('MODEL_NUM_OUTPUTS')}},`;
    }),
    '};',
    '',
  ].join('\n');
}

/** The sources a bundle compiles: each model's pair, or `units` files that include runs of them. */
function bundleUnits(names: readonly string[], units: number | undefined): { path: string; contents: string | null }[] {
  if (!units) return names.flatMap((n) => [{ path: `${n}/model.c`, contents: null }, { path: `${n}/weights.c`, contents: null }]);
  const per = Math.ceil(names.length / Math.max(1, units));
  const out: { path: string; contents: string }[] = [];
  for (let k = 0; k * per < names.length; k++) {
    const run = names.slice(k * per, (k + 1) * per);
    out.push({ path: `unit${k}.c`, contents: [cComment(`Generated by tinyml-ts: models ${run.join(', ')} as one translation unit.`), ...run.flatMap((n) => [`#include "${n}/model.c"`, `#include "${n}/weights.c"`]), ''].join('\n') });
  }
  return out;
}

/**
 * Several models in one project: each model's sources in its own folder under its own symbol prefix
 * (`<name>_`), one copy of the kernel library, and a runner that runs them in turn (tm_models.h lists
 * them; its inputs file gives each model a case count, see csrc/harness/tm_runner.c). The SRAM check is
 * per model; the linker script checks the sum.
 */
export interface BundleOptions extends Omit<GenerateOptions, 'prefix' | 'modelName'> {
  name: string;
  /**
   * Compile the models as this many translation units (each includes a run of the models' model.c and
   * weights.c), so a bundle of many small models takes a few compiler runs; default one pair per model.
   */
  units?: number;
}

export function generateBundle(models: readonly BundledModel[], opts: BundleOptions): GeneratedBundle {
  const { board, target } = opts;
  if (!HARNESS[target].length) throw new UnsupportedTargetError(target, 'a bundle is a program to run: build it for host or a Cortex-M target');
  const parts = models.map((m) => ({ m, src: modelSources(m.graph, m.plan, { ...opts, prefix: `${m.name}_`, modelName: m.name }) }));
  const headers = withDependencies(parts.flatMap((p) => p.src.headers));
  const table = modelTable(models.map((m) => ({ header: `${m.name}/model.h`, prefix: `${m.name}_` })), opts.name);
  const stackBytes = isCortexM(target) ? opts.stackBytes ?? DEFAULT_STACK_BYTES : 0;
  const units = bundleUnits(models.map((m) => m.name), opts.units);
  const build: BuildSpec = {
    modelName: opts.name, target, board, stackBytes, harnessSources: HARNESS[target].map((f) => `harness/${f}`),
    modelSources: units.map((u) => u.path), defines: ['TM_MODEL_TABLE', 'TM_CASE_COUNTS=1'],
  };
  return {
    target, board, models: parts.map((p) => p.src),
    files: [
      ...parts.flatMap((p) => p.src.files.map((f) => ({ path: `${p.m.name}/${f.path}`, contents: f.contents }))),
      { path: 'tm_models.h', contents: table },
      ...units.filter((u) => u.contents !== null).map((u) => ({ path: u.path, contents: u.contents as string })),
      ...projectFrame(target, headers, build),
    ],
  };
}
