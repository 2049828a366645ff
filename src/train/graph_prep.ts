/**
 * Graph preparation for training: a private copy of the model (training never touches the caller's
 * graph), the loss head, the list of layers that carry parameters, and re-batching.
 */
import type { AnyNode, Graph, Tensor, TensorId } from '../graph/graph.js';
import { numElements, shapeStr } from '../graph/graph.js';
import { UnsupportedOpError } from '../errors.js';
import type { OpDef } from '../ops/op.js';
import { OPS } from '../ops/registry.js';
import { TrainingConfigError } from './errors.js';

/** A deep copy: constants get fresh, aligned buffers the trainer may update in place. */
export function cloneGraph(g: Graph): Graph {
  const tensors: Tensor[] = g.tensors.map((t) => ({
    ...t,
    shape: [...t.shape],
    quant: t.quant ? { scale: [...t.quant.scale], zeroPoint: [...t.quant.zeroPoint], axis: t.quant.axis } : null,
    data: t.data ? copyBytes(t.data) : null,
  }));
  const nodes = g.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], options: structuredClone(n.options) })) as AnyNode[];
  return { ...g, tensors, nodes, inputs: [...g.inputs], outputs: [...g.outputs] };
}

function copyBytes(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(Math.max(b.byteLength, 0)));
  out.set(b);
  return out;
}

export type LayerKind = 'conv' | 'depthwise' | 'fc';

/** A node with trainable parameters: weights and (optionally) a bias. */
export interface Layer {
  /** Position among the graph's layers (0 = nearest the input). */
  index: number;
  node: number;
  kind: LayerKind;
  weight: TensorId;
  /** -1 when the layer has no bias. */
  bias: TensorId;
  /** Channels of the layer's input a weight update can select among (conv/depthwise: C, fc: K). */
  inChannels: number;
  outChannels: number;
  name: string;
}

export function layersOf(g: Graph): Layer[] {
  const out: Layer[] = [];
  for (const n of g.nodes as AnyNode[]) {
    if (n.op !== 'CONV_2D' && n.op !== 'DEPTHWISE_CONV_2D' && n.op !== 'FULLY_CONNECTED') continue;
    const w = g.tensors[n.inputs[1]];
    if (!w.data) continue;
    const kind: LayerKind = n.op === 'CONV_2D' ? 'conv' : n.op === 'DEPTHWISE_CONV_2D' ? 'depthwise' : 'fc';
    const inChannels = kind === 'fc' ? w.shape[1] : g.tensors[n.inputs[0]].shape[3];
    const outChannels = kind === 'depthwise' ? w.shape[3] : w.shape[0];
    out.push({
      index: out.length, node: n.index, kind, weight: w.id, bias: n.inputs[2] ?? -1,
      inChannels, outChannels, name: g.tensors[n.outputs[0]].name,
    });
  }
  return out;
}

/** Where the loss attaches: softmax cross-entropy over `logits` (the input of a final SOFTMAX, else the output). */
export interface LossHead {
  logits: TensorId;
  beta: number;
  /** Nodes the training forward skips (the final SOFTMAX: the loss computes its own in float). */
  skip: Set<number>;
  classes: number;
}

export function lossHead(g: Graph): LossHead {
  if (g.outputs.length !== 1) throw new TrainingConfigError(`training needs a model with one output, ${g.name} has ${g.outputs.length}`);
  const out = g.outputs[0];
  const producer = (g.nodes as AnyNode[]).find((n) => n.outputs.includes(out));
  if (producer && (producer.op === 'SOFTMAX' || producer.op === 'LOG_SOFTMAX')) {
    const logits = producer.inputs[0];
    const beta = producer.op === 'SOFTMAX' ? producer.options.beta : 1;
    return { logits, beta, skip: new Set([producer.index]), classes: lastDim(g.tensors[logits]) };
  }
  return { logits: out, beta: 1, skip: new Set(), classes: lastDim(g.tensors[out]) };
}

function lastDim(t: Tensor): number {
  return t.shape[t.shape.length - 1] ?? 1;
}

/**
 * The same graph with batch `B` (the leading dimension of every activation). Constants are shared with
 * `g` (updates made through one are seen by the other) except RESHAPE shape vectors, which are rewritten.
 * Refuses graphs whose batch dimension is not the leading 1 of every activation.
 */
export function rebatch(g: Graph, B: number): Graph {
  if (B === 1) return g;
  const tensors = g.tensors.map((t) => ({ ...t }));
  const nodes = g.nodes.map((n) => ({ ...n, inputs: [...n.inputs], options: structuredClone(n.options) })) as AnyNode[];
  const refuse = (n: AnyNode, why: string): never => {
    throw new UnsupportedOpError(n.op, n.index, `cannot train with batch ${B}: ${why} (use batch size 1)`);
  };
  for (const id of g.inputs) tensors[id] = withBatch(tensors[id], B);
  const out: Graph = { ...g, tensors, nodes };
  for (const n of nodes) {
    if (n.op === 'RESHAPE') {
      const target = [...g.tensors[n.outputs[0]].shape];
      if (target[0] !== 1) refuse(n, `reshape to ${shapeStr(target)} has no leading batch dimension`);
      target[0] = B;
      n.options = { newShape: target };
      if (n.inputs[1] !== undefined && n.inputs[1] >= 0) {
        const id = tensors.length;
        const data = new Uint8Array(new Int32Array(target).buffer);
        tensors.push({ id, name: `${g.tensors[n.inputs[1]].name}/batch${B}`, shape: [target.length], dtype: 'int32', quant: null, data });
        n.inputs[1] = id;
      }
    } else if (n.op === 'SQUEEZE') {
      const shape = g.tensors[n.inputs[0]].shape;
      const dims = n.options.squeezeDims.length ? n.options.squeezeDims.map((d) => (d < 0 ? d + shape.length : d)) : shape.flatMap((d, i) => (d === 1 ? [i] : []));
      if (dims.includes(0)) refuse(n, 'SQUEEZE removes the batch dimension');
      n.options = { squeezeDims: dims };
    } else if (n.op === 'MEAN') {
      const axes = new Int32Array(copyBytes(g.tensors[n.inputs[1]].data ?? new Uint8Array(0)).buffer);
      if (axes.some((a) => a === 0 || a === -g.tensors[n.inputs[0]].shape.length)) refuse(n, 'MEAN reduces over the batch');
    }
    const def = OPS[n.op] as OpDef;
    const shapes = def.inferShapes(n as never, out);
    n.outputs.forEach((id, k) => {
      const before = g.tensors[id];
      const after = shapes[k];
      if (!after || numElements(after) !== B * numElements(before.shape) || after[0] !== B) {
        refuse(n, `output ${before.name} ${shapeStr(before.shape)} does not carry a leading batch dimension`);
      }
      tensors[id] = { ...tensors[id], shape: after };
    });
  }
  return out;
}

function withBatch(t: Tensor, B: number): Tensor {
  if (t.shape[0] !== 1) throw new TrainingConfigError(`input ${t.name} ${shapeStr(t.shape)} has no leading batch dimension of 1`);
  return { ...t, shape: [B, ...t.shape.slice(1)] };
}
