/**
 * DYNAMIC_UPDATE_SLICE (dynamic_update_slice.cc): the operand with `update` written over it at start
 * indices read at run time, each clamped so the update fits (as the reference clamps). BROADCAST_ARGS
 * (broadcast_args.cc): the broadcast of two shape vectors.
 */
import { DTYPE_BYTES } from '../graph/dtype.js';
import { numElements } from '../graph/graph.js';
import { InputError, ModelFormatError } from '../errors.js';
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { MOVABLE, requireDtype, requireOutputShape, requireSameDtype, sameMemory } from './data_move.js';
import { reader, writer } from './element_access.js';
import { broadcastShape } from './broadcast.js';
import { coordsOf, flatIndex } from './index_map.js';

export const dynamicUpdateSlice: OpDef<'DYNAMIC_UPDATE_SLICE'> = {
  name: 'DYNAMIC_UPDATE_SLICE',
  maxVersion: 1,
  role: 'other',
  differentiableInputs: (node) => node.inputs.map((_, i) => i < 2),
  inferShapes: (node, g) => [inputTensor(node, g, 0).shape.slice()],
  prepare(node, g, views) {
    const operand = inputTensor(node, g, 0), update = inputTensor(node, g, 1), starts = inputTensor(node, g, 2), out = outputTensor(node, g);
    requireDtype(node, operand, MOVABLE);
    requireSameDtype(node, operand, update);
    requireSameDtype(node, operand, out);
    requireDtype(node, starts, ['int32', 'int64']);
    requireOutputShape(node, out, operand.shape);
    const rank = operand.shape.length;
    if (update.shape.length !== rank || numElements(starts.shape) !== rank || update.shape.some((d, i) => d > operand.shape[i])) {
      throw new ModelFormatError(`node ${node.index} (DYNAMIC_UPDATE_SLICE)`, `update ${update.shape} does not fit operand ${operand.shape}`);
    }
    const eb = DTYPE_BYTES[out.dtype];
    const src = views.bytes(operand.id), upd = views.bytes(update.id), dst = views.bytes(out.id), st = reader(views, starts);
    const n = numElements(update.shape), c = new Array<number>(rank).fill(0), at = new Array<number>(rank).fill(0);
    return () => {
      if (!sameMemory(src, dst)) dst.set(src);
      for (let d = 0; d < rank; d++) at[d] = Math.min(Math.max(Number(st(d)), 0), operand.shape[d] - update.shape[d]);
      for (let i = 0; i < n; i++) {
        coordsOf(i, update.shape, c);
        const k = flatIndex(c.map((v, d) => v + at[d]), operand.shape);
        dst.set(upd.subarray(i * eb, (i + 1) * eb), k * eb);
      }
    };
  },
  macs: () => 0,
};

export const broadcastArgs: OpDef<'BROADCAST_ARGS'> = {
  name: 'BROADCAST_ARGS',
  maxVersion: 1,
  role: 'other',
  differentiableInputs: (node) => node.inputs.map(() => false),
  inferShapes: (node, g) => [[Math.max(numElements(inputTensor(node, g, 0).shape), numElements(inputTensor(node, g, 1).shape))]],
  prepare(node, g, views) {
    const ta = inputTensor(node, g, 0), tb = inputTensor(node, g, 1), out = outputTensor(node, g);
    for (const t of [ta, tb, out]) requireDtype(node, t, ['int32', 'int64']);
    const n = Math.max(numElements(ta.shape), numElements(tb.shape));
    requireOutputShape(node, out, [n]);
    const ra = reader(views, ta), rb = reader(views, tb), w = writer(views, out);
    const na = numElements(ta.shape), nb = numElements(tb.shape);
    const where = `node ${node.index} (BROADCAST_ARGS)`;
    return () => {
      const a = Array.from({ length: na }, (_, i) => Number(ra(i))), b = Array.from({ length: nb }, (_, i) => Number(rb(i)));
      let shape: number[];
      try {
        shape = broadcastShape(a, b, where);
      } catch (e) {
        throw new InputError((e as Error).message);
      }
      shape.forEach((d, i) => w(i, out.dtype === 'int64' ? BigInt(d) : d));
    };
  },
  macs: () => 0,
};
