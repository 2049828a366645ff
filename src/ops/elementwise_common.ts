/**
 * Helpers shared by the elementwise op files (ADD/SUB/MUL, the activations, QUANTIZE/DEQUANTIZE,
 * SOFTMAX/LOG_SOFTMAX): quantisation lookups that name the tensor at fault, and the 256-entry lookup
 * table kernel that every int8 -> int8 unary op reduces to.
 */
import type { DType } from '../graph/dtype.js';
import type { Activation } from '../graph/options.js';
import type { Graph, Node, Tensor } from '../graph/graph.js';
import { numElements, shapeStr } from '../graph/graph.js';
import { ModelFormatError, UnsupportedOpError } from '../errors.js';
import type { Kernel, TensorViews } from './op.js';
import { inputTensor, outputTensor } from './op.js';

/** Per-tensor quantisation of `t` as TFLite kernels see it (scale is a C float). */
export function quantOf(node: Node, t: Tensor): { scale: number; zeroPoint: number } {
  const q = t.quant;
  if (!q || q.scale.length === 0) {
    throw new UnsupportedOpError(node.op, node.index, `tensor ${t.id} (${t.name}) is ${t.dtype} but has no quantisation`);
  }
  if (q.scale.length !== 1) {
    throw new UnsupportedOpError(node.op, node.index, `tensor ${t.id} (${t.name}) is per-channel quantised; ${node.op} needs one scale`);
  }
  return { scale: Math.fround(q.scale[0]), zeroPoint: q.zeroPoint[0] ?? 0 };
}

/** Throw UnsupportedOpError unless `t.dtype` is one of `allowed`. */
export function requireDtype(node: Node, t: Tensor, allowed: readonly DType[], role: string): void {
  if (!allowed.includes(t.dtype)) {
    throw new UnsupportedOpError(node.op, node.index, `${role} ${t.id} (${t.name}) is ${t.dtype}; we implement ${allowed.join(', ')}`);
  }
}

export function unsupportedTypes(node: Node, g: Graph, detail = ''): UnsupportedOpError {
  const ins = node.inputs.filter((i) => i >= 0).map((i) => g.tensors[i].dtype).join(',');
  const outs = node.outputs.map((o) => g.tensors[o].dtype).join(',');
  return new UnsupportedOpError(node.op, node.index, `${ins} -> ${outs} is not implemented${detail ? ` (${detail})` : ''}`);
}

/** Shape rule of every unary elementwise op: the output has the input's shape. */
export function sameShapeAsInput(node: Node, g: Graph): number[][] {
  return [inputTensor(node, g, 0).shape.slice()];
}

/** Check the declared output shape against the rule (leading 1s aside, as TFLite's ExtendedShape). */
export function checkOutputShape(node: Node, g: Graph, expected: readonly number[]): void {
  const out = outputTensor(node, g);
  const rank = Math.max(out.shape.length, expected.length);
  const pad = (s: readonly number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const a = pad(out.shape);
  const b = pad(expected);
  if (a.some((d, i) => d !== b[i])) {
    throw new ModelFormatError(`node ${node.index} (${node.op})`, `output ${out.id} has shape ${shapeStr(out.shape)}, expected ${shapeStr(expected)}`);
  }
}

/** Output element count: the MAC figure of elementwise ops (one operation per element). */
export function outputElements(node: Node, g: Graph): number {
  return numElements(outputTensor(node, g).shape);
}

/** Build the 256-entry table of an int8 -> int8 function: lut[q + 128] = f(q). */
export function int8Table(f: (q: number) => number): Int8Array {
  const lut = new Int8Array(256);
  for (let q = -128; q < 128; q++) lut[q + 128] = f(q);
  return lut;
}

/** One element to one element, in place or not (both arrays are the same length). */
export function mapKernel(x: Float32Array | Int16Array | Int32Array, y: Float32Array | Int16Array | Int32Array, f: (v: number) => number): Kernel {
  const n = y.length;
  return () => {
    for (let i = 0; i < n; i++) y[i] = f(x[i]);
  };
}

/**
 * What a unary op computes per element type: int8 from its 256-entry table, the others by a function of
 * one value; int16 is built on demand, as its constants read the node's quantisation.
 */
export interface UnaryForms {
  table: Int8Array | null;
  float32?: (v: number) => number;
  int32?: (v: number) => number;
  int16?: () => Kernel;
  /** The types named when none applies. */
  supported?: string;
}

/** The prepare step every unary activation shares: the shape check, then the form for the tensors' types. */
export function unaryKernel(node: Node, g: Graph, views: TensorViews, forms: UnaryForms): Kernel {
  const input = inputTensor(node, g, 0), output = outputTensor(node, g);
  checkOutputShape(node, g, input.shape);
  const both = (t: DType) => input.dtype === t && output.dtype === t;
  if (forms.table) return int8TableKernel(views, input.id, output.id, forms.table);
  if (forms.float32 && both('float32')) return mapKernel(views.float32(input.id), views.float32(output.id), forms.float32);
  if (forms.int32 && both('int32')) return mapKernel(views.int32(input.id), views.int32(output.id), forms.int32);
  if (forms.int16 && both('int16')) return forms.int16();
  throw unsupportedTypes(node, g, forms.supported);
}

/** Kernel applying an int8 -> int8 table elementwise. Safe when output and input share memory. */
export function int8TableKernel(views: TensorViews, inId: number, outId: number, lut: Int8Array): Kernel {
  const input = views.int8(inId);
  const output = views.int8(outId);
  const n = output.length;
  return () => {
    for (let i = 0; i < n; i++) output[i] = lut[input[i] + 128];
  };
}

/** Fused activations that are a clamp (all TFLite kernels support); TANH / SIGN_BIT are refused. */
export function requireClampActivation(node: Node, act: Activation): void {
  if (act !== 'NONE' && act !== 'RELU' && act !== 'RELU6' && act !== 'RELU_N1_TO_1') {
    throw new UnsupportedOpError(node.op, node.index, `fused activation ${act}`);
  }
}
