/**
 * BATCH_MATMUL (TFLite Micro's batch_matmul.cc): lhs [..., M, K] x rhs [..., K, N] (adj_x / adj_y
 * transpose the last two dimensions), batch dimensions broadcast. float32 sums each output in k order;
 * int8 sums (lhs - lhs_zp) * (rhs - rhs_zp) in int32 and requantises with the double lhs_scale *
 * rhs_scale / out_scale, as the reference does.
 */
import type { Graph, Node } from '../graph/graph.js';
import { ModelFormatError, UnsupportedOpError } from '../errors.js';
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { multiplyByQuantizedMultiplier, quantizeMultiplier } from '../quant/fixedpoint.js';
import { broadcastShape } from './broadcast.js';
import { requireOutputShape } from './data_move.js';
import { quantOf } from './elementwise_common.js';
import { mbqm64 } from './int16x8.js';
import { coordsOf, flatIndex } from './index_map.js';

function geometry(node: Node<'BATCH_MATMUL'>, g: Graph) {
  const l = inputTensor(node, g, 0).shape, r = inputTensor(node, g, 1).shape;
  if (l.length < 2 || r.length < 2) throw new ModelFormatError(`node ${node.index} (BATCH_MATMUL)`, 'operands need rank 2 or more');
  const { adjX, adjY } = node.options;
  const [M, K] = adjX ? [l[l.length - 1], l[l.length - 2]] : [l[l.length - 2], l[l.length - 1]];
  const [K2, N] = adjY ? [r[r.length - 1], r[r.length - 2]] : [r[r.length - 2], r[r.length - 1]];
  if (K !== K2) throw new ModelFormatError(`node ${node.index} (BATCH_MATMUL)`, `inner dimensions ${K} and ${K2} differ`);
  const lb = l.slice(0, -2), rb = r.slice(0, -2);
  const batch = broadcastShape(lb, rb, `node ${node.index} (BATCH_MATMUL)`);
  return { M, K, N, lb, rb, batch, shape: [...batch, M, N] };
}

/** Flat batch index of an operand (right-aligned, broadcast dimensions at 0) for output batch coordinates. */
function batchIndex(c: readonly number[], shape: readonly number[]): number {
  const lead = c.length - shape.length;
  return shape.length ? flatIndex(shape.map((d, i) => (d === 1 ? 0 : c[lead + i])), shape) : 0;
}

export const batchMatmul: OpDef<'BATCH_MATMUL'> = {
  name: 'BATCH_MATMUL',
  // v1 float, v2 int8, v3 int16; hybrid variants are refused by dtype.
  maxVersion: 3,
  role: 'other',
  inferShapes: (node, g) => [geometry(node, g).shape],
  prepare(node, g, views) {
    const lt = inputTensor(node, g, 0), rt = inputTensor(node, g, 1), out = outputTensor(node, g);
    const { M, K, N, lb, rb, batch, shape } = geometry(node, g);
    requireOutputShape(node, out, shape);
    const { adjX, adjY } = node.options;
    const nb = batch.reduce((a, b) => a * b, 1);
    const c = new Array<number>(batch.length).fill(0);
    const pairs = Array.from({ length: nb }, (_, b) => { coordsOf(b, batch, c); return [batchIndex(c, lb) * M * K, batchIndex(c, rb) * K * N]; });
    const li = (m: number, k: number) => (adjX ? k * M + m : m * K + k);
    const ri = (k: number, n: number) => (adjY ? n * K + k : k * N + n);
    if (lt.dtype === 'float32' && rt.dtype === 'float32' && out.dtype === 'float32') {
      const x = views.float32(lt.id), y = views.float32(rt.id), z = views.float32(out.id);
      return () => {
        pairs.forEach(([lo, ro], b) => {
          for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
            let s = 0;
            for (let k = 0; k < K; k++) s = Math.fround(s + Math.fround(x[lo + li(m, k)] * y[ro + ri(k, n)]));
            z[(b * M + m) * N + n] = s;
          }
        });
      };
    }
    if (lt.dtype === 'int8' && rt.dtype === 'int8' && out.dtype === 'int8') {
      const ql = quantOf(node, lt), qr = quantOf(node, rt), qo = quantOf(node, out);
      const { multiplier, shift } = quantizeMultiplier((ql.scale * qr.scale) / qo.scale);
      const x = views.int8(lt.id), y = views.int8(rt.id), z = views.int8(out.id);
      return () => {
        pairs.forEach(([lo, ro], b) => {
          for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
            let s = 0;
            for (let k = 0; k < K; k++) s += (x[lo + li(m, k)] - ql.zeroPoint) * (y[ro + ri(k, n)] - qr.zeroPoint);
            const v = multiplyByQuantizedMultiplier(s, multiplier, shift) + qo.zeroPoint;
            z[(b * M + m) * N + n] = v < -128 ? -128 : v > 127 ? 127 : v;
          }
        });
      };
    }
    if (lt.dtype === 'int16' && rt.dtype === 'int16' && out.dtype === 'int16') {
      // 16x8-style: 64-bit sums (exact here) and the reduced 64-bit requantisation.
      const ql = quantOf(node, lt), qr = quantOf(node, rt), qo = quantOf(node, out);
      const { multiplier, shift } = quantizeMultiplier((ql.scale * qr.scale) / qo.scale);
      const x = views.int16(lt.id), y = views.int16(rt.id), z = views.int16(out.id);
      return () => {
        pairs.forEach(([lo, ro], b) => {
          for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
            let s = 0;
            for (let k = 0; k < K; k++) s += (x[lo + li(m, k)] - ql.zeroPoint) * (y[ro + ri(k, n)] - qr.zeroPoint);
            const v = mbqm64(s, multiplier, shift) + qo.zeroPoint;
            z[(b * M + m) * N + n] = v < -32768 ? -32768 : v > 32767 ? 32767 : v;
          }
        });
      };
    }
    throw new UnsupportedOpError(node.op, node.index, `${lt.dtype} x ${rt.dtype} -> ${out.dtype} (we implement float32, int8 and int16)`);
  },
  macs(node, g) {
    const { M, K, N, batch } = geometry(node, g);
    return batch.reduce((a, b) => a * b, 1) * M * K * N;
  },
};
