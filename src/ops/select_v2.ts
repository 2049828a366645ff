/** SELECT_V2 (TFLite Micro's select.cc): out = condition ? x : y, the three inputs broadcast together. */
import { DTYPE_BYTES } from '../graph/dtype.js';
import type { Graph, Node } from '../graph/graph.js';
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { MOVABLE, requireDtype, requireOutputShape, requireSameDtype } from './data_move.js';
import { broadcastShape } from './broadcast.js';
import { flatIndex, mapOutput } from './index_map.js';

function outShape(node: Node, g: Graph): number[] {
  const where = `node ${node.index} (SELECT_V2)`;
  const [c, x, y] = [0, 1, 2].map((i) => inputTensor(node, g, i).shape);
  return broadcastShape(broadcastShape(c, x, where), y, where);
}

/** Flat index in `shape` (right-aligned, broadcast dimensions read at 0) of output coordinates `c`. */
function broadcastIndex(c: readonly number[], shape: readonly number[]): number {
  const lead = c.length - shape.length;
  return flatIndex(shape.map((d, i) => (d === 1 ? 0 : c[lead + i])), shape);
}

export const selectV2: OpDef<'SELECT_V2'> = {
  name: 'SELECT_V2',
  maxVersion: 2,
  role: 'other',
  differentiableInputs: (node) => node.inputs.map((_, i) => i > 0),
  inferShapes: (node, g) => [outShape(node, g)],
  prepare(node, g, views) {
    const cond = inputTensor(node, g, 0), x = inputTensor(node, g, 1), y = inputTensor(node, g, 2), out = outputTensor(node, g);
    requireDtype(node, cond, ['bool']);
    requireDtype(node, x, MOVABLE);
    requireSameDtype(node, x, y);
    requireSameDtype(node, x, out);
    const shape = outShape(node, g);
    requireOutputShape(node, out, shape);
    // Where each output element reads the condition, x and y.
    const ci = mapOutput(shape, [cond], (c) => [0, broadcastIndex(c, cond.shape)]).index;
    const xi = mapOutput(shape, [x], (c) => [0, broadcastIndex(c, x.shape)]).index;
    const yi = mapOutput(shape, [y], (c) => [0, broadcastIndex(c, y.shape)]).index;
    const eb = DTYPE_BYTES[out.dtype];
    const cv = views.uint8(cond.id), xv = views.bytes(x.id), yv = views.bytes(y.id), dst = views.bytes(out.id);
    return () => {
      for (let i = 0; i < ci.length; i++) {
        const [src, k] = cv[ci[i]] ? [xv, xi[i]] : [yv, yi[i]];
        for (let b = 0; b < eb; b++) dst[i * eb + b] = src[k * eb + b];
      }
    };
  },
  macs: () => 0,
};

