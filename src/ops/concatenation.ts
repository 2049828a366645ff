import type { DType } from '../graph/dtype.js';
import { dtypeRange } from '../graph/dtype.js';
import type { Graph, Node, Tensor } from '../graph/graph.js';
import { numElements, shapeStr } from '../graph/graph.js';
import type { Activation } from '../graph/options.js';
import { ModelFormatError, UnsupportedOpError } from '../errors.js';
import { floatActivationRange, outputActivationRange } from '../quant/activation.js';
import { roundHalfAway } from '../quant/fixedpoint.js';
import type { Kernel, OpDef, TensorViews } from './op.js';
import { outputTensor } from './op.js';
import { MOVABLE, copyRun, movedWords, requireDtype, requireOutputShape, wordViews } from './data_move.js';

/**
 * CONCATENATION along any axis (negative counts from the end). Float and integer inputs are copied. Quantised
 * inputs whose scale or zero point differ from the output's are requantised with the float arithmetic of
 * TFLite's reference ConcatenationWithScaling: q_out = round(q_in * s + b) + zp_out, s = s_in * (1 / s_out),
 * b = -zp_in * s, all in float32. (TFLite applies it to uint8 and refuses differing int8 params; TFLite Micro
 * copies int8 bytes unchanged. We requantise every quantised type, so a mismatch cannot silently corrupt.)
 * A fused activation (which both TFLite runtimes refuse) is applied as the usual clamp.
 */

const QUANTISED: readonly DType[] = ['int8', 'uint8', 'int16'];
const CLAMPS: readonly Activation[] = ['NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1'];

function inputsOf(node: Node<'CONCATENATION'>, g: Graph): Tensor[] {
  const ts = node.inputs.filter((id) => id >= 0).map((id) => g.tensors[id]);
  if (ts.length === 0) throw new ModelFormatError(`node ${node.index} (CONCATENATION)`, 'no inputs');
  return ts;
}

/** Axis in [0, rank); scalars concatenate along a new axis 0 as in TFLite. */
function concatAxis(node: Node<'CONCATENATION'>, rank: number): number {
  const a = node.options.axis;
  const axis = a < 0 ? a + rank : a;
  if (rank === 0 && axis === 0) return 0;
  if (axis < 0 || axis >= rank) throw new ModelFormatError(`node ${node.index} (CONCATENATION)`, `axis ${a} is outside a rank-${rank} input`);
  return axis;
}

function concatShape(node: Node<'CONCATENATION'>, g: Graph): number[] {
  const ins = inputsOf(node, g);
  const shape0 = ins[0].shape;
  const rank = shape0.length;
  const axis = concatAxis(node, rank);
  if (rank === 0) {
    if (ins.some((t) => t.shape.length !== 0)) throw new ModelFormatError(`node ${node.index} (CONCATENATION)`, 'mixes scalars and tensors');
    return [ins.length];
  }
  let sum = 0;
  for (const t of ins) {
    const ok = t.shape.length === rank && t.shape.every((d, k) => k === axis || d === shape0[k]);
    if (!ok) throw new ModelFormatError(`node ${node.index} (CONCATENATION)`, `input '${t.name}' ${shapeStr(t.shape)} does not match ${shapeStr(shape0)} off axis ${axis}`);
    sum += t.shape[axis];
  }
  return shape0.map((d, k) => (k === axis ? sum : d));
}

interface QParams { scale: number; zeroPoint: number }

function quantOf(node: Node, t: Tensor): QParams {
  const q = t.quant;
  if (q === null || q.scale.length === 0) throw new UnsupportedOpError(node.op, node.index, `quantised tensor '${t.name}' has no quantisation parameters`);
  if (q.scale.length > 1) throw new UnsupportedOpError(node.op, node.index, `per-channel quantised tensor '${t.name}'`);
  return { scale: Math.fround(q.scale[0]), zeroPoint: q.zeroPoint[0] ?? 0 };
}

/** ConcatenationWithScaling's per-element map, float32 step by step. */
export function requantizer(inQ: QParams, outQ: QParams, lo: number, hi: number): (q: number) => number {
  if (inQ.scale === outQ.scale && inQ.zeroPoint === outQ.zeroPoint) return (q) => (q < lo ? lo : q > hi ? hi : q);
  const inverseOut = Math.fround(1 / outQ.scale);
  const scale = Math.fround(inQ.scale * inverseOut);
  const bias = Math.fround(-inQ.zeroPoint * scale);
  return (q) => {
    const v = roundHalfAway(Math.fround(Math.fround(q * scale) + bias)) + outQ.zeroPoint;
    return v < lo ? lo : v > hi ? hi : v;
  };
}

/** Element offsets: piece i of outer slice k is copySize[i] elements at k*copySize[i] in input i. */
interface Layout { outer: number; copySize: number[]; rowSize: number }

function layoutOf(ins: Tensor[], outShape: number[], axis: number): Layout {
  if (ins[0].shape.length === 0) return { outer: 1, copySize: ins.map(() => 1), rowSize: ins.length };
  let outer = 1;
  for (let k = 0; k < axis; k++) outer *= outShape[k];
  let inner = 1;
  for (let k = axis + 1; k < outShape.length; k++) inner *= outShape[k];
  const copySize = ins.map((t) => t.shape[axis] * inner);
  return { outer, copySize, rowSize: copySize.reduce((a, b) => a + b, 0) };
}

type ElementMap = (q: number) => number;

function prepareConcat(node: Node<'CONCATENATION'>, g: Graph, views: TensorViews): Kernel {
  const ins = inputsOf(node, g);
  const out = outputTensor(node, g);
  const ids = node.inputs.filter((id) => id >= 0);
  for (const t of [...ins, out]) requireDtype(node, t, MOVABLE);
  for (const t of ins) {
    if (t.dtype !== out.dtype) throw new ModelFormatError(`node ${node.index} (CONCATENATION)`, `input '${t.name}' is ${t.dtype}, output is ${out.dtype}`);
  }
  const outShape = concatShape(node, g);
  requireOutputShape(node, out, outShape);
  const axis = concatAxis(node, ins[0].shape.length);
  const lay = layoutOf(ins, outShape, axis);
  const act = node.options.activation;
  if (!CLAMPS.includes(act)) throw new UnsupportedOpError('CONCATENATION', node.index, `fused activation ${act}`);

  // Per input: null = plain copy, else an element map (requantise and/or clamp).
  let maps: (ElementMap | null)[] = ins.map(() => null);
  const unquantised = out.quant === null && ins.every((t) => t.quant === null);
  if (QUANTISED.includes(out.dtype) && !(unquantised && act === 'NONE')) {
    const outQ = quantOf(node, out);
    const [lo, hi] = act === 'NONE' ? dtypeRange(out.dtype) : outputActivationRange(act, out);
    const [tlo, thi] = dtypeRange(out.dtype);
    maps = ins.map((t) => {
      const inQ = quantOf(node, t);
      const identity = inQ.scale === outQ.scale && inQ.zeroPoint === outQ.zeroPoint && lo <= tlo && hi >= thi;
      return identity ? null : requantizer(inQ, outQ, lo, hi);
    });
  } else if (act !== 'NONE') {
    if (out.dtype !== 'float32') throw new UnsupportedOpError('CONCATENATION', node.index, `fused activation ${act} on ${out.dtype}`);
    const [lo, hi] = floatActivationRange(act);
    maps = ins.map(() => (x: number) => (x < lo ? lo : x > hi ? hi : x));
  }

  const { layout, words } = wordViews(views, [...ids, node.outputs[0]], out.dtype);
  const dstWords = words[words.length - 1];
  const lanes = layout.lanes;
  const pieces = ins.map((_, i) => ({ src: words[i], map: maps[i], n: lay.copySize[i] }));
  const mapped = pieces.some((p) => p.map !== null);
  if (!mapped) {
    return () => {
      let d = 0;
      for (let k = 0; k < lay.outer; k++) {
        for (const p of pieces) {
          copyRun(dstWords, d, p.src, k * p.n * lanes, p.n * lanes);
          d += p.n * lanes;
        }
      }
    };
  }
  // Element-wise path: typed views of the dtype itself, or a 256-entry table for 8-bit types.
  const run = mappedRunner(out.dtype, views, ids, node.outputs[0], maps);
  return () => {
    let d = 0;
    for (let k = 0; k < lay.outer; k++) {
      pieces.forEach((p, i) => {
        if (p.map === null) copyRun(dstWords, d * lanes, p.src, k * p.n * lanes, p.n * lanes);
        else run(i, d, k * p.n, p.n);
        d += p.n;
      });
    }
  };
}

/** run(i, dstOffset, srcOffset, n) maps n elements of input i into the output (offsets in elements). */
function mappedRunner(dtype: DType, views: TensorViews, ids: number[], outId: number, maps: (ElementMap | null)[]):
  (i: number, d: number, s: number, n: number) => void {
  if (dtype === 'int8' || dtype === 'uint8') {
    const signed = dtype === 'int8';
    // Raw bytes: the table maps byte patterns, so int8 and uint8 share one loop.
    const dst = views.bytes(outId);
    const srcs = ids.map((id) => views.bytes(id));
    const luts = maps.map((m) => {
      if (m === null) return null;
      const lut = new Uint8Array(256);
      for (let b = 0; b < 256; b++) lut[b] = m(signed && b >= 128 ? b - 256 : b) & 0xff;
      return lut;
    });
    return (i, d, s, n) => {
      const lut = luts[i]!;
      const src = srcs[i];
      for (let k = 0; k < n; k++) dst[d + k] = lut[src[s + k]];
    };
  }
  const view = (id: number): Int16Array | Float32Array => (dtype === 'int16' ? views.int16(id) : views.float32(id));
  const dst = view(outId);
  const srcs = ids.map(view);
  return (i, d, s, n) => {
    const m = maps[i]!;
    const src = srcs[i];
    for (let k = 0; k < n; k++) dst[d + k] = m(src[s + k]);
  };
}

export const concatenation: OpDef<'CONCATENATION'> = {
  name: 'CONCATENATION',
  // v2 int8, v3 int16; v4 only adds uint32, a type we do not have.
  maxVersion: 3,
  role: 'concat',
  inferShapes: (node, g) => [concatShape(node, g)],
  prepare: prepareConcat,
  macs: (node, g) => numElements(outputTensor(node, g).shape),
  cost: (node, g) => movedWords(outputTensor(node, g)),
};
