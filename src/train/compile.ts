/**
 * The training-graph compiler (the Tiny Training Engine's compile-time autodiff):
 *  1. which tensors need a gradient: only those leading back to a trained parameter (pruning: no
 *     gradient for frozen weights, backprop stops at the earliest trained layer);
 *  2. backward ops from the rule table, walking the nodes in reverse once;
 *  3. gradient buffers: the first contribution writes, later ones accumulate, and an op whose output
 *     gradient may simply take over its input's buffer (reshape, clamp, add) works in place;
 *  4. what forward values to keep: whole activations, 1-bit masks, or only the channels a sparse
 *     weight update reads;
 *  5. parameter updates: fused into the gradient op, one output channel at a time (reorder), or all
 *     at the end from kept gradient buffers (no reorder).
 */
import type { AnyNode, Graph, TensorId } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import { DTYPE_BYTES } from '../graph/dtype.js';
import { scratchOf } from '../plan/memory_plan.js';
import type { BackwardOp, ValueUse, Want } from './gradients.js';
import { differentiableInputs, ruleFor } from './gradients.js';
import { cloneGraph, lossHead, rebatch } from './graph_prep.js';
import type { LossHead } from './graph_prep.js';
import type { BufferCategory, BufferDType, CompileOptions, ResolvedCompileOptions, TrainBuffer, TrainStep, TrainingProgram, ValueBinding } from './program.js';
import type { ResolvedUpdate, TrainableParam, UpdateSpec } from './update.js';
import { resolveUpdate } from './update.js';
import { DEFAULT_OPTIMIZER, stateSlots } from './optimizer_spec.js';
import { TrainingConfigError } from './errors.js';
import type { OpDef } from '../ops/op.js';
import { OPS } from '../ops/registry.js';

export function resolveCompileOptions(o: CompileOptions = {}): ResolvedCompileOptions {
  return {
    batch: o.batch ?? 1,
    prune: o.prune ?? true,
    reorder: o.reorder ?? true,
    compactSaves: o.compactSaves ?? true,
    inputGradient: o.inputGradient ?? false,
    optimizer: o.optimizer ?? DEFAULT_OPTIMIZER,
    rounding: o.rounding ?? 'stochastic',
  };
}

/**
 * Compile one training step of `graph` updating what `update` selects. The graph is copied (and
 * re-batched); the caller's graph is never modified.
 */
export function compileTraining(graph: Graph, update: UpdateSpec | ResolvedUpdate, options: CompileOptions = {}): TrainingProgram {
  const o = resolveCompileOptions(options);
  if (!Number.isInteger(o.batch) || o.batch < 1) throw new TrainingConfigError(`batch size ${o.batch} must be a positive integer`);
  const base = cloneGraph(graph);
  const resolved = 'params' in update ? { ...update, params: update.params.map((p) => ({ ...p })) } : resolveUpdate(base, update);
  const g = rebatch(base, o.batch);
  return new Compiler(g, base, lossHead(g), resolved, o).compile();
}

/** Bytes per element of a buffer dtype ('bits' is handled by its caller). */
function elementBytes(d: BufferDType): number {
  return d === 'int8' ? 1 : 4;
}

class Compiler {
  private readonly buffers: TrainBuffer[] = [];
  private readonly activation = new Map<TensorId, number>();
  private readonly gradBuffer = new Map<TensorId, number>();
  private readonly trainable = new Map<TensorId, TrainableParam>();
  private readonly nodes: AnyNode[];
  private readonly int8: boolean;

  constructor(private readonly g: Graph, private readonly base: Graph, private readonly head: LossHead, private readonly update: ResolvedUpdate, private readonly o: ResolvedCompileOptions) {
    this.nodes = (g.nodes as AnyNode[]).filter((n) => !head.skip.has(n.index));
    for (const p of update.params) this.trainable.set(p.tensor, p);
    this.int8 = g.tensors[head.logits].dtype === 'int8' || g.tensors[g.inputs[0]].dtype === 'int8';
  }

  private buffer(category: BufferCategory, label: string, dtype: BufferDType, elements: number, tensor: TensorId | null, persistent = false): number {
    const id = this.buffers.length;
    const bytes = dtype === 'bits' ? Math.ceil(elements / 8) : elements * elementBytes(dtype);
    this.buffers.push({ id, category, label, dtype, elements, bytes, tensor, persistent });
    return id;
  }

  compile(): TrainingProgram {
    const g = this.g;
    for (const id of g.inputs) this.activationBuffer(id);
    for (const n of this.nodes) for (const id of n.outputs) this.activationBuffer(id);
    const hasGrad = this.gradientTensors();
    const backward = this.backwardOps(hasGrad);
    const paramBuffers = this.parameterBuffers();
    const steps = this.schedule(backward);
    return {
      graph: g, base: this.base, batch: g.tensors[g.inputs[0]].shape[0] ?? 1, int8: this.int8, head: this.head, update: this.update, options: this.o,
      buffers: this.buffers, steps, activation: this.activation, gradients: this.gradBuffer, paramBuffers,
    };
  }

  private activationBuffer(id: TensorId): void {
    if (this.activation.has(id)) return;
    const t = this.g.tensors[id];
    const dtype: BufferDType = t.dtype === 'int8' ? 'int8' : t.dtype === 'float32' ? 'float32' : 'int32';
    const bytes = numElements(t.shape) * DTYPE_BYTES[t.dtype];
    const b = this.buffer('activation', t.name, dtype, numElements(t.shape), id);
    this.buffers[b].bytes = bytes;
    this.activation.set(id, b);
  }

  // -------------------------------------------------------------------------------------------
  // 1. Which tensors get a gradient

  /** Node trains something (or, without pruning, is a layer whose weight gradient is computed anyway). */
  private nodeTrains(n: AnyNode): boolean {
    if (!this.o.prune && isLayer(n)) return true;
    return n.inputs.some((id) => this.trainable.has(id));
  }

  private gradientTensors(): Set<TensorId> {
    const requires = new Set<TensorId>();
    if (this.o.inputGradient || !this.o.prune) for (const id of this.g.inputs) requires.add(id);
    for (const n of this.nodes) {
      const diff = differentiableInputs(n);
      if (this.nodeTrains(n) || n.inputs.some((id, i) => diff[i] && requires.has(id))) for (const o of n.outputs) requires.add(o);
    }
    const reaches = new Set<TensorId>([this.head.logits]);
    for (let k = this.nodes.length - 1; k >= 0; k--) {
      const n = this.nodes[k];
      if (n.outputs.some((o) => reaches.has(o))) for (const id of n.inputs) if (id >= 0) reaches.add(id);
    }
    return new Set([...requires].filter((t) => reaches.has(t)));
  }

  // -------------------------------------------------------------------------------------------
  // 2. Backward ops from the rule table

  private backwardOps(hasGrad: Set<TensorId>): BackwardOp[] {
    const ops: BackwardOp[] = [];
    for (let k = this.nodes.length - 1; k >= 0; k--) {
      const n = this.nodes[k];
      if (!n.outputs.some((o) => hasGrad.has(o))) continue;
      const diff = differentiableInputs(n);
      const want: Want = { inputs: n.inputs.map((id, i) => diff[i] && id >= 0 && hasGrad.has(id)), bias: false };
      if (isLayer(n)) {
        const w = this.trainable.get(n.inputs[1]);
        if (w) want.weight = w.channels;
        else if (!this.o.prune) want.weight = null;
        const b = n.inputs[2];
        want.bias = b !== undefined && b >= 0 && (this.trainable.has(b) || !this.o.prune);
      }
      ops.push(...ruleFor(n)(n, this.g, want));
    }
    return ops;
  }

  // -------------------------------------------------------------------------------------------
  // 3-5. Buffers and the step list

  private parameterBuffers(): TrainingProgram['paramBuffers'] {
    const out: TrainingProgram['paramBuffers'] = new Map();
    const slots = stateSlots(this.o.optimizer);
    for (const p of this.update.params) {
      const t = this.g.tensors[p.tensor];
      const dtype: BufferDType = t.dtype === 'int8' ? 'int8' : t.dtype === 'int32' ? 'int32' : 'float32';
      const name = `${t.name}${p.channels ? ` [${p.channels.length}/${p.layer.inChannels} ch]` : ''}`;
      const param = this.buffer('parameter', name, dtype, p.elements, p.tensor, true);
      const state: number[] = [];
      for (let s = 0; s < slots; s++) state.push(this.buffer('optimizer', `${name} (optimizer state ${s})`, 'float32', p.elements, p.tensor, true));
      const quantised = t.dtype === 'int8' || t.dtype === 'int32';
      const shadow = quantised && this.o.rounding === 'shadow' ? this.buffer('shadow', `${name} (float shadow)`, 'float32', p.elements, p.tensor, true) : -1;
      out.set(p.tensor, { param, state, shadow });
    }
    return out;
  }

  private gradientOf(t: TensorId): number {
    const b = this.gradBuffer.get(t);
    if (b === undefined) throw new Error(`compiler: gradient of tensor ${t} read before it exists`);
    return b;
  }

  private newGradient(t: TensorId, label = `grad ${this.g.tensors[t].name}`): number {
    const b = this.buffer('gradient', label, 'float32', numElements(this.g.tensors[t].shape), t);
    this.gradBuffer.set(t, b);
    return b;
  }

  private schedule(ops: BackwardOp[]): TrainStep[] {
    const { saves, bindings } = this.saves(ops);
    const steps: TrainStep[] = [];
    const scratch = scratchOf(this.g);
    const pushSaves = (t: TensorId) => { for (const s of saves.get(t) ?? []) steps.push(s); };
    for (const id of this.g.inputs) pushSaves(id);
    for (const n of this.nodes) {
      const reads = n.inputs.filter((id) => id >= 0 && this.activation.has(id)).map((id) => this.activation.get(id)!);
      const writes = n.outputs.map((id) => this.activation.get(id)!);
      steps.push({ kind: 'forward', node: n.index, label: `${n.op} ${this.g.tensors[n.outputs[0]].name}`, reads, writes, scratchBytes: scratch(n.index) });
      for (const id of n.outputs) pushSaves(id);
    }
    const logits = this.activation.get(this.head.logits)!;
    const lossGrad = this.newGradient(this.head.logits);
    steps.push({ kind: 'loss', label: 'softmax cross-entropy', from: logits, to: lossGrad, reads: [logits], writes: [lossGrad], scratchBytes: 0 });

    const deferred: TrainStep[] = [];
    ops.forEach((op, k) => {
      const step = this.bindOp(op, ops, k, bindings.get(op)!);
      // A gradient that simply took over its source's buffer (reshape, add) needs no step at all.
      if (step.kind === 'backward' && step.dst === step.src && (op.op === 'copy' || op.op === 'sum_to')) return;
      steps.push(step);
      if (step.kind === 'backward' && step.paramGrad >= 0 && !step.discard) {
        const update: TrainStep = { kind: 'update', param: (op as { param: TensorId }).param, grad: step.paramGrad, label: `update ${this.g.tensors[(op as { param: TensorId }).param].name}`, reads: [step.paramGrad], writes: [], scratchBytes: 0 };
        deferred.push(update);
      }
    });
    steps.push(...deferred);
    // A discarded gradient (pruning off) lives as long as a framework would keep it: to the updates.
    if (!this.o.reorder) {
      const end = steps.length - 1;
      for (const s of steps) if (s.kind === 'backward' && s.discard && s.paramGrad >= 0) deferredTouch(steps, end, s.paramGrad);
    }
    return steps;
  }

  /** Turn one rule op into a step: resolve its gradient buffers (write, accumulate or in place). */
  private bindOp(op: BackwardOp, ops: BackwardOp[], k: number, values: ValueBinding[]): TrainStep {
    const src = this.gradientOf(op.src);
    const label = `${op.op} ${this.g.tensors['param' in op ? op.param : op.src].name}`;
    const reads = [src, ...values.map((v) => v.buffer)];
    if ('param' in op) {
      const trained = this.trainable.get(op.param);
      const discard = !trained;
      const elements = trained ? trained.elements : numElements(this.g.tensors[op.param].shape);
      const keep = !this.o.reorder || discard;
      const paramGrad = keep ? this.buffer('gradient', `grad ${this.g.tensors[op.param].name}`, 'float32', elements, op.param) : -1;
      if (paramGrad >= 0) this.gradBuffer.set(op.param, paramGrad);
      const rowBytes = op.op === 'bias' ? 0 : 4 * rowLength(this.g, op);
      return {
        kind: 'backward', op, src, dst: -1, accumulate: false, values, paramGrad, discard, label, reads,
        writes: paramGrad >= 0 ? [paramGrad] : [], scratchBytes: keep ? 0 : rowBytes,
      };
    }
    const dstT = op.dst;
    let dst: number;
    let accumulate = false;
    if (op.src === dstT) {
      dst = src; // a fused activation, undone in place
    } else if (this.gradBuffer.has(dstT)) {
      dst = this.gradBuffer.get(dstT)!;
      accumulate = true;
    } else if (this.canTakeOver(op, ops, k)) {
      dst = src;
      this.gradBuffer.set(dstT, src);
    } else {
      dst = this.newGradient(dstT);
    }
    return {
      kind: 'backward', op, src, dst, accumulate, values, paramGrad: -1, discard: false, label,
      reads: accumulate || dst === src ? [...reads, dst] : reads, writes: [dst], scratchBytes: 0,
    };
  }

  /**
   * dst's gradient may reuse src's buffer when the op is elementwise over equal sizes and no later op
   * of the same node still reads src's gradient.
   */
  private canTakeOver(op: BackwardOp, ops: BackwardOp[], k: number): boolean {
    const sameSize = numElements(this.g.tensors[op.src].shape) === numElements(this.g.tensors[(op as { dst: TensorId }).dst].shape);
    const elementwise = op.op === 'copy' || op.op === 'clamp' || op.op === 'logistic' || op.op === 'tanh' || (op.op === 'sum_to' && op.sign === 1);
    if (!sameSize || !elementwise) return false;
    for (let j = k + 1; j < ops.length && ops[j].node === op.node; j++) if (ops[j].src === op.src) return false;
    return true;
  }

  /**
   * Decide how each declared forward-value use is read: from the activation kept whole, from a 1-bit
   * mask saved at forward time, or from a copy of only the channels needed.
   */
  private saves(ops: BackwardOp[]): { saves: Map<TensorId, TrainStep[]>; bindings: Map<BackwardOp, ValueBinding[]> } {
    const whole = new Set<TensorId>();
    for (const op of ops) {
      for (const u of op.uses) {
        if (u.as === 'full' || (u.as === 'channels' && u.channels === null) || !this.o.compactSaves) whole.add(u.tensor);
      }
    }
    const saves = new Map<TensorId, TrainStep[]>();
    const made = new Map<string, number>();
    const addSave = (t: TensorId, key: string, make: () => TrainStep & { to: number }): number => {
      const hit = made.get(key);
      if (hit !== undefined) return hit;
      const step = make();
      made.set(key, step.to);
      if (!saves.has(t)) saves.set(t, []);
      saves.get(t)!.push(step);
      return step.to;
    };
    const bindings = new Map<BackwardOp, ValueBinding[]>();
    for (const op of ops) {
      bindings.set(op, op.uses.map((u) => this.bindUse(u, whole, addSave)));
    }
    return { saves, bindings };
  }

  private bindUse(u: ValueUse, whole: Set<TensorId>, addSave: (t: TensorId, key: string, make: () => TrainStep & { to: number }) => number): ValueBinding {
    const t = this.g.tensors[u.tensor];
    const act = this.activation.get(u.tensor);
    if (act === undefined) throw new Error(`compiler: backward reads ${t.name}, which no forward step produces`);
    const C = t.shape[t.shape.length - 1];
    if (u.as === 'full') return { form: 'full', buffer: act, tensor: u.tensor };
    if (u.as === 'mask') {
      if (whole.has(u.tensor)) return { form: 'mask-from-value', buffer: act, tensor: u.tensor, lo: u.lo, hi: u.hi };
      const buffer = addSave(u.tensor, `mask:${u.tensor}:${u.lo}:${u.hi}`, () => {
        const to = this.buffer('saved', `mask ${t.name}`, 'bits', numElements(t.shape), u.tensor);
        return { kind: 'save-mask', tensor: u.tensor, lo: u.lo, hi: u.hi, from: act, to, label: `save mask of ${t.name}`, reads: [act], writes: [to], scratchBytes: 0 };
      });
      return { form: 'bits', buffer, tensor: u.tensor };
    }
    if (u.channels === null || whole.has(u.tensor)) {
      return { form: 'channels', buffer: act, tensor: u.tensor, channels: C, pick: u.channels };
    }
    const channels = u.channels;
    const buffer = addSave(u.tensor, `ch:${u.tensor}:${channels.join(',')}`, () => {
      const dtype: BufferDType = t.dtype === 'int8' ? 'int8' : 'float32';
      const to = this.buffer('saved', `${t.name} [${channels.length}/${C} ch]`, dtype, (numElements(t.shape) / C) * channels.length, u.tensor);
      return { kind: 'save-channels', tensor: u.tensor, channels, from: act, to, label: `save ${channels.length} channels of ${t.name}`, reads: [act], writes: [to], scratchBytes: 0 };
    });
    return { form: 'channels', buffer, tensor: u.tensor, channels: channels.length, pick: null };
  }
}

/** Extend a buffer's life to `end` by recording a read there (the final update step). */
function deferredTouch(steps: TrainStep[], end: number, buffer: number): void {
  if (!steps[end].reads.includes(buffer)) steps[end].reads.push(buffer);
}

function isLayer(n: AnyNode): boolean {
  return (OPS[n.op] as OpDef).role === 'layer';
}

/** Elements of one output channel's weight gradient row (over the kept input channels). */
function rowLength(g: Graph, op: BackwardOp): number {
  if (!('param' in op) || op.op === 'bias') return 1;
  const w = g.tensors[op.param];
  const kept = op.channels ? op.channels.length : null;
  if (op.op === 'depthwise_weight') return w.shape[1] * w.shape[2];
  const inC = w.shape[w.shape.length - 1];
  return (numElements(w.shape) / w.shape[0] / inC) * (kept ?? inC);
}

export type { LossHead };
