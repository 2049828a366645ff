import { InputError } from '../errors.js';
import { findBoard } from '../boards/boards.js';
import { loadModel } from '../model.js';
import type { PatchChoice } from '../codegen/compile_plan.js';
import { planForCompile } from '../codegen/compile_plan.js';
import { generateProject, writeProject } from '../codegen/project.js';
import { defaultTarget, isCortexM, parseTarget, qemuMachine } from '../codegen/target.js';
import { int, kb } from '../report/format.js';
import { parseFusePad, parseOverhead, parsePatch } from './plan.js';

export interface CompileOptions {
  board?: string;
  /** Output directory (-o). */
  output?: string;
  target?: string;
  /** Inline kernels per layer (default); `--no-specialize` shares one copy of each. */
  specialize?: boolean;
  /** Plan with the C library's in-place DEPTHWISE_CONV_2D and PAD (smaller arena; not runnable by the interpreter). */
  inplaceKernels?: boolean;
  /** 'auto' (the planner's search), 'off' (layer-wise, the default) or 'NxN@LAYER', as `tinyml plan --patch`. */
  patch?: string;
  /** Cap on extra MACs of patch-based plans, percent of the model's MACs (default 20), as `tinyml plan`. */
  maxOverhead?: string;
  /** 'on' (default): fold each PAD into the convolution that reads it before planning, as `tinyml plan`; 'off': generate the model as stored. */
  fusePad?: string;
  json?: boolean;
}

function patchChoice(spec: string | undefined): PatchChoice {
  if (spec === undefined) return 'off';
  const r = parsePatch(spec);
  return r.mode === 'fixed' ? { n: r.n!, lastNode: r.splitNode! } : r.mode;
}

/**
 * `tinyml compile MODEL --board NAME -o DIR [--target ...] [--patch ...]`: a self-contained C99 project for
 * the model. Every check (patch spec, target, ops, fit) runs before the first file is written.
 */
export function compileCommand(modelFile: string, opts: CompileOptions): number {
  if (!opts.board) throw new InputError('compile needs --board NAME (the board decides SRAM, Flash and the default target)');
  if (!opts.output) throw new InputError('compile needs -o DIR (where the C project is written)');
  const board = findBoard(opts.board);
  const target = opts.target ? parseTarget(opts.target) : defaultTarget(board);
  const patch = patchChoice(opts.patch);
  const maxOverhead = parseOverhead(opts.maxOverhead);
  const g = loadModel(modelFile);
  const chosen = planForCompile(g, { patch, maxOverhead, inPlaceKernels: opts.inplaceKernels, fusePads: parseFusePad(opts.fusePad) });
  const { plan } = chosen;
  const project = generateProject(chosen.graph, plan, { board, target, specialize: opts.specialize !== false, modelName: g.name });
  writeProject(opts.output, project);

  const p = plan.patch;
  const patchSummary = p ? { n: p.n, firstNode: p.firstNode, lastNode: p.lastNode, splitTensor: g.tensors[p.splitTensor].name, extraMacs: p.extraMacs } : null;
  const kernels = project.files.filter((f) => f.path.startsWith('kernels/')).map((f) => f.path.slice('kernels/'.length));
  if (opts.json) {
    console.log(JSON.stringify({
      model: project.modelName, target, board: board.name, dir: opts.output, arenaBytes: project.arenaBytes, planArenaBytes: plan.arenaBytes,
      weightBytes: project.weightBytes, stackBytes: project.stackBytes, plan: plan.strategy, kind: chosen.kind, patch: patchSummary, fusedPads: chosen.fusedPads,
      note: chosen.note || undefined, files: project.files.map((f) => f.path), layers: project.layers,
    }, null, 2));
    return 0;
  }
  console.log(`${project.modelName}: wrote ${project.files.length} files to ${opts.output} (target ${target}, board ${board.name})`);
  console.log(`arena       ${int(project.arenaBytes)} bytes (${kb(project.arenaBytes)}) = MODEL_ARENA_BYTES, from the ${chosen.kind} ${plan.strategy} memory plan`);
  if (patchSummary) {
    console.log(`patch       ${patchSummary.n}x${patchSummary.n} patches of '${patchSummary.splitTensor}', nodes ${patchSummary.firstNode}..${patchSummary.lastNode} patch by patch, ${int(patchSummary.extraMacs)} extra MACs`);
  } else if (chosen.note) {
    console.log(`patch       none: ${chosen.note}`);
  }
  if (chosen.fusedPads) console.log(`fused       ${chosen.fusedPads} PAD(s) into the convolution reading them (explicit padding; --fuse-pad off keeps them)`);
  console.log(`constants   ${int(project.weightBytes)} bytes (${kb(project.weightBytes)}) in weights.c (Flash)`);
  if (project.stackBytes) console.log(`stack       ${int(project.stackBytes)} bytes reserved above .bss by board.ld`);
  console.log(`kernels     ${kernels.join(' ')}`);
  const machine = qemuMachine(board);
  if (target === 'generic') console.log(`build       make -C ${opts.output}  (libmodel.a)`);
  else console.log(`build       make -C ${opts.output}`);
  if (target === 'host' || (isCortexM(target) && machine)) {
    console.log(`run         make -C ${opts.output} run INPUTS=cases.bin OUTPUTS=out.bin  (inputs of each case back to back)`);
  }
  return 0;
}
