/**
 * LEAKY_RELU (float and int8, leaky_relu.cc), PRELU (float, int8, int16) and ELU (float): TFLite Micro's
 * reference kernels. int8 LEAKY_RELU requantises the input with one multiplier (in/out scale) for x >= 0
 * and another (alpha * in/out scale) for x < 0, each QuantizeMultiplier'd in double.
 */
import type { Graph, Node } from '../graph/graph.js';
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { multiplyByQuantizedMultiplier, quantizeMultiplier, roundHalfAway } from '../quant/fixedpoint.js';
import { dtypeRange } from '../graph/dtype.js';
import { broadcastInferShapes, broadcastKernel } from './binary_broadcast.js';
import type { Element } from './element_access.js';
import {
  int8Table, mapKernel, outputElements, quantOf, sameShapeAsInput, unaryKernel, unsupportedTypes,
} from './elementwise_common.js';

/** Quantised LEAKY_RELU of one value (int8 or int16), clamped to the output type. */
function leakyQuantized(node: Node<'LEAKY_RELU'>, g: Graph): (q: number) => number {
  const input = inputTensor(node, g, 0), output = outputTensor(node, g);
  const qi = quantOf(node, input), qo = quantOf(node, output);
  const alpha = Math.fround(node.options.alpha);
  const id = quantizeMultiplier(qi.scale / qo.scale), al = quantizeMultiplier((alpha * qi.scale) / qo.scale);
  const [lo, hi] = dtypeRange(output.dtype);
  return (q) => {
    const d = q - qi.zeroPoint;
    const m = d >= 0 ? id : al;
    const v = qo.zeroPoint + multiplyByQuantizedMultiplier(d, m.multiplier, m.shift);
    return v < lo ? lo : v > hi ? hi : v;
  };
}

export const leakyRelu: OpDef<'LEAKY_RELU'> = {
  name: 'LEAKY_RELU',
  // v1 float, v2 int8 and int16.
  maxVersion: 2,
  inferShapes: sameShapeAsInput,
  prepare(node, g, views) {
    const alpha = Math.fround(node.options.alpha);
    const int16 = () => mapKernel(views.int16(inputTensor(node, g, 0).id), views.int16(outputTensor(node, g).id), leakyQuantized(node, g));
    return unaryKernel(node, g, views, { table: leakyRelu.int8Table!(node, g), float32: (v) => (v > 0 ? v : Math.fround(v * alpha)), int16 });
  },
  int8Table(node, g) {
    const input = inputTensor(node, g, 0), output = outputTensor(node, g);
    return input.dtype === 'int8' && output.dtype === 'int8' ? int8Table(leakyQuantized(node, g)) : null;
  },
  macs: outputElements,
  role: 'elementwise',
};

export const prelu: OpDef<'PRELU'> = {
  name: 'PRELU',
  maxVersion: 1,
  inferShapes: broadcastInferShapes,
  prepare(node, g, views) {
    const [x, a, out] = [inputTensor(node, g, 0), inputTensor(node, g, 1), outputTensor(node, g)];
    if (x.dtype === 'float32' && a.dtype === 'float32' && out.dtype === 'float32') {
      return broadcastKernel(node, g, views, (v: Element, al: Element) => ((v as number) >= 0 ? v : Math.fround((v as number) * (al as number))));
    }
    const int16 = x.dtype === 'int16' && out.dtype === 'int16';
    if (a.dtype === 'int8' && (int16 || (x.dtype === 'int8' && out.dtype === 'int8'))) {
      // prelu.cc: x >= 0 rescaled by in/out scale; x < 0 times (alpha - alpha zero point), by in*alpha/out.
      // int16 activations take int8 alphas (the reference requires them).
      const qx = quantOf(node, x), qa = quantOf(node, a), qo = quantOf(node, out);
      const m1 = quantizeMultiplier(qx.scale / qo.scale), m2 = quantizeMultiplier((qx.scale * qa.scale) / qo.scale);
      const [lo, hi] = dtypeRange(out.dtype);
      return broadcastKernel(node, g, views, (v: Element, al: Element) => {
        const d = (v as number) - qx.zeroPoint;
        const r = qo.zeroPoint + (d >= 0
          ? multiplyByQuantizedMultiplier(d, m1.multiplier, m1.shift)
          : multiplyByQuantizedMultiplier(d * ((al as number) - qa.zeroPoint), m2.multiplier, m2.shift));
        return r < lo ? lo : r > hi ? hi : r;
      });
    }
    throw unsupportedTypes(node, g, 'float32, int8, and int16 with int8 alpha');
  },
  macs: outputElements,
  role: 'other',
};

export const elu: OpDef<'ELU'> = {
  name: 'ELU',
  maxVersion: 1,
  inferShapes: sameShapeAsInput,
  prepare(node, g, views) {
    return unaryKernel(node, g, views, { table: elu.int8Table!(node, g), float32: (v) => (v < 0 ? Math.fround(Math.expm1(v)) : v), supported: 'float32 and int8' });
  },
  int8Table(node, g) {
    const input = inputTensor(node, g, 0), output = outputTensor(node, g);
    if (input.dtype !== 'int8' || output.dtype !== 'int8') return null;
    // elu.cc PopulateLookupTable: dequantise in float, exp(x) - 1 below zero, requantise with TfLiteRound.
    const qi = quantOf(node, input), qo = quantOf(node, output);
    const inverse = Math.fround(1 / qo.scale);
    return int8Table((q) => {
      const d = Math.fround(qi.scale * (q - qi.zeroPoint));
      const t = d < 0 ? Math.fround(Math.fround(Math.exp(d)) - 1) : d;
      const v = roundHalfAway(Math.fround(t * inverse)) + qo.zeroPoint;
      return v < -128 ? -128 : v > 127 ? 127 : v;
    });
  },
  macs: outputElements,
  role: 'elementwise',
};
