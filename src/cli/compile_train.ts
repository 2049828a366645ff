import { InputError } from '../errors.js';
import { loadModel } from '../model.js';
import { findBoard } from '../boards/boards.js';
import { defaultTarget, parseTarget } from '../codegen/target.js';
import { checkProjectDir, writeProject } from '../codegen/write_project.js';
import { generateTrainingProject } from '../codegen/train/train_project.js';
import type { GeneratedTrainingProject } from '../codegen/train/train_project.js';
import { compileTraining } from '../train/compile.js';
import { parseUpdateSpec } from '../train/update.js';
import type { OptimizerSpec } from '../train/optimizer_spec.js';
import { planTraining } from '../train/workflow.js';
import { int, kb } from '../report/format.js';

/** `tinyml compile MODEL --train SPEC` options as commander hands them over. */
export interface CompileTrainOptions {
  board?: string;
  output?: string;
  target?: string;
  train: string;
  lr?: string;
  momentum?: string;
  qas?: string;
  seed?: string;
  json?: boolean;
}

function number(text: string | undefined, flag: string, fallback: number, ok: (v: number) => boolean): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isFinite(v) || !ok(v)) throw new InputError(`${flag} got "${text}"`);
  return v;
}

/**
 * `tinyml compile MODEL --train SPEC --board NAME -o DIR`: a C99 project that trains the int8 model on the
 * device (model_train_step / model_predict / model_trained_*), byte-exact with `tinyml train`'s steps.
 */
export function compileTrainCommand(modelFile: string, o: CompileTrainOptions): number {
  if (o.board === undefined) throw new InputError('compile --train needs --board NAME (its SRAM bounds the training step)');
  if (!o.output) throw new InputError('compile --train needs -o DIR (where the C project is written)');
  if (o.train.trim() === 'auto') {
    throw new InputError('compile --train auto is not supported yet: the automatic choice probes gradients on training data; choose with `tinyml train --update auto --budget ...` and pass the update it prints (e.g. --train sparse:8:-1@1,-2@0.25)');
  }
  checkProjectDir(o.output);
  const board = findBoard(o.board);
  const target = o.target ? parseTarget(o.target) : defaultTarget(board);
  const lr = number(o.lr, '--lr takes a positive number', 0.1, (v) => v > 0);
  const momentum = number(o.momentum, '--momentum takes a number in [0, 1)', 0, (v) => v >= 0 && v < 1);
  const seed = number(o.seed, '--seed takes an integer', 1, Number.isInteger);
  const qasText = (o.qas ?? 'on').toLowerCase();
  if (qasText !== 'on' && qasText !== 'off') throw new InputError(`--qas takes on or off, got "${o.qas}"`);
  const optimizer: OptimizerSpec = { kind: 'sgd', lr, momentum };
  const g = loadModel(modelFile);
  const update = parseUpdateSpec(o.train);
  const program = compileTraining(g, update, { optimizer });
  const project = generateTrainingProject(program, optimizer, { board, target, qas: qasText === 'on', seed, modelName: g.name });
  // What `tinyml train` reports for this update (its SGD keeps no state unless momentum is asked for).
  const predicted = planTraining(g, update, { optimizer }).peakBytes;
  writeProject(o.output, project);
  report(project, predicted, o, target);
  return 0;
}

function report(p: GeneratedTrainingProject, predicted: number, o: CompileTrainOptions, target: string): void {
  const sram = p.arenaBytes + p.trainedBytes + p.stackBytes;
  if (o.json) {
    console.log(JSON.stringify({
      model: p.modelName, target, board: p.board.name, dir: o.output, update: o.train, arenaBytes: p.arenaBytes, predictedPeakBytes: predicted,
      trainedBytes: p.trainedBytes, plannedParameterBytes: p.plannedParameterBytes, stackBytes: p.stackBytes, sramBytes: sram, weightBytes: p.weightBytes,
      trained: p.exports.map((e) => ({ name: e.name, bytes: e.bytes })), files: p.files.map((f) => f.path),
    }, null, 2));
    return;
  }
  console.log(`${p.modelName}: wrote ${p.files.length} files to ${o.output} (training on ${target}, board ${p.board.name})`);
  console.log(`update      ${o.train}: ${p.exports.length} trained tensors`);
  console.log(`arena       ${int(p.arenaBytes)} bytes (${kb(p.arenaBytes)}) = MODEL_ARENA_BYTES: the training plan \`tinyml train\` reports (${int(predicted)} bytes)`);
  console.log(`trained     ${int(p.trainedBytes)} bytes of whole trained tensors and folded biases in SRAM (.data; the plan counts ${int(p.plannedParameterBytes)} bytes of trained elements inside the arena)`);
  if (p.stackBytes) console.log(`stack       ${int(p.stackBytes)} bytes reserved by board.ld`);
  console.log(`SRAM        ${int(sram)} bytes (${kb(sram)}) of ${kb(p.board.sramBytes)}`);
  console.log(`constants   ${int(p.weightBytes)} bytes (${kb(p.weightBytes)}) frozen in Flash`);
  console.log(`build       make -C ${o.output}`);
  if (target === 'host' || target.startsWith('cortex')) console.log(`run         make -C ${o.output} run INPUTS=samples.bin OUTPUTS=trained.bin  (each sample: int8 input then an int32 label; writes the trained tensors)`);
}
