/**
 * The matrix products CONV_2D and FULLY_CONNECTED reduce to, and the int8 requantisation step.
 *
 * Two int8 dot products per multiply: the weights of output channels c and c+1 are packed into one
 * double, w[c] + w[c+1] * 2^26, so one multiply-add of an input value accumulates
 * S0 + S1 * 2^26. While |S0| < 2^25 (K <= 2047 taps of at most 128 * 128) the two sums come apart
 * exactly: S1 = round(acc / 2^26), S0 = acc - S1 * 2^26; every partial sum stays below 2^53, so the
 * double arithmetic is exact integer arithmetic. Float multiply-adds also carry no overflow checks,
 * which int32 arithmetic in V8 does. `packed: false` runs the plain int32 loop (the reference shape).
 */
import { saturatingRoundingDoublingHighMul } from '../quant/fixedpoint.js';

const LANE = 67108864; // 2^26
const INV_LANE = 1 / LANE;
const TWO_POW_MINUS_31 = 1 / 2147483648;
/** Largest K for which the packed lanes cannot overlap: K * 2^14 < 2^25. */
export const MAX_PACKED_K = 2047;

/** What turns an int32 accumulator into an int8 output, per output channel. */
export interface Int8Requant {
  /** bias + input_offset * sum(weights): the hot loops sum raw x * w. */
  bias: Int32Array;
  multiplier: Int32Array;
  shift: Int32Array;
  outZp: number;
  actMin: number;
  actMax: number;
}

/** Requantisation parameters split for the fast path: left and right shifts as separate non-negative counts. */
export interface Requant {
  bias: Int32Array;
  m: Int32Array;
  left: Int32Array;
  right: Int32Array;
  outZp: number;
  lo: number;
  hi: number;
}

export function splitRequant(q: Int8Requant): Requant {
  const n = q.multiplier.length;
  const left = new Int32Array(n);
  const right = new Int32Array(n);
  for (let c = 0; c < n; c++) {
    left[c] = q.shift[c] > 0 ? q.shift[c] : 0;
    right[c] = q.shift[c] > 0 ? 0 : -q.shift[c];
  }
  return { bias: q.bias, m: q.multiplier, left, right, outZp: q.outZp, lo: q.actMin, hi: q.actMax };
}

/**
 * MultiplyByQuantizedMultiplier(acc, m, shift) + outZp, clamped: the same function as
 * quant/fixedpoint.ts (tested equal), small enough for V8 to inline into the kernels' loops.
 * |x| < 2^22 keeps x * m below 2^53, so the high multiply is one exact double product.
 */
export function requant(acc: number, m: number, left: number, right: number, outZp: number, lo: number, hi: number): number {
  const x = left === 0 ? acc | 0 : Math.imul(acc, 1 << left);
  let h: number;
  if (x < 4194304 && x > -4194304) {
    const ab = x * m;
    h = ((ab + (ab >= 0 ? 1073741824 : -1073741823)) * TWO_POW_MINUS_31) | 0; // exact: a power-of-two scaling
  } else {
    h = saturatingRoundingDoublingHighMul(x, m);
  }
  if (right > 0) {
    // RoundingDivideByPOT: shift right, rounding half away from zero.
    const mask = (1 << right) - 1;
    const threshold = (mask >> 1) + (h < 0 ? 1 : 0);
    h = (h >> right) + ((h & mask) > threshold ? 1 : 0);
  }
  const v = h + outZp;
  return v < lo ? lo : v > hi ? hi : v;
}

/** An int8 weight matrix [cout, K] with its requantisation, prepared once for `runInt8Gemm`. */
export interface Int8Gemm {
  K: number;
  cout: number;
  w: Int8Array;
  /** Channel pairs packed as w[2j] + w[2j+1] * 2^26, or null for the plain loop. */
  packed: Float64Array | null;
  rq: Requant;
  /** Accumulators of one block of rows (bias included), requantised after the block's products. */
  acc: Int32Array;
}

/** Rows per block: the products of a block run first, then one tight requantisation loop over it. */
const BLOCK_ROWS = 32;
/** The row block: a call of runInt8Gemm with no more rows reads them all before writing any (in-place pointwise). */
export const GEMM_BLOCK_ROWS = BLOCK_ROWS;

export function prepareInt8Gemm(w: Int8Array, cout: number, K: number, q: Int8Requant, pack = true): Int8Gemm {
  let packed: Float64Array | null = null;
  if (pack && K <= MAX_PACKED_K) {
    const pairs = (cout + 1) >> 1;
    packed = new Float64Array(pairs * K);
    for (let j = 0; j < pairs; j++) {
      const c0 = 2 * j * K;
      const c1 = c0 + K;
      const hasOdd = 2 * j + 1 < cout;
      for (let k = 0; k < K; k++) packed[j * K + k] = w[c0 + k] + (hasOdd ? w[c1 + k] * LANE : 0);
    }
  }
  return { K, cout, w, packed, rq: splitRequant(q), acc: new Int32Array(BLOCK_ROWS * cout) };
}

/**
 * out[outOff + r * cout + c] = requant(bias[c] + sum_k a[aOff + r * aStride + k] * w[c * K + k])
 * for rows r < `rows`.
 */
export function runInt8Gemm(gm: Int8Gemm, a: Int8Array, aOff: number, aStride: number, rows: number, out: Int8Array, outOff: number): void {
  for (let r = 0; r < rows; r += BLOCK_ROWS) {
    const n = Math.min(BLOCK_ROWS, rows - r);
    if (gm.packed) packedProducts(gm, gm.packed, a, aOff + r * aStride, aStride, n);
    else plainProducts(gm, a, aOff + r * aStride, aStride, n);
    requantRows(gm.rq, gm.acc, n * gm.cout, out, outOff + r * gm.cout);
  }
}

/** out[outOff + i] = requant(acc[i]) with channel i % cout. */
export function requantRows(rq: Requant, acc: Int32Array, n: number, out: Int8Array, outOff: number): void {
  const { m, left, right, outZp, lo, hi } = rq;
  const cout = m.length;
  let c = 0;
  for (let i = 0; i < n; i++) {
    out[outOff + i] = requant(acc[i], m[c], left[c], right[c], outZp, lo, hi);
    if (++c === cout) c = 0;
  }
}

/** acc[r * cout + 2j], acc[r * cout + 2j + 1] = bias + the two sums a packed accumulator holds. */
function unpackPair(acc: Int32Array, bias: Int32Array, s: number, o: number, c: number, cout: number): void {
  const s1 = Math.round(s * INV_LANE);
  acc[o + c] = s - s1 * LANE + bias[c];
  if (c + 1 < cout) acc[o + c + 1] = s1 + bias[c + 1];
}

function packedProducts(gm: Int8Gemm, p: Float64Array, a: Int8Array, aOff: number, aStride: number, rows: number): void {
  const { K, cout, acc } = gm;
  const bias = gm.rq.bias;
  const pairs = (cout + 1) >> 1;
  let r = 0;
  // Two rows by four channel pairs (eight channels): six loads feed eight multiply-adds, 16 MACs.
  for (; r + 1 < rows; r += 2) {
    const a0 = aOff + r * aStride;
    const a1 = a0 + aStride;
    const o0 = r * cout;
    const o1 = o0 + cout;
    let j = 0;
    for (; j + 3 < pairs; j += 4) {
      const p0 = j * K, p1 = p0 + K, p2 = p1 + K, p3 = p2 + K;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let k = 0; k < K; k++) {
        const x0 = a[a0 + k];
        const x1 = a[a1 + k];
        const w0 = p[p0 + k], w1 = p[p1 + k], w2 = p[p2 + k], w3 = p[p3 + k];
        s00 += x0 * w0; s01 += x0 * w1; s02 += x0 * w2; s03 += x0 * w3;
        s10 += x1 * w0; s11 += x1 * w1; s12 += x1 * w2; s13 += x1 * w3;
      }
      const c = 2 * j;
      unpackPair(acc, bias, s00, o0, c, cout); unpackPair(acc, bias, s01, o0, c + 2, cout);
      unpackPair(acc, bias, s02, o0, c + 4, cout); unpackPair(acc, bias, s03, o0, c + 6, cout);
      unpackPair(acc, bias, s10, o1, c, cout); unpackPair(acc, bias, s11, o1, c + 2, cout);
      unpackPair(acc, bias, s12, o1, c + 4, cout); unpackPair(acc, bias, s13, o1, c + 6, cout);
    }
    for (; j < pairs; j++) {
      const p0 = j * K;
      let s0 = 0, s1 = 0;
      for (let k = 0; k < K; k++) {
        const w0 = p[p0 + k];
        s0 += a[a0 + k] * w0;
        s1 += a[a1 + k] * w0;
      }
      unpackPair(acc, bias, s0, o0, 2 * j, cout);
      unpackPair(acc, bias, s1, o1, 2 * j, cout);
    }
  }
  for (; r < rows; r++) {
    const a0 = aOff + r * aStride;
    const o0 = r * cout;
    for (let j = 0; j < pairs; j++) {
      const p0 = j * K;
      let s = 0;
      for (let k = 0; k < K; k++) s += a[a0 + k] * p[p0 + k];
      unpackPair(acc, bias, s, o0, 2 * j, cout);
    }
  }
}

/** The reference shape: one int32 dot product per output. */
function plainProducts(gm: Int8Gemm, a: Int8Array, aOff: number, aStride: number, rows: number): void {
  const { K, cout, w, acc } = gm;
  const bias = gm.rq.bias;
  for (let r = 0; r < rows; r++) {
    const a0 = aOff + r * aStride;
    for (let c = 0; c < cout; c++) {
      const w0 = c * K;
      let s = 0;
      for (let k = 0; k < K; k++) s = (s + a[a0 + k] * w[w0 + k]) | 0;
      acc[r * cout + c] = s + bias[c];
    }
  }
}

/**
 * The float32 counterpart: out = clamp(bias + sum a * w), in float32 arithmetic step by step as the
 * C++ reference does (each product and each partial sum rounded to float32, summed in k order), so
 * results match TFLite Micro's bit for bit. A double product of two floats is exact and a double sum
 * rounded to float32 equals the float32 sum, so Math.fround after each operation is exact emulation.
 */
export function gemmFloat(
  a: Float32Array, aOff: number, aStride: number, rows: number, K: number,
  w: Float32Array, cout: number, bias: Float32Array, actMin: number, actMax: number, out: Float32Array, outOff: number,
): void {
  let r = 0;
  for (; r + 1 < rows; r += 2) {
    const a0 = aOff + r * aStride;
    const a1 = a0 + aStride;
    const o0 = outOff + r * cout;
    const o1 = o0 + cout;
    let c = 0;
    for (; c + 1 < cout; c += 2) {
      const w0 = c * K;
      const w1 = w0 + K;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0;
      for (let k = 0; k < K; k++) {
        const x0 = a[a0 + k], x1 = a[a1 + k], v0 = w[w0 + k], v1 = w[w1 + k];
        s00 = Math.fround(s00 + Math.fround(x0 * v0));
        s01 = Math.fround(s01 + Math.fround(x0 * v1));
        s10 = Math.fround(s10 + Math.fround(x1 * v0));
        s11 = Math.fround(s11 + Math.fround(x1 * v1));
      }
      out[o0 + c] = Math.min(Math.max(Math.fround(s00 + bias[c]), actMin), actMax);
      out[o0 + c + 1] = Math.min(Math.max(Math.fround(s01 + bias[c + 1]), actMin), actMax);
      out[o1 + c] = Math.min(Math.max(Math.fround(s10 + bias[c]), actMin), actMax);
      out[o1 + c + 1] = Math.min(Math.max(Math.fround(s11 + bias[c + 1]), actMin), actMax);
    }
    for (; c < cout; c++) {
      const w0 = c * K;
      let s0 = 0, s1 = 0;
      for (let k = 0; k < K; k++) {
        s0 = Math.fround(s0 + Math.fround(a[a0 + k] * w[w0 + k]));
        s1 = Math.fround(s1 + Math.fround(a[a1 + k] * w[w0 + k]));
      }
      out[o0 + c] = Math.min(Math.max(Math.fround(s0 + bias[c]), actMin), actMax);
      out[o1 + c] = Math.min(Math.max(Math.fround(s1 + bias[c]), actMin), actMax);
    }
  }
  for (; r < rows; r++) {
    const a0 = aOff + r * aStride;
    const o0 = outOff + r * cout;
    for (let c = 0; c < cout; c++) {
      const w0 = c * K;
      let s = 0;
      for (let k = 0; k < K; k++) s = Math.fround(s + Math.fround(a[a0 + k] * w[w0 + k]));
      out[o0 + c] = Math.min(Math.max(Math.fround(s + bias[c]), actMin), actMax);
    }
  }
}
