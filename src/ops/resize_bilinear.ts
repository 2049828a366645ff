/**
 * RESIZE_BILINEAR, float32 (TFLite Micro's resize_bilinear.cc with reference_ops::ResizeBilinear): each
 * output pixel interpolates the four input pixels around its source position, computed in float as the
 * reference does (align_corners and half_pixel_centers included). int8 (the reference's 10-bit fixed-point
 * form) is refused.
 */
import type { Graph, Node } from '../graph/graph.js';
import { ModelFormatError } from '../errors.js';
import type { OpDef } from './op.js';
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

export const resizeBilinear: OpDef<'RESIZE_BILINEAR'> = {
  name: 'RESIZE_BILINEAR',
  maxVersion: 1,
  role: 'other',
  differentiableInputs: firstInputOnly,
  inferShapes: (node, g) => [outShape(node, g)],
  prepare(node, g, views) {
    const input = inputTensor(node, g, 0), output = outputTensor(node, g);
    if (input.dtype !== 'float32' || output.dtype !== 'float32') throw unsupportedTypes(node, g, 'float32 only');
    const [batches, outH, outW, c] = outShape(node, g);
    requireOutputShape(node, output, [batches, outH, outW, c]);
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
