import type { DType } from '../graph/dtype.js';
import { DTYPE_BYTES, dtypeRange } from '../graph/dtype.js';
import type { QuantParams, Tensor } from '../graph/graph.js';
import { shapeStr } from '../graph/graph.js';
import type { CheckedBuffer, Table } from './checked_buffer.js';
import * as S from './schema.js';

/**
 * TFLite's kernels handle at most 6 dimensions (its newest broadcasting ops, 8); a larger rank is a
 * corrupt shape vector, and refusing it keeps shape arithmetic downstream cheap.
 */
export const MAX_RANK = 8;
/**
 * The largest tensor we accept. TFLite Micro sizes tensors in 32-bit size_t on its targets, so a bigger
 * one cannot be a real microcontroller model; above this a corrupt shape would make the planner ask for
 * an absurd arena.
 */
export const MAX_TENSOR_BYTES = 0x7fffffff;

/** The bytes of every entry in Model.buffers: a view into the file, or null when empty. */
export function readBuffers(buf: CheckedBuffer, model: Table): (Uint8Array | null)[] {
  const vec = model.tables(S.Model.buffers, 'buffers');
  // Without any buffer every tensor must say buffer 0, which means "no data" anyway.
  if (!vec || vec.length === 0) return [null];
  const out: (Uint8Array | null)[] = [];
  for (let i = 0; i < vec.length; i++) {
    const b = vec.get(i, `buffer ${i}`);
    const inline = b.bytes(S.Buffer.data, 'data');
    // Models over 2 GB keep data outside the flatbuffer: offset/size relative to the file start, valid when offset > 1.
    const offset = b.u64(S.Buffer.offset, 0, 'offset');
    const size = b.u64(S.Buffer.size, 0, 'size');
    let data = inline && inline.byteLength > 0 ? inline : null;
    if (offset > 1) {
      if (data) b.fail('has both inline data and an external offset');
      buf.check(offset, size, b.where, `external data of ${size} bytes at offset ${offset}`);
      data = size > 0 ? buf.bytes.subarray(offset, offset + size) : null;
    }
    if (i === 0 && data) b.fail('buffer 0 must be the empty sentinel that activations point to');
    out.push(data);
  }
  return out;
}

/**
 * A valid tensor feature tinyml-ts does not implement (a known type such as packed INT4, a variable
 * tensor, sparsity). Not a format error: the reader turns it into an UnsupportedOpError naming the op and
 * node that use the tensor, once the whole file has validated.
 */
export class UnsupportedTensorFeature extends Error {}

function readDType(t: Table): DType {
  const code = t.i8(S.Tensor.type, 0);
  const dtype = S.TENSOR_TYPE_TO_DTYPE.get(code);
  if (dtype) return dtype;
  const name = S.TENSOR_TYPES[code];
  if (!name) t.fail(`unknown tensor type code ${code}`);
  throw new UnsupportedTensorFeature(`tensor type ${name}${name === 'INT4' ? ' (packed 4-bit weights)' : ''}`);
}

function readShape(t: Table, dtype: DType): number[] {
  const shape = t.int32s(S.Tensor.shape, 'shape') ?? [];
  if (shape.length > MAX_RANK) t.fail(`rank ${shape.length} exceeds ${MAX_RANK}`);
  let bytes = DTYPE_BYTES[dtype];
  for (const d of shape) {
    if (d < 0) t.fail(`shape ${shapeStr(shape)} has a negative dimension`);
    bytes *= d;
    if (bytes > MAX_TENSOR_BYTES) t.fail(`shape ${shapeStr(shape)} of ${dtype} needs more than ${MAX_TENSOR_BYTES} bytes`);
  }
  return shape;
}

/**
 * Scale/zero-point pairs. One pair is per-tensor; more are per-channel along quantized_dimension and must
 * match that dimension's size, or kernels would index past the scale array.
 */
function readQuant(t: Table, shape: number[], dtype: DType): QuantParams | null {
  const q = t.table(S.Tensor.quantization, 'quantization', t.where);
  if (!q) return null;
  if (q.u8(S.QuantizationParameters.detailsType, 0) !== 0) t.fail('custom quantization (QuantizationDetails) is not supported');
  const scale = q.float32s(S.QuantizationParameters.scale, 'scale') ?? [];
  const zeroPoint = q.int64s(S.QuantizationParameters.zeroPoint, 'zero_point') ?? [];
  if (scale.length === 0) return null; // min/max only: a float tensor with quantisation hints, not quantised
  if (zeroPoint.length !== scale.length) t.fail(`quantization has ${scale.length} scales but ${zeroPoint.length} zero points`);
  const axis = quantAxis(t, q.i32(S.QuantizationParameters.quantizedDimension, 0), shape, scale.length);
  for (const s of scale) if (!Number.isFinite(s) || s < 0) t.fail(`quantization scale ${s} is not a finite non-negative number`);
  if (dtype === 'int8' || dtype === 'uint8' || dtype === 'int16') {
    const [lo, hi] = dtypeRange(dtype);
    for (const z of zeroPoint) if (z < lo || z > hi) t.fail(`zero point ${z} is outside the ${dtype} range`);
  }
  return { scale, zeroPoint, axis };
}

/**
 * The per-channel axis. Per-tensor parameters do not use it, so an out-of-range value there reads as 0.
 * Some converters give the 1-D bias of a depthwise conv the filter's axis 3; with one scale per element
 * that can only mean axis 0.
 */
function quantAxis(t: Table, axis: number, shape: number[], channels: number): number {
  const inRank = axis >= 0 && axis < shape.length;
  if (channels === 1) return inRank ? axis : 0;
  if (!inRank && shape.length === 1 && shape[0] === channels) return 0;
  if (!inRank) t.fail(`quantized_dimension ${axis} is outside rank ${shape.length}`);
  if (shape[axis] !== channels) {
    t.fail(`${channels} per-channel scales but shape ${shapeStr(shape)} has ${shape[axis]} along axis ${axis}`);
  }
  return axis;
}

const INT4 = S.TENSOR_TYPES.indexOf('INT4');

/**
 * A constant INT4 tensor (two signed 4-bit values a byte, low nibble first, as TFLite packs int4 weights)
 * as the int8 tensor it stands for: kernels then run it as int8 weights, unchanged. Only constants can be
 * unpacked ahead of time; an INT4 activation stays unsupported.
 */
function unpackInt4(table: Table, id: number, name: string, buffers: readonly (Uint8Array | null)[]): Tensor {
  const t = table.named(`${table.where} (${JSON.stringify(name)})`);
  const shape = readShape(t, 'int8');
  const bufferIndex = t.u32(S.Tensor.buffer, 0);
  const packed = bufferIndex > 0 && bufferIndex < buffers.length ? buffers[bufferIndex] : null;
  if (!packed) throw new UnsupportedTensorFeature('an INT4 (packed 4-bit) tensor that is not a constant');
  const n = shape.reduce((a, d) => a * d, 1);
  if (packed.byteLength !== Math.ceil(n / 2)) t.fail(`INT4 buffer holds ${packed.byteLength} bytes, ${n} values need ${Math.ceil(n / 2)}`);
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const nibble = (packed[i >> 1] >> ((i & 1) * 4)) & 0xf;
    data[i] = nibble >= 8 ? nibble - 16 + 256 : nibble;
  }
  return { id, name, shape, dtype: 'int8', quant: readQuant(t, shape, 'int8'), data };
}

/** One Tensor table -> Tensor, validated against the model's buffers. */
export function readTensor(table: Table, id: number, buffers: readonly (Uint8Array | null)[]): Tensor {
  const name = table.string(S.Tensor.name, 'name') ?? '';
  const t = table.named(`${table.where} (${JSON.stringify(name)})`);
  if (t.i8(S.Tensor.type, 0) === INT4) return unpackInt4(table, id, name, buffers);
  const dtype = readDType(t);
  const shape = readShape(t, dtype);
  if (t.has(S.Tensor.sparsity)) throw new UnsupportedTensorFeature('a sparse tensor');
  const variable = t.bool(S.Tensor.isVariable, false);
  const quant = readQuant(t, shape, dtype);
  const bufferIndex = t.u32(S.Tensor.buffer, 0);
  if (bufferIndex >= buffers.length) t.fail(`buffer index ${bufferIndex} is out of range (the model has ${buffers.length} buffers)`);
  const data = bufferIndex === 0 ? null : buffers[bufferIndex];
  // TFLite Micro resets every variable tensor to zero; initial contents in the file would be ignored there.
  if (variable && data) throw new UnsupportedTensorFeature('a variable (stateful) tensor with initial data');
  if (variable) return { id, name, shape, dtype, quant, data: null, variable: true };
  if (data) {
    const need = shape.reduce((n, d) => n * d, DTYPE_BYTES[dtype]);
    if (data.byteLength !== need) {
      t.fail(`buffer ${bufferIndex} holds ${data.byteLength} bytes but ${dtype}${shapeStr(shape)} needs ${need}`);
    }
  }
  return { id, name, shape, dtype, quant, data };
}

/** Where-string for tensor i of subgraph s, used before the tensor's name is known. */
export function tensorWhere(s: number, i: number): string {
  return `subgraph ${s} tensor ${i}`;
}
