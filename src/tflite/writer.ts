import { Builder } from 'flatbuffers';
import type { Graph, QuantParams, Tensor } from '../graph/graph.js';
import { shapeStr, tensorBytes } from '../graph/graph.js';
import { ModelFormatError, UnsupportedOpError } from '../errors.js';
import { CUSTOM_OP_NAMES, isOpName } from '../graph/options.js';
import { assertWritableOptions, writeOptions } from './write_options.js';
import * as S from './schema.js';

/** Buffer.data is declared force_align: 16 so constants can be mapped straight into SIMD-width loads. */
const BUFFER_ALIGN = 16;

function int32Vector(b: Builder, v: readonly number[]): number {
  b.startVector(4, v.length, 4);
  for (let i = v.length - 1; i >= 0; i--) b.addInt32(v[i]);
  return b.endVector();
}

/** A [ubyte] vector whose first byte is `align`-aligned in the finished file. */
function alignedBytes(b: Builder, data: Uint8Array, align: number): number {
  b.startVector(1, data.byteLength, align);
  b.pad(data.byteLength); // reserve the space (zeros), then copy over it in one go
  const start = b.dataBuffer().capacity() - b.offset();
  b.dataBuffer().bytes().set(data, start);
  return b.endVector();
}

/** The distinct constants, in buffer order (buffer i + 1), and each constant tensor's buffer index. */
interface Constants {
  data: Uint8Array[];
  indexOf: Map<Tensor, number>;
}

/** Tensors that share a view (as they did in the file they were read from) share a buffer. */
function distinctConstants(g: Graph): Constants {
  const data: Uint8Array[] = [];
  const indexOf = new Map<Tensor, number>();
  const seen = new Map<string, number>();
  for (const t of g.tensors) {
    if (!t.data) continue;
    if (t.data.byteLength !== tensorBytes(t)) {
      throw new ModelFormatError(`tensor ${t.id} ("${t.name}")`, `holds ${t.data.byteLength} bytes but ${t.dtype}${shapeStr(t.shape)} needs ${tensorBytes(t)}`);
    }
    const key = `${t.data.byteOffset}:${t.data.byteLength}`;
    const shared = seen.get(key);
    if (shared !== undefined && data[shared - 1].buffer === t.data.buffer) {
      indexOf.set(t, shared);
      continue;
    }
    data.push(t.data);
    indexOf.set(t, data.length);
    seen.set(key, data.length);
  }
  return { data, indexOf };
}

/**
 * Model.buffers: the empty sentinel, then one per constant, either inline or (when `external` gives file
 * offsets) as Buffer.offset/size pointing past the flatbuffer, as TFLite does for models over 2 GB.
 */
function writeBuffers(b: Builder, consts: Constants, external: number[] | null): number[] {
  const offsets: number[] = [];
  b.startObject(3);
  offsets.push(b.endObject());
  consts.data.forEach((d, i) => {
    const inline = external ? 0 : alignedBytes(b, d, BUFFER_ALIGN);
    b.startObject(3);
    if (external) {
      b.addFieldInt64(S.Buffer.offset, BigInt(external[i]), 0n);
      b.addFieldInt64(S.Buffer.size, BigInt(d.byteLength), 0n);
    } else {
      b.addFieldOffset(S.Buffer.data, inline, 0);
    }
    offsets.push(b.endObject());
  });
  return offsets;
}

function writeQuant(b: Builder, q: QuantParams): number {
  b.startVector(4, q.scale.length, 4);
  for (let i = q.scale.length - 1; i >= 0; i--) b.addFloat32(q.scale[i]);
  const scale = b.endVector();
  b.startVector(8, q.zeroPoint.length, 8);
  for (let i = q.zeroPoint.length - 1; i >= 0; i--) b.addInt64(BigInt(q.zeroPoint[i]));
  const zeroPoint = b.endVector();
  const f = S.QuantizationParameters;
  b.startObject(7);
  b.addFieldOffset(f.scale, scale, 0);
  b.addFieldOffset(f.zeroPoint, zeroPoint, 0);
  b.addFieldInt32(f.quantizedDimension, q.axis, 0);
  return b.endObject();
}

function writeTensor(b: Builder, t: Tensor, bufferIndex: number): number {
  const shape = int32Vector(b, t.shape);
  const name = b.createString(t.name);
  const quant = t.quant ? writeQuant(b, t.quant) : 0;
  const f = S.Tensor;
  b.startObject(10);
  b.addFieldOffset(f.shape, shape, 0);
  b.addFieldInt8(f.type, S.DTYPE_TO_TENSOR_TYPE[t.dtype], 0);
  b.addFieldInt32(f.buffer, bufferIndex, 0);
  b.addFieldOffset(f.name, name, 0);
  if (quant) b.addFieldOffset(f.quantization, quant, 0);
  b.addFieldInt8(f.isVariable, t.variable ? 1 : 0, 0);
  return b.endObject();
}

/** Operator codes, one per distinct (op, version), in first-use order; returns the index of each node's code. */
function writeOpCodes(b: Builder, g: Graph): { vector: number; indexOfNode: number[] } {
  const keys: string[] = [];
  const offsets: number[] = [];
  const indexOfNode = g.nodes.map((n) => {
    const key = `${n.op}/${n.version}`;
    let i = keys.indexOf(key);
    if (i < 0) {
      const custom = (CUSTOM_OP_NAMES as readonly string[]).includes(n.op);
      if (!custom && !isOpName(n.op)) throw new UnsupportedOpError(n.op, n.index, 'not a TFLite builtin (a training-only op): nothing to write it as');
      const code = custom ? S.BUILTIN_CUSTOM : S.builtinOperatorCode(n.op);
      const customCode = custom ? b.createString(n.op) : 0;
      const f = S.OperatorCode;
      b.startObject(4);
      if (customCode) b.addFieldOffset(f.customCode, customCode, 0);
      // Both code fields, so readers predating the int32 field (TFLite < 2.4) still read ops below 127.
      b.addFieldInt8(f.deprecatedBuiltinCode, Math.min(code, S.PLACEHOLDER_FOR_GREATER_OP_CODES), 0);
      b.addFieldInt32(f.version, n.version, 1);
      b.addFieldInt32(f.builtinCode, code, 0);
      i = keys.push(key) - 1;
      offsets.push(b.endObject());
    }
    return i;
  });
  return { vector: tableVector(b, offsets), indexOfNode };
}

function tableVector(b: Builder, offsets: readonly number[]): number {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]);
  return b.endVector();
}

function writeOperators(b: Builder, g: Graph, codeIndex: number[]): number {
  const offsets = g.nodes.map((n, i) => {
    const inputs = int32Vector(b, n.inputs);
    const outputs = int32Vector(b, n.outputs);
    const opts = writeOptions(b, n);
    const custom = n.op === 'TFLite_Detection_PostProcess' ? b.createByteVector(n.options.customOptions) : 0;
    const f = S.Operator;
    b.startObject(13);
    if (custom) b.addFieldOffset(f.customOptions, custom, 0);
    b.addFieldInt32(f.opcodeIndex, codeIndex[i], 0);
    b.addFieldOffset(f.inputs, inputs, 0);
    b.addFieldOffset(f.outputs, outputs, 0);
    b.addFieldInt8(f.builtinOptionsType, opts.type, 0);
    if (opts.offset) b.addFieldOffset(f.builtinOptions, opts.offset, 0);
    return b.endObject();
  });
  return tableVector(b, offsets);
}

export interface WriteOptions {
  /** Store constants after the flatbuffer (Buffer.offset/size) instead of inside it. */
  externalData?: boolean;
}

/**
 * Serialise a Graph as a schema-3 .tflite file ("TFL3"), one subgraph named `g.name`, constants 16-byte
 * aligned. Reading the result back gives an equal Graph.
 */
export function writeTflite(g: Graph, opts: WriteOptions = {}): Uint8Array {
  for (const n of g.nodes) assertWritableOptions(n);
  const consts = distinctConstants(g);
  if (!opts.externalData) return build(g, consts, null);
  // The flatbuffer's layout does not depend on the offset values (ulong fields, always present), so a
  // draft with placeholders tells where the data can start; the second build fills in the real offsets.
  const draft = build(g, consts, consts.data.map(() => 2));
  const at: number[] = [];
  let end = draft.byteLength;
  for (const d of consts.data) {
    const start = Math.ceil(end / BUFFER_ALIGN) * BUFFER_ALIGN;
    at.push(start);
    end = start + d.byteLength;
  }
  const head = build(g, consts, at);
  if (head.byteLength !== draft.byteLength) throw new Error('writeTflite: flatbuffer size changed between passes');
  const file = new Uint8Array(end);
  file.set(head);
  consts.data.forEach((d, i) => file.set(d, at[i]));
  return file;
}

function build(g: Graph, consts: Constants, external: number[] | null): Uint8Array {
  const inlineBytes = external ? 0 : consts.data.reduce((n, d) => n + d.byteLength + BUFFER_ALIGN, 0);
  const b = new Builder(1024 + 64 * g.tensors.length + inlineBytes);
  const bufferOffsets = writeBuffers(b, consts, external);
  // Metadata buffers follow the constants, always inline (they are small).
  const metaEntries = Object.entries(g.metadata ?? {});
  for (const [, bytes] of metaEntries) {
    const inline = alignedBytes(b, bytes, BUFFER_ALIGN);
    b.startObject(3);
    b.addFieldOffset(S.Buffer.data, inline, 0);
    bufferOffsets.push(b.endObject());
  }
  const metadata = metaEntries.length === 0 ? 0 : tableVector(b, metaEntries.map(([name], k) => {
    const nameOffset = b.createString(name);
    b.startObject(2);
    b.addFieldOffset(S.Metadata.name, nameOffset, 0);
    b.addFieldInt32(S.Metadata.buffer, consts.data.length + 1 + k, 0);
    return b.endObject();
  }));
  const tensors = tableVector(b, g.tensors.map((t) => writeTensor(b, t, consts.indexOf.get(t) ?? 0)));
  const codes = writeOpCodes(b, g);
  const operators = writeOperators(b, g, codes.indexOfNode);
  const inputs = int32Vector(b, g.inputs);
  const outputs = int32Vector(b, g.outputs);
  const sgName = b.createString(g.name);

  const sg = S.SubGraph;
  b.startObject(5);
  b.addFieldOffset(sg.tensors, tensors, 0);
  b.addFieldOffset(sg.inputs, inputs, 0);
  b.addFieldOffset(sg.outputs, outputs, 0);
  b.addFieldOffset(sg.operators, operators, 0);
  b.addFieldOffset(sg.name, sgName, 0);
  const subgraphs = tableVector(b, [b.endObject()]);
  const buffers = tableVector(b, bufferOffsets);
  const description = b.createString(g.description);

  const m = S.Model;
  b.startObject(8);
  b.addFieldInt32(m.version, S.SCHEMA_VERSION, 0);
  b.addFieldOffset(m.operatorCodes, codes.vector, 0);
  b.addFieldOffset(m.subgraphs, subgraphs, 0);
  b.addFieldOffset(m.description, description, 0);
  b.addFieldOffset(m.buffers, buffers, 0);
  if (metadata) b.addFieldOffset(m.metadata, metadata, 0);
  b.finish(b.endObject(), S.FILE_IDENTIFIER);
  // The builder fills its buffer from the end; copy so the file starts at offset 0 of its own
  // ArrayBuffer and the 16-byte alignment of constants holds for typed views too.
  return b.asUint8Array().slice();
}
