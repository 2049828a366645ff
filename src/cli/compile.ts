import { InputError } from '../errors.js';
import { findBoard } from '../boards/boards.js';
import { loadModel } from '../model.js';
import { OPS } from '../ops/registry.js';
import { planMemory } from '../plan/memory_plan.js';
import { withInPlaceVariants } from '../plan/inplace_rules.js';
import { generateProject, writeProject } from '../codegen/project.js';
import { defaultTarget, isCortexM, parseTarget, qemuMachine } from '../codegen/target.js';
import { int, kb } from './format.js';

export interface CompileOptions {
  board?: string;
  /** Output directory (-o). */
  output?: string;
  target?: string;
  /** Inline kernels per layer (default); `--no-specialize` shares one copy of each. */
  specialize?: boolean;
  /** Plan with the C library's in-place DEPTHWISE_CONV_2D and PAD (smaller arena; not runnable by the interpreter). */
  inplaceKernels?: boolean;
  json?: boolean;
}

/**
 * `tinyml compile MODEL --board NAME -o DIR [--target ...]`: a self-contained C99 project for the model.
 * Every check (target, ops, fit) runs before the first file is written.
 */
export function compileCommand(modelFile: string, opts: CompileOptions): number {
  if (!opts.board) throw new InputError('compile needs --board NAME (the board decides SRAM, Flash and the default target)');
  if (!opts.output) throw new InputError('compile needs -o DIR (where the C project is written)');
  const board = findBoard(opts.board);
  const target = opts.target ? parseTarget(opts.target) : defaultTarget(board);
  const g = loadModel(modelFile);
  const plan = planMemory(g, opts.inplaceKernels ? { ops: withInPlaceVariants(OPS) } : {});
  const project = generateProject(g, plan, { board, target, specialize: opts.specialize !== false });
  writeProject(opts.output, project);

  const kernels = project.files.filter((f) => f.path.startsWith('kernels/')).map((f) => f.path.slice('kernels/'.length));
  if (opts.json) {
    console.log(JSON.stringify({
      model: project.modelName, target, board: board.name, dir: opts.output, arenaBytes: project.arenaBytes,
      weightBytes: project.weightBytes, stackBytes: project.stackBytes, plan: plan.strategy,
      files: project.files.map((f) => f.path), layers: project.layers,
    }, null, 2));
    return 0;
  }
  console.log(`${project.modelName}: wrote ${project.files.length} files to ${opts.output} (target ${target}, board ${board.name})`);
  console.log(`arena       ${int(project.arenaBytes)} bytes (${kb(project.arenaBytes)}) = MODEL_ARENA_BYTES, from the ${plan.strategy} memory plan`);
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
