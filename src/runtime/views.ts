import type { Graph, TensorId } from '../graph/graph.js';
import type { DType } from '../graph/dtype.js';
import { ModelFormatError } from '../errors.js';
import { numElements, tensorBytes } from '../graph/graph.js';
import type { TensorViews } from '../ops/op.js';
import type { MemoryPlan } from '../plan/memory_plan.js';
import { scratchId } from '../plan/lifetimes.js';

/** Which dtypes each typed view may show: a mismatch means a corrupt model or a kernel bug, never a reinterpretation. */
const VIEW_DTYPES: Record<string, readonly DType[]> = {
  i8: ['int8'], u8: ['uint8', 'bool'], i16: ['int16'], i32: ['int32'], f32: ['float32'],
};

type ViewCtor = Int8ArrayConstructor | Uint8ArrayConstructor | Int16ArrayConstructor | Int32ArrayConstructor | Float32ArrayConstructor;

/**
 * Views onto the arena (activations, at the plan's offsets) and onto the model file (constants, in place).
 * A constant whose bytes are not aligned for its element type is copied once, here, never per invoke.
 */
export class ArenaViews implements TensorViews {
  private cache = new Map<string, ArrayBufferView>();
  /** Bytes of constants that had to be copied because of misalignment (reported, normally 0). */
  copiedConstantBytes = 0;

  /** `base`: byte address of arena offset 0 in `arena` (non-zero when the arena lives in a WebAssembly memory). */
  constructor(private readonly g: Graph, private readonly plan: MemoryPlan, readonly arena: ArrayBuffer, readonly base = 0) {}

  private view<T extends ArrayBufferView>(id: TensorId, Ctor: ViewCtor, kind: string): T {
    const key = `${kind}:${id}`;
    const hit = this.cache.get(key);
    if (hit) return hit as T;
    const t = this.g.tensors[id];
    if (!t) throw new ModelFormatError(`tensor ${id}`, 'referenced but not in the model');
    const allowed = VIEW_DTYPES[kind];
    if (allowed && !allowed.includes(t.dtype)) {
      throw new ModelFormatError(`tensor ${id} ("${t.name}")`, `is ${t.dtype} where ${allowed[0]} is required`);
    }
    const bpe = Ctor.BYTES_PER_ELEMENT;
    const byteLen = kind === 'bytes' ? tensorBytes(t) : numElements(t.shape) * bpe;
    let v: ArrayBufferView;
    if (t.data) {
      const d = t.data;
      if (d.byteOffset % bpe === 0) {
        v = new Ctor(d.buffer as ArrayBuffer, d.byteOffset, Math.floor(Math.min(byteLen, d.byteLength) / bpe));
      } else {
        const copy = new Uint8Array(d.byteLength);
        copy.set(d);
        this.copiedConstantBytes += d.byteLength;
        v = new Ctor(copy.buffer, 0, Math.floor(Math.min(byteLen, d.byteLength) / bpe));
      }
    } else {
      const p = this.plan.placements.get(id);
      if (!p) throw new Error(`tensor ${id} (${t.name}) has no place in the memory plan`);
      if (this.base + p.offset + byteLen > this.arena.byteLength) throw new Error(`tensor ${id} (${t.name}) lies outside the arena: planner bug`);
      v = new Ctor(this.arena, this.base + p.offset, byteLen / bpe);
    }
    this.cache.set(key, v);
    return v as T;
  }

  int8(id: TensorId): Int8Array { return this.view(id, Int8Array, 'i8'); }
  uint8(id: TensorId): Uint8Array { return this.view(id, Uint8Array, 'u8'); }
  int16(id: TensorId): Int16Array { return this.view(id, Int16Array, 'i16'); }
  int32(id: TensorId): Int32Array { return this.view(id, Int32Array, 'i32'); }
  float32(id: TensorId): Float32Array { return this.view(id, Float32Array, 'f32'); }
  bytes(id: TensorId): Uint8Array { return this.view(id, Uint8Array, 'bytes'); }

  /** The plan's scratch buffer of node `nodeIndex`: the placement of `scratchId(step)` at the node's step. */
  scratch(nodeIndex: number): Uint8Array {
    const step = this.plan.order.indexOf(nodeIndex);
    if (step < 0) throw new Error(`node ${nodeIndex} is not in the plan's execution order`);
    const p = this.plan.placements.get(scratchId(step));
    const node = this.g.nodes[nodeIndex];
    if (!p) throw new Error(`node ${nodeIndex} (${node?.op}) needs scratch but the memory plan gives it none (step ${step})`);
    if (this.base + p.offset + p.bytes > this.arena.byteLength) throw new Error(`scratch of node ${nodeIndex} lies outside the arena: planner bug`);
    return new Uint8Array(this.arena, this.base + p.offset, p.bytes);
  }
}
