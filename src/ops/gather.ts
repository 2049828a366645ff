/**
 * GATHER, GATHER_ND and EMBEDDING_LOOKUP (TFLite Micro's gather.cc, gather_nd.cc, embedding_lookup.cc, whose
 * hybrid path dequantises int8 rows into float):
 * slices of the params tensor picked by an int32/int64 index tensor read at run time. An index outside
 * the params is an input error naming the node (the reference refuses it too), never a read out of range.
 */
import { DTYPE_BYTES } from '../graph/dtype.js';
import type { Graph, Node, Tensor } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import { InputError, ModelFormatError, UnsupportedOpError } from '../errors.js';
import type { Kernel, OpDef, TensorViews } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { MOVABLE, requireDtype, requireOutputShape, requireSameDtype } from './data_move.js';
import { reader } from './element_access.js';

function indexReader(views: TensorViews, t: Tensor): (i: number) => number {
  const r = reader(views, t);
  return (i) => Number(r(i));
}

function outOfRange(node: Node, v: number, n: number): never {
  throw new InputError(`node ${node.index} (${node.op}): index ${v} outside [0, ${n})`);
}

/** Copy `count` elements' bytes (element size eb) from src element s to dst element d. */
function copyElements(dst: Uint8Array, d: number, src: Uint8Array, s: number, count: number, eb: number): void {
  dst.set(src.subarray(s * eb, (s + count) * eb), d * eb);
}

function gatherGeometry(node: Node<'GATHER'>, g: Graph) {
  const params = inputTensor(node, g, 0), idx = inputTensor(node, g, 1);
  const rank = params.shape.length;
  const axis = node.options.axis < 0 ? node.options.axis + rank : node.options.axis;
  const bd = node.options.batchDims < 0 ? node.options.batchDims + idx.shape.length : node.options.batchDims;
  if (axis < 0 || axis >= rank || bd < 0 || bd > axis) throw new ModelFormatError(`node ${node.index} (GATHER)`, `axis ${node.options.axis} / batch_dims ${node.options.batchDims} do not fit rank ${rank}`);
  const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  return {
    params, idx, axis, bd,
    shape: [...params.shape.slice(0, axis), ...idx.shape.slice(bd), ...params.shape.slice(axis + 1)],
    batch: prod(params.shape.slice(0, bd)), outer: prod(params.shape.slice(bd, axis)), coord: params.shape[axis],
    inner: prod(params.shape.slice(axis + 1)), perBatch: prod(idx.shape.slice(bd)),
  };
}

export const gather: OpDef<'GATHER'> = {
  name: 'GATHER',
  maxVersion: 6,
  role: 'other',
  differentiableInputs: (node) => node.inputs.map((_, i) => i === 0),
  inferShapes: (node, g) => [gatherGeometry(node, g).shape],
  prepare(node, g, views): Kernel {
    const geo = gatherGeometry(node, g);
    const out = outputTensor(node, g);
    requireDtype(node, geo.params, MOVABLE);
    requireDtype(node, geo.idx, ['int32', 'int64']);
    requireSameDtype(node, geo.params, out);
    requireOutputShape(node, out, geo.shape);
    const eb = DTYPE_BYTES[out.dtype];
    const src = views.bytes(geo.params.id), dst = views.bytes(out.id), ix = indexReader(views, geo.idx);
    const { batch, outer, coord, inner, perBatch } = geo;
    return () => {
      for (let b = 0; b < batch; b++) {
        for (let o = 0; o < outer; o++) {
          for (let i = 0; i < perBatch; i++) {
            const v = ix(b * perBatch + i);
            if (v < 0 || v >= coord) outOfRange(node, v, coord);
            copyElements(dst, ((b * outer + o) * perBatch + i) * inner, src, ((b * outer + o) * coord + v) * inner, inner, eb);
          }
        }
      }
    };
  },
  macs: () => 0,
};

export const gatherNd: OpDef<'GATHER_ND'> = {
  name: 'GATHER_ND',
  maxVersion: 3,
  role: 'other',
  differentiableInputs: (node) => node.inputs.map((_, i) => i === 0),
  inferShapes(node, g) {
    const params = inputTensor(node, g, 0), idx = inputTensor(node, g, 1);
    const k = idx.shape[idx.shape.length - 1];
    if (k > params.shape.length) throw new ModelFormatError(`node ${node.index} (GATHER_ND)`, `index depth ${k} exceeds rank ${params.shape.length}`);
    return [[...idx.shape.slice(0, -1), ...params.shape.slice(k)]];
  },
  prepare(node, g, views) {
    const params = inputTensor(node, g, 0), idx = inputTensor(node, g, 1), out = outputTensor(node, g);
    requireDtype(node, params, MOVABLE);
    requireDtype(node, idx, ['int32', 'int64']);
    requireSameDtype(node, params, out);
    requireOutputShape(node, out, gatherNd.inferShapes(node, g)[0]);
    const k = idx.shape[idx.shape.length - 1];
    const n = numElements(idx.shape) / k;
    const slice = params.shape.slice(k).reduce((a, b) => a * b, 1);
    const eb = DTYPE_BYTES[out.dtype];
    const src = views.bytes(params.id), dst = views.bytes(out.id), ix = indexReader(views, idx);
    return () => {
      for (let i = 0; i < n; i++) {
        let at = 0;
        for (let d = 0; d < k; d++) {
          const v = ix(i * k + d);
          if (v < 0 || v >= params.shape[d]) outOfRange(node, v, params.shape[d]);
          at = at * params.shape[d] + v;
        }
        copyElements(dst, i * slice, src, at * slice, slice, eb);
      }
    };
  },
  macs: () => 0,
};

/**
 * embedding_lookup.cc EvalHybrid: int8 rows (symmetric, zero point 0) dequantised into a float output,
 * each value (q - 0) * scale in float32.
 */
function hybridLookup(node: Node<'EMBEDDING_LOOKUP'>, g: Graph, views: TensorViews, rows: number, row: number): Kernel {
  const ids = inputTensor(node, g, 0), table = inputTensor(node, g, 1), out = outputTensor(node, g);
  const q = table.quant;
  if (!q || q.scale.length !== 1) throw new UnsupportedOpError(node.op, node.index, `int8 table ${table.name} needs one scale to dequantise`);
  if ((q.zeroPoint[0] ?? 0) !== 0) throw new UnsupportedOpError(node.op, node.index, `int8 table ${table.name} has zero point ${q.zeroPoint[0]}; the reference requires 0`);
  const scale = Math.fround(q.scale[0]);
  const src = views.int8(table.id), dst = views.float32(out.id), ix = indexReader(views, ids);
  const n = ids.shape[0];
  return () => {
    for (let i = 0; i < n; i++) {
      const v = ix(i);
      if (v < 0 || v >= rows) outOfRange(node, v, rows);
      for (let k = 0; k < row; k++) dst[i * row + k] = Math.fround(src[v * row + k] * scale);
    }
  };
}

export const embeddingLookup: OpDef<'EMBEDDING_LOOKUP'> = {
  name: 'EMBEDDING_LOOKUP',
  // The zoo's int8 -> float32 (hybrid) model is version 3.
  maxVersion: 3,
  role: 'other',
  differentiableInputs: (node) => node.inputs.map((_, i) => i === 1),
  inferShapes(node, g) {
    const ids = inputTensor(node, g, 0), table = inputTensor(node, g, 1);
    return [[ids.shape[0], ...table.shape.slice(1)]];
  },
  prepare(node, g, views) {
    const ids = inputTensor(node, g, 0), table = inputTensor(node, g, 1), out = outputTensor(node, g);
    requireDtype(node, ids, ['int32']);
    requireOutputShape(node, out, embeddingLookup.inferShapes(node, g)[0]);
    const rows = table.shape[0], row = numElements(table.shape) / rows, eb = DTYPE_BYTES[out.dtype];
    if (table.dtype === 'int8' && out.dtype === 'float32') return hybridLookup(node, g, views, rows, row);
    requireDtype(node, table, MOVABLE);
    requireSameDtype(node, table, out);
    const src = views.bytes(table.id), dst = views.bytes(out.id), ix = indexReader(views, ids);
    const n = ids.shape[0];
    return () => {
      for (let i = 0; i < n; i++) {
        const v = ix(i);
        if (v < 0 || v >= rows) outOfRange(node, v, rows);
        copyElements(dst, i * row, src, v * row, row, eb);
      }
    };
  },
  macs: () => 0,
};
