import type { AnyNode, Graph } from '../../graph/graph.js';
import type { OpDef, SpatialWindow } from '../../ops/op.js';
import { IDENTITY_WINDOW } from '../../ops/op.js';
import { OPS } from '../../ops/registry.js';

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
export type Window = SpatialWindow;

/**
 * The window an op reads its (activation) input 0 through, or null when the op cannot run on a patch
 * with the same result. Spatial ops declare it on their OpDef (`window`); elementwise ops read the pixel
 * they write when no input broadcasts.
 */
export function windowOf(node: AnyNode, g: Graph): Window | null {
  const x = g.tensors[node.inputs[0]];
  if (!x || x.shape.length !== 4 || x.shape[0] !== 1) return null;
  const def = OPS[node.op] as OpDef;
  if (def.window) return def.window(node as never, g);
  if (def.role !== 'elementwise') return null;
  const y = g.tensors[node.outputs[0]].shape;
  const same = node.inputs.every((i) => i >= 0 && g.tensors[i].shape.join() === y.join());
  return same ? IDENTITY_WINDOW : null;
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
