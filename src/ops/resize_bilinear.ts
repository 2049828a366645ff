/**
 * RESIZE_BILINEAR (TFLite Micro's resize_bilinear.cc): each output pixel interpolates the four input
 * pixels around its source position (align_corners and half_pixel_centers included). float32 follows
 * reference_ops::ResizeBilinear, in float; int8 follows ResizeBilinearInteger, with source positions and
 * weights in 10-bit fixed point and the 20-bit sum rounded half away from zero. Values are not requantised
 * (the reference ignores the output's quantisation).
 */
import type { Graph, Node } from '../graph/graph.js';
import { ModelFormatError, UnsupportedOpError } from '../errors.js';
import type { Kernel, OpDef, TensorViews } from './op.js';
import { firstInputOnly, inputTensor, outputTensor } from './op.js';
import { constInts, requireOutputShape } from './data_move.js';
import { unsupportedTypes } from './elementwise_common.js';

function outShape(node: Node<'RESIZE_BILINEAR'>, g: Graph): number[] {
  const input = inputTensor(node, g, 0);
  const size = constInts(node, g, 1, 'size', ['int32']);
  if (input.shape.length !== 4 || size.length !== 2) throw new ModelFormatError(`node ${node.index} (RESIZE_BILINEAR)`, 'needs a 4-D input and a 2-value size');
  return [input.shape[0], size[0], size[1], input.shape[3]];
}

/** The source coordinate of output index v and its two neighbours (ComputeInterpolationValues). */
export function interpolation(v: number, scale: number, halfPixel: boolean, inSize: number): [number, number, number] {
  const s = halfPixel ? Math.fround(Math.fround((v + 0.5) * scale) - 0.5) : Math.fround(v * scale);
  const lo = Math.max(Math.floor(s), 0);
  const hi = Math.min(Math.ceil(s), inSize - 1);
  return [s, lo, hi];
}

/** The source step per output index, in float as the reference computes it. */
export function resizeScale(inSize: number, outSize: number, alignCorners: boolean): number {
  return alignCorners && outSize > 1 ? Math.fround((inSize - 1) / (outSize - 1)) : Math.fround(inSize / outSize);
}

/** The source step per output index in 1/1024ths, as the integer reference computes it (C division truncates). */
export function resizeScale10(inSize: number, outSize: number, alignCorners: boolean): number {
  return alignCorners && outSize > 1
    ? Math.trunc((1024 * (inSize - 1) + Math.trunc((outSize - 1) / 2)) / (outSize - 1))
    : Math.trunc((1024 * inSize + Math.trunc(outSize / 2)) / outSize);
}

/** ComputeInterpolationValuesInteger: the source position in 1/1024ths and its two neighbours (C division truncates). */
export function interpolation10(v: number, scale10: number, halfPixel: boolean, inSize: number): [number, number, number] {
  const s = halfPixel ? v * scale10 + Math.trunc(scale10 / 2) - (1 << 9) : v * scale10;
  return [s, Math.max(Math.trunc(s / 1024), 0), Math.min(Math.trunc((s + 1023) / 1024), inSize - 1)];
}

function int8Kernel(node: Node<'RESIZE_BILINEAR'>, g: Graph, views: TensorViews): Kernel {
  const input = inputTensor(node, g, 0), output = outputTensor(node, g);
  const [batches, outH, outW, c] = outShape(node, g);
  const [, inH, inW] = input.shape;
  const { alignCorners, halfPixelCenters } = node.options;
  const hs = resizeScale10(inH, outH, alignCorners), ws = resizeScale10(inW, outW, alignCorners);
  const x = views.int8(input.id), y = views.int8(output.id);
  const at = (b: number, yy: number, xx: number, ch: number) => x[((b * inH + yy) * inW + xx) * c + ch];
  return () => {
    for (let b = 0; b < batches; b++) for (let oy = 0; oy < outH; oy++) {
      const [iy, y0, y1] = interpolation10(oy, hs, halfPixelCenters, inH);
      const wy = iy - 1024 * y0;
      for (let ox = 0; ox < outW; ox++) {
        const [ix, x0, x1] = interpolation10(ox, ws, halfPixelCenters, inW);
        const wx = ix - 1024 * x0;
        for (let ch = 0; ch < c; ch++) {
          // |sum| < 2^31: exact in a double.
          const sum = at(b, y0, x0, ch) * (1024 - wy) * (1024 - wx) + at(b, y1, x0, ch) * wy * (1024 - wx)
            + at(b, y0, x1, ch) * (1024 - wy) * wx + at(b, y1, x1, ch) * wy * wx;
          y[((b * outH + oy) * outW + ox) * c + ch] = Math.trunc((sum + (sum > 0 ? 1 << 19 : -(1 << 19))) / (1 << 20));
        }
      }
    }
  };
}

export const resizeBilinear: OpDef<'RESIZE_BILINEAR'> = {
  name: 'RESIZE_BILINEAR',
  // v1 float32, v2 int8.
  maxVersion: 2,
  role: 'other',
  differentiableInputs: firstInputOnly,
  inferShapes: (node, g) => [outShape(node, g)],
  prepare(node, g, views) {
    const input = inputTensor(node, g, 0), output = outputTensor(node, g);
    const [batches, outH, outW, c] = outShape(node, g);
    requireOutputShape(node, output, [batches, outH, outW, c]);
    if (node.options.alignCorners && node.options.halfPixelCenters) {
      throw new UnsupportedOpError(node.op, node.index, 'align_corners and half_pixel_centers together (the reference refuses them)');
    }
    if (input.dtype === 'int8' && output.dtype === 'int8') return int8Kernel(node, g, views);
    if (input.dtype !== 'float32' || output.dtype !== 'float32') throw unsupportedTypes(node, g, 'float32 and int8');
    const [, inH, inW] = input.shape;
    const { alignCorners, halfPixelCenters } = node.options;
    const hs = resizeScale(inH, outH, alignCorners), ws = resizeScale(inW, outW, alignCorners);
    const x = views.float32(input.id), y = views.float32(output.id);
    const at = (b: number, yy: number, xx: number, ch: number) => x[((b * inH + yy) * inW + xx) * c + ch];
    return () => {
      for (let b = 0; b < batches; b++) for (let oy = 0; oy < outH; oy++) {
        const [iy, y0, y1] = interpolation(oy, hs, halfPixelCenters, inH);
        const dy = Math.fround(iy - y0);
        for (let ox = 0; ox < outW; ox++) {
          const [ix, x0, x1] = interpolation(ox, ws, halfPixelCenters, inW);
          const dx = Math.fround(ix - x0);
          for (let ch = 0; ch < c; ch++) {
            const v = at(b, y0, x0, ch) * (1 - dy) * (1 - dx) + at(b, y1, x0, ch) * dy * (1 - dx)
              + at(b, y0, x1, ch) * (1 - dy) * dx + at(b, y1, x1, ch) * dy * dx;
            y[((b * outH + oy) * outW + ox) * c + ch] = v;
          }
        }
      }
    };
  },
  macs: (node, g) => outShape(node, g).reduce((a, b) => a * b, 1) * 4,
};
