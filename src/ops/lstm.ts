/**
 * UNIDIRECTIONAL_SEQUENCE_LSTM (TFLite Micro's unidirectional_sequence_lstm.cc with lstm_eval.h): an LSTM
 * over a sequence, batch-major [batch, time, input] or time-major [time, batch, input], without peepholes,
 * projection or layer norm (TFLite Micro refuses those too). The output state (hidden) and the cell state
 * are variable tensors kept across invokes. Each step, per the reference:
 *   forget, input, output gates = sigmoid(W x + b + R h), cell gate = act(W x + b + R h),
 *   c = forget * c + input * cell gate (clipped when cell_clip > 0), h = tanh(c) * output; out[t] = h.
 * Batch-major sequences run batch by batch (one row at a time); time-major ones step all rows together.
 *
 * float32 computes in float. int8 (int8 weights, int32 biases) and int16x8 (int16 activations, int64
 * biases) follow the integer reference: gate pre-activations are int16 at the fixed scale 2^-12 (each of
 * the two fully-connected products requantised to it, then added with int16 saturation), the gates come
 * out of the int16 sigmoid/tanh at 2^-15, the cell state is int16 at its power-of-two scale, and the
 * products are requantised with 32-bit multipliers. The operator's intermediate tensors are ignored, as in
 * TFLite Micro.
 */
import type { Graph, Node, Tensor } from '../graph/graph.js';
import { ModelFormatError, UnsupportedOpError } from '../errors.js';
import { dtypeRange } from '../graph/dtype.js';
import { multiplyByQuantizedMultiplier, quantizeMultiplier } from '../quant/fixedpoint.js';
import type { Kernel, OpDef, TensorViews } from './op.js';
import { inputTensor, optionalInput, outputTensor } from './op.js';
import { quantOf } from './elementwise_common.js';
import { mbqm64 } from './int16x8.js';
import { reader } from './element_access.js';
import { logisticF32 } from './logistic.js';
import { sigmoidInt16 } from './sigmoid_int16.js';

type LstmNode = Node<'UNIDIRECTIONAL_SEQUENCE_LSTM'>;

export const OUTPUT_STATE = 18;
export const CELL_STATE = 19;
/** Gate order of the reference's step: forget, input, cell, output; input-to-gate weights, recurrent weights, biases. */
export const GATES = [
  { w: 2, r: 6, b: 13 }, // forget
  { w: 1, r: 5, b: 12 }, // input
  { w: 3, r: 7, b: 14 }, // cell
  { w: 4, r: 8, b: 15 }, // output
] as const;
export const ABSENT = [9, 10, 11, 16, 17, 20, 21, 22, 23];

export interface LstmSize {
  timeMajor: boolean;
  batch: number;
  steps: number;
  inputDim: number;
  units: number;
}

export function lstmSize(node: LstmNode, g: Graph): LstmSize {
  const x = inputTensor(node, g, 0), h = inputTensor(node, g, OUTPUT_STATE);
  const fail = (what: string): never => { throw new ModelFormatError(`node ${node.index} (${node.op})`, what); };
  if (x.shape.length !== 3 || h.shape.length !== 2) fail('input must be 3-D and the output state 2-D');
  const timeMajor = node.options.timeMajor;
  const [d0, d1, inputDim] = x.shape;
  const size = { timeMajor, batch: timeMajor ? d1 : d0, steps: timeMajor ? d0 : d1, inputDim, units: h.shape[1] };
  for (const { w, r, b } of GATES) {
    const [wt, rt, bt] = [w, r, b].map((i) => inputTensor(node, g, i));
    if (wt.shape.join() !== `${size.units},${inputDim}` || rt.shape.join() !== `${size.units},${size.units}` || bt.shape.join() !== `${size.units}`) {
      fail(`gate weights must be [${size.units}, ${inputDim}], recurrent weights [${size.units}, ${size.units}], biases [${size.units}]`);
    }
  }
  const c = inputTensor(node, g, CELL_STATE);
  if (h.shape[0] !== size.batch || c.shape.join() !== h.shape.join()) fail(`output and cell states must be [${size.batch}, ${size.units}]`);
  return size;
}

/** Where step (b, t) reads its input rows and writes its output rows, and which state rows it uses. */
function forEachStep(s: LstmSize, step: (inOffset: number, outOffset: number, stateOffset: number, rows: number) => void): void {
  if (s.timeMajor) {
    for (let t = 0; t < s.steps; t++) step(t * s.batch * s.inputDim, t * s.batch * s.units, 0, s.batch);
    return;
  }
  for (let b = 0; b < s.batch; b++) {
    for (let t = 0; t < s.steps; t++) step((b * s.steps + t) * s.inputDim, (b * s.steps + t) * s.units, b * s.units, 1);
  }
}

function floatKernel(node: LstmNode, g: Graph, views: TensorViews, s: LstmSize): Kernel {
  const act = node.options.activation;
  if (act !== 'TANH' && act !== 'NONE' && act !== 'RELU' && act !== 'RELU6') throw new UnsupportedOpError(node.op, node.index, `cell activation ${act}`);
  const cellAct = (v: number): number => act === 'TANH' ? Math.fround(Math.tanh(v)) : act === 'RELU' ? Math.max(0, v) : act === 'RELU6' ? Math.min(6, Math.max(0, v)) : v;
  const f = (i: number) => views.float32(inputTensor(node, g, i).id);
  const x = f(0), h = f(OUTPUT_STATE), c = f(CELL_STATE), y = views.float32(outputTensor(node, g).id);
  const gates = GATES.map(({ w, r, b }) => ({ w: f(w), r: f(r), b: f(b) }));
  const { units, inputDim } = s;
  const clip = node.options.cellClip;
  const out = GATES.map(() => new Float32Array(s.batch * units));
  const dot = (v: Float32Array, vo: number, m: Float32Array, mo: number, n: number): number => {
    let total = 0;
    for (let k = 0; k < n; k++) total = Math.fround(total + Math.fround(v[vo + k] * m[mo + k]));
    return total;
  };
  return () => forEachStep(s, (xo, yo, so, rows) => {
    gates.forEach((gt, k) => {
      for (let r = 0; r < rows; r++) for (let u = 0; u < units; u++) {
        const fromInput = Math.fround(dot(x, xo + r * inputDim, gt.w, u * inputDim, inputDim) + gt.b[u]);
        const fromState = dot(h, so + r * units, gt.r, u * units, units);
        const v = Math.fround(fromInput + fromState);
        out[k][r * units + u] = k === 2 ? cellAct(v) : logisticF32(v);
      }
    });
    const [fg, ig, cg, og] = out;
    for (let i = 0; i < rows * units; i++) {
      let cell = Math.fround(Math.fround(fg[i] * c[so + i]) + Math.fround(ig[i] * cg[i]));
      if (clip > 0) cell = Math.max(Math.min(clip, cell), -clip);
      c[so + i] = cell;
      h[so + i] = Math.fround(Math.fround(Math.tanh(cell)) * og[i]);
    }
    y.set(h.subarray(so, so + rows * units), yo);
  });
}

/** TFLite CheckedLog2's rounded result (the cell state scale's power of two). */
function log2Rounded(x: number): number {
  const l = Math.fround(Math.fround(Math.log(x)) * Math.fround(1 / Math.fround(Math.log(2))));
  return l < 0 ? -Math.round(-l) : Math.round(l);
}

function perTensorScale(node: LstmNode, t: Tensor): number {
  if (t.quant && t.quant.scale.length > 1) throw new UnsupportedOpError(node.op, node.index, `per-channel weights ${t.name}`);
  return quantOf(node, t).scale;
}

/** The integer LSTM's requantisation, as the reference's Prepare computes it (shared with the C lowering). */
export function lstmIntegerScaling(node: LstmNode, g: Graph) {
  const xT = inputTensor(node, g, 0), hT = inputTensor(node, g, OUTPUT_STATE), cT = inputTensor(node, g, CELL_STATE);
  const act16 = xT.dtype === 'int16';
  const biasType = act16 ? 'int64' : 'int32';
  for (const { w, r, b } of GATES) {
    if (inputTensor(node, g, w).dtype !== 'int8' || inputTensor(node, g, r).dtype !== 'int8') throw new UnsupportedOpError(node.op, node.index, 'integer LSTM needs int8 weights');
    if (inputTensor(node, g, b).dtype !== biasType) throw new UnsupportedOpError(node.op, node.index, `${xT.dtype} LSTM needs ${biasType} biases`);
  }
  if (cT.dtype !== 'int16') throw new UnsupportedOpError(node.op, node.index, 'integer LSTM needs an int16 cell state');
  if (node.options.activation !== 'TANH') throw new UnsupportedOpError(node.op, node.index, `integer cell activation ${node.options.activation}`);
  const qx = quantOf(node, xT), qh = quantOf(node, hT), cellScale = quantOf(node, cT).scale;
  const GATE_IN = 2 ** -12, GATE_OUT = 2 ** -15;
  const gates = GATES.map(({ w, r }) => ({
    mw: quantizeMultiplier((qx.scale * perTensorScale(node, inputTensor(node, g, w))) / GATE_IN),
    mr: quantizeMultiplier((qh.scale * perTensorScale(node, inputTensor(node, g, r))) / GATE_IN),
  }));
  const cellPower = log2Rounded(cellScale);
  // tanh of the cell state: its scale 2^p becomes the table's 1/(3 * 4096) units by shift 15 + p - 3.
  const tanhShift = 15 + cellPower - 3;
  const [tanhMult, tanhShiftAbs] = tanhShift < 0 ? [3, -tanhShift] : [0, tanhShift];
  return {
    act16, qx, qh, gates, tanhMult, tanhShiftAbs,
    mForgetCell: quantizeMultiplier((GATE_OUT * cellScale) / cellScale),
    mInputCell: quantizeMultiplier((GATE_OUT * GATE_OUT) / cellScale),
    mOutput: quantizeMultiplier((GATE_OUT * GATE_OUT) / qh.scale),
    hRange: dtypeRange(hT.dtype),
    clip: node.options.cellClip > 0 ? Math.trunc(Math.min(Math.max(node.options.cellClip / cellScale, -32768), 32767)) : 0,
  };
}

function integerKernel(node: LstmNode, g: Graph, views: TensorViews, s: LstmSize): Kernel {
  const xT = inputTensor(node, g, 0), hT = inputTensor(node, g, OUTPUT_STATE), cT = inputTensor(node, g, CELL_STATE);
  const sc = lstmIntegerScaling(node, g);
  const { act16, qx, qh, mForgetCell, mInputCell, mOutput, tanhMult, tanhShiftAbs, clip } = sc;
  const { units, inputDim } = s;
  const x = act16 ? views.int16(xT.id) : views.int8(xT.id);
  const h = act16 ? views.int16(hT.id) : views.int8(hT.id);
  const c = views.int16(cT.id);
  const y = act16 ? views.int16(outputTensor(node, g).id) : views.int8(outputTensor(node, g).id);
  const gates = GATES.map(({ w, r, b }, k) => {
    const wt = inputTensor(node, g, w), rt = inputTensor(node, g, r), br = reader(views, inputTensor(node, g, b));
    return { w: views.int8(wt.id), r: views.int8(rt.id), bias: Array.from({ length: units }, (_, u) => Number(br(u))), ...sc.gates[k] };
  });
  // A fully-connected product requantised to the gate scale and clamped to int16: 64-bit for int16 activations.
  const requant = act16
    ? (acc: number, m: { multiplier: number; shift: number }) => mbqm64(acc, m.multiplier, m.shift)
    : (acc: number, m: { multiplier: number; shift: number }) => multiplyByQuantizedMultiplier(acc | 0, m.multiplier, m.shift);
  const clamp16 = (v: number): number => (v < -32768 ? -32768 : v > 32767 ? 32767 : v);
  const fc = (v: Int8Array | Int16Array, vo: number, zp: number, m: Int8Array, mo: number, n: number): number => {
    let acc = 0;
    for (let k = 0; k < n; k++) acc += (v[vo + k] - zp) * m[mo + k];
    return acc;
  };
  const [hLo, hHi] = sc.hRange;
  const out = GATES.map(() => new Int16Array(s.batch * units));
  const tanhCell = new Int16Array(s.batch * units);
  return () => forEachStep(s, (xo, yo, so, rows) => {
    gates.forEach((gt, k) => {
      for (let r = 0; r < rows; r++) for (let u = 0; u < units; u++) {
        const fromInput = clamp16(requant(fc(x, xo + r * inputDim, qx.zeroPoint, gt.w, u * inputDim, inputDim) + gt.bias[u], gt.mw));
        const fromState = clamp16(requant(fc(h, so + r * units, qh.zeroPoint, gt.r, u * units, units), gt.mr));
        out[k][r * units + u] = clamp16(fromInput + fromState);
      }
      // Gate pre-activations are Q3.12: sigmoid with the power-of-two multiplier, the cell gate's tanh likewise.
      sigmoidInt16(k === 2 ? 'TANH' : 'LOGISTIC', 0, 0, out[k], out[k], rows * units);
    });
    const [fg, ig, cg, og] = out;
    const n = rows * units;
    for (let i = 0; i < n; i++) {
      const kept = clamp16(multiplyByQuantizedMultiplier(fg[i] * c[so + i], mForgetCell.multiplier, mForgetCell.shift));
      const added = clamp16(multiplyByQuantizedMultiplier(ig[i] * cg[i], mInputCell.multiplier, mInputCell.shift));
      let cell = clamp16(kept + added);
      if (clip > 0) cell = Math.max(Math.min(clip, cell), -clip);
      c[so + i] = cell;
    }
    sigmoidInt16('TANH', tanhMult, tanhShiftAbs, c.subarray(so, so + n), tanhCell, n);
    for (let i = 0; i < n; i++) {
      const v = qh.zeroPoint + multiplyByQuantizedMultiplier(tanhCell[i] * og[i], mOutput.multiplier, mOutput.shift);
      h[so + i] = v < hLo ? hLo : v > hHi ? hHi : v;
    }
    y.set(h.subarray(so, so + n), yo);
  });
}

export const unidirectionalSequenceLstm: OpDef<'UNIDIRECTIONAL_SEQUENCE_LSTM'> = {
  name: 'UNIDIRECTIONAL_SEQUENCE_LSTM',
  // v1 float32; v2 hybrid (not implemented); v3 int8 / int16x8 with the integer kernel.
  maxVersion: 3,
  role: 'other',
  stateInputs: () => [OUTPUT_STATE, CELL_STATE],
  differentiableInputs: (node) => node.inputs.map((_, i) => i === 0),
  inferShapes(node, g) {
    const s = lstmSize(node, g);
    const shape = inputTensor(node, g, 0).shape;
    return [[shape[0], shape[1], s.units]];
  },
  prepare(node, g, views) {
    const s = lstmSize(node, g);
    const absent = ABSENT.find((i) => optionalInput(node, g, i));
    if (absent !== undefined) throw new UnsupportedOpError(node.op, node.index, `input ${absent} (peephole, projection or layer norm) is not implemented (nor in TFLite Micro)`);
    for (const i of [OUTPUT_STATE, CELL_STATE]) {
      if (!inputTensor(node, g, i).variable) throw new UnsupportedOpError(node.op, node.index, `state input ${i} is not a variable tensor`);
    }
    const x = inputTensor(node, g, 0), out = outputTensor(node, g), hT = inputTensor(node, g, OUTPUT_STATE);
    if (out.dtype !== x.dtype || hT.dtype !== x.dtype) throw new UnsupportedOpError(node.op, node.index, 'input, output and output state must share one dtype');
    if (x.dtype === 'float32') {
      if ([...GATES.flatMap((gt) => [gt.w, gt.r, gt.b]), CELL_STATE].some((i) => inputTensor(node, g, i).dtype !== 'float32')) {
        throw new UnsupportedOpError(node.op, node.index, 'float LSTM with non-float weights (hybrid) is not implemented');
      }
      return floatKernel(node, g, views, s);
    }
    if (x.dtype === 'int8' || x.dtype === 'int16') return integerKernel(node, g, views, s);
    throw new UnsupportedOpError(node.op, node.index, `${x.dtype} input`);
  },
  macs(node, g) {
    const s = lstmSize(node, g);
    return s.batch * s.steps * 4 * s.units * (s.inputDim + s.units);
  },
  // The reference's four gate buffers, one cell-state element per batch row and unit each.
  scratchBytes(node, g) {
    const s = lstmSize(node, g);
    return 4 * s.batch * s.units * (inputTensor(node, g, 0).dtype === 'float32' ? 4 : 2);
  },
};
