/**
 * SVDF (TFLite Micro's svdf.cc / svdf_common.cc): a rank-decomposed fully-connected layer over a window
 * of the last `memory` steps, keeping that window in a variable state tensor [batch, filters * memory]
 * (per filter, its `memory` most recent feature values, oldest first). Each invoke:
 * 1. shifts the whole state one element left (dropping each filter's oldest value),
 * 2. writes each filter's new feature (input . weights_feature row) into its newest slot,
 * 3. dots each filter's window with its weights_time row, sums the `rank` filters of each unit, adds the bias.
 *
 * float32 computes in float with the fused activation. int8 (int16 or int8 weights_time and state) follows
 * EvalIntegerSvdfReference: the feature is requantised to the state's scale and clamped to the state type
 * before adding the state zero point (stored with the type's wrap-around), the time dot product and bias
 * are int32, and the result is requantised to the int8 output and clamped to int8 only — the reference's
 * integer path applies no fused activation, so neither do we.
 */
import type { Graph, Node, Tensor } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import { ModelFormatError, UnsupportedOpError } from '../errors.js';
import { dtypeRange } from '../graph/dtype.js';
import { floatActivationRange } from '../quant/activation.js';
import { multiplyByQuantizedMultiplier, quantizeMultiplier } from '../quant/fixedpoint.js';
import type { Kernel, OpDef, TensorViews } from './op.js';
import { inputTensor, optionalInput, outputTensor } from './op.js';
import { quantOf, requireClampActivation, unsupportedTypes } from './elementwise_common.js';

export const SVDF_STATE_INPUT = 4;
const STATE_INPUT = SVDF_STATE_INPUT;

export interface SvdfGeometry {
  batch: number;
  inputSize: number;
  filters: number;
  units: number;
  memory: number;
  rank: number;
}

export function svdfGeometry(node: Node<'SVDF'>, g: Graph): SvdfGeometry {
  const input = inputTensor(node, g, 0), wf = inputTensor(node, g, 1), wt = inputTensor(node, g, 2);
  const state = inputTensor(node, g, STATE_INPUT), bias = optionalInput(node, g, 3);
  const fail = (what: string): never => { throw new ModelFormatError(`node ${node.index} (SVDF)`, what); };
  if (input.shape.length !== 2 || wf.shape.length !== 2 || wt.shape.length !== 2 || state.shape.length !== 2) {
    fail('input, weights_feature, weights_time and state must be 2-D');
  }
  const [batch, inputSize] = input.shape;
  const [filters, wfIn] = wf.shape;
  const rank = node.options.rank;
  if (filters % rank !== 0) fail(`${filters} filters are not a multiple of rank ${rank}`);
  const memory = wt.shape[1];
  if (wfIn !== inputSize || wt.shape[0] !== filters) fail('weights_feature [filters, input] and weights_time [filters, memory] do not match the input');
  if (state.shape[0] !== batch || state.shape[1] !== filters * memory) fail(`state must be [${batch}, ${filters * memory}]`);
  const units = filters / rank;
  if (bias && numElements(bias.shape) !== units) fail(`bias must have ${units} values`);
  return { batch, inputSize, filters, units, memory, rank };
}

/** Step 1 of every invoke: the state moves one element towards the front. */
function shiftState(state: Int8Array | Int16Array | Float32Array): void {
  state.copyWithin(0, 1);
}

function floatKernel(node: Node<'SVDF'>, g: Graph, views: TensorViews, geo: SvdfGeometry): Kernel {
  const { batch, inputSize, filters, units, memory, rank } = geo;
  requireClampActivation(node, node.options.activation);
  const [lo, hi] = floatActivationRange(node.options.activation);
  const x = views.float32(inputTensor(node, g, 0).id), wf = views.float32(inputTensor(node, g, 1).id);
  const wt = views.float32(inputTensor(node, g, 2).id), state = views.float32(inputTensor(node, g, STATE_INPUT).id);
  const biasT = optionalInput(node, g, 3), bias = biasT ? views.float32(biasT.id) : null;
  const y = views.float32(outputTensor(node, g).id);
  const scratch = new Float32Array(filters);
  return () => {
    shiftState(state);
    for (let b = 0; b < batch; b++) for (let f = 0; f < filters; f++) {
      let dot = 0;
      for (let k = 0; k < inputSize; k++) dot = Math.fround(dot + Math.fround(wf[f * inputSize + k] * x[b * inputSize + k]));
      state[(b * filters + f) * memory + memory - 1] = dot;
    }
    for (let b = 0; b < batch; b++) {
      for (let f = 0; f < filters; f++) {
        let s = 0;
        for (let m = 0; m < memory; m++) s = Math.fround(s + Math.fround(wt[f * memory + m] * state[(b * filters + f) * memory + m]));
        scratch[f] = s;
      }
      for (let u = 0; u < units; u++) {
        let v = bias ? bias[u] : 0;
        for (let r = 0; r < rank; r++) v = Math.fround(v + scratch[u * rank + r]);
        y[b * units + u] = v < lo ? lo : v > hi ? hi : v;
      }
    }
  };
}

function requireScale(node: Node, t: Tensor): number {
  return quantOf(node, t).scale;
}

/** Prepare of the int8 SVDF: zero points, the feature -> state and time -> output multipliers, the state type's range. */
export function svdfIntegerScaling(node: Node<'SVDF'>, g: Graph) {
  const input = inputTensor(node, g, 0), wfT = inputTensor(node, g, 1), wtT = inputTensor(node, g, 2);
  const stateT = inputTensor(node, g, STATE_INPUT), output = outputTensor(node, g);
  const qi = quantOf(node, input), qs = quantOf(node, stateT), qo = quantOf(node, output);
  // Both effective scales are float32 expressions in the reference, widened to double afterwards.
  const m1 = quantizeMultiplier(Math.fround(Math.fround(qi.scale * requireScale(node, wfT)) / qs.scale));
  const m2 = quantizeMultiplier(Math.fround(Math.fround(qs.scale * requireScale(node, wtT)) / qo.scale));
  const [stateLo, stateHi] = dtypeRange(stateT.dtype);
  return { qi, qs, qo, m1, m2, stateLo, stateHi };
}

function integerKernel(node: Node<'SVDF'>, g: Graph, views: TensorViews, geo: SvdfGeometry): Kernel {
  const { batch, inputSize, filters, units, memory, rank } = geo;
  const input = inputTensor(node, g, 0), wfT = inputTensor(node, g, 1), wtT = inputTensor(node, g, 2);
  const stateT = inputTensor(node, g, STATE_INPUT), output = outputTensor(node, g), biasT = optionalInput(node, g, 3);
  if (wfT.dtype !== 'int8' || output.dtype !== 'int8' || (stateT.dtype !== 'int8' && stateT.dtype !== 'int16') || wtT.dtype !== stateT.dtype) {
    throw unsupportedTypes(node, g, 'int8 input and weights_feature, int8 or int16 weights_time and state of one type');
  }
  if (biasT && biasT.dtype !== 'int32') throw new UnsupportedOpError(node.op, node.index, `bias ${biasT.name} is ${biasT.dtype}; int8 SVDF needs int32`);
  const { qi, qs, qo, m1, m2, stateLo, stateHi } = svdfIntegerScaling(node, g);
  const x = views.int8(input.id), wf = views.int8(wfT.id), y = views.int8(output.id);
  const wt = stateT.dtype === 'int8' ? views.int8(wtT.id) : views.int16(wtT.id);
  const state = stateT.dtype === 'int8' ? views.int8(stateT.id) : views.int16(stateT.id);
  const bias = biasT ? views.int32(biasT.id) : null;
  const scratch = new Int32Array(filters);
  return () => {
    shiftState(state);
    for (let b = 0; b < batch; b++) for (let f = 0; f < filters; f++) {
      let dot = 0;
      for (let k = 0; k < inputSize; k++) dot += wf[f * inputSize + k] * (x[b * inputSize + k] - qi.zeroPoint);
      let v = multiplyByQuantizedMultiplier(dot | 0, m1.multiplier, m1.shift);
      v = v < stateLo ? stateLo : v > stateHi ? stateHi : v;
      state[(b * filters + f) * memory + memory - 1] = qs.zeroPoint + v; // the typed array wraps, as the C store does
    }
    for (let b = 0; b < batch; b++) {
      for (let f = 0; f < filters; f++) {
        let s = 0;
        for (let m = 0; m < memory; m++) s += wt[f * memory + m] * (state[(b * filters + f) * memory + m] - qs.zeroPoint);
        scratch[f] = s;
      }
      for (let u = 0; u < units; u++) {
        let acc = bias ? bias[u] : 0;
        for (let r = 0; r < rank; r++) acc = (acc + scratch[u * rank + r]) | 0;
        const v = multiplyByQuantizedMultiplier(acc, m2.multiplier, m2.shift) + qo.zeroPoint;
        y[b * units + u] = v < -128 ? -128 : v > 127 ? 127 : v;
      }
    }
  };
}

export const svdf: OpDef<'SVDF'> = {
  name: 'SVDF',
  // v1 float32, v2 hybrid (int8 weights, float activations: not implemented), v3 int8 with int16 or int8 state.
  maxVersion: 3,
  role: 'other',
  stateInputs: () => [STATE_INPUT],
  differentiableInputs: (node) => node.inputs.map((_, i) => i === 0),
  inferShapes(node, g) {
    const { batch, units } = svdfGeometry(node, g);
    return [[batch, units]];
  },
  prepare(node, g, views) {
    const geo = svdfGeometry(node, g);
    const input = inputTensor(node, g, 0), state = inputTensor(node, g, STATE_INPUT), output = outputTensor(node, g);
    if (!state.variable) throw new UnsupportedOpError(node.op, node.index, `state ${state.name} is not a variable tensor`);
    const floats = [0, 1, 2, STATE_INPUT].every((i) => inputTensor(node, g, i).dtype === 'float32') && output.dtype === 'float32';
    if (floats) return floatKernel(node, g, views, geo);
    if (input.dtype === 'int8') return integerKernel(node, g, views, geo);
    throw unsupportedTypes(node, g, 'float32, and int8 with int8 or int16 state');
  },
  macs(node, g) {
    const { batch, inputSize, filters, memory } = svdfGeometry(node, g);
    return batch * filters * (inputSize + memory);
  },
  // The reference's arena scratch: one int32 (or float) per filter and batch, and for int8 one int32 per unit and batch.
  scratchBytes(node, g) {
    const { batch, filters, units } = svdfGeometry(node, g);
    return 4 * batch * filters + (inputTensor(node, g, 0).dtype === 'int8' ? 4 * batch * units : 0);
  },
};
