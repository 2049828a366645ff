import type { AnyNode, Graph, TensorId } from '../../graph/graph.js';
import { convWindowParams, window2d } from '../../ops/conv_util.js';

/** Rows or columns [lo, hi) of a tensor; may reach outside [0, size) where padding is read. */
export interface Span {
  lo: number;
  hi: number;
}

export interface Region {
  rows: Span;
  cols: Span;
}

export function union(a: Region | undefined, b: Region): Region {
  if (!a) return b;
  return {
    rows: { lo: Math.min(a.rows.lo, b.rows.lo), hi: Math.max(a.rows.hi, b.rows.hi) },
    cols: { lo: Math.min(a.cols.lo, b.cols.lo), hi: Math.max(a.cols.hi, b.cols.hi) },
  };
}

/** The part of `r` inside an H x W tensor. */
export function clip(r: Region, h: number, w: number): Region {
  return {
    rows: { lo: Math.max(0, r.rows.lo), hi: Math.min(h, r.rows.hi) },
    cols: { lo: Math.max(0, r.cols.lo), hi: Math.min(w, r.cols.hi) },
  };
}

export function sameRegion(a: Region, b: Region): boolean {
  return a.rows.lo === b.rows.lo && a.rows.hi === b.rows.hi && a.cols.lo === b.cols.lo && a.cols.hi === b.cols.hi;
}

export function area(r: Region): number {
  return Math.max(0, r.rows.hi - r.rows.lo) * Math.max(0, r.cols.hi - r.cols.lo);
}

/** How an op maps an output window back to the input window it reads: rows o -> o * stride - pad + k * dil. */
export interface Window {
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  dilH: number;
  dilW: number;
  padTop: number;
  padLeft: number;
}

const IDENTITY: Window = { kH: 1, kW: 1, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padTop: 0, padLeft: 0 };

/** Ops a patch stage may hold: spatial windows, spatial padding, and elementwise ops. */
export const ELEMENTWISE_UNARY = new Set(['RELU', 'RELU6', 'LOGISTIC', 'TANH', 'HARD_SWISH', 'QUANTIZE', 'DEQUANTIZE']);
export const ELEMENTWISE_BINARY = new Set(['ADD', 'SUB', 'MUL']);

export function constInt32(g: Graph, id: TensorId): number[] | null {
  const t = g.tensors[id];
  if (!t?.data || t.dtype !== 'int32') return null;
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return Array.from({ length: t.data.byteLength / 4 }, (_, i) => dv.getInt32(4 * i, true));
}

/** PAD's (before, after) rows and columns, or null when it pads batch or channels (not a spatial pad). */
export function spatialPads(node: AnyNode, g: Graph): { top: number; bottom: number; left: number; right: number } | null {
  const p = constInt32(g, node.inputs[1]);
  if (!p || p.length !== 8 || p[0] !== 0 || p[1] !== 0 || p[6] !== 0 || p[7] !== 0) return null;
  return { top: p[2], bottom: p[3], left: p[4], right: p[5] };
}

/**
 * The window an op reads its (activation) input 0 through, or null when the op cannot run on a patch
 * with the same result. Pools count only the real pixels under a window, so they must not pad (a padded
 * window would change an average's divisor or a max); convolutions may, with the input zero point, which
 * adds nothing to the sum.
 */
export function windowOf(node: AnyNode, g: Graph): Window | null {
  const x = g.tensors[node.inputs[0]];
  if (!x || x.shape.length !== 4 || x.shape[0] !== 1) return null;
  switch (node.op) {
    case 'CONV_2D':
    case 'DEPTHWISE_CONV_2D': {
      const f = g.tensors[node.inputs[1]].shape;
      const o = node.options;
      const w = window2d(x.shape, f[1], f[2], convWindowParams(o));
      return { kH: w.kH, kW: w.kW, strideH: w.strideH, strideW: w.strideW, dilH: w.dilH, dilW: w.dilW, padTop: w.padTop, padLeft: w.padLeft };
    }
    case 'AVERAGE_POOL_2D':
    case 'MAX_POOL_2D': {
      const o = node.options;
      const w = window2d(x.shape, o.filterH, o.filterW, { padding: o.padding, strideH: o.strideH, strideW: o.strideW });
      const y = g.tensors[node.outputs[0]].shape;
      const fits = (y[1] - 1) * w.strideH + w.kH <= x.shape[1] && (y[2] - 1) * w.strideW + w.kW <= x.shape[2] && w.padTop === 0 && w.padLeft === 0;
      return fits ? { ...w, dilH: 1, dilW: 1 } : null;
    }
    case 'PAD':
    case 'PADV2': {
      const p = spatialPads(node, g);
      if (!p || (node.op === 'PADV2' && node.inputs[2] !== undefined && node.inputs[2] >= 0 && !g.tensors[node.inputs[2]].data)) return null;
      return { ...IDENTITY, padTop: p.top, padLeft: p.left };
    }
    default:
      if (ELEMENTWISE_UNARY.has(node.op)) return IDENTITY;
      if (ELEMENTWISE_BINARY.has(node.op)) {
        const y = g.tensors[node.outputs[0]].shape;
        const same = node.inputs.every((i) => i >= 0 && g.tensors[i].shape.join() === y.join());
        return same ? IDENTITY : null;
      }
      return null;
  }
}

/** The input window (unclipped) an output window reads. */
export function inputRegion(w: Window, out: Region): Region {
  return {
    rows: { lo: out.rows.lo * w.strideH - w.padTop, hi: (out.rows.hi - 1) * w.strideH - w.padTop + (w.kH - 1) * w.dilH + 1 },
    cols: { lo: out.cols.lo * w.strideW - w.padLeft, hi: (out.cols.hi - 1) * w.strideW - w.padLeft + (w.kW - 1) * w.dilW + 1 },
  };
}

/** Split [0, size) into n near-equal spans (the first ones one longer when it does not divide). */
export function splitSpan(size: number, n: number): Span[] {
  const out: Span[] = [];
  let lo = 0;
  for (let k = 0; k < n; k++) {
    const len = Math.floor(size / n) + (k < size % n ? 1 : 0);
    out.push({ lo, hi: lo + len });
    lo += len;
  }
  return out;
}
