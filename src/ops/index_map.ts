/**
 * The data-movement ops whose output element i is one element of one input (or a fill value), with the
 * mapping fixed by shapes and constant operands: PACK, REVERSE_V2, SLICE, SPACE_TO_DEPTH, DEPTH_TO_SPACE,
 * SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND, BROADCAST_TO, MIRROR_PAD. Prepare works the map out once
 * (source input and element per output element); the kernel only copies element bytes, so every dtype
 * is served alike.
 */
import { DTYPE_BYTES } from '../graph/dtype.js';
import type { Graph, Node, Tensor } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import type { Kernel, TensorViews } from './op.js';
import { outputTensor } from './op.js';
import { MOVABLE, requireDtype, requireOutputShape, requireSameDtype } from './data_move.js';

/** Output element i comes from element `index[i]` of input `source[i]` (or is `fill` where index is -1). */
export interface IndexMap {
  shape: number[];
  sources: Tensor[];
  source: Uint8Array | null;
  index: Int32Array;
  /** Bytes of one element written where index is -1 (default zeros). */
  fill?: Uint8Array;
}

/** Row-major coordinates of flat index i in `shape` (into `out`). */
export function coordsOf(i: number, shape: readonly number[], out: number[]): number[] {
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d];
    out[d] = i % n;
    i = Math.floor(i / n);
  }
  return out;
}

/** Flat index of coordinates `c` in `shape`. */
export function flatIndex(c: readonly number[], shape: readonly number[]): number {
  let k = 0;
  for (let d = 0; d < shape.length; d++) k = k * shape[d] + c[d];
  return k;
}

/** Build the map from a function of the output coordinates: [source input, element] or null for fill. */
export function mapOutput(shape: number[], sources: Tensor[], f: (c: number[]) => [number, number] | null, fill?: Uint8Array): IndexMap {
  const n = numElements(shape);
  const index = new Int32Array(n);
  const source = sources.length > 1 ? new Uint8Array(n) : null;
  const c = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    const r = f(coordsOf(i, shape, c));
    if (r === null) { index[i] = -1; continue; }
    index[i] = r[1];
    if (source) source[i] = r[0];
  }
  return { shape, sources, source, index, fill };
}

/** The kernel of a map: element bytes copied from their sources (never in place: the planner keeps them apart). */
export function indexMapKernel(node: Node, g: Graph, views: TensorViews, m: IndexMap): Kernel {
  const out = outputTensor(node, g);
  for (const s of m.sources) { requireDtype(node, s, MOVABLE); requireSameDtype(node, s, out); }
  requireOutputShape(node, out, m.shape);
  const eb = DTYPE_BYTES[out.dtype];
  const dst = views.bytes(out.id);
  const srcs = m.sources.map((t) => views.bytes(t.id));
  const fill = m.fill ?? new Uint8Array(eb);
  const { index, source } = m;
  return () => {
    for (let i = 0, o = 0; i < index.length; i++, o += eb) {
      const k = index[i];
      if (k < 0) { for (let b = 0; b < eb; b++) dst[o + b] = fill[b]; continue; }
      const src = source ? srcs[source[i]] : srcs[0];
      for (let b = 0, s = k * eb; b < eb; b++) dst[o + b] = src[s + b];
    }
  };
}
