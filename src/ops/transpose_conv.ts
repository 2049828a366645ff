/**
 * TRANSPOSE_CONV (TFLite Micro's transpose_conv.cc): each input pixel scatters filter-weighted values
 * into the output, in the reference's loop order (input row, column, channel; filter row, column; output
 * channel), then the bias and the clamp. int8 (per-channel weights) accumulates (x - input zero point) * w
 * in int32 and requantises each channel; float32 accumulates in float.
 */
import type { Graph, Node } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import { ModelFormatError, UnsupportedOpError } from '../errors.js';
import type { OpDef } from './op.js';
import { inputTensor, optionalInput, outputTensor } from './op.js';
import { multiplyByQuantizedMultiplier } from '../quant/fixedpoint.js';
import { activationBounds, biasInt32, channelMultipliers, requireSymmetricWeights, window2d, zeroPointOf } from './conv_util.js';
import { constInts, requireOutputShape } from './data_move.js';

/** Output shape, filter geometry and padding of a TRANSPOSE_CONV node (its C lowering takes the same). */
export function transposeConvGeometry(node: Node<'TRANSPOSE_CONV'>, g: Graph) {
  const shape = constInts(node, g, 0, 'output_shape', ['int32']);
  const filter = inputTensor(node, g, 1), input = inputTensor(node, g, 2);
  const [cout, kH, kW, cin] = filter.shape;
  if (shape.length !== 4 || input.shape.length !== 4 || input.shape[3] !== cin || shape[3] !== cout) {
    throw new ModelFormatError(`node ${node.index} (TRANSPOSE_CONV)`, `output ${shape}, filter ${filter.shape} and input ${input.shape} disagree`);
  }
  // The padding of the convolution this one transposes: from the output back to the input.
  const o = node.options;
  const win = window2d(shape, kH, kW, { padding: o.padding, strideH: o.strideH, strideW: o.strideW });
  return { shape, cout, kH, kW, cin, padTop: win.padTop, padLeft: win.padLeft, input, filter };
}

export const transposeConv: OpDef<'TRANSPOSE_CONV'> = {
  name: 'TRANSPOSE_CONV',
  // v1 float, v2 int8, v3 int16 (refused by dtype), v4 optional bias.
  maxVersion: 4,
  role: 'other',
  differentiableInputs: (node) => node.inputs.map((_, i) => i === 2),
  inferShapes: (node, g) => [transposeConvGeometry(node, g).shape],
  prepare(node, g, views) {
    const geo = transposeConvGeometry(node, g);
    const { shape, cout, kH, kW, cin, padTop, padLeft, input, filter } = geo;
    const out = outputTensor(node, g), biasT = optionalInput(node, g, 3);
    requireOutputShape(node, out, shape);
    const [batches, outH, outW] = shape;
    const [, inH, inW] = input.shape;
    const { strideH, strideW, activation } = node.options;
    const [lo, hi] = activationBounds(node, activation, out);
    const n = numElements(shape);
    // Where input pixel (b, y, x), tap (fy, fx) lands: the reference's loops, their order kept.
    const scatter = (add: (o: number, i: number, w: number) => void): void => {
      for (let b = 0; b < batches; b++) for (let y = 0; y < inH; y++) for (let x = 0; x < inW; x++) for (let ic = 0; ic < cin; ic++) {
        const i = ((b * inH + y) * inW + x) * cin + ic;
        for (let fy = 0; fy < kH; fy++) {
          const oy = y * strideH - padTop + fy;
          if (oy < 0 || oy >= outH) continue;
          for (let fx = 0; fx < kW; fx++) {
            const ox = x * strideW - padLeft + fx;
            if (ox < 0 || ox >= outW) continue;
            for (let oc = 0; oc < cout; oc++) add(((b * outH + oy) * outW + ox) * cout + oc, i, ((oc * kH + fy) * kW + fx) * cin + ic);
          }
        }
      }
    };
    if (input.dtype === 'float32' && filter.dtype === 'float32' && out.dtype === 'float32') {
      const x = views.float32(input.id), w = views.float32(filter.id), y = views.float32(out.id);
      const bias = biasT ? views.float32(biasT.id) : null;
      return () => {
        y.fill(0);
        scatter((o, i, k) => { y[o] = Math.fround(y[o] + Math.fround(x[i] * w[k])); });
        for (let o = 0; o < n; o++) {
          const v = bias ? Math.fround(y[o] + bias[o % cout]) : y[o];
          y[o] = v < lo ? lo : v > hi ? hi : v;
        }
      };
    }
    if (input.dtype === 'int8' && filter.dtype === 'int8' && out.dtype === 'int8') {
      requireSymmetricWeights(node, filter);
      const { multiplier, shift } = channelMultipliers(node, input, filter, out, cout);
      const bias = biasInt32(node, biasT, biasT && biasT.dtype === 'int32' ? views.int32(biasT.id) : null, cout);
      const zp = zeroPointOf(input), ozp = zeroPointOf(out);
      const x = views.int8(input.id), w = views.int8(filter.id), y = views.int8(out.id);
      const acc = new Int32Array(n);
      return () => {
        acc.fill(0);
        scatter((o, i, k) => { acc[o] += (x[i] - zp) * w[k]; });
        for (let o = 0; o < n; o++) {
          const c = o % cout;
          const v = multiplyByQuantizedMultiplier(acc[o] + bias[c], multiplier[c], shift[c]) + ozp;
          y[o] = v < lo ? lo : v > hi ? hi : v;
        }
      };
    }
    throw new UnsupportedOpError(node.op, node.index, `input ${input.dtype}, weights ${filter.dtype}, output ${out.dtype} (we implement int8 and float32)`);
  },
  macs(node, g) {
    const { kH, kW, cin, cout, input } = transposeConvGeometry(node, g);
    return numElements(input.shape) / cin * kH * kW * cin * cout;
  },
};
