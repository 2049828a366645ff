import type { DType } from '../graph/dtype.js';
import { DTYPE_BYTES } from '../graph/dtype.js';
import type { Graph, Node, Tensor, TensorId } from '../graph/graph.js';
import { numElements, shapeStr } from '../graph/graph.js';
import { ModelFormatError, UnsupportedOpError } from '../errors.js';
import type { TensorViews } from './op.js';

/**
 * What the pure data-movement ops (RESHAPE, SQUEEZE, PAD, PADV2, TRANSPOSE, CONCATENATION,
 * RESIZE_NEAREST_NEIGHBOR, STRIDED_SLICE) share: they never look at values, only move elements, so one
 * implementation per element *size* serves every dtype. An element is `lanes` machine words of the widest
 * width (4, 2 or 1 bytes) that every tensor of the node is aligned to; float32 is moved as its bit pattern
 * (never through a Float32Array, which could canonicalise NaNs).
 */

export type Words = Uint8Array | Uint16Array | Uint32Array;

/** Dtypes a byte-moving kernel can carry unchanged. */
export const MOVABLE: readonly DType[] = ['int8', 'uint8', 'int16', 'int32', 'int64', 'float32', 'bool'];

/** Run-time estimate of moving `t`'s elements, in MAC units: one per 32-bit word (copies go a word at a time). */
export function movedWords(t: Tensor): number {
  return Math.ceil((numElements(t.shape) * DTYPE_BYTES[t.dtype]) / 4);
}

function where(node: Node, i: number, what: string): string {
  return `node ${node.index} (${node.op}) input ${i} (${what})`;
}

export function requireDtype(node: Node, t: Tensor, allowed: readonly DType[]): void {
  if (!allowed.includes(t.dtype)) {
    throw new UnsupportedOpError(node.op, node.index, `${t.dtype} tensor '${t.name}' (we implement ${allowed.join(', ')})`);
  }
}

export function requireSameDtype(node: Node, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) {
    throw new ModelFormatError(`node ${node.index} (${node.op})`, `'${a.name}' is ${a.dtype} but '${b.name}' is ${b.dtype}`);
  }
}

/** The output tensor's stored shape must be what the shape rule gives, or kernels would overrun it. */
export function requireOutputShape(node: Node, out: Tensor, expected: readonly number[]): void {
  const same = out.shape.length === expected.length && out.shape.every((d, i) => d === expected[i]);
  if (!same) {
    throw new ModelFormatError(`node ${node.index} (${node.op}) output '${out.name}'`, `shape ${shapeStr(out.shape)} but the inputs imply ${shapeStr(expected)}`);
  }
}

/** Reads a constant integer input (begin/end/strides, paddings, perm, size, shape). */
export function constInts(node: Node, g: Graph, i: number, what: string, dtypes: readonly DType[] = ['int32']): number[] {
  const id = node.inputs[i];
  if (id === undefined || id < 0) throw new ModelFormatError(where(node, i, what), 'missing');
  const t = g.tensors[id];
  if (!dtypes.includes(t.dtype)) throw new ModelFormatError(where(node, i, what), `must be ${dtypes.join(' or ')}, is ${t.dtype}`);
  if (t.data === null) {
    throw new UnsupportedOpError(node.op, node.index, `non-constant ${what} tensor '${t.name}' (shapes must be known before running)`);
  }
  const n = numElements(t.shape);
  const width = DTYPE_BYTES[t.dtype];
  if (t.data.byteLength < n * width) throw new ModelFormatError(where(node, i, what), `holds ${t.data.byteLength} bytes, needs ${n * width}`);
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    if (width === 4) out.push(dv.getInt32(4 * k, true));
    else {
      const v = dv.getBigInt64(8 * k, true);
      if (v < -2147483648n || v > 2147483647n) throw new ModelFormatError(where(node, i, what), `value ${v} does not fit in int32`);
      out.push(Number(v));
    }
  }
  return out;
}

/** Word width (bytes) and words per element that suit every given tensor (alignment of its memory). */
export interface WordLayout {
  width: 1 | 2 | 4;
  lanes: number;
}

export function wordLayout(elementBytes: number, views: readonly Uint8Array[]): WordLayout {
  for (const width of [4, 2] as const) {
    if (elementBytes % width === 0 && views.every((v) => v.byteOffset % width === 0)) return { width, lanes: elementBytes / width };
  }
  return { width: 1, lanes: elementBytes };
}

export function asWords(bytes: Uint8Array, width: 1 | 2 | 4): Words {
  if (width === 1) return bytes;
  if (width === 2) return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1);
  return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
}

/** Word views for a node's tensors, all with one layout. */
export function wordViews(views: TensorViews, ids: readonly TensorId[], dtype: DType): { layout: WordLayout; words: Words[] } {
  const bytes = ids.map((id) => views.bytes(id));
  const layout = wordLayout(DTYPE_BYTES[dtype], bytes);
  return { layout, words: bytes.map((b) => asWords(b, layout.width)) };
}

/** True when two views are the same memory (the planner aliased output onto input). */
export function sameMemory(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.buffer === b.buffer && a.byteOffset === b.byteOffset;
}

/** Row-major strides of a shape, in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/**
 * A block copy between two strided layouts: for every index tuple i < counts,
 * dst[dstBase + i·dstStrides] = src[srcBase + i·srcStrides]. Transpose, strided slice, the interior of a
 * pad and the pieces of a concatenation are all this one loop nest with different strides.
 */
export interface CopyPlan {
  counts: number[];
  dstStrides: number[];
  srcStrides: number[];
  dstBase: number;
  srcBase: number;
  /** Total words copied. */
  size: number;
  /** Odometer for the outer axes, allocated once so a run allocates nothing. */
  odometer: Int32Array;
}

/**
 * Builds a CopyPlan in words (each element is `lanes` consecutive words), dropping size-1 axes and merging
 * neighbours that are contiguous in both layouts, so a transpose of [1,80,80,3] to NCHW runs as a [3,6400]
 * copy and a contiguous copy becomes one block.
 */
export function planCopy(counts: readonly number[], dstStrides: readonly number[], srcStrides: readonly number[],
  dstBase: number, srcBase: number, lanes = 1): CopyPlan {
  const c: number[] = [];
  const ds: number[] = [];
  const ss: number[] = [];
  const axes = [...counts.map((n, k) => ({ n, d: dstStrides[k] * lanes, s: srcStrides[k] * lanes })), { n: lanes, d: 1, s: 1 }];
  let size = 1;
  for (const a of axes) size *= a.n;
  for (const a of axes) {
    if (a.n === 1) continue;
    const last = c.length - 1;
    if (last >= 0 && ds[last] === a.d * a.n && ss[last] === a.s * a.n) {
      c[last] *= a.n;
      ds[last] = a.d;
      ss[last] = a.s;
    } else {
      c.push(a.n);
      ds.push(a.d);
      ss.push(a.s);
    }
  }
  return { counts: c, dstStrides: ds, srcStrides: ss, dstBase: dstBase * lanes, srcBase: srcBase * lanes, size, odometer: new Int32Array(Math.max(c.length - 2, 0)) };
}

/** Runs below this length are copied by a plain loop; above it by TypedArray.set (a memmove). */
const SET_THRESHOLD = 32;

export function runCopy(p: CopyPlan, dst: Words, src: Words): void {
  if (p.size === 0) return;
  const r = p.counts.length;
  if (r === 0) {
    dst[p.dstBase] = src[p.srcBase];
    return;
  }
  const n1 = p.counts[r - 1];
  const d1 = p.dstStrides[r - 1];
  const s1 = p.srcStrides[r - 1];
  const n2 = r >= 2 ? p.counts[r - 2] : 1;
  const d2 = r >= 2 ? p.dstStrides[r - 2] : 0;
  const s2 = r >= 2 ? p.srcStrides[r - 2] : 0;
  const contiguous = d1 === 1 && s1 === 1 && n1 >= SET_THRESHOLD;
  // Odometer over the axes outside the innermost two.
  const outer = r - 2;
  const idx = p.odometer;
  idx.fill(0);
  let dBase = p.dstBase;
  let sBase = p.srcBase;
  for (;;) {
    let dRow = dBase;
    let sRow = sBase;
    for (let j = 0; j < n2; j++) {
      if (contiguous) {
        dst.set(src.subarray(sRow, sRow + n1), dRow);
      } else {
        let d = dRow;
        let s = sRow;
        for (let k = 0; k < n1; k++) {
          dst[d] = src[s];
          d += d1;
          s += s1;
        }
      }
      dRow += d2;
      sRow += s2;
    }
    let ax = outer - 1;
    while (ax >= 0) {
      idx[ax]++;
      dBase += p.dstStrides[ax];
      sBase += p.srcStrides[ax];
      if (idx[ax] < p.counts[ax]) break;
      dBase -= p.dstStrides[ax] * p.counts[ax];
      sBase -= p.srcStrides[ax] * p.counts[ax];
      idx[ax] = 0;
      ax--;
    }
    if (ax < 0) return;
  }
}

/** Copies `n` words (a contiguous run) from src[s] to dst[d]. */
export function copyRun(dst: Words, d: number, src: Words, s: number, n: number): void {
  if (n >= SET_THRESHOLD) {
    dst.set(src.subarray(s, s + n), d);
  } else {
    for (let k = 0; k < n; k++) dst[d + k] = src[s + k];
  }
}

/** Fills `dst` with a repeating element pattern of `pattern.length` words. */
export function fillPattern(dst: Words, pattern: ArrayLike<number>): void {
  if (pattern.length === 1) {
    dst.fill(pattern[0]);
    return;
  }
  const n = pattern.length;
  for (let i = 0; i < dst.length; i += n) for (let k = 0; k < n; k++) dst[i + k] = pattern[k];
}
