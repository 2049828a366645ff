/**
 * Slow references for the elementwise op tests, in BigInt with C's int32/int64 semantics (wrapping int32,
 * 64-bit products, truncating division), written from gemmlowp's fixedpoint.h and TFLite's common.h
 * independently of src/ (which works in doubles with splitting tricks). Not a test file itself.
 */

const I32 = (x: bigint): bigint => BigInt.asIntN(32, x);
const MIN32 = -(1n << 31n);
const MAX32 = (1n << 31n) - 1n;

export function srdhm(a: bigint, b: bigint): bigint {
  if (a === MIN32 && b === MIN32) return MAX32;
  const ab = a * b;
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return I32((ab + nudge) / (1n << 31n)); // BigInt division truncates like C
}

/** x / 2^e rounded half away from zero (the mathematical definition, not gemmlowp's bit trick). */
export function rdbpot(x: bigint, e: number): bigint {
  if (e === 0) return x;
  const d = 1n << BigInt(e);
  const ax = x < 0n ? -x : x;
  const q = (ax + d / 2n) / d;
  return x < 0n ? -q : q;
}

/** TFLite MultiplyByQuantizedMultiplier (double rounding). */
export function mbqm(x: number, multiplier: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  return Number(rdbpot(srdhm(I32(BigInt(x) * (1n << BigInt(left))), BigInt(multiplier)), right));
}

function satMulPot(x: bigint, e: number): bigint {
  if (e === 0) return x;
  if (e < 0) return rdbpot(x, -e);
  const threshold = (1n << BigInt(31 - e)) - 1n;
  if (x > threshold) return MAX32;
  if (x < -threshold) return MIN32;
  return I32(x << BigInt(e));
}

function halfSum(a: bigint, b: bigint): bigint {
  const s = a + b;
  return (s + (s >= 0n ? 1n : -1n)) / 2n;
}

function expQuarter(a: bigint): bigint {
  const c = 1895147668n;
  const third = 715827883n;
  const x = I32(a + (1n << 28n));
  const x2 = srdhm(x, x);
  const x3 = srdhm(x2, x);
  const x4 = srdhm(x2, x2);
  const x4q = satMulPot(x4, -2);
  const p = satMulPot(I32(srdhm(I32(x4q + x3), third) + x2), -1);
  return I32(c + srdhm(c, I32(x + p)));
}

export function expNeg(a: bigint, intBits: number): bigint {
  const frac = 31 - intBits;
  const quarter = 1n << BigInt(frac - 2);
  const amq = I32((a & (quarter - 1n)) - quarter);
  let r = expQuarter(satMulPot(amq, intBits));
  const rem = I32(amq - a);
  const table: Array<[number, bigint]> = [[-2, 1672461947n], [-1, 1302514674n], [0, 790015084n], [1, 290630308n], [2, 39332535n], [3, 720401n], [4, 242n]];
  for (const [e, m] of table) {
    if (intBits > e && (rem & (1n << BigInt(frac + e))) !== 0n) r = srdhm(r, m);
  }
  if (intBits > 5 && a < -(1n << BigInt(36 - intBits))) r = 0n;
  return a === 0n ? MAX32 : r;
}

function newton(a: bigint): bigint {
  const half = halfSum(a, MAX32);
  let x = I32(1515870810n + srdhm(half, -1010580540n));
  for (let i = 0; i < 3; i++) {
    const hx = srdhm(half, x);
    const om = I32((1n << 29n) - hx);
    x = I32(x + satMulPot(srdhm(x, om), 2));
  }
  return x;
}

export function oneOverOnePlusX(a: bigint): bigint { return satMulPot(newton(a), 1); }
function oneMinusXOverOnePlusX(a: bigint): bigint { return satMulPot(I32(newton(a) - (1n << 29n)), 2); }

export function tanhRef(a: bigint, intBits: number): bigint {
  if (a === 0n) return 0n;
  const n = a < 0n ? a : I32(-a);
  const t = oneMinusXOverOnePlusX(expNeg(n, intBits + 1));
  return a < 0n ? I32(-t) : t;
}

export function logisticRef(a: bigint, intBits: number): bigint {
  if (a === 0n) return 1n << 30n;
  const abs = a > 0n ? a : I32(-a);
  const rp = oneOverOnePlusX(expNeg(I32(-abs), intBits));
  return a > 0n ? rp : I32(MAX32 - rp);
}

function clz32(x: bigint): number {
  return Math.clz32(Number(BigInt.asUintN(32, x)));
}

const sat32 = (x: bigint): bigint => (x > MAX32 ? MAX32 : x < MIN32 ? MIN32 : x);

export function logRef(x: bigint, inBits: number, outBits: number): bigint {
  const acc = outBits + 1;
  const log2 = 1488522236n;
  const ssh = 1805811301n;
  const sh = 1518500250n;
  const quarterAcc = satMulPot(536870912n, -acc);
  const ha = clz32(x);
  const ra = satMulPot(srdhm(satMulPot(x, ha - 1), sh), 1);
  const za = sat32(satMulPot(BigInt(inBits - ha), 31 - acc) + quarterAcc);
  const zb = srdhm(x, sh);
  const hb = clz32(zb) - 1;
  const rb = satMulPot(x, hb);
  const zbAdj = sat32(satMulPot(BigInt(inBits - hb), 31 - acc) - quarterAcc);
  const r = ra < rb ? ra : rb;
  const z = za > zbAdj ? za : zbAdj;
  const p = halfSum(r, ssh);
  let q = I32(r - ssh);
  q = I32(q + q);
  const sq = srdhm(q, q);
  const num = I32(srdhm(q, r) + srdhm(srdhm(q, sq), 117049297n));
  const den = I32(srdhm(p, I32(I32(1057819769n + q) + srdhm(127690142n, sq))) + srdhm(638450708n, q));
  const rec = oneOverOnePlusX(den);
  const ns = satMulPot(num, -acc);
  return satMulPot(I32(srdhm(z, log2) + srdhm(ns, rec)), acc - outBits);
}

/** GetReciprocal: [Q0.31 mantissa, num_bits_over_unit]. */
export function reciprocalRef(x: bigint, digits: number): [bigint, number] {
  const h = clz32(x);
  const shifted = I32(BigInt.asUintN(32, x << BigInt(h)) - (1n << 31n));
  return [oneOverOnePlusX(shifted), digits - h];
}

/** N-D index walk for a broadcast reference: offsets of each output element into both inputs. */
export function naiveBroadcastOffsets(s0: readonly number[], s1: readonly number[]): { out: number[]; o0: number[]; o1: number[] } {
  const rank = Math.max(s0.length, s1.length);
  const p0 = [...new Array<number>(rank - s0.length).fill(1), ...s0];
  const p1 = [...new Array<number>(rank - s1.length).fill(1), ...s1];
  const out = p0.map((d, i) => (d === 1 ? p1[i] : d));
  const total = out.reduce((a, b) => a * b, 1);
  const o0: number[] = [];
  const o1: number[] = [];
  for (let flat = 0; flat < total; flat++) {
    let rem = flat;
    const idx = new Array<number>(rank);
    for (let d = rank - 1; d >= 0; d--) { idx[d] = rem % out[d]; rem = Math.floor(rem / out[d]); }
    let a = 0;
    let b = 0;
    for (let d = 0; d < rank; d++) {
      a = a * p0[d] + (p0[d] === 1 ? 0 : idx[d]);
      b = b * p1[d] + (p1[d] === 1 ? 0 : idx[d]);
    }
    o0.push(a);
    o1.push(b);
  }
  return { out, o0, o1 };
}
