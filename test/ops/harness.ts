/**
 * Hand-built one-node graphs for op unit tests, run through the op's own prepare with views over a plain
 * ArrayBuffer, so tests can also place the output over an input (in-place) without a memory planner.
 * Not a test file itself.
 */
import type { DType } from '../../src/graph/dtype.js';
import { DTYPE_BYTES } from '../../src/graph/dtype.js';
import type { AnyNode, Graph, Tensor, TensorId } from '../../src/graph/graph.js';
import { numElements } from '../../src/graph/graph.js';
import type { OpName, OpOptionsMap } from '../../src/graph/options.js';
import type { TensorViews } from '../../src/ops/op.js';
import { OPS } from '../../src/ops/registry.js';

export interface TensorSpec {
  shape: number[];
  dtype: DType;
  scale?: number | number[];
  zeroPoint?: number | number[];
  /** Constant contents (raw bytes). */
  data?: Uint8Array;
}

export function oneNodeGraph<K extends OpName>(op: K, options: OpOptionsMap[K], inputs: TensorSpec[], output: TensorSpec, version = 1): Graph {
  const specs = [...inputs, output];
  const tensors: Tensor[] = specs.map((s, id) => ({
    id,
    name: `t${id}`,
    shape: s.shape,
    dtype: s.dtype,
    quant: s.scale === undefined ? null : {
      scale: Array.isArray(s.scale) ? s.scale : [Math.fround(s.scale)],
      zeroPoint: Array.isArray(s.zeroPoint) ? s.zeroPoint : [s.zeroPoint ?? 0],
      axis: 0,
    },
    data: s.data ?? null,
  }));
  const node = { index: 0, op, version, inputs: inputs.map((_, i) => i), outputs: [inputs.length], options } as unknown as AnyNode;
  return {
    name: `${op} test`,
    tensors,
    nodes: [node],
    inputs: inputs.map((_, i) => i).filter((i) => !inputs[i].data),
    outputs: [inputs.length],
    description: '',
  };
}

/** Views over one buffer; `alias` places a tensor at another tensor's offset. */
export class BufferViews implements TensorViews {
  readonly buffer: ArrayBuffer;
  private readonly offsets = new Map<TensorId, number>();

  constructor(private readonly g: Graph, alias: Map<TensorId, TensorId> = new Map()) {
    const bytesOf = (id: TensorId) => numElements(g.tensors[id].shape) * DTYPE_BYTES[g.tensors[id].dtype];
    let offset = 0;
    for (const t of g.tensors) {
      if (t.data || alias.has(t.id)) continue;
      this.offsets.set(t.id, offset);
      let bytes = bytesOf(t.id);
      for (const [id, target] of alias) if (target === t.id) bytes = Math.max(bytes, bytesOf(id));
      offset += Math.ceil(bytes / 16) * 16 + 16;
    }
    for (const [id, target] of alias) this.offsets.set(id, this.offsets.get(target)!);
    this.buffer = new ArrayBuffer(offset + 64);
  }

  private raw(id: TensorId): { buf: ArrayBuffer; offset: number; bytes: number } {
    const t = this.g.tensors[id];
    const bytes = numElements(t.shape) * DTYPE_BYTES[t.dtype];
    if (t.data) {
      const copy = t.data.slice();
      return { buf: copy.buffer, offset: 0, bytes };
    }
    return { buf: this.buffer, offset: this.offsets.get(id)!, bytes };
  }

  int8(id: TensorId): Int8Array { const r = this.raw(id); return new Int8Array(r.buf, r.offset, r.bytes); }
  uint8(id: TensorId): Uint8Array { const r = this.raw(id); return new Uint8Array(r.buf, r.offset, r.bytes); }
  int16(id: TensorId): Int16Array { const r = this.raw(id); return new Int16Array(r.buf, r.offset, r.bytes / 2); }
  int32(id: TensorId): Int32Array { const r = this.raw(id); return new Int32Array(r.buf, r.offset, r.bytes / 4); }
  float32(id: TensorId): Float32Array { const r = this.raw(id); return new Float32Array(r.buf, r.offset, r.bytes / 4); }
  bytes(id: TensorId): Uint8Array { return this.uint8(id); }
}

export type Values = ArrayLike<number>;

function typedFor(dtype: DType, v: Values): Uint8Array {
  switch (dtype) {
    case 'int8': return new Uint8Array(Int8Array.from(v).buffer);
    case 'uint8': return Uint8Array.from(v);
    case 'int16': return new Uint8Array(Int16Array.from(v).buffer);
    case 'int32': return new Uint8Array(Int32Array.from(v).buffer);
    case 'float32': return new Uint8Array(Float32Array.from(v).buffer);
    default: throw new Error(dtype);
  }
}

export function constant(spec: Omit<TensorSpec, 'data'>, v: Values): TensorSpec {
  return { ...spec, data: typedFor(spec.dtype, v) };
}

/** Prepare and run the graph's node on the given input values; returns the output as numbers. */
export function runGraph(g: Graph, inputs: Values[], alias?: Map<TensorId, TensorId>): number[] {
  const views = new BufferViews(g, alias);
  const node = g.nodes[0];
  const kernel = (OPS[node.op] as { prepare(n: AnyNode, g: Graph, v: TensorViews): () => void }).prepare(node, g, views);
  g.inputs.forEach((id, i) => views.bytes(id).set(typedFor(g.tensors[id].dtype, inputs[i])));
  kernel();
  const out = g.tensors[g.outputs[0]];
  const b = views.bytes(out.id);
  const copy = b.slice();
  switch (out.dtype) {
    case 'int8': return Array.from(new Int8Array(copy.buffer));
    case 'uint8': return Array.from(copy);
    case 'int16': return Array.from(new Int16Array(copy.buffer));
    case 'int32': return Array.from(new Int32Array(copy.buffer));
    case 'float32': return Array.from(new Float32Array(copy.buffer));
    default: throw new Error(out.dtype);
  }
}

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export function randomInt8(r: () => number, n: number): number[] {
  return Array.from({ length: n }, () => Math.floor(r() * 256) - 128);
}
