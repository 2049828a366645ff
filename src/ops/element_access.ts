/**
 * Reading and writing tensor elements as numbers (int64 as bigint), for the ops that run over every dtype
 * alike (comparisons, MAXIMUM/MINIMUM, logical ops, CAST, SELECT): one accessor per tensor, made in prepare.
 */
import type { Tensor } from '../graph/graph.js';
import type { TensorViews } from './op.js';

export type Element = number | bigint;
export type Reader = (i: number) => Element;
export type Writer = (i: number, v: Element) => void;

function int64View(views: TensorViews, t: Tensor): { get(i: number): bigint; set(i: number, v: bigint): void } {
  const b = views.bytes(t.id);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { get: (i) => dv.getBigInt64(i * 8, true), set: (i, v) => dv.setBigInt64(i * 8, v, true) };
}

export function reader(views: TensorViews, t: Tensor): Reader {
  switch (t.dtype) {
    case 'int8': { const a = views.int8(t.id); return (i) => a[i]; }
    case 'uint8': case 'bool': { const a = views.uint8(t.id); return (i) => a[i]; }
    case 'int16': { const a = views.int16(t.id); return (i) => a[i]; }
    case 'int32': { const a = views.int32(t.id); return (i) => a[i]; }
    case 'float32': { const a = views.float32(t.id); return (i) => a[i]; }
    case 'int64': { const a = int64View(views, t); return (i) => a.get(i); }
  }
}

/** A writer that stores v as the tensor's dtype (the caller gives values of that dtype's range). */
export function writer(views: TensorViews, t: Tensor): Writer {
  switch (t.dtype) {
    case 'int8': { const a = views.int8(t.id); return (i, v) => { a[i] = Number(v); }; }
    case 'uint8': case 'bool': { const a = views.uint8(t.id); return (i, v) => { a[i] = Number(v); }; }
    case 'int16': { const a = views.int16(t.id); return (i, v) => { a[i] = Number(v); }; }
    case 'int32': { const a = views.int32(t.id); return (i, v) => { a[i] = Number(v); }; }
    case 'float32': { const a = views.float32(t.id); return (i, v) => { a[i] = Number(v); }; }
    case 'int64': { const a = int64View(views, t); return (i, v) => a.set(i, BigInt(v)); }
  }
}
