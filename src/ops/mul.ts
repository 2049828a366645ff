/**
 * MUL: TFLite Micro's mul.cc with reference integer_ops/mul.h.
 *
 * int8: the product of the two zero-point-corrected inputs (|product| <= 255^2, exact in int32) is
 * requantised once by in0_scale * in1_scale / out_scale (computed in double, may exceed 1: version 3),
 * then offset by the output zero point and clamped to the fused activation.
 */
import type { Graph, Node } from '../graph/graph.js';
import { floatActivationRange, outputActivationRange } from '../quant/activation.js';
import { multiplyByQuantizedMultiplier, quantizeMultiplier } from '../quant/fixedpoint.js';
import type { Kernel, OpDef, TensorViews } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { forEachRun, planBroadcast } from './broadcast.js';
import { binaryInferShapes, int32Kernel } from './add.js';
import { broadcastKernel } from './binary_broadcast.js';
import {
  checkOutputShape, outputElements, quantOf, requireClampActivation, unsupportedTypes,
} from './elementwise_common.js';

function int8MulKernel(node: Node<'MUL'>, g: Graph, views: TensorViews): Kernel {
  const t0 = inputTensor(node, g, 0);
  const t1 = inputTensor(node, g, 1);
  const outT = outputTensor(node, g);
  const q0 = quantOf(node, t0);
  const q1 = quantOf(node, t1);
  const qo = quantOf(node, outT);
  const { multiplier, shift } = quantizeMultiplier(q0.scale * q1.scale / qo.scale);
  requireClampActivation(node, node.options.activation);
  const [actMin, actMax] = outputActivationRange(node.options.activation, outT);
  const off0 = -q0.zeroPoint;
  const off1 = -q1.zeroPoint;
  const zp = qo.zeroPoint;
  const a = views.int8(node.inputs[0]);
  const b = views.int8(node.inputs[1]);
  const out = views.int8(node.outputs[0]);
  const plan = planBroadcast(t0.shape, t1.shape, `node ${node.index} (MUL)`);
  const { stride0, stride1 } = plan;
  const run = (o0: number, o1: number, oo: number, len: number): void => {
    const end = oo + len;
    for (let i = oo; i < end; i++, o0 += stride0, o1 += stride1) {
      const v = zp + multiplyByQuantizedMultiplier((a[o0] + off0) * (b[o1] + off1), multiplier, shift);
      out[i] = v < actMin ? actMin : v > actMax ? actMax : v;
    }
  };
  return () => forEachRun(plan, run);
}

function floatMulKernel(node: Node<'MUL'>, g: Graph, views: TensorViews): Kernel {
  const a = views.float32(node.inputs[0]);
  const b = views.float32(node.inputs[1]);
  const out = views.float32(node.outputs[0]);
  const plan = planBroadcast(inputTensor(node, g, 0).shape, inputTensor(node, g, 1).shape, `node ${node.index} (MUL)`);
  requireClampActivation(node, node.options.activation);
  const [lo, hi] = floatActivationRange(node.options.activation);
  const { stride0, stride1 } = plan;
  // The product of two floats is exact in a double; storing it rounds once, as float multiplication does.
  const run = (o0: number, o1: number, oo: number, len: number): void => {
    const end = oo + len;
    for (let i = oo; i < end; i++, o0 += stride0, o1 += stride1) {
      const v = a[o0] * b[o1];
      out[i] = v < lo ? lo : v > hi ? hi : v;
    }
  };
  return () => forEachRun(plan, run);
}

export const mul: OpDef<'MUL'> = {
  name: 'MUL',
  // v1 float, v2 int8, v3 int8 with a rescale >= 1; v4+ are int16 / int64 / complex variants.
  maxVersion: 3,
  inferShapes: binaryInferShapes,
  prepare(node, g, views) {
    const t0 = inputTensor(node, g, 0);
    const t1 = inputTensor(node, g, 1);
    const out = outputTensor(node, g);
    checkOutputShape(node, g, binaryInferShapes(node, g)[0]);
    if (t0.dtype === 'int8' && t1.dtype === 'int8' && out.dtype === 'int8') return int8MulKernel(node, g, views);
    if (t0.dtype === 'float32' && t1.dtype === 'float32' && out.dtype === 'float32') return floatMulKernel(node, g, views);
    if (t0.dtype === 'int32' && t1.dtype === 'int32' && out.dtype === 'int32') return int32Kernel(node, g, views, node.options.activation, Math.imul);
    if (t0.dtype === 'int16' && t1.dtype === 'int16' && out.dtype === 'int16') {
      // The int8 formula on int16 values (reference_integer_ops::Mul): one rescale of the offset product.
      const q0 = quantOf(node, t0), q1 = quantOf(node, t1), qo = quantOf(node, out);
      const { multiplier, shift } = quantizeMultiplier((q0.scale * q1.scale) / qo.scale);
      requireClampActivation(node, node.options.activation);
      const [lo, hi] = outputActivationRange(node.options.activation, out);
      return broadcastKernel(node, g, views, (a, b) => {
        const v = qo.zeroPoint + multiplyByQuantizedMultiplier(((a as number) - q0.zeroPoint) * ((b as number) - q1.zeroPoint), multiplier, shift);
        return v < lo ? lo : v > hi ? hi : v;
      });
    }
    throw unsupportedTypes(node, g);
  },
  macs: outputElements,
  role: 'elementwise',
};
