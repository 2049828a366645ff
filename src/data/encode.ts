import type { QuantParams, Tensor } from '../graph/graph.js';
import type { Dataset } from './dataset.js';
import { sampleSize } from './dataset.js';
import { shuffledIndices } from '../util/random.js';
import { affineQuantizeValue } from '../ops/quantize.js';

/**
 * How pixel bytes become model input values. Pixels 0..255 map linearly onto the real interval `range`;
 * an int8 input then quantises that with the tensor's parameters.
 */
export type InputEncoding =
  | { dtype: 'float32'; range: [number, number] }
  | { dtype: 'int8'; range: [number, number]; quant: { scale: number; zeroPoint: number } };

/** Our float models are trained on pixels scaled to [0, 1]. */
export const UNIT_RANGE: [number, number] = [0, 1];

/**
 * The encoding for a model's input tensor. An int8 input by default spans its whole representable range
 * (pixel p → q = p - 128, what TFLite Micro's camera examples feed); `range` overrides that.
 */
export function inputEncodingFor(t: Pick<Tensor, 'dtype' | 'quant'>, range?: [number, number]): InputEncoding {
  if (t.dtype === 'float32') return { dtype: 'float32', range: range ?? UNIT_RANGE };
  if (t.dtype !== 'int8') throw new RangeError(`inputs of type ${t.dtype} are not supported (float32 or int8)`);
  const q: QuantParams | null = t.quant;
  if (!q || q.scale.length !== 1) throw new RangeError('an int8 input needs per-tensor quantisation');
  const quant = { scale: q.scale[0], zeroPoint: q.zeroPoint[0] };
  return { dtype: 'int8', quant, range: range ?? [quant.scale * (-128 - quant.zeroPoint), quant.scale * (127 - quant.zeroPoint)] };
}

/** Lookup table pixel → encoded value (256 entries), so encoding a batch is one pass of table reads. */
function table(enc: InputEncoding): Float32Array | Int8Array {
  const [lo, hi] = enc.range;
  if (enc.dtype === 'float32') return Float32Array.from({ length: 256 }, (_, p) => lo + (p * (hi - lo)) / 255);
  const { scale, zeroPoint } = enc.quant;
  // The real value goes through float32 first, as trainingView hands it over: one quantiser, one result.
  return Int8Array.from({ length: 256 }, (_, p) => affineQuantizeValue(Math.fround(lo + (p * (hi - lo)) / 255), scale, zeroPoint, -128, 127));
}

const tables = new WeakMap<InputEncoding, Float32Array | Int8Array>();

/** Samples `indices` of `ds`, encoded, concatenated NHWC into `out` (allocated when not given). */
export function encodeSamples(ds: Dataset, indices: ArrayLike<number>, enc: InputEncoding & { dtype: 'float32' }, out?: Float32Array): Float32Array;
export function encodeSamples(ds: Dataset, indices: ArrayLike<number>, enc: InputEncoding & { dtype: 'int8' }, out?: Int8Array): Int8Array;
export function encodeSamples(ds: Dataset, indices: ArrayLike<number>, enc: InputEncoding, out?: Float32Array | Int8Array): Float32Array | Int8Array;
export function encodeSamples(ds: Dataset, indices: ArrayLike<number>, enc: InputEncoding, out?: Float32Array | Int8Array): Float32Array | Int8Array {
  let lut = tables.get(enc);
  if (!lut) tables.set(enc, (lut = table(enc)));
  const size = sampleSize(ds);
  const dst = out ?? (enc.dtype === 'float32' ? new Float32Array(indices.length * size) : new Int8Array(indices.length * size));
  if (dst.length < indices.length * size) throw new RangeError(`encodeSamples: output holds ${dst.length} values, need ${indices.length * size}`);
  for (let k = 0; k < indices.length; k++) {
    const base = indices[k] * size;
    for (let j = 0; j < size; j++) dst[k * size + j] = lut[ds.pixels[base + j]];
  }
  return dst;
}

/** One mini-batch: which samples and their labels. */
export interface Batch {
  indices: Int32Array;
  labels: Int32Array;
}

/**
 * Mini-batches over one epoch in a seeded order (seed + epoch, so every epoch differs and every run
 * repeats). The last batch is smaller when the count does not divide.
 */
export function* epochBatches(ds: Dataset, batchSize: number, seed: number, epoch = 0, shuffle = true): Generator<Batch> {
  if (!(batchSize >= 1)) throw new RangeError(`batch size must be at least 1, got ${batchSize}`);
  const order = shuffle ? shuffledIndices(ds.count, (seed + epoch * 0x9e3779b1) >>> 0) : Int32Array.from({ length: ds.count }, (_, i) => i);
  for (let start = 0; start < ds.count; start += batchSize) {
    const indices = order.subarray(start, Math.min(start + batchSize, ds.count));
    yield { indices, labels: indices.map((i) => ds.labels[i]) };
  }
}
