import { seededRandom } from '../util/random.js';
import type { Tensor } from '../graph/graph.js';
import { numElements, tensorBytes } from '../graph/graph.js';

/** Raw little-endian bytes -> numbers, by dtype. */
export function decodeTensor(t: Tensor, bytes: Uint8Array): number[] {
  const buf = bytes.slice().buffer;
  const n = numElements(t.shape);
  switch (t.dtype) {
    case 'int8': return Array.from(new Int8Array(buf, 0, n));
    case 'uint8': case 'bool': return Array.from(new Uint8Array(buf, 0, n));
    case 'int16': return Array.from(new Int16Array(buf, 0, n));
    case 'int32': return Array.from(new Int32Array(buf, 0, n));
    case 'float32': return Array.from(new Float32Array(buf, 0, n));
    case 'int64': return Array.from(new BigInt64Array(buf, 0, n), Number);
  }
}

/** real = scale * (q - zeroPoint), per-tensor quantisation only; null for float or unquantised. */
export function dequantize(t: Tensor, values: number[]): number[] | null {
  if (t.dtype === 'float32' || !t.quant || t.quant.scale.length !== 1) return null;
  const s = t.quant.scale[0];
  const z = t.quant.zeroPoint[0];
  return values.map((v) => s * (v - z));
}

/** Seeded random input: integers over the dtype's range, floats uniform in [-1, 1]. */
export function randomTensorBytes(t: Tensor, seed: number): Uint8Array {
  const rand = seededRandom(seed);
  const out = new Uint8Array(tensorBytes(t));
  if (t.dtype === 'float32') {
    const f = new Float32Array(out.buffer);
    for (let i = 0; i < f.length; i++) f[i] = rand() * 2 - 1;
  } else {
    for (let i = 0; i < out.length; i++) out[i] = Math.floor(rand() * 256);
  }
  return out;
}
