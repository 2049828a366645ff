import type { Activation } from '../graph/options.js';
import type { DType } from '../graph/dtype.js';
import { dtypeRange } from '../graph/dtype.js';
import { roundHalfAway } from './fixedpoint.js';
import type { Tensor } from '../graph/graph.js';

/**
 * CalculateActivationRangeQuantized: the clamp bounds a fused activation imposes on a quantised output.
 * TFLite quantises the bound with a float32 division, so we round through Math.fround to match.
 */
export function quantizedActivationRange(act: Activation, scale: number, zeroPoint: number, dtype: DType): [number, number] {
  const [qmin, qmax] = dtypeRange(dtype);
  const q = (f: number) => zeroPoint + roundHalfAway(Math.fround(f / scale));
  switch (act) {
    case 'NONE': return [qmin, qmax];
    case 'RELU': return [Math.max(qmin, q(0)), qmax];
    case 'RELU6': return [Math.max(qmin, q(0)), Math.min(qmax, q(6))];
    case 'RELU_N1_TO_1': return [Math.max(qmin, q(-1)), Math.min(qmax, q(1))];
    default: throw new Error(`fused activation ${act} is not supported on quantised tensors`);
  }
}

export function outputActivationRange(act: Activation, out: Tensor): [number, number] {
  const scale = out.quant?.scale[0] ?? 1;
  const zp = out.quant?.zeroPoint[0] ?? 0;
  return quantizedActivationRange(act, scale, zp, out.dtype);
}

/** CalculateActivationRange for float kernels. */
export function floatActivationRange(act: Activation): [number, number] {
  switch (act) {
    case 'NONE': return [-Infinity, Infinity];
    case 'RELU': return [0, Infinity];
    case 'RELU6': return [0, 6];
    case 'RELU_N1_TO_1': return [-1, 1];
    default: throw new Error(`fused activation ${act} is not supported`);
  }
}
