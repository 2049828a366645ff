import { InputError } from '../errors.js';
import { loadModel } from '../model.js';
import { compileModel } from '../compiler/compile_model.js';
import { patchName } from '../plan/memory_plan.js';
import { generateProject } from '../codegen/project.js';
import { checkProjectDir, writeProject } from '../codegen/write_project.js';
import { defaultTarget, isCortexM, parseTarget, qemuMachine } from '../codegen/target.js';
import { int, kb } from '../report/format.js';
import type { CompileFlags } from './compile_flags.js';
import { compileOptionsFrom } from './compile_flags.js';
import { layoutProject, libraryName, parseLayout } from '../codegen/layouts.js';
import { modelInputs, modelOutputs } from '../codegen/emit/io.js';
import type { TuneReport } from '../codegen/autotune.js';
import { TuneCache, TUNE_FILE, measureStepCosts } from '../codegen/autotune.js';

export interface CompileOptions extends CompileFlags {
  /** Output directory (-o). */
  output?: string;
  target?: string;
  /** Inline kernels per layer (default); `--no-specialize` shares one copy of each. */
  specialize?: boolean;
  /** Symbol prefix of the generated API (--prefix). */
  prefix?: string;
  /** --flash-budget: bytes of constants allowed when weights are split for the DSP kernels. */
  flashBudget?: string;
  /** --autotune: pick each layer's weight layout by instructions measured under QEMU (codegen/autotune.ts). */
  autotune?: boolean;
  /** make (default) | cmake | arduino | platformio: the layout of the project (codegen/layouts.ts). */
  project?: string;
  json?: boolean;
}

/**
 * `tinyml compile MODEL --board NAME -o DIR [--target ...] [--patch ...]`: a self-contained C99 project for
 * the model. Every check (patch spec, target, ops, fit) runs before the first file is written.
 */
function parseFlashBudget(spec: string | undefined): number | undefined {
  if (spec === undefined) return undefined;
  const v = Number(spec);
  if (spec.trim() === '' || !Number.isInteger(v) || v < 0) throw new InputError(`--flash-budget takes a number of bytes (0 or more), got "${spec}"`);
  return v;
}

/** What the tuning measured: whole-inference counts with int8 weights, the chosen split set, and every layer split. */
function tuneSummary(t: TuneReport, split: readonly number[]) {
  const chosen = new Set(split);
  const sum = (f: (i: number) => number) => t.costs.reduce((n, _, i) => n + f(i), 0);
  return {
    runs: t.runs, steps: t.costs.length, cachedSteps: t.cached,
    int8: sum((i) => t.costs[i].int8), chosen: sum((i) => (chosen.has(i) ? t.costs[i].split : t.costs[i].int8)), allSplit: sum((i) => t.costs[i].split),
  };
}

export function compileCommand(modelFile: string, opts: CompileOptions): number {
  if (opts.board === undefined) throw new InputError('compile needs --board NAME (the board decides SRAM, Flash and the default target)');
  if (!opts.output) throw new InputError('compile needs -o DIR (where the C project is written)');
  const flashBudget = parseFlashBudget(opts.flashBudget);
  checkProjectDir(opts.output);
  const options = compileOptionsFrom(opts);
  const layout = parseLayout(opts.project);
  const board = options.board!;
  const target = opts.target ? parseTarget(opts.target) : defaultTarget(board);
  const g = loadModel(modelFile);
  const chosen = compileModel(g, options);
  const { plan } = chosen;
  // Measured before anything is written: the counts cached in an earlier project folder are reused.
  const tune: TuneReport | null = opts.autotune ? measureStepCosts(chosen.graph, plan, target, TuneCache.load(opts.output, target), opts.prefix) : null;
  const generated = generateProject(chosen.graph, plan, { board, target, specialize: opts.specialize !== false, modelName: g.name, prefix: opts.prefix, flashBudget, stepCosts: tune?.costs });
  const info = { prefix: opts.prefix ?? '', inputs: modelInputs(chosen.graph, plan), outputs: modelOutputs(chosen.graph, plan) };
  const project = { ...generated, files: [...layoutProject(generated, layout, info), ...(tune ? [tune.cache.file()] : [])] };
  writeProject(opts.output, project);

  const p = plan.patch;
  const patchSummary = p ? { n: p.n, cols: p.cols, name: patchName(p), firstNode: p.firstNode, lastNode: p.lastNode, splitTensor: chosen.prepared.tensors[p.splitTensor].name, extraMacs: p.extraMacs } : null;
  const kernels = generated.files.filter((f) => f.path.startsWith('kernels/')).map((f) => f.path.slice('kernels/'.length));
  const tuned = tune ? tuneSummary(tune, generated.splitWeights.list) : null;
  if (opts.json) {
    console.log(JSON.stringify({
      model: project.modelName, target, board: board.name, project: layout, dir: opts.output, arenaBytes: project.arenaBytes, planArenaBytes: plan.arenaBytes,
      weightBytes: project.weightBytes, stackBytes: project.stackBytes, plan: plan.strategy, kind: chosen.kind, objective: chosen.objective, patch: patchSummary, fusedPads: chosen.fusedPads,
      note: chosen.patchNote || undefined, kernels: chosen.kernels, files: project.files.map((f) => f.path), layers: project.layers,
      splitSteps: generated.splitWeights.list, autotune: tuned ?? undefined,
    }, null, 2));
    return 0;
  }
  console.log(`${project.modelName}: wrote ${project.files.length} files to ${opts.output} (target ${target}, board ${board.name})`);
  console.log(`arena       ${int(project.arenaBytes)} bytes (${kb(project.arenaBytes)}) = ${(opts.prefix ?? '').toUpperCase()}MODEL_ARENA_BYTES, from the ${chosen.kind} ${plan.strategy} memory plan`);
  if (patchSummary) {
    console.log(`patch       ${patchSummary.name} of '${patchSummary.splitTensor}', nodes ${patchSummary.firstNode}..${patchSummary.lastNode} ${patchSummary.cols === 1 ? 'strip by strip' : 'patch by patch'}, ${int(patchSummary.extraMacs)} extra MACs`);
  } else if (chosen.patchNote) {
    console.log(`patch       none: ${chosen.patchNote}`);
  }
  const slow = chosen.kernels.filter((k) => k.variant === 'in-place depthwise');
  const four = slow.filter((k) => k.fourChannels).length;
  if (slow.length) console.log(`in place    ${slow.length} depthwise layer(s) with the in-place kernel${four ? ` (${four} four channels at a time, where the arena had room for their planes)` : ''}, each because it lowers the peak (inspect lists why per layer)`);
  if (chosen.fusedPads) console.log(`fused       ${chosen.fusedPads} PAD(s) into the convolution reading them (explicit padding; --fuse-pad off keeps them)`);
  const sw = project.splitWeights;
  console.log(`constants   ${int(project.weightBytes)} bytes (${kb(project.weightBytes)}) in weights.c (Flash)${sw.budget ? `; ${sw.steps} step(s) with weights as 16-bit SMLAD pairs within the ${int(sw.budget)}-byte Flash budget (--flash-budget)` : ''}`);
  if (tuned) {
    console.log(`autotune    ${tuned.runs ? `${tuned.runs} QEMU run(s)` : 'no QEMU run'} (${tuned.cachedSteps} of ${tuned.steps} steps from ${TUNE_FILE}); ${target} instructions per inference, measured: ${int(tuned.int8)} int8 weights, ${int(tuned.chosen)} as chosen, ${int(tuned.allSplit)} all split`);
  }
  if (project.stackBytes) console.log(`stack       ${int(project.stackBytes)} bytes reserved above .bss by board.ld`);
  console.log(`kernels     ${kernels.join(' ')}`);
  if (layout !== 'make') {
    console.log(`layout      ${layout}: a library for your application (${layout === 'cmake' ? `add_subdirectory + target_link_libraries(app PRIVATE ${libraryName(info.prefix)})` : layout === 'arduino' ? 'copy into Arduino/libraries; see its example' : 'put under lib/; see examples/basic'}); README.md shows the calls`);
    return 0;
  }
  const machine = qemuMachine(board);
  if (target === 'generic') console.log(`build       make -C ${opts.output}  (libmodel.a)`);
  else console.log(`build       make -C ${opts.output}`);
  if (target === 'host' || (isCortexM(target) && machine)) {
    console.log(`run         make -C ${opts.output} run INPUTS=cases.bin OUTPUTS=out.bin  (inputs of each case back to back)`);
  }
  return 0;
}
