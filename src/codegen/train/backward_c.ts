/**
 * The non-forward steps of a training program as C: saves, the loss gradient, and each backward op on
 * the device kernels of csrc/kernels/tm_train_*.h. A parameter op computes its gradient one row at a time
 * into the step's planned scratch and hands each row to the optimiser at once (in-place update).
 */
import type { AnyNode, Graph, Node, Tensor, TensorId } from '../../graph/graph.js';
import { numElements } from '../../graph/graph.js';
import { UnsupportedOpError } from '../../errors.js';
import type { Window2D } from '../../ops/conv_util.js';
import { convWindowParams, window2d } from '../../ops/conv_util.js';
import type { Placement } from '../../plan/memory_plan.js';
import { scratchId } from '../../plan/lifetimes.js';
import type { TrainStep, TrainingProgram, ValueBinding } from '../../train/program.js';
import { cFloat } from '../c_syntax.js';
import { renderDefinition } from '../emit/c_render.js';

export interface BackwardContext {
  g: Graph;
  p: TrainingProgram;
  place(buffer: number): Placement;
  /** The tm_train_filter (a C pointer expression) of a layer's weight tensor: Flash, its arena slot, or both. */
  filter(tensor: TensorId): string;
  /** tm_train_param variable of each trained tensor. */
  paramName: Map<TensorId, string>;
  /** model.c definitions (windows, dequant parameters, channel lists) appended here. */
  definitions: string[];
  windows: Map<string, string>;
}

export interface StepCode {
  lines: string[];
}

const arena = (ctx: BackwardContext, b: number, type: string) => `ARENA(${ctx.place(b).offset}, ${type})`;

/** A static tm_train_window for a window op (deduplicated by its fields). */
export function trainWindow(ctx: BackwardContext, win: Window2D): string {
  const fields = [win.batches, win.inH, win.inW, win.inC, win.outH, win.outW, win.kH, win.kW, win.strideH, win.strideW, win.dilH, win.dilW, win.padTop, win.padLeft];
  const key = fields.join(',');
  let name = ctx.windows.get(key);
  if (!name) {
    name = `train_window_${ctx.windows.size}`;
    ctx.windows.set(key, name);
    ctx.definitions.push(`static const tm_train_window ${name} = {${fields.join(', ')}};`);
  }
  return `&${name}`;
}

function dequant(ctx: BackwardContext, t: Tensor): string {
  const name = `train_deq_${t.id}`;
  if (!ctx.definitions.some((d) => d.includes(` ${name} `))) {
    ctx.definitions.push(`static const tm_train_dequant ${name} = {${cFloat(t.quant!.scale[0])}, ${t.quant!.zeroPoint[0]}};`);
  }
  return `&${name}`;
}

function int32List(ctx: BackwardContext, name: string, values: Int32Array | null): string {
  if (!values) return 'NULL';
  if (!ctx.definitions.some((d) => d.includes(` ${name}[`))) {
    ctx.definitions.push(renderDefinition({ kind: 'array', array: { name, type: 'int32_t', values, linkage: 'static' } }));
  }
  return name;
}

/** Per output channel scales of a weight tensor (the trainer dequantises weights with them). */
function weightScales(ctx: BackwardContext, t: Tensor): { name: string; perChannel: number } {
  const name = `train_wscale_${t.id}`;
  const scale = t.quant!.scale;
  if ((t.quant!.zeroPoint ?? []).some((z) => z !== 0)) throw new UnsupportedOpError('training', -1, `weights ${t.name} are not symmetric`);
  if (!ctx.definitions.some((d) => d.includes(` ${name}[`))) {
    ctx.definitions.push(renderDefinition({ kind: 'array', array: { name, type: 'float', values: Float32Array.from(scale), linkage: 'static' } }));
  }
  return { name, perChannel: scale.length > 1 ? 1 : 0 };
}

function convWin(g: Graph, node: Node<'CONV_2D'> | Node<'DEPTHWISE_CONV_2D'>): { win: Window2D; cout: number } {
  const x = g.tensors[node.inputs[0]];
  const w = g.tensors[node.inputs[1]];
  const win = window2d(x.shape, w.shape[1], w.shape[2], convWindowParams(node.options));
  return { win, cout: node.op === 'CONV_2D' ? w.shape[0] : w.shape[3] };
}

function poolWin(g: Graph, node: Node<'AVERAGE_POOL_2D'> | Node<'MAX_POOL_2D'>): Window2D {
  const o = node.options;
  return window2d(g.tensors[node.inputs[0]].shape, o.filterH, o.filterW, { padding: o.padding, strideH: o.strideH, strideW: o.strideW });
}

function int8Value(ctx: BackwardContext, v: ValueBinding, node: AnyNode, what: string): void {
  const b = ctx.p.buffers[v.buffer];
  if (b.dtype !== 'int8') throw new UnsupportedOpError(node.op, node.index, `compile --train: ${what} reads ${b.label} as ${b.dtype}; the device kernels read int8 values`);
}

export function backwardStep(ctx: BackwardContext, s: TrainStep, k: number): StepCode {
  const { g, p } = ctx;
  switch (s.kind) {
    case 'save-mask': {
      const n = p.buffers[s.from].elements;
      if (p.buffers[s.from].dtype !== 'int8') throw new UnsupportedOpError('training', -1, `compile --train: mask of ${p.buffers[s.from].label} (${p.buffers[s.from].dtype})`);
      return { lines: [`tm_train_save_mask_s8(${n}, ${arena(ctx, s.from, 'int8_t')}, ${cFloat(s.lo)}, ${cFloat(s.hi)}, ${arena(ctx, s.to, 'uint8_t')});`] };
    }
    case 'save-channels': {
      const t = g.tensors[s.tensor];
      const C = t.shape[t.shape.length - 1];
      const list = int32List(ctx, `train_channels_${k}`, s.channels);
      return { lines: [`tm_train_save_channels_s8(${numElements(t.shape)}, ${C}, ${arena(ctx, s.from, 'int8_t')}, ${list}, ${s.channels.length}, ${arena(ctx, s.to, 'int8_t')});`] };
    }
    case 'loss': {
      const t = g.tensors[p.head.logits];
      return { lines: [`predicted = tm_train_softmax_ce_grad_s8(${p.head.classes}, ${arena(ctx, s.from, 'int8_t')}, ${cFloat(t.quant!.scale[0])}, ${t.quant!.zeroPoint[0]}, ${p.head.beta.toPrecision(17)}, label, ${arena(ctx, s.to, 'float')});`] };
    }
    case 'update':
      throw new UnsupportedOpError('training', -1, 'compile --train: deferred updates (reorder off) are not compiled');
    case 'forward':
      throw new Error('forward steps are lowered by the inference lowering');
    case 'backward':
      return backwardOp(ctx, s, k);
  }
}

function backwardOp(ctx: BackwardContext, s: Extract<TrainStep, { kind: 'backward' }>, k: number): StepCode {
  const { g, p } = ctx;
  const op = s.op;
  const node = g.nodes[op.node] as AnyNode;
  const refuse = (why: string) => new UnsupportedOpError(node.op, node.index, `compile --train: no device kernel for the backward op '${op.op}' (${why})`);
  const gin = arena(ctx, s.src, 'float');
  const acc = s.accumulate ? 1 : 0;
  if ('param' in op) {
    if (s.discard) throw refuse('a frozen parameter\'s gradient: compile with pruning on');
    if (s.paramGrad >= 0) throw refuse('a gradient kept for a deferred update');
    const param = ctx.paramName.get(op.param)!;
    // A bias row is one float (a local); a weight row lives in the step's planned scratch.
    const rowPtr = op.op === 'bias' ? '&g' : `ARENA(${ctx.place(scratchId(k)).offset}, float)`;
    const update = (r: string) => `if (tm_train_sgd_row(&train_sgd, &${param}, ${r}, ${rowPtr}, &train_rng)) return -1;`;
    const x = s.values[0];
    switch (op.op) {
      case 'bias': {
        const C = numElements(g.tensors[op.param].shape);
        const n = p.buffers[s.src].elements;
        return { lines: [`for (int32_t r = 0; r < ${C}; r++) {`, `  const float g = tm_train_bias_grad_row(${n}, ${C}, ${gin}, r);`, `  ${update('r')}`, '}'] };
      }
      case 'conv2d_weight': {
        int8Value(ctx, x, node, op.op);
        const xb = x as Extract<ValueBinding, { form: 'channels' }>;
        const { win, cout } = convWin(g, node as Node<'CONV_2D'>);
        const pick = int32List(ctx, `train_pick_${k}`, xb.pick);
        const nPick = xb.pick ? xb.pick.length : xb.channels;
        return { lines: [`for (int32_t r = 0; r < ${cout}; r++) {`,
          `  tm_train_conv2d_weight_row_s8(${trainWindow(ctx, win)}, ${cout}, r, ${gin}, ${arena(ctx, xb.buffer, 'int8_t')}, ${dequant(ctx, g.tensors[xb.tensor])}, ${xb.channels}, ${pick}, ${nPick}, ${rowPtr});`,
          `  ${update('r')}`, '}'] };
      }
      case 'depthwise_weight': {
        int8Value(ctx, x, node, op.op);
        const xb = x as Extract<ValueBinding, { form: 'channels' }>;
        const { win, cout } = convWin(g, node as Node<'DEPTHWISE_CONV_2D'>);
        const M = cout / win.inC;
        const kept = op.channels ? op.channels.length : win.inC;
        const pick = int32List(ctx, `train_pick_${k}`, xb.pick);
        const channels = int32List(ctx, `train_kept_${k}`, op.channels);
        return { lines: [`for (int32_t r = 0; r < ${kept * M}; r++) {`,
          `  tm_train_depthwise_weight_row_s8(${trainWindow(ctx, win)}, ${M}, r, ${gin}, ${arena(ctx, xb.buffer, 'int8_t')}, ${dequant(ctx, g.tensors[xb.tensor])}, ${xb.channels}, ${pick}, ${channels}, ${rowPtr});`,
          `  ${update('r')}`, '}'] };
      }
      case 'fc_weight': {
        int8Value(ctx, x, node, op.op);
        const w = g.tensors[op.param];
        const xb = x.form === 'channels' ? x : { form: 'channels' as const, buffer: x.buffer, tensor: x.tensor, channels: w.shape[1], pick: null };
        const units = w.shape[0];
        const batches = p.buffers[xb.buffer].elements / xb.channels;
        const pick = int32List(ctx, `train_pick_${k}`, xb.pick);
        const nPick = xb.pick ? xb.pick.length : xb.channels;
        return { lines: [`for (int32_t r = 0; r < ${units}; r++) {`,
          `  tm_train_fc_weight_row_s8(${batches}, ${units}, r, ${gin}, ${arena(ctx, xb.buffer, 'int8_t')}, ${dequant(ctx, g.tensors[xb.tensor])}, ${xb.channels}, ${pick}, ${nPick}, ${rowPtr});`,
          `  ${update('r')}`, '}'] };
      }
    }
  }
  const dst = (op as { dst: TensorId }).dst;
  const gout = arena(ctx, s.dst, 'float');
  const n = p.buffers[s.dst].elements;
  const weightArgs = (id: TensorId) => {
    const t = g.tensors[id];
    if (t.dtype !== 'int8') throw refuse(`weights ${t.name} are ${t.dtype}`);
    const sc = weightScales(ctx, t);
    return `${ctx.filter(id)}, ${sc.name}, ${sc.perChannel}`;
  };
  switch (op.op) {
    case 'clamp': {
      const v = s.values[0];
      if (v.form === 'bits') return { lines: [`tm_train_clamp_grad_bits(${n}, ${arena(ctx, v.buffer, 'uint8_t')}, ${gin}, ${gout}, ${acc});`] };
      if (v.form !== 'mask-from-value') throw refuse(`value read as ${v.form}`);
      int8Value(ctx, v, node, op.op);
      return { lines: [`tm_train_clamp_grad_s8(${n}, ${arena(ctx, v.buffer, 'int8_t')}, ${cFloat(v.lo)}, ${cFloat(v.hi)}, ${gin}, ${gout}, ${acc});`] };
    }
    case 'copy':
      if (s.dst === s.src) return { lines: [] };
      return { lines: acc ? [`for (int32_t i = 0; i < ${n}; i++) ${gout}[i] += ${gin}[i];`] : [`memcpy(${gout}, ${gin}, ${n * 4}u);`] };
    case 'sum_to': {
      if (s.dst === s.src) return { lines: [] };
      if (numElements(g.tensors[op.src].shape) !== n) throw refuse('a broadcast operand');
      const term = op.sign === 1 ? `${gin}[i]` : `-${gin}[i]`;
      return { lines: [`for (int32_t i = 0; i < ${n}; i++) ${gout}[i] = ${acc ? `${gout}[i] + ` : ''}${term};`] };
    }
    case 'conv2d_input': {
      const { win, cout } = convWin(g, node as Node<'CONV_2D'>);
      return { lines: [`tm_train_conv2d_input_grad_s8(${trainWindow(ctx, win)}, ${cout}, ${gin}, ${weightArgs(node.inputs[1])}, ${gout}, ${acc});`] };
    }
    case 'depthwise_input': {
      const { win, cout } = convWin(g, node as Node<'DEPTHWISE_CONV_2D'>);
      return { lines: [`tm_train_depthwise_input_grad_s8(${trainWindow(ctx, win)}, ${cout / win.inC}, ${gin}, ${weightArgs(node.inputs[1])}, ${gout}, ${acc});`] };
    }
    case 'fc_input': {
      const w = g.tensors[node.inputs[1]];
      const [units, K] = w.shape;
      return { lines: [`tm_train_fc_input_grad_s8(${n / K}, ${units}, ${K}, ${gin}, ${weightArgs(w.id)}, ${gout}, ${acc});`] };
    }
    case 'avgpool_input':
      return { lines: [`tm_train_avg_pool_input_grad_f32(${trainWindow(ctx, poolWin(g, node as Node<'AVERAGE_POOL_2D'>))}, ${gin}, ${gout}, ${acc});`] };
    case 'maxpool_input': {
      const v = s.values[0];
      int8Value(ctx, v, node, op.op);
      return { lines: [`tm_train_max_pool_input_grad_s8(${trainWindow(ctx, poolWin(g, node as Node<'MAX_POOL_2D'>))}, ${arena(ctx, v.buffer, 'int8_t')}, ${gin}, ${gout}, ${acc});`] };
    }
    default:
      void dst;
      throw refuse('only clamp, copy, ADD/SUB without broadcast, bias, CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and pooling gradients are compiled');
  }
}
