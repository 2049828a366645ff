/**
 * Memory of a training session: one ArrayBuffer laid out by the training memory plan (or with every
 * buffer apart, for debugging), typed views onto it, and the TensorViews the inference kernels bind to.
 * The arena is its own ArrayBuffer, or a region of one it is given (a WebAssembly memory, so the kernels
 * there work on the session's buffers in place).
 */
import type { Graph, TensorId } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import type { TensorViews } from '../ops/op.js';
import type { Placement } from '../plan/memory_plan.js';
import type { TrainBuffer, TrainingProgram } from './program.js';

export type BufferView = Int8Array | Int32Array | Float32Array | Uint8Array;

/** Where an arena lies inside a larger buffer. */
export interface ArenaRegion {
  buffer: ArrayBuffer;
  offset: number;
  bytes: number;
}

export class SessionMemory {
  readonly arena: ArrayBuffer;
  private readonly views = new Map<number, BufferView>();

  constructor(readonly program: TrainingProgram, placements: Map<number, Placement>, region?: ArenaRegion) {
    const top = arenaBytes(program, placements);
    if (region && region.bytes < top) throw new Error(`the training arena needs ${top} bytes, its region has ${region.bytes}`);
    this.arena = region ? region.buffer : new ArrayBuffer(top);
    const base = region ? region.offset : 0;
    for (const b of program.buffers) {
      const p = placements.get(b.id);
      if (!p || b.persistent) continue;
      this.views.set(b.id, makeView(this.arena, base + p.offset, b));
    }
  }

  view(id: number): BufferView {
    const v = this.views.get(id);
    if (!v) throw new Error(`training buffer ${id} (${this.program.buffers[id]?.label}) has no memory`);
    return v;
  }

  float(id: number): Float32Array {
    const v = this.view(id);
    if (!(v instanceof Float32Array)) throw new Error(`training buffer ${this.program.buffers[id].label} is not float32`);
    return v;
  }

  /** The TensorViews the forward kernels see: activations here, constants in the (private) graph. */
  tensorViews(): TensorViews {
    return new ProgramViews(this.program.graph, this.program.activation, this);
  }
}

/** Bytes from arena offset 0 to the end of the last placed buffer. */
export function arenaBytes(program: TrainingProgram, placements: Map<number, Placement>): number {
  let top = 16;
  for (const b of program.buffers) {
    const p = placements.get(b.id);
    if (p && !b.persistent) top = Math.max(top, p.offset + b.bytes);
  }
  return top;
}

function makeView(arena: ArrayBuffer, offset: number, b: TrainBuffer): BufferView {
  switch (b.dtype) {
    case 'int8': return new Int8Array(arena, offset, b.elements);
    case 'int32': return new Int32Array(arena, offset, b.elements);
    case 'float32': return new Float32Array(arena, offset, b.elements);
    case 'bits': return new Uint8Array(arena, offset, b.bytes);
  }
}

class ProgramViews implements TensorViews {
  private readonly cache = new Map<string, ArrayBufferView>();

  constructor(private readonly g: Graph, private readonly activation: Map<TensorId, number>, private readonly memory: SessionMemory) {}

  private get<T extends ArrayBufferView>(id: TensorId, kind: string, make: (buf: ArrayBuffer, off: number, n: number) => T, bpe: number): T {
    const key = `${kind}:${id}`;
    const hit = this.cache.get(key);
    if (hit) return hit as T;
    const t = this.g.tensors[id];
    let v: T;
    if (t.data) {
      v = make(t.data.buffer as ArrayBuffer, t.data.byteOffset, Math.floor(t.data.byteLength / bpe));
    } else {
      const b = this.activation.get(id);
      if (b === undefined) throw new Error(`tensor ${t.name} has no training buffer`);
      const raw = this.memory.view(b);
      const bytes = kind === 'u8' ? raw.byteLength : numElements(t.shape) * bpe;
      v = make(raw.buffer as ArrayBuffer, raw.byteOffset, bytes / bpe);
    }
    this.cache.set(key, v);
    return v;
  }

  int8(id: TensorId): Int8Array { return this.get(id, 'i8', (b, o, n) => new Int8Array(b, o, n), 1); }
  uint8(id: TensorId): Uint8Array { return this.get(id, 'u8', (b, o, n) => new Uint8Array(b, o, n), 1); }
  int16(id: TensorId): Int16Array { return this.get(id, 'i16', (b, o, n) => new Int16Array(b, o, n), 2); }
  int32(id: TensorId): Int32Array { return this.get(id, 'i32', (b, o, n) => new Int32Array(b, o, n), 4); }
  float32(id: TensorId): Float32Array { return this.get(id, 'f32', (b, o, n) => new Float32Array(b, o, n), 4); }
  bytes(id: TensorId): Uint8Array { return this.get(id, 'u8', (b, o, n) => new Uint8Array(b, o, n), 1); }
}
