import type { Graph, Node } from '../graph/graph.js';
import { numElements, shapeStr } from '../graph/graph.js';
import { ModelFormatError } from '../errors.js';
import type { OpDef } from './op.js';
import { flatIndex, mapOutput } from './index_map.js';
import { inputTensor, outputTensor } from './op.js';
import { MOVABLE, constInts, copyRun, requireDtype, requireOutputShape, requireSameDtype, wordViews } from './data_move.js';

/**
 * RESIZE_NEAREST_NEIGHBOR on NHWC input, output size from a constant int32 [2] (height, width) input.
 * The source index is TFLite's GetNearestNeighbor, in float32 as it computes it:
 *   scale = align_corners && out > 1 ? (in - 1) / (out - 1) : in / out
 *   src   = min(align_corners ? round((dst + offset) * scale) : floor((dst + offset) * scale), in - 1)
 * with offset 0.5 under half_pixel_centers (which also clamps src at 0), round = half away from zero.
 */
export function nearestIndex(dst: number, inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): number {
  const f = Math.fround;
  const scale = alignCorners && outSize > 1 ? f((inSize - 1) / (outSize - 1)) : f(inSize / outSize);
  const offset = halfPixelCenters ? 0.5 : 0;
  const x = f(f(dst + offset) * scale);
  const r = alignCorners ? (x < 0 ? -Math.round(-x) : Math.round(x)) : Math.floor(x);
  let src = Math.min(r, inSize - 1);
  if (halfPixelCenters) src = Math.max(0, src);
  return src;
}

function outputSize(node: Node<'RESIZE_NEAREST_NEIGHBOR'>, g: Graph): [number, number] {
  const sizeTensor = inputTensor(node, g, 1);
  const at = `node ${node.index} (RESIZE_NEAREST_NEIGHBOR) input 1 (size)`;
  if (sizeTensor.shape.length !== 1 || sizeTensor.shape[0] !== 2) throw new ModelFormatError(at, `shape ${shapeStr(sizeTensor.shape)}, expected [2]`);
  const [h, w] = constInts(node, g, 1, 'size');
  if (h <= 0 || w <= 0) throw new ModelFormatError(at, `size [${h},${w}] must be positive`);
  return [h, w];
}

function resizedShape(node: Node<'RESIZE_NEAREST_NEIGHBOR'>, g: Graph): number[] {
  const shape = inputTensor(node, g, 0).shape;
  if (shape.length !== 4) throw new ModelFormatError(`node ${node.index} (RESIZE_NEAREST_NEIGHBOR)`, `input ${shapeStr(shape)} is not 4-D NHWC`);
  const [h, w] = outputSize(node, g);
  return [shape[0], h, w, shape[3]];
}

export const resizeNearestNeighbor: OpDef<'RESIZE_NEAREST_NEIGHBOR'> = {
  name: 'RESIZE_NEAREST_NEIGHBOR',
  // v3 align_corners / half_pixel_centers, v4 int16.
  maxVersion: 4,
  role: 'other',
  inferShapes: (node, g) => [resizedShape(node, g)],

  prepare(node, g, views) {
    const input = inputTensor(node, g, 0);
    const output = outputTensor(node, g);
    requireDtype(node, input, MOVABLE);
    requireSameDtype(node, input, output);
    requireOutputShape(node, output, resizedShape(node, g));
    const [batches, inH, inW, depth] = input.shape;
    const [, outH, outW] = output.shape;
    const { alignCorners, halfPixelCenters } = node.options;
    const { layout, words } = wordViews(views, [node.inputs[0], node.outputs[0]], input.dtype);
    const [src, dst] = words;
    const col = depth * layout.lanes;
    const row = inW * col;
    const rowOffsets = Int32Array.from({ length: outH }, (_, y) => nearestIndex(y, inH, outH, alignCorners, halfPixelCenters) * row);
    const colOffsets = Int32Array.from({ length: outW }, (_, x) => nearestIndex(x, inW, outW, alignCorners, halfPixelCenters) * col);
    const batchSize = inH * row;
    return () => {
      let d = 0;
      for (let b = 0; b < batches; b++) {
        const base = b * batchSize;
        for (let y = 0; y < outH; y++) {
          const r = base + rowOffsets[y];
          for (let x = 0; x < outW; x++) {
            copyRun(dst, d, src, r + colOffsets[x], col);
            d += col;
          }
        }
      }
    };
  },

  macs: (node, g) => numElements(outputTensor(node, g).shape),

  // The same copies as an index map (the kernel above is its fast form); the C library runs it.
  indexMap(node, g) {
    const input = inputTensor(node, g, 0);
    const shape = resizedShape(node, g);
    const [, inH, inW] = input.shape;
    const { alignCorners, halfPixelCenters } = node.options;
    const ys = Array.from({ length: shape[1] }, (_, y) => nearestIndex(y, inH, shape[1], alignCorners, halfPixelCenters));
    const xs = Array.from({ length: shape[2] }, (_, x) => nearestIndex(x, inW, shape[2], alignCorners, halfPixelCenters));
    return mapOutput(shape, [input], ([b, y, x, c]) => [0, flatIndex([b, ys[y], xs[x], c], input.shape)]);
  },
};
