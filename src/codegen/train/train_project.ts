/**
 * A compiled training step (src/train/program.ts) as a C99 project: the forward pass on the int8
 * inference kernels (the same lowering as `tinyml compile`), the pruned backward pass and the in-place SGD
 * updates on the C training kernels, all in one static arena laid out by the training memory plan that
 * `tinyml train` reports. The trained elements live in that arena, in the plan's parameter slots (SRAM);
 * frozen tensors, and the frozen rest of a tensor a sparse update trains in part, stay `const` (Flash).
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
import { ParamUpdater, biasScales, paramLayout } from '../../train/optimizer.js';
import type { OptimizerSpec } from '../../train/optimizer_spec.js';
import type { CArray } from '../c_syntax.js';
import { cComment } from '../c_syntax.js';
import type { KernelHeader } from '../kernels.js';
import { withDependencies } from '../kernels.js';
import { lowerGraph, projectFrame } from '../project.js';
import type { GeneratedFile } from '../project.js';
import type { Target } from '../target.js';
import { DEFAULT_STACK_BYTES, checkTargetForBoard, isCortexM } from '../target.js';
import { renderArg, renderDefinition, renderStatement } from '../emit/c_render.js';
import { emitWeightsHeader, emitWeightsSource } from '../emit/weights_c.js';
import type { BuildSpec } from '../emit/build_files.js';
import type { CStruct, Definition, Statement } from '../lower/kernel_call.js';
import type { TrainableParam } from '../../train/update.js';
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
  /**
   * SRAM the training step needs outside the plan's arena: the trained layers' folded biases (.data), which
   * the inference kernels read and the step folds again after each update.
   */
  foldedBiasBytes: number;
  /** The plan's parameter slots: the trained elements, inside the arena. */
  plannedParameterBytes: number;
  weightBytes: number;
  stackBytes: number;
  /** Trained tensors in export order: name and bytes of the whole tensor (model_trained_read). */
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

/** A trained layer's forward arrays: its filter in Flash, the folded bias to refold, and its raw bias. */
interface TrainedLayer {
  node: AnyNode;
  filter: CArray;
  folded: CArray;
  rawBias: CArray | null;
}

/** How the device holds a weight tensor: frozen, trained whole (its arena slot), or split (kept columns in the slot). */
type FilterForm = { kind: 'frozen' } | { kind: 'whole'; slot: number } | { kind: 'split'; slot: number; param: TrainableParam; compact: boolean };

/** Index in the tensor of each trained element, in the order of its compact SRAM slot (tm_train_param_index). */
function slotOrder(layout: { rows: number; rowLength: number; index: Int32Array }, depthwise: boolean): Int32Array {
  if (!depthwise) return layout.index;
  // Depthwise slots are [taps][rows] so a tap's channels lie side by side as in the tensor.
  const out = new Int32Array(layout.index.length);
  for (let e = 0; e < out.length; e++) out[(e % layout.rowLength) * layout.rows + Math.floor(e / layout.rowLength)] = layout.index[e];
  return out;
}

/** The input channels a split weight does not train, ascending. */
function frozenChannels(pr: TrainableParam): Int32Array {
  const kept = new Set(pr.channels!);
  return Int32Array.from({ length: pr.layer.inChannels }, (_, c) => c).filter((c) => !kept.has(c));
}

function renderCall(fn: string, args: string[]): string {
  return `${fn}(${args.join(', ')});`;
}

/**
 * The forward call of a layer whose filter is split: the inference kernel's call with the filter replaced
 * by the split one (csrc/kernels/tm_train_split_s8.h). Only the plain int8 kernels have a split form.
 */
function splitForward(n: AnyNode, st: Statement, filter: CArray, filterRef: string, scratchBytes: number, need: number): string[] {
  if (st.kind !== 'call') return [renderStatement(st)];
  const args = st.args.map((a) => (a.kind === 'const' && a.array === filter ? filterRef : renderArg(a)));
  switch (st.fn) {
    case 'tm_conv2d_1x1_s8': case 'tm_conv2d_s8':
      if (scratchBytes < need) throw new UnsupportedOpError(n.op, n.index, `compile --train: the split forward needs ${need} bytes of scratch, the plan gives ${scratchBytes}`);
      return [renderCall('tm_train_split_conv2d_s8', [...args, String(scratchBytes)])];
    case 'tm_fully_connected_s8':
      return [renderCall('tm_train_split_fully_connected_s8', args)];
    case 'tm_depthwise_conv2d_s8':
      // The inference kernel over the Flash part, then the kept channels again from SRAM.
      return [renderStatement(st), renderCall('tm_train_split_depthwise_s8', [args[0], args[1], args[2], filterRef, args[4]])];
    default:
      throw new UnsupportedOpError(n.op, n.index, `compile --train: the forward kernel ${st.fn} has no form that reads a weight tensor trained on some input channels (train it whole, or not at all)`);
  }
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
  const trainedParams = new Map(p.update.params.map((q) => [q.tensor, q]));
  const slotOf = (id: TensorId) => place(p.paramBuffers.get(id)!.param).offset;
  const arrays = new Map<TensorId, CArray>();
  const weights: CArray[] = [];
  const definitions: string[] = [];
  const forwardCode = new Map<number, string[]>();
  const layers: TrainedLayer[] = [];
  const forms = new Map<TensorId, FilterForm>();
  /** Initial values of each parameter's slot, in slot order (Flash), and what its export lays them over. */
  const initial = new Map<TensorId, { init: CArray; frozen: CArray }>();
  const filterName = (id: TensorId) => `train_filter_${id}`;
  /** Kept channels, the frozen rest, and each input channel's place: j in kept, or -1 - j in frozen. */
  const channelLists = (id: TensorId, pr: TrainableParam) => {
    const kept = `train_kept_${id}`, slot = `train_slot_${id}`, frozen = `train_frozen_${id}`;
    if (!definitions.some((d) => d.includes(` ${kept}[`))) {
      const slots = new Int32Array(pr.layer.inChannels);
      const rest = frozenChannels(pr);
      pr.channels!.forEach((c, j) => { slots[c] = j; });
      rest.forEach((c, j) => { slots[c] = -1 - j; });
      definitions.push(renderDefinition({ kind: 'array', array: { name: kept, type: 'int32_t', values: pr.channels!, linkage: 'static' } }));
      if (forms.get(id)?.kind === 'split' && (forms.get(id) as { compact: boolean }).compact) {
        definitions.push(renderDefinition({ kind: 'array', array: { name: frozen, type: 'int32_t', values: rest, linkage: 'static' } }));
      }
      definitions.push(renderDefinition({ kind: 'array', array: { name: slot, type: 'int32_t', values: slots, linkage: 'static' } }));
    }
    return { kept, slot, frozen };
  };
  for (const l of lowered) {
    const n = l.node;
    const trains = n.inputs.some((id) => trainedParams.has(id));
    const defs = trains ? l.code.definitions.map(replaceStructFast) : l.code.definitions;
    for (const w of l.code.weights) {
      const owner = n.inputs.find((id) => id >= 0 && g.tensors[id].data && w.comment?.startsWith(`${g.tensors[id].name} `));
      if (owner !== undefined) arrays.set(owner, w);
      weights.push(w);
    }
    let code = l.code.statements.map((st) => renderStatement(st));
    if (trains) {
      const filter = arrays.get(n.inputs[1]);
      const folded = l.code.weights.find((w) => w.comment?.startsWith('bias of '));
      if (!filter || !folded) throw new UnsupportedOpError(n.op, n.index, 'compile --train: this layer\'s lowering has no filter and folded bias to train');
      folded.mutable = true;
      layers.push({ node: n, filter, folded, rawBias: null });
      const pr = trainedParams.get(n.inputs[1]);
      if (pr && !pr.channels) {
        // Trained whole: the forward reads the arena slot; the Flash array holds the initial values.
        const slot = slotOf(pr.tensor);
        forms.set(pr.tensor, { kind: 'whole', slot });
        initial.set(pr.tensor, { init: filter, frozen: filter });
        code = l.code.statements.map((st) => st.kind !== 'call' ? renderStatement(st) : renderStatement({
          ...st, args: st.args.map((a) => (a.kind === 'const' && a.array === filter ? { kind: 'arena', offset: slot, type: 'int8_t' } : a)),
        }));
      } else if (pr) {
        // Trained on some input channels: those stay in the slot, the Flash filter keeps the rest (kept columns zero).
        const layout = paramLayout(g, pr);
        const whole = filter.values as Int8Array;
        const order = slotOrder(layout, pr.layer.kind === 'depthwise');
        const init: CArray = { name: `train_init_${pr.tensor}`, type: 'int8_t', values: Int8Array.from(order, (i) => whole[i]), align: 4, linkage: 'extern', comment: `${g.tensors[pr.tensor].name}: initial values of its ${pr.channels!.length} trained input channels` };
        const w = g.tensors[pr.tensor];
        const inC = w.shape[w.shape.length - 1];
        const compact = n.op === 'CONV_2D';
        if (compact) {
          // A convolution's Flash part holds the frozen channels only, [cout][taps][frozen].
          const rest = frozenChannels(pr);
          const rows = numElements(w.shape) / inC;
          filter.values = Int8Array.from({ length: rows * rest.length }, (_, e) => whole[Math.floor(e / rest.length) * inC + rest[e % rest.length]]);
          filter.comment = `${filter.comment}: its ${rest.length} frozen input channels ([cout][taps][${rest.length}]; the ${pr.channels!.length} trained ones are in SRAM)`;
        } else {
          const zeroed = whole.slice();
          for (const i of layout.index) zeroed[i] = 0;
          filter.values = zeroed;
          filter.comment = `${filter.comment}, its ${pr.channels!.length} trained input channels zero (they are in SRAM)`;
        }
        weights.push(init);
        initial.set(pr.tensor, { init, frozen: filter });
        forms.set(pr.tensor, { kind: 'split', slot: slotOf(pr.tensor), param: pr, compact });
        const taps = pr.layer.kind === 'depthwise' ? 1 : numElements(w.shape) / w.shape[0] / inC;
        const depth = taps * inC;
        const pointwise = n.op === 'CONV_2D' && l.code.statements.some((st) => st.kind === 'call' && st.fn === 'tm_conv2d_1x1_s8');
        // One pixel at a time: its im2col column, then its frozen and kept values (depth bytes).
        const need = (pointwise ? 0 : (depth + 3) & ~3) + depth;
        const scratchBytes = plan.placements.get(scratchId(l.step))?.bytes ?? 0;
        code = l.code.statements.flatMap((st) => splitForward(n, st, filter, `&${filterName(pr.tensor)}`, scratchBytes, need));
      }
    }
    definitions.push(cComment(`node ${n.index} ${n.op}`), ...defs.map(renderDefinition));
    forwardCode.set(n.index, code);
  }
  // Raw biases for the refold: trained ones in their arena slot (initial values in Flash), frozen ones const.
  for (const l of layers) {
    const b = l.node.inputs[2];
    if (b === undefined || b < 0) continue;
    const t = g.tensors[b];
    const values = new Int32Array(t.data!.slice().buffer, 0, numElements(t.shape));
    const a: CArray = { name: `train_bias_${l.node.index}`, type: 'int32_t', values, align: 4, linkage: 'extern', comment: `${t.name} int32[${t.shape.join(',')}]${trainedParams.has(b) ? ' (initial values)' : ''}` };
    l.rawBias = a;
    arrays.set(b, a);
    weights.push(a);
    if (trainedParams.has(b)) initial.set(b, { init: a, frozen: a });
  }
  // A layer's Flash weights never change: their sums are folded from a constant (Flash) array.
  for (const l of layers) if (forms.get(l.node.inputs[1])?.kind !== 'whole') weights.push(flashSums(g, l));
  // The tm_train_filter of each layer filter the backward pass reads.
  const filterRef = (id: TensorId): string => {
    const name = filterName(id);
    if (definitions.some((d) => d.includes(` ${name} =`))) return `&${name}`;
    const form = forms.get(id) ?? { kind: 'frozen' };
    let fields: string;
    if (form.kind === 'frozen') {
      const a = arrays.get(id);
      if (!a) throw new Error(`compile --train: no array holds weights ${g.tensors[id].name}`);
      fields = `${a.name}, NULL, NULL, NULL, 0, NULL, 0`;
    } else if (form.kind === 'whole') {
      fields = `ARENA(${form.slot}, int8_t), NULL, NULL, NULL, 0, NULL, 0`;
    } else {
      const lists = channelLists(id, form.param);
      const nFrozen = form.param.layer.inChannels - form.param.channels!.length;
      fields = `${arrays.get(id)!.name}, ARENA(${form.slot}, int8_t), ${lists.kept}, ${lists.slot}, ${form.param.channels!.length}, ${form.compact ? `${lists.frozen}, ${nFrozen}` : 'NULL, 0'}`;
    }
    definitions.push(`static const tm_train_filter ${name} = {${fields}};`);
    return `&${name}`;
  };
  for (const [id, form] of forms) if (form.kind === 'split') filterRef(id);

  const paramInits: string[] = [];
  // Parameters: tm_train_param structs over the arena slots, scales per row, momentum in the arena.
  const paramName = new Map<TensorId, string>();
  const momentum = spec.kind === 'sgd' && (spec.momentum ?? 0) !== 0;
  const clock = { lr: spec.lr, step: 0 };
  const rule = { spec, rounding: p.options.rounding, qas: opts.qas };
  p.update.params.forEach((pr, i) => {
    const t = g.tensors[pr.tensor];
    if (!initial.has(pr.tensor)) throw new UnsupportedOpError(g.nodes[pr.layer.node].op, pr.layer.node, `compile --train: no array holds trained tensor ${t.name}`);
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
    const kept = pr.channels && pr.role === 'weight' ? channelLists(pr.tensor, pr).kept : 'NULL';
    const state = p.paramBuffers.get(pr.tensor)!.state;
    const mom = momentum ? `ARENA(${place(state[0]).offset}, float)` : 'NULL';
    const layout = pr.role === 'bias' ? 'TM_TRAIN_PARAM_BIAS' : pr.layer.kind === 'depthwise' ? 'TM_TRAIN_PARAM_DEPTHWISE' : 'TM_TRAIN_PARAM_WEIGHT';
    const w = t.shape;
    const inC = pr.role === 'bias' ? 1 : pr.layer.kind === 'depthwise' ? pr.layer.inChannels : w[w.length - 1];
    const taps = pr.role === 'bias' ? 1 : pr.layer.kind === 'depthwise' ? w[1] * w[2] : numElements(w) / w[0] / inC;
    const nKept = pr.channels ? pr.channels.length : inC;
    const M = pr.layer.kind === 'depthwise' && pr.role === 'weight' ? w[3] / pr.layer.inChannels : 1;
    const type = t.dtype === 'int8' ? 'int8_t' : 'int32_t';
    definitions.push(
      cComment(`${pr.role} ${t.name}: ${pr.elements} trained elements in ${rows} rows, in the arena at ${slotOf(pr.tensor)}`),
      `static tm_train_param ${name};`,
    );
    paramInits.push(`  ${name} = (tm_train_param){${layout}, ${rows}, ${u.layout.rowLength}, ${taps}, ${inC}, ${nKept}, ${M}, ${kept}, ${t.dtype === 'int8' ? 8 : 32}, (void *)ARENA(${slotOf(pr.tensor)}, ${type}), ${scaleArrays.join(', ')}, ${mom}};`);
    paramInits.push(`  memcpy(ARENA(${slotOf(pr.tensor)}, ${type}), ${initial.get(pr.tensor)!.init.name}, ${pr.elements * (t.dtype === 'int8' ? 1 : 4)}u);`);
    paramName.set(pr.tensor, name);
  });

  // The schedule.
  const ctx = { g, p, place, filter: filterRef, paramName, definitions, windows: new Map<string, string>() };
  const forward: string[] = [];
  const backward: string[] = [];
  const headers = new Set<KernelHeader>(['tm_train_grad_s8.h', 'tm_train_loss.h', 'tm_train_sgd.h']);
  if ([...forms.values()].some((f) => f.kind === 'split')) headers.add('tm_train_split_s8.h');
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
  const refold = layers.flatMap((l) => refoldCalls(g, l, forms, trainedParams, slotOf, paramName));

  const input = g.tensors[g.inputs[0]];
  const inputAt = place(p.activation.get(input.id)!).offset;
  const logits = g.tensors[p.head.logits];
  const logitsAt = place(p.activation.get(logits.id)!).offset;
  const exports = p.update.params.map((pr) => {
    const t = g.tensors[pr.tensor];
    return { name: t.name, tensor: pr.tensor, bytes: numElements(t.shape) * (t.dtype === 'int8' ? 1 : 4) };
  });
  const foldedBiasBytes = [...new Set(layers.map((l) => l.folded))].reduce((s, a) => s + a.values.length * 4, 0);
  const plannedParameterBytes = p.buffers.filter((b) => b.category === 'parameter').reduce((s, b) => s + b.bytes, 0);
  const weightBytes = weights.filter((a) => !a.mutable).reduce((s, a) => s + a.values.length * (a.type === 'int8_t' ? 1 : 4), 0);
  const stackBytes = isCortexM(target) ? opts.stackBytes ?? DEFAULT_STACK_BYTES : 0;
  if (arenaBytes + foldedBiasBytes + stackBytes > board.sramBytes) {
    throw new DoesNotFitError('SRAM', arenaBytes + foldedBiasBytes + stackBytes, board.sramBytes,
      `${modelName} training on ${board.name}: training arena ${arenaBytes} bytes + folded biases ${foldedBiasBytes} + stack ${stackBytes}`);
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
    ...refold.map((line) => `  ${line}`),
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
    'void model_trained_read(int i, uint32_t first, uint32_t count, void *dst) {',
    '  if (i < 0 || i >= model_trained_count() || first > model_trained_bytes(i) || count > model_trained_bytes(i) - first) return;',
    '  switch (i) {',
    ...exports.map((e, i) => {
      const form = forms.get(e.tensor);
      const t = g.tensors[e.tensor];
      return form?.kind === 'split' && form.compact
        ? `    case ${i}: tm_train_filter_read(&${filterName(e.tensor)}, ${t.shape[t.shape.length - 1]}, first, count, (uint8_t *)dst); break;`
        : `    case ${i}: tm_train_param_read(&${paramName.get(e.tensor)}, ${initial.get(e.tensor)!.frozen.name}, first, count, (uint8_t *)dst); break;`;
    }),
    '    default: break;',
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
    cComment('Zero the arena and the optimiser state, load the trained elements\' initial values (from Flash) into it, fold the trained layers\' biases; seed the rounding noise. Calling it again starts training over.'),
    'void model_init(void);',
    cComment(`One SGD step on one sample (int8 input as the model's input tensor, scale ${input.quant?.scale[0]}, zero point ${input.quant?.zeroPoint[0]}): the predicted class before the update, -1 when an update was not finite, -2 for a label outside 0..${p.head.classes - 1}.`),
    'int32_t model_train_step(const int8_t *input, int32_t label);',
    cComment('Where the input lies in the arena: fill it in place and pass it to model_train_step / model_predict to save a copy (overwritten by each step).'),
    'int8_t *model_input(void);',
    cComment(`The forward pass alone: the ${p.head.classes} int8 logits (in the arena, valid until the next call).`),
    'const int8_t *model_predict(const int8_t *input);',
    cComment('The trained tensors, to save or export: whole, as the model stores them (the frozen part from Flash, the trained elements from the arena), read in pieces of any size: bytes [first, first + count) of tensor i into dst.'),
    'int model_trained_count(void);',
    'const char *model_trained_name(int i);',
    'uint32_t model_trained_bytes(int i);',
    'void model_trained_read(int i, uint32_t first, uint32_t count, void *dst);',
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
    modelName, target, board, files, arenaBytes, memory, foldedBiasBytes, plannedParameterBytes, weightBytes, stackBytes, exports,
    inputBytes: numElements(input.shape),
  };
}

const sumsName = (l: TrainedLayer) => `train_wsum_${l.node.index}`;

/** Per output channel, the sum of a layer's weights in Flash (the constant part of its folded bias). */
function flashSums(g: Graph, l: TrainedLayer): CArray {
  const w = g.tensors[l.node.inputs[1]];
  const v = l.filter.values as Int8Array;
  const depthwise = l.node.op === 'DEPTHWISE_CONV_2D';
  const cout = depthwise ? w.shape[3] : w.shape[0];
  // Rows of a convolution's compact Flash part are shorter than the tensor's.
  const taps = v.length / cout;
  const sums = new Int32Array(cout);
  for (let c = 0; c < cout; c++) for (let t = 0; t < taps; t++) sums[c] += v[depthwise ? t * cout + c : c * taps + t];
  return { name: sumsName(l), type: 'int32_t', values: sums, align: 4, linkage: 'extern', comment: `per output channel, the sum of ${w.name}'s weights kept in Flash` };
}

/**
 * The folded bias of one trained layer from its current weights and bias: the Flash weights' constant sums
 * (frozen filter, or a split filter's Flash part: its kept columns are zero there) plus, when split, the
 * kept columns' sums from the slot; a filter trained whole is summed from its slot.
 */
function refoldCalls(g: Graph, l: TrainedLayer, forms: Map<TensorId, FilterForm>, trained: Map<TensorId, TrainableParam>, slotOf: (id: TensorId) => number, paramName: Map<TensorId, string>): string[] {
  const n = l.node;
  const w = g.tensors[n.inputs[1]];
  const zp = g.tensors[n.inputs[0]].quant?.zeroPoint[0] ?? 0;
  const b = n.inputs[2];
  const bias = !l.rawBias ? 'NULL' : trained.has(b) ? `ARENA(${slotOf(b)}, int32_t)` : l.rawBias.name;
  const form = forms.get(w.id) ?? { kind: 'frozen' };
  const kept = form.kind === 'split' ? [`tm_train_refold_kept(&${paramName.get(w.id)}, ${zp}, ${l.folded.name});`] : [];
  if (form.kind !== 'whole') return [`tm_train_refold_sums(${l.folded.values.length}, ${bias}, ${sumsName(l)}, ${zp}, ${l.folded.name});`, ...kept];
  const filter = `ARENA(${form.slot}, int8_t)`;
  if (n.op === 'DEPTHWISE_CONV_2D') {
    const cout = w.shape[3];
    return [`tm_train_refold_bias(${cout}, ${bias}, ${filter}, ${zp}, ${w.shape[1] * w.shape[2]}, 1, ${cout}, ${l.folded.name});`, ...kept];
  }
  const cout = w.shape[0];
  const depth = numElements(w.shape) / cout;
  return [`tm_train_refold_bias(${cout}, ${bias}, ${filter}, ${zp}, ${depth}, ${depth}, 1, ${l.folded.name});`, ...kept];
}
