import { DoesNotFitError, InputError } from '../errors.js';
import type { Graph } from '../graph/graph.js';
import { loadDatasetFolder } from '../data/load.js';
import { trainingView } from '../data/training_view.js';
import { inputEncodingFor } from '../data/encode.js';
import { DEFAULT_STACK_BYTES, isCortexM } from '../codegen/target.js';
import { chooseUpdate } from '../train/auto.js';
import type { UpdateSpec } from '../train/update.js';
import { formatUpdate } from '../train/update.js';
import { loadModel } from '../model.js';
import { findBoard } from '../boards/boards.js';
import { defaultTarget, parseTarget } from '../codegen/target.js';
import { checkProjectDir, writeProject } from '../codegen/write_project.js';
import { generateTrainingProject } from '../codegen/train/train_project.js';
import type { GeneratedTrainingProject, TrainProjectOptions } from '../codegen/train/train_project.js';
import { compileTraining } from '../train/compile.js';
import { parseUpdateSpec } from '../train/update.js';
import type { OptimizerSpec } from '../train/optimizer_spec.js';
import { classesOf, modelShape, planTraining } from '../train/workflow.js';
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
  /** With `--train auto`: the dataset whose gradients choose the update. */
  data?: string;
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
  const auto = o.train.trim() === 'auto';
  if (auto && o.data === undefined) {
    throw new InputError('compile --train auto probes gradients on training data to choose what to update: give --data DIR (a dataset as `tinyml train` reads it), or a concrete update (e.g. --train sparse:8:-1@1,-2@0.25)');
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
  const settings = { board, target, qas: qasText === 'on', seed, modelName: g.name };
  const { update, project, note } = auto
    ? chooseForBoard(g, o.data!, optimizer, settings)
    : (() => {
      const spec = parseUpdateSpec(o.train);
      return { update: spec, project: generateTrainingProject(compileTraining(g, spec, { optimizer }), optimizer, settings), note: '' };
    })();
  // What `tinyml train` reports for this update (its SGD keeps no state unless momentum is asked for).
  const predicted = planTraining(g, update, { optimizer }).peakBytes;
  writeProject(o.output, project);
  report(project, predicted, { ...o, train: formatUpdate(update) }, target, note);
  return 0;
}

/** SRAM `--train auto` leaves to the application beside the training program (the runner takes ~1.1 KB). */
const AUTO_HEADROOM_BYTES = 4096;

/**
 * `--train auto`: the sparse update `tinyml train --update auto` would choose (gradient probe on the data,
 * search under a budget), with the budget the board leaves. The device also keeps the trained layers' folded
 * biases and a stack beside the plan's arena, which depend on the choice: start from SRAM minus the stack and
 * lower the budget by what the last choice overshot until the whole program fits.
 */
function chooseForBoard(g: Graph, dataDir: string, optimizer: OptimizerSpec, settings: TrainProjectOptions): { update: UpdateSpec; project: GeneratedTrainingProject; note: string } {
  const input = g.tensors[g.inputs[0]];
  if (input.dtype !== 'int8') throw new InputError(`${g.name}: --train auto probes an int8 classifier; this model's input is ${input.dtype}`);
  const data = loadDatasetFolder(dataDir, { shape: modelShape(g), seed: settings.seed });
  const classes = classesOf(g);
  if (data.train.classNames.length !== classes) {
    throw new InputError(`${g.name} has ${classes} classes and ${dataDir} has ${data.train.classNames.length}: the device trains the model as it is (give it a ${data.train.classNames.length}-class head first: \`tinyml train MODEL --data ${dataDir} --update last --out NEW.tflite\`)`);
  }
  const samples = trainingView(data.train, { range: inputEncodingFor(input).range });
  const stack = isCortexM(settings.target) ? settings.stackBytes ?? DEFAULT_STACK_BYTES : 0;
  const room = settings.board.sramBytes - AUTO_HEADROOM_BYTES;
  let budget = room - stack;
  for (let round = 0; round < 6 && budget > 0; round++) {
    const choice = chooseUpdate(g, samples, { budgetBytes: budget, optimizer, qas: settings.qas, seed: settings.seed });
    let project: GeneratedTrainingProject;
    try {
      project = generateTrainingProject(compileTraining(g, choice.spec, { optimizer }), optimizer, settings);
    } catch (e) {
      if (!(e instanceof DoesNotFitError) || e.resource !== 'SRAM') throw e;
      budget -= Math.max(e.needBytes - room, 1024);
      continue;
    }
    const need = project.arenaBytes + project.foldedBiasBytes + project.stackBytes;
    if (need <= room) {
      return { update: choice.spec, project, note: `auto under ${int(budget)} bytes of plan: ${settings.board.name}'s ${int(settings.board.sramBytes)} bytes of SRAM less the stack, ${int(AUTO_HEADROOM_BYTES)} for the application${round ? ' and the folded biases' : ''}; ${choice.evaluated} configurations planned` };
    }
    budget -= Math.max(need - room, 1024);
  }
  throw new DoesNotFitError('SRAM', settings.board.sramBytes + 1, settings.board.sramBytes, `${g.name}: no sparse update's training step fits ${settings.board.name} with its folded biases, stack and ${AUTO_HEADROOM_BYTES} bytes for the application`);
}

function report(p: GeneratedTrainingProject, predicted: number, o: CompileTrainOptions, target: string, note: string): void {
  const sram = p.arenaBytes + p.foldedBiasBytes + p.stackBytes;
  if (o.json) {
    console.log(JSON.stringify({
      model: p.modelName, target, board: p.board.name, dir: o.output, update: o.train, arenaBytes: p.arenaBytes, predictedPeakBytes: predicted,
      foldedBiasBytes: p.foldedBiasBytes, plannedParameterBytes: p.plannedParameterBytes, stackBytes: p.stackBytes, sramBytes: sram, weightBytes: p.weightBytes,
      trained: p.exports.map((e) => ({ name: e.name, bytes: e.bytes })), files: p.files.map((f) => f.path),
    }, null, 2));
    return;
  }
  console.log(`${p.modelName}: wrote ${p.files.length} files to ${o.output} (training on ${target}, board ${p.board.name})`);
  console.log(`update      ${o.train}: ${p.exports.length} trained tensors${note ? ` (${note})` : ''}`);
  console.log(`arena       ${int(p.arenaBytes)} bytes (${kb(p.arenaBytes)}) = MODEL_ARENA_BYTES: the training plan \`tinyml train\` reports (${int(predicted)} bytes)`);
  console.log(`trained     ${int(p.plannedParameterBytes)} bytes of trained elements, inside the arena (the frozen rest of each tensor stays in Flash)`);
  console.log(`folded      ${int(p.foldedBiasBytes)} bytes of the trained layers' folded biases in SRAM (.data), outside the plan`);
  if (p.stackBytes) console.log(`stack       ${int(p.stackBytes)} bytes reserved by board.ld`);
  console.log(`SRAM        ${int(sram)} bytes (${kb(sram)}) of ${kb(p.board.sramBytes)}`);
  console.log(`constants   ${int(p.weightBytes)} bytes (${kb(p.weightBytes)}) frozen in Flash`);
  console.log(`build       make -C ${o.output}`);
  if (target === 'host' || target.startsWith('cortex')) console.log(`run         make -C ${o.output} run INPUTS=samples.bin OUTPUTS=trained.bin  (each sample: int8 input then an int32 label; writes the trained tensors)`);
}
