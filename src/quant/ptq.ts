import type { AnyNode, Graph, QuantParams, Tensor, TensorId } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import type { OpName } from '../graph/options.js';
import { Interpreter } from '../runtime/interpreter.js';
import { TinymlError, UnsupportedOpError } from '../errors.js';
import { roundHalfAway } from './fixedpoint.js';

/**
 * Post-training quantisation of a float32 graph to int8, following the TFLite converter's conventions:
 * activations asymmetric per-tensor from calibrated ranges (always containing 0), conv/depthwise weights
 * symmetric per-channel, fully-connected weights symmetric per-tensor, biases int32 at input*weight scale,
 * pooling/reshape outputs sharing their input's parameters, softmax and logistic outputs fixed at 1/256 with
 * zero point -128, tanh at 1/128 with 0 (what the int8 kernels require).
 */

/** Ops whose int8 output must carry the input's quantisation (TFLite kernels require it). */
const SAME_QUANT_AS_INPUT: ReadonlySet<OpName> = new Set<OpName>(['AVERAGE_POOL_2D', 'MAX_POOL_2D', 'RESHAPE', 'SQUEEZE', 'PAD', 'TRANSPOSE', 'STRIDED_SLICE', 'RESIZE_NEAREST_NEIGHBOR']);
const QUANTISABLE: ReadonlySet<OpName> = new Set<OpName>([
  'CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'ADD', 'MUL', 'SUB', 'MEAN', 'SOFTMAX', 'RELU', 'RELU6', 'LOGISTIC', 'TANH', 'CONCATENATION', 'HARD_SWISH',
  ...SAME_QUANT_AS_INPUT,
]);
/** Int8 op versions as the TFLite converter writes them (the version records int8 support). */
const INT8_VERSION: Partial<Record<OpName, number>> = {
  CONV_2D: 3, DEPTHWISE_CONV_2D: 3, FULLY_CONNECTED: 4, ADD: 2, SUB: 2, MUL: 2, AVERAGE_POOL_2D: 2, MAX_POOL_2D: 2,
  SOFTMAX: 2, MEAN: 2, RESHAPE: 1, SQUEEZE: 1, PAD: 2, RELU: 2, RELU6: 2, LOGISTIC: 2, TANH: 2, CONCATENATION: 2,
};

export interface Range {
  min: number;
  max: number;
}

/** Min/max of every float activation over the calibration inputs. */
export function calibrate(g: Graph, samples: Iterable<Float32Array[]>): Map<TensorId, Range> {
  const interp = new Interpreter(g, { preserveAll: true });
  const ranges = new Map<TensorId, Range>();
  const observe = (id: TensorId) => {
    const v = interp.views.float32(id);
    let r = ranges.get(id);
    if (!r) ranges.set(id, (r = { min: Infinity, max: -Infinity }));
    for (let i = 0; i < v.length; i++) {
      if (v[i] < r.min) r.min = v[i];
      if (v[i] > r.max) r.max = v[i];
    }
  };
  let count = 0;
  for (const inputs of samples) {
    inputs.forEach((x, i) => interp.setInput(i, new Uint8Array(x.buffer, x.byteOffset, x.byteLength)));
    interp.invoke();
    g.inputs.forEach(observe);
    for (const n of g.nodes) n.outputs.forEach(observe);
    count++;
  }
  if (count === 0) throw new TinymlError('calibration needs at least one sample');
  return ranges;
}

export function asymmetricInt8(r: Range): QuantParams {
  const min = Math.min(0, r.min);
  const max = Math.max(0, r.max);
  const scale = max > min ? (max - min) / 255 : 1e-6;
  const zp = Math.max(-128, Math.min(127, roundHalfAway(-128 - min / scale)));
  return { scale: [Math.fround(scale)], zeroPoint: [zp], axis: 0 };
}

function floatData(t: Tensor): Float32Array {
  if (!t.data) throw new Error(`${t.name} is not constant`);
  // A view when aligned (read only here); a copy otherwise (a model file's bytes need not be 4-aligned).
  const d = t.data;
  return d.byteOffset % 4 === 0 ? new Float32Array(d.buffer, d.byteOffset, d.byteLength >> 2) : new Float32Array(d.slice().buffer);
}

/** Symmetric int8 weights, one scale per slice along `axis` (or one scale when axis < 0). */
function quantizeWeights(t: Tensor, axis: number): { data: Int8Array; quant: QuantParams } {
  const w = floatData(t);
  const channels = axis < 0 ? 1 : t.shape[axis];
  const inner = axis < 0 ? w.length : t.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  // Element i belongs to channel floor(i / inner) % channels: walk runs of `inner` elements.
  const maxAbs = new Float64Array(channels);
  for (let run = 0, i = 0; i < w.length; run++) {
    const ch = run % channels;
    let m = maxAbs[ch];
    for (const end = i + inner; i < end; i++) m = Math.max(m, Math.abs(w[i]));
    maxAbs[ch] = m;
  }
  const scales = Array.from(maxAbs, (m) => Math.fround(m > 0 ? m / 127 : 1e-8));
  const data = new Int8Array(w.length);
  // All-zero weights (a placeholder network sized for memory accounting) quantise to zeros.
  if (maxAbs.every((m) => m === 0)) return { data, quant: { scale: scales, zeroPoint: scales.map(() => 0), axis: Math.max(axis, 0) } };
  for (let run = 0, i = 0; i < w.length; run++) {
    const s = scales[run % channels];
    for (const end = i + inner; i < end; i++) data[i] = Math.max(-127, Math.min(127, roundHalfAway(w[i] / s)));
  }
  return { data, quant: { scale: scales, zeroPoint: scales.map(() => 0), axis: Math.max(axis, 0) } };
}

function quantizeBias(t: Tensor, inputScale: number, weightScales: number[]): { data: Int32Array; quant: QuantParams } {
  const b = floatData(t);
  const scales = b.length === weightScales.length ? weightScales.map((s) => inputScale * s) : b.map(() => inputScale * weightScales[0]);
  const data = new Int32Array(b.length);
  for (let i = 0; i < b.length; i++) data[i] = roundHalfAway(b[i] / scales[i]);
  return { data, quant: { scale: Array.from(scales), zeroPoint: scales.map(() => 0) as number[], axis: 0 } };
}

const bytesOf = (a: Int8Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** A new int8 graph (int8 inputs and outputs) from a float graph and calibrated ranges. */
export function quantizeGraph(g: Graph, ranges: Map<TensorId, Range>): Graph {
  const tensors: Tensor[] = g.tensors.map((t) => ({ ...t, shape: [...t.shape] }));
  const quantOf = (id: TensorId) => {
    const q = tensors[id].quant;
    if (!q) throw new Error(`tensor ${tensors[id].name} has no quantisation yet`);
    return q;
  };
  const setActivation = (id: TensorId, quant: QuantParams) => {
    tensors[id] = { ...tensors[id], dtype: 'int8', quant };
  };
  for (const id of g.inputs) setActivation(id, asymmetricInt8(ranges.get(id) ?? { min: -1, max: 1 }));

  const nodes: AnyNode[] = (g.nodes as AnyNode[]).map((n) => {
    if (!QUANTISABLE.has(n.op)) throw new UnsupportedOpError(n.op, n.index, 'post-training quantisation does not handle this op');
    const x = n.inputs[0];
    const out = n.outputs[0];
    if (n.op === 'CONV_2D' || n.op === 'DEPTHWISE_CONV_2D' || n.op === 'FULLY_CONNECTED') {
      const [, wId, bId] = n.inputs;
      const axis = n.op === 'CONV_2D' ? 0 : n.op === 'DEPTHWISE_CONV_2D' ? 3 : -1;
      const w = quantizeWeights(g.tensors[wId], axis);
      tensors[wId] = { ...tensors[wId], dtype: 'int8', quant: w.quant, data: bytesOf(w.data) };
      if (bId !== undefined && bId >= 0) {
        const b = quantizeBias(g.tensors[bId], quantOf(x).scale[0], w.quant.scale);
        tensors[bId] = { ...tensors[bId], dtype: 'int32', quant: b.quant, data: bytesOf(b.data) };
      }
      setActivation(out, asymmetricInt8(ranges.get(out)!));
    } else if (n.op === 'SOFTMAX' || n.op === 'LOGISTIC') {
      // Fixed by the int8 kernels (TFLite's converter writes the same): [0, 1) in 256 steps.
      setActivation(out, { scale: [1 / 256], zeroPoint: [-128], axis: 0 });
    } else if (n.op === 'TANH') {
      setActivation(out, { scale: [1 / 128], zeroPoint: [0], axis: 0 });
    } else if (SAME_QUANT_AS_INPUT.has(n.op)) {
      setActivation(out, quantOf(x));
    } else {
      setActivation(out, asymmetricInt8(ranges.get(out)!));
    }
    return { ...n, version: Math.max(n.version, INT8_VERSION[n.op] ?? 1) } as AnyNode;
  });
  for (const t of tensors) {
    if (t.dtype === 'float32' && t.data === null && numElements(t.shape) > 0) throw new Error(`tensor ${t.name} left in float after quantisation`);
  }
  return { ...g, tensors, nodes, description: `${g.description} (int8 post-training quantised)`.trim() };
}
