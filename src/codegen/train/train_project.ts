/**
 * A compiled training step (src/train/program.ts) as a C99 project: the forward pass on the int8
 * inference kernels (the same lowering as `tinyml compile`), the pruned backward pass and the in-place SGD
 * updates on the C training kernels, all in one static arena laid out by the training memory plan that
 * `tinyml train` reports. Trained tensors are whole mutable arrays (SRAM); frozen ones stay `const` (Flash).
 *
 * The numbers are the Node trainer's (TrainingSession, wasm backend) to the byte: see the numeric contract
 * in csrc/kernels/tm_train_grad_s8.h, tm_train_loss.h and tm_train_sgd.h.
 */
import type { Board } from '../../boards/boards.js';
import type { AnyNode, Graph, TensorId } from '../../graph/graph.js';
import { numElements } from '../../graph/graph.js';
import { DoesNotFitError, InputError, UnsupportedOpError } from '../../errors.js';
import type { MemoryPlan, Placement } from '../../plan/memory_plan.js';
import { scratchId } from '../../plan/lifetimes.js';
import type { TrainStep, TrainingProgram } from '../../train/program.js';
import type { TrainingMemoryReport } from '../../train/memory.js';
import { planTrainingMemory } from '../../train/memory.js';
import { ParamUpdater, biasScales } from '../../train/optimizer.js';
import type { OptimizerSpec } from '../../train/optimizer_spec.js';
import type { CArray } from '../c_syntax.js';
import { cComment } from '../c_syntax.js';
import type { KernelHeader } from '../kernels.js';
import { withDependencies } from '../kernels.js';
import { lowerGraph, projectFrame } from '../project.js';
import type { GeneratedFile } from '../project.js';
import type { Target } from '../target.js';
import { DEFAULT_STACK_BYTES, checkTargetForBoard, isCortexM } from '../target.js';
import { renderDefinition, renderStatement } from '../emit/c_render.js';
import { emitWeightsHeader, emitWeightsSource } from '../emit/weights_c.js';
import type { BuildSpec } from '../emit/build_files.js';
import type { CStruct, Definition } from '../lower/kernel_call.js';
import { backwardStep } from './backward_c.js';
import type { StepCode } from './backward_c.js';

export interface TrainProjectOptions {
  board: Board;
  target: Target;
  /** The session's settings the device reproduces. */
  qas: boolean;
  seed: number;
  stackBytes?: number;
  modelName?: string;
}

export interface GeneratedTrainingProject {
  modelName: string;
  target: Target;
  board: Board;
  files: GeneratedFile[];
  /** The training arena: the training memory plan's peak (what `tinyml train` reports for the device). */
  arenaBytes: number;
  memory: TrainingMemoryReport;
  /** Whole trained tensors in SRAM (.data) and the folded biases the forward re-reads after updates. */
  trainedBytes: number;
  /** The plan's parameter slots (trained elements): the arena holds them, the device keeps whole tensors instead. */
  plannedParameterBytes: number;
  weightBytes: number;
  stackBytes: number;
  /** Trained tensors in export order: name and bytes (model_trained_data). */
  exports: { name: string; tensor: TensorId; bytes: number }[];
  inputBytes: number;
}

const TRAIN_HARNESS: Readonly<Record<Target, readonly string[]>> = {
  host: ['tm_train_runner.c', 'tm_platform_host.c'],
  'cortex-m4': ['tm_train_runner.c', 'tm_platform_semihost.c', 'tm_startup_cortexm.c'],
  'cortex-m7': ['tm_train_runner.c', 'tm_platform_semihost.c', 'tm_startup_cortexm.c'],
  generic: [],
};

/** Refuse, naming it, what the device step does not compile. */
function checkProgram(p: TrainingProgram, spec: OptimizerSpec): void {
  if (!p.int8) throw new InputError('compile --train: the model computes in float32; the device training step is compiled for int8 models');
  if (p.batch !== 1) throw new InputError(`compile --train: batch ${p.batch}; the device trains one sample a step (batch 1)`);
  if (!p.options.reorder) throw new InputError('compile --train: updates must follow each gradient (reorder on)');
  if (p.options.rounding === 'shadow') throw new InputError('compile --train: float shadow weights are not compiled (use stochastic or nearest rounding)');
  if (spec.kind !== 'sgd') throw new InputError(`compile --train: optimizer ${spec.kind} is not compiled for the device (SGD with momentum and weight decay is)`);
  for (const pr of p.update.params) {
    const t = p.graph.tensors[pr.tensor];
    if (t.dtype !== 'int8' && t.dtype !== 'int32') throw new InputError(`compile --train: trained parameter ${t.name} is ${t.dtype}; the device trains int8 weights and int32 biases`);
  }
  const logits = p.graph.tensors[p.head.logits];
  if (logits.dtype !== 'int8') throw new InputError(`compile --train: logits ${logits.name} are ${logits.dtype}; the device loss reads int8 logits`);
  const input = p.graph.tensors[p.graph.inputs[0]];
  if (input.dtype !== 'int8') throw new InputError(`compile --train: model input ${input.name} is ${input.dtype}; the device step takes int8 input (compile with --io int8)`);
}

/** The forward nodes as an inference MemoryPlan over the training arena, so the inference lowering places them there. */
function forwardPlan(p: TrainingProgram, placements: Map<number, Placement>, arenaBytes: number): MemoryPlan {
  const order: number[] = [];
  const map = new Map<number, Placement>();
  p.steps.forEach((s, k) => {
    if (s.kind !== 'forward') return;
    const sc = placements.get(scratchId(k));
    if (sc) map.set(scratchId(order.length), sc);
    order.push(s.node);
  });
  for (const [tensor, buffer] of p.activation) {
    const pl = placements.get(buffer);
    if (pl) map.set(tensor, pl);
  }
  return {
    strategy: 'training plan', order, arenaBytes, placements: map, liveBytes: [], lowerBound: 0, peakStep: 0, buffers: [],
    aliases: new Map(), inPlaceNodes: new Map(), candidates: [], options: {} as MemoryPlan['options'],
  };
}

/** A trained layer's forward arrays: its filter (mutable when it trains) and the folded bias to refold. */
interface TrainedLayer {
  node: AnyNode;
  filter: CArray;
  folded: CArray;
  rawBias: CArray | null;
}

function replaceStructFast(d: Definition): Definition {
  if (d.kind !== 'struct' || d.struct.type !== 'tm_requant_params') return d;
  // The fast requantisation is proven exact for the compile-time bias; a trained bias may leave its bound.
  const struct: CStruct = { ...d.struct, fields: { ...d.struct.fields, fast: 0 } };
  return { kind: 'struct', struct };
}

export function generateTrainingProject(p: TrainingProgram, spec: OptimizerSpec, opts: TrainProjectOptions): GeneratedTrainingProject {
  const { board, target } = opts;
  checkTargetForBoard(target, board);
  checkProgram(p, spec);
  const g = p.graph;
  const modelName = opts.modelName ?? g.name;
  const memory = planTrainingMemory(p);
  const arenaBytes = Math.max(memory.peakBytes, 16);
  const place = (b: number): Placement => {
    const pl = memory.placements.get(b);
    if (!pl) throw new Error(`training plan: buffer ${b} (${p.buffers[b]?.label}) has no place`);
    return pl;
  };

  // Forward: the inference lowering over the training arena.
  const plan = forwardPlan(p, memory.placements, arenaBytes);
  const lowered = lowerGraph(g, plan);
  const trainedTensors = new Set(p.update.params.map((q) => q.tensor));
  const arrays = new Map<TensorId, CArray>();
  const weights: CArray[] = [];
  const definitions: string[] = [];
  const forwardCode = new Map<number, string[]>();
  const layers: TrainedLayer[] = [];
  for (const l of lowered) {
    const n = l.node;
    const trains = n.inputs.some((id) => trainedTensors.has(id));
    const defs = trains ? l.code.definitions.map(replaceStructFast) : l.code.definitions;
    for (const w of l.code.weights) {
      const owner = n.inputs.find((id) => id >= 0 && g.tensors[id].data && w.comment?.startsWith(`${g.tensors[id].name} `));
      if (owner !== undefined) arrays.set(owner, w);
      weights.push(w);
    }
    if (trains) {
      const filter = arrays.get(n.inputs[1]);
      const folded = l.code.weights.find((w) => w.comment?.startsWith('bias of '));
      if (!filter || !folded) throw new UnsupportedOpError(n.op, n.index, 'compile --train: this layer\'s lowering has no filter and folded bias to train');
      if (trainedTensors.has(n.inputs[1])) filter.mutable = true;
      folded.mutable = true;
      layers.push({ node: n, filter, folded, rawBias: null });
    }
    definitions.push(cComment(`node ${n.index} ${n.op}`), ...defs.map(renderDefinition));
    forwardCode.set(n.index, l.code.statements.map((st) => renderStatement(st)));
  }
  // Raw biases for the refold: trained ones mutable, frozen ones const.
  for (const l of layers) {
    const b = l.node.inputs[2];
    if (b === undefined || b < 0) continue;
    const t = g.tensors[b];
    const values = new Int32Array(t.data!.slice().buffer, 0, numElements(t.shape));
    const a: CArray = { name: `train_bias_${l.node.index}`, type: 'int32_t', values, align: 4, linkage: 'extern', comment: `${t.name} int32[${t.shape.join(',')}]`, mutable: trainedTensors.has(b) };
    l.rawBias = a;
    arrays.set(b, a);
    weights.push(a);
  }

  const paramInits: string[] = [];
  // Parameters: tm_train_param structs over the live arrays, scales per row, momentum in the arena.
  const paramName = new Map<TensorId, string>();
  const momentum = spec.kind === 'sgd' && (spec.momentum ?? 0) !== 0;
  const clock = { lr: spec.lr, step: 0 };
  const rule = { spec, rounding: p.options.rounding, qas: opts.qas };
  p.update.params.forEach((pr, i) => {
    const t = g.tensors[pr.tensor];
    const array = arrays.get(pr.tensor);
    if (!array) throw new UnsupportedOpError(g.nodes[pr.layer.node].op, pr.layer.node, `compile --train: no array holds trained tensor ${t.name}`);
    const u = new ParamUpdater(g, pr, rule, clock, () => 0, (q) => biasScales(g, q));
    const rows = u.layout.rows;
    const perRow = (v: Float32Array) => Float32Array.from({ length: rows }, (_, r) => v[r * u.layout.rowLength]);
    const name = `train_param_${i}`;
    const scaleArrays = (['grad_scale', 'step_scale', 'value_scale'] as const).map((k, j) => {
      const v = perRow([u.gradScale, u.stepScale, u.valueScale][j]);
      const a: CArray = { name: `${name}_${k}`, type: 'float', values: v, linkage: 'static' };
      definitions.push(renderDefinition({ kind: 'array', array: a }));
      return a.name;
    });
    let kept = 'NULL';
    if (pr.channels && pr.role === 'weight') {
      const a: CArray = { name: `${name}_kept`, type: 'int32_t', values: pr.channels, linkage: 'static' };
      definitions.push(renderDefinition({ kind: 'array', array: a }));
      kept = a.name;
    }
    const state = p.paramBuffers.get(pr.tensor)!.state;
    const mom = momentum ? `ARENA(${place(state[0]).offset}, float)` : 'NULL';
    const layout = pr.role === 'bias' ? 'TM_TRAIN_PARAM_BIAS' : pr.layer.kind === 'depthwise' ? 'TM_TRAIN_PARAM_DEPTHWISE' : 'TM_TRAIN_PARAM_WEIGHT';
    const w = t.shape;
    const inC = pr.role === 'bias' ? 1 : pr.layer.kind === 'depthwise' ? pr.layer.inChannels : w[w.length - 1];
    const taps = pr.role === 'bias' ? 1 : pr.layer.kind === 'depthwise' ? w[1] * w[2] : numElements(w) / w[0] / inC;
    const nKept = pr.channels ? pr.channels.length : inC;
    const M = pr.layer.kind === 'depthwise' && pr.role === 'weight' ? w[3] / pr.layer.inChannels : 1;
    definitions.push(
      cComment(`${pr.role} ${t.name}: ${pr.elements} trained elements in ${rows} rows`),
      `static tm_train_param ${name};`,
    );
    paramInits.push(`  ${name} = (tm_train_param){${layout}, ${rows}, ${u.layout.rowLength}, ${taps}, ${inC}, ${nKept}, ${M}, ${kept}, ${t.dtype === 'int8' ? 8 : 32}, (void *)${array.name}, ${scaleArrays.join(', ')}, ${mom}};`);
    paramName.set(pr.tensor, name);
  });

  // The schedule.
  const ctx = { g, p, place, arrays, paramName, definitions, windows: new Map<string, string>() };
  const forward: string[] = [];
  const backward: string[] = [];
  const headers = new Set<KernelHeader>(['tm_train_grad_s8.h', 'tm_train_loss.h', 'tm_train_sgd.h']);
  for (const l of lowered) for (const h of l.code.headers) headers.add(h);
  p.steps.forEach((s, k) => {
    if (s.kind === 'forward') {
      forward.push(cComment(`step ${k}: ${s.label}`, '  '), ...forwardCode.get(s.node)!.map((line) => `  ${line}`));
      return;
    }
    const code: StepCode = backwardStep(ctx, s, k);
    const target = s.kind === 'save-mask' || s.kind === 'save-channels' ? forward : backward;
    target.push(cComment(`step ${k}: ${s.label}`, '  '), ...code.lines.map((line) => `  ${line}`));
  });
  const refold = layers.map((l) => refoldCall(g, l));

  const input = g.tensors[g.inputs[0]];
  const inputAt = place(p.activation.get(input.id)!).offset;
  const logits = g.tensors[p.head.logits];
  const logitsAt = place(p.activation.get(logits.id)!).offset;
  const exports = p.update.params.map((pr) => {
    const t = g.tensors[pr.tensor];
    return { name: t.name, tensor: pr.tensor, bytes: numElements(t.shape) * (t.dtype === 'int8' ? 1 : 4) };
  });
  const trainedBytes = [...new Set(layers.flatMap((l) => [l.filter.mutable ? l.filter : null, l.folded, l.rawBias?.mutable ? l.rawBias : null]))]
    .reduce((s, a) => s + (a ? a.values.length * (a.type === 'int8_t' ? 1 : 4) : 0), 0);
  const plannedParameterBytes = p.buffers.filter((b) => b.category === 'parameter').reduce((s, b) => s + b.bytes, 0);
  const weightBytes = weights.filter((a) => !a.mutable).reduce((s, a) => s + a.values.length * (a.type === 'int8_t' ? 1 : 4), 0);
  const stackBytes = isCortexM(target) ? opts.stackBytes ?? DEFAULT_STACK_BYTES : 0;
  if (arenaBytes + trainedBytes + stackBytes > board.sramBytes) {
    throw new DoesNotFitError('SRAM', arenaBytes + trainedBytes + stackBytes, board.sramBytes,
      `${modelName} training on ${board.name}: training arena ${arenaBytes} bytes + trained tensors ${trainedBytes} + stack ${stackBytes}`);
  }
  if (weightBytes > board.flashBytes) throw new DoesNotFitError('Flash', weightBytes, board.flashBytes, `${modelName} training on ${board.name}: constants alone`);

  const sgd = spec.kind === 'sgd' ? spec : null;
  const modelC = [
    cComment(`Generated by tinyml-ts from ${modelName}: one training step (${p.update.description}). Do not edit.`),
    '#include "model.h"',
    '#include "weights.h"',
    ...withDependencies(headers).map((h) => `#include "${h}"`),
    '',
    `static uint8_t model_arena[MODEL_ARENA_BYTES] TM_ALIGN(16);`,
    '#define ARENA(offset, T) ((T *)(void *)(model_arena + (offset)))',
    '',
    cComment('The optimiser (double constants exactly as the Node trainer holds them) and the stochastic-rounding stream.'),
    `static const tm_train_sgd train_sgd = {${sgd!.lr.toPrecision(17)}, ${(sgd!.momentum ?? 0).toPrecision(17)}, ${(sgd!.weightDecay ?? 0).toPrecision(17)}, ${p.options.rounding === 'stochastic' ? 'TM_TRAIN_ROUND_STOCHASTIC' : 'TM_TRAIN_ROUND_NEAREST'}};`,
    'static uint32_t train_rng;',
    '',
    ...definitions,
    '',
    'static void model_forward(void) {',
    ...forward,
    '}',
    '',
    'void model_init(void) {',
    '  memset(model_arena, 0, sizeof model_arena);',
    `  train_rng = ${opts.seed >>> 0}u;`,
    ...paramInits,
    '}',
    '',
    `int8_t *model_input(void) { return ARENA(${inputAt}, int8_t); }`,
    '',
    `const int8_t *model_predict(const int8_t *input) {`,
    `  if (input != ARENA(${inputAt}, int8_t)) memcpy(ARENA(${inputAt}, int8_t), input, ${numElements(input.shape)}u);`,
    '  model_forward();',
    `  return ARENA(${logitsAt}, int8_t);`,
    '}',
    '',
    'int32_t model_train_step(const int8_t *input, int32_t label) {',
    `  if (label < 0 || label >= ${p.head.classes}) return -2;`,
    `  if (input != ARENA(${inputAt}, int8_t)) memcpy(ARENA(${inputAt}, int8_t), input, ${numElements(input.shape)}u);`,
    '  model_forward();',
    '  int32_t predicted = 0;',
    ...backward,
    cComment('The trained layers\' folded biases, for the next forward.', '  '),
    ...refold.map((line) => `  ${line}`),
    '  return predicted;',
    '}',
    '',
    `int model_trained_count(void) { return ${exports.length}; }`,
    '',
    'const char *model_trained_name(int i) {',
    '  switch (i) {',
    ...exports.map((e, i) => `    case ${i}: return ${JSON.stringify(e.name)};`),
    '    default: return 0;',
    '  }',
    '}',
    '',
    'void *model_trained_data(int i) {',
    '  switch (i) {',
    ...exports.map((e, i) => `    case ${i}: return (void *)${arrays.get(e.tensor)!.name};`),
    '    default: return 0;',
    '  }',
    '}',
    '',
    'uint32_t model_trained_bytes(int i) {',
    '  switch (i) {',
    ...exports.map((e, i) => `    case ${i}: return ${e.bytes}u;`),
    '    default: return 0;',
    '  }',
    '}',
    '',
  ].join('\n');
  const modelH = [
    cComment(`Generated by tinyml-ts from ${modelName}: training on the device. Do not edit.`),
    '#ifndef MODEL_H',
    '#define MODEL_H',
    '',
    '#include <stdint.h>',
    '',
    '#ifdef __cplusplus',
    'extern "C" {',
    '#endif',
    '',
    `#define MODEL_ARENA_BYTES ${arenaBytes}u`,
    `#define MODEL_INPUT_BYTES ${numElements(input.shape)}u`,
    `#define MODEL_CLASSES ${p.head.classes}`,
    '',
    cComment('Zero the arena and the optimiser state; seed the rounding noise.'),
    'void model_init(void);',
    cComment(`One SGD step on one sample (int8 input as the model's input tensor, scale ${input.quant?.scale[0]}, zero point ${input.quant?.zeroPoint[0]}): the predicted class before the update, -1 when an update was not finite, -2 for a label outside 0..${p.head.classes - 1}.`),
    'int32_t model_train_step(const int8_t *input, int32_t label);',
    cComment('Where the input lies in the arena: fill it in place and pass it to model_train_step / model_predict to save a copy (overwritten by each step).'),
    'int8_t *model_input(void);',
    cComment(`The forward pass alone: the ${p.head.classes} int8 logits (in the arena, valid until the next call).`),
    'const int8_t *model_predict(const int8_t *input);',
    cComment('The trained tensors (whole, as the model stores them), to save or export.'),
    'int model_trained_count(void);',
    'const char *model_trained_name(int i);',
    'void *model_trained_data(int i);',
    'uint32_t model_trained_bytes(int i);',
    '',
    '#ifdef __cplusplus',
    '}',
    '#endif',
    '',
    '#endif /* MODEL_H */',
    '',
  ].join('\n');

  const harness = TRAIN_HARNESS[target];
  const build: BuildSpec = { modelName, target, board, stackBytes, harnessSources: harness.map((f) => `harness/${f}`) };
  const files: GeneratedFile[] = [
    { path: 'model.h', contents: modelH },
    { path: 'model.c', contents: modelC },
    { path: 'weights.h', contents: emitWeightsHeader(modelName, weights) },
    { path: 'weights.c', contents: emitWeightsSource(modelName, weights) },
    ...projectFrame(target, withDependencies(headers), build, harness),
  ];
  return {
    modelName, target, board, files, arenaBytes, memory, trainedBytes, plannedParameterBytes, weightBytes, stackBytes, exports,
    inputBytes: numElements(input.shape),
  };
}

/** tm_train_refold_bias for one trained layer, with its op's filter layout. */
function refoldCall(g: Graph, l: TrainedLayer): string {
  const n = l.node;
  const w = g.tensors[n.inputs[1]];
  const zp = g.tensors[n.inputs[0]].quant?.zeroPoint[0] ?? 0;
  const bias = l.rawBias ? l.rawBias.name : 'NULL';
  if (n.op === 'DEPTHWISE_CONV_2D') {
    const cout = w.shape[3];
    return `tm_train_refold_bias(${cout}, ${bias}, ${l.filter.name}, ${zp}, ${w.shape[1] * w.shape[2]}, 1, ${cout}, ${l.folded.name});`;
  }
  const cout = w.shape[0];
  const depth = numElements(w.shape) / cout;
  return `tm_train_refold_bias(${cout}, ${bias}, ${l.filter.name}, ${zp}, ${depth}, ${depth}, 1, ${l.folded.name});`;
}
