/**
 * Fusing PAD into the next convolution (TinyEngine / MCUNet): a PAD whose only reader is a CONV_2D or
 * DEPTHWISE_CONV_2D (as its input 0) is dropped and the convolution reads PAD's input with the padding
 * made explicit (`Conv2DOptions.explicitPadding`). The kernels skip out-of-bounds taps, which for int8 is
 * padding with the input zero point (real 0) and for float with 0.0 — exactly what the PAD wrote, so the
 * outputs are bit-identical and the padded tensor never needs arena memory.
 *
 * The rewritten graph is an internal form: the TFLite writer refuses it (ExplicitPaddingNotWritableError).
 */
import type { AnyNode, Graph, Node, QuantParams, Tensor } from '../graph/graph.js';
import { tensorReaders } from '../graph/graph.js';
import type { Conv2DOptions, ExplicitPadding } from '../graph/options.js';
import { padAmounts } from '../ops/pad.js';
import { explicitOutSize } from '../ops/conv_util.js';

export interface FusePadResult {
  /** The rewritten graph (the input graph itself when nothing was fused). */
  graph: Graph;
  /** How many PAD/PADV2 nodes were folded into a convolution. */
  fused: number;
}

type PadNode = Node<'PAD'> | Node<'PADV2'>;
type ConvNode = Node<'CONV_2D'> | Node<'DEPTHWISE_CONV_2D'>;

function sameQuant(a: QuantParams | null, b: QuantParams | null): boolean {
  if (a === null || b === null) return a === b;
  return a.scale.length === b.scale.length && a.zeroPoint.length === b.zeroPoint.length
    && a.scale.every((s, i) => s === b.scale[i]) && a.zeroPoint.every((z, i) => z === b.zeroPoint[i]);
}

/** The constant pad value of a PADV2 as a number, or null when it is not a readable constant scalar. */
function constantPadValue(t: Tensor): number | null {
  if (!t.data || t.shape.reduce((a, d) => a * d, 1) !== 1) return null;
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  if (t.dtype === 'int8' && t.data.byteLength >= 1) return dv.getInt8(0);
  if (t.dtype === 'float32' && t.data.byteLength >= 4) return dv.getFloat32(0, true);
  return null;
}

/** The PAD's (top, bottom, left, right) when it may be fused into a convolution reading its output; else null. */
function fusablePad(node: PadNode, g: Graph): ExplicitPadding | null {
  const input = g.tensors[node.inputs[0]];
  const output = g.tensors[node.outputs[0]];
  if (!input || !output || node.outputs.length !== 1) return null;
  if (input.shape.length !== 4 || input.dtype !== output.dtype) return null;
  if (input.dtype !== 'int8' && input.dtype !== 'float32') return null;
  if (input.dtype === 'int8') {
    // The convolution will see PAD's input quantisation: it must be PAD's output quantisation exactly.
    if (!input.quant || !output.quant || input.quant.scale.length !== 1 || !sameQuant(input.quant, output.quant)) return null;
  }
  let amounts: { before: number[]; after: number[] };
  try {
    amounts = padAmounts(node, g);
  } catch {
    return null; // non-constant or malformed paddings: leave the PAD alone
  }
  const { before, after } = amounts;
  if (before[0] !== 0 || after[0] !== 0 || before[3] !== 0 || after[3] !== 0) return null;
  // The pad value must be real 0: the input zero point for int8, 0.0 for float.
  const zero = input.dtype === 'int8' ? input.quant!.zeroPoint[0] : 0;
  const valueId = node.inputs[2];
  if (valueId !== undefined && valueId >= 0) {
    const vt = g.tensors[valueId];
    if (!vt || vt.dtype !== input.dtype) return null;
    if (input.dtype === 'int8' && vt.quant !== null && !(vt.quant.scale[0] === output.quant!.scale[0] && vt.quant.zeroPoint[0] === output.quant!.zeroPoint[0])) return null;
    const v = constantPadValue(vt);
    if (v === null || v !== zero || Object.is(v, -0)) return null;
  }
  return { top: before[1], bottom: after[1], left: before[2], right: after[2] };
}

/** SAME padding of a convolution over an input of `size`, split as TFLite does (odd pixel at the end). */
function samePads(size: number, k: number, stride: number, dil: number): [number, number] {
  const eff = (k - 1) * dil + 1;
  const out = Math.trunc((size + stride - 1) / stride);
  const total = Math.max(0, (out - 1) * stride + eff - size);
  const lead = Math.trunc(total / 2);
  return [lead, total - lead];
}

/** The convolution's explicit padding over PAD's input, or null when the result would not match its output shape. */
function combined(conv: ConvNode, g: Graph, pad: ExplicitPadding, padded: Tensor, original: Tensor): ExplicitPadding | null {
  const o: Conv2DOptions = conv.options;
  const f = g.tensors[conv.inputs[1]];
  if (!f || f.shape.length !== 4 || o.strideH <= 0 || o.strideW <= 0) return null;
  const kH = f.shape[1];
  const kW = f.shape[2];
  const dilH = o.dilationH ?? 1;
  const dilW = o.dilationW ?? 1;
  let own: ExplicitPadding;
  if (o.explicitPadding) own = o.explicitPadding;
  else if (o.padding === 'VALID') own = { top: 0, bottom: 0, left: 0, right: 0 };
  else {
    const [t, b] = samePads(padded.shape[1], kH, o.strideH, dilH);
    const [l, r] = samePads(padded.shape[2], kW, o.strideW, dilW);
    own = { top: t, bottom: b, left: l, right: r };
  }
  const e: ExplicitPadding = { top: pad.top + own.top, bottom: pad.bottom + own.bottom, left: pad.left + own.left, right: pad.right + own.right };
  const y = g.tensors[conv.outputs[0]];
  const outH = explicitOutSize(original.shape[1], e.top, e.bottom, kH, o.strideH, dilH);
  const outW = explicitOutSize(original.shape[2], e.left, e.right, kW, o.strideW, dilW);
  if (!y || y.shape.length !== 4 || y.shape[1] !== outH || y.shape[2] !== outW) return null;
  return e;
}

/**
 * Fold every fusable PAD/PADV2 into the CONV_2D / DEPTHWISE_CONV_2D that reads it. A PAD is fused when its
 * output is read by that one convolution only, as input 0, and is not a graph output; it pads H and W only
 * (batch and channel paddings 0); its pad value is real 0 (input zero point / 0.0) and its output is
 * quantised exactly as its input. The convolution's own padding (VALID, SAME or explicit) is added to the
 * PAD's. Nodes are renumbered; tensors keep their ids (the padded tensor stays, unused).
 */
export function fusePads(g: Graph): FusePadResult {
  const readers = tensorReaders(g);
  const graphOutputs = new Set(g.outputs);
  const removed = new Set<number>();
  const rewritten = new Map<number, AnyNode>();
  for (let i = 0; i < g.nodes.length; i++) {
    const node = g.nodes[i];
    if (node.op !== 'PAD' && node.op !== 'PADV2') continue;
    const out = node.outputs[0];
    if (out === undefined || graphOutputs.has(out)) continue;
    const rs = readers.get(out) ?? [];
    if (rs.length !== 1 || rs[0].slot !== 0) continue;
    const consumerIndex = rs[0].node;
    const consumer = rewritten.get(consumerIndex) ?? g.nodes[consumerIndex];
    if (consumer.op !== 'CONV_2D' && consumer.op !== 'DEPTHWISE_CONV_2D') continue;
    const pad = fusablePad(node, g);
    if (!pad) continue;
    const e = combined(consumer, g, pad, g.tensors[out], g.tensors[node.inputs[0]]);
    if (!e) continue;
    const inputs = [node.inputs[0], ...consumer.inputs.slice(1)];
    rewritten.set(consumerIndex, { ...consumer, inputs, options: { ...consumer.options, padding: 'VALID', explicitPadding: e } } as AnyNode);
    removed.add(i);
  }
  if (removed.size === 0) return { graph: g, fused: 0 };
  const nodes: AnyNode[] = [];
  g.nodes.forEach((n, i) => {
    if (removed.has(i)) return;
    nodes.push({ ...(rewritten.get(i) ?? n), index: nodes.length } as AnyNode);
  });
  return { graph: { ...g, nodes }, fused: removed.size };
}
