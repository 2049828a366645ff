/**
 * L2_POOL_2D and L2_NORMALIZATION, float32 (TFLite Micro's pooling.cc L2Pool and l2norm.cc): the pool is
 * the square root of the mean of squares over the window's in-bounds taps, summed in the reference's
 * order; the normalisation divides each value by max(sqrt(sum of squares over the last axis), 1e-6).
 * int8 L2_NORMALIZATION (reference_integer_ops::L2Normalization) multiplies each zero-point-shifted value
 * by the fixed-point inverse square root of the row's sum of squares, into the fixed output scale 1/128.
 */
import type { Graph, Node } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import { multiplyByQuantizedMultiplier } from '../quant/fixedpoint.js';
import { invSqrtQuantizedMultiplierExp } from '../quant/gemmlowp.js';
import type { Kernel, OpDef, TensorViews } from './op.js';
import { firstInputOnly, inputTensor, outputTensor } from './op.js';
import { activationBounds, expectRank, forEachWindow, nodeWindow2d } from './conv_util.js';
import { requireOutputShape } from './data_move.js';
import { checkOutputShape, outputElements, quantOf, sameShapeAsInput, unsupportedTypes } from './elementwise_common.js';

function l2PoolWindow(node: Node<'L2_POOL_2D'>, g: Graph) {
  const input = inputTensor(node, g, 0);
  expectRank(node, input, 4, 'input');
  const o = node.options;
  return nodeWindow2d(node, input.shape, o.filterH, o.filterW, { padding: o.padding, strideH: o.strideH, strideW: o.strideW });
}

export const l2Pool2d: OpDef<'L2_POOL_2D'> = {
  name: 'L2_POOL_2D',
  maxVersion: 1,
  role: 'other',
  differentiableInputs: firstInputOnly,
  inferShapes(node, g) {
    const w = l2PoolWindow(node, g);
    return [[w.batches, w.outH, w.outW, w.inC]];
  },
  prepare(node, g, views) {
    const input = inputTensor(node, g, 0), output = outputTensor(node, g);
    if (input.dtype !== 'float32' || output.dtype !== 'float32') throw unsupportedTypes(node, g, 'float32 only');
    const win = l2PoolWindow(node, g);
    requireOutputShape(node, output, [win.batches, win.outH, win.outW, win.inC]);
    const [lo, hi] = activationBounds(node, node.options.activation, output);
    const x = views.float32(input.id), y = views.float32(output.id);
    const c = win.inC, inW = win.inW;
    return () => forEachWindow(win, (o, rowBase, y0, y1, x0, x1) => {
      const count = (y1 - y0) * (x1 - x0);
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) {
          const v = x[((rowBase + iy) * inW + ix) * c + ch];
          s = Math.fround(s + Math.fround(v * v));
        }
        const r = Math.fround(Math.sqrt(Math.fround(s / count)));
        y[o * c + ch] = r < lo ? lo : r > hi ? hi : r;
      }
    });
  },
  macs: (node, g) => numElements(outputTensor(node, g).shape) * node.options.filterH * node.options.filterW,
};

/**
 * The int8 output is in 1/128ths with zero point 0 (the converter's fixed output quantisation): the inverse
 * square root's shift gains 7 bits. TFLite Micro does not check the output parameters; nor do we.
 */
const INT8_OUTPUT_SHIFT = 7;

function l2NormalizationInt8(node: Node<'L2_NORMALIZATION'>, g: Graph, views: TensorViews, rows: number, depth: number): Kernel {
  const input = inputTensor(node, g, 0), output = outputTensor(node, g);
  const zp = quantOf(node, input).zeroPoint;
  const x = views.int8(input.id), y = views.int8(output.id);
  return () => {
    for (let r = 0; r < rows; r++) {
      let acc = 0;
      for (let c = 0; c < depth; c++) { const v = x[r * depth + c] - zp; acc += v * v; }
      const inv = invSqrtQuantizedMultiplierExp(acc, -1);
      for (let c = 0; c < depth; c++) {
        const v = multiplyByQuantizedMultiplier(x[r * depth + c] - zp, inv.multiplier, inv.shift + INT8_OUTPUT_SHIFT);
        y[r * depth + c] = v < -128 ? -128 : v > 127 ? 127 : v;
      }
    }
  };
}

export const l2Normalization: OpDef<'L2_NORMALIZATION'> = {
  name: 'L2_NORMALIZATION',
  // v1 float32, v2 int8.
  maxVersion: 2,
  role: 'other',
  differentiableInputs: firstInputOnly,
  inferShapes: sameShapeAsInput,
  prepare(node, g, views) {
    const input = inputTensor(node, g, 0), output = outputTensor(node, g);
    checkOutputShape(node, g, input.shape);
    const depth = input.shape[input.shape.length - 1];
    const rows = numElements(input.shape) / depth;
    if (input.dtype === 'int8' && output.dtype === 'int8') return l2NormalizationInt8(node, g, views, rows, depth);
    if (input.dtype !== 'float32' || output.dtype !== 'float32') throw unsupportedTypes(node, g, 'float32 and int8');
    const x = views.float32(input.id), y = views.float32(output.id);
    return () => {
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let c = 0; c < depth; c++) { const v = x[r * depth + c]; s = Math.fround(s + Math.fround(v * v)); }
        const norm = Math.max(Math.fround(Math.sqrt(s)), Math.fround(1e-6));
        for (let c = 0; c < depth; c++) y[r * depth + c] = x[r * depth + c] / norm;
      }
    };
  },
  macs: outputElements,
};
