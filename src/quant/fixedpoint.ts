/**
 * TFLite's integer arithmetic (gemmlowp-style fixed point), written once and used by every int8 kernel.
 * JavaScript numbers are doubles: every product below is kept under 2^53 or split so it is exact.
 */

const TWO_31 = 2147483648;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** std::round: halves away from zero (Math.round rounds halves up). */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** frexp: x = fraction * 2^exponent with |fraction| in [0.5, 1). Exact (powers of two only). */
export function frexp(x: number): { fraction: number; exponent: number } {
  if (x === 0 || !Number.isFinite(x)) return { fraction: x, exponent: 0 };
  let e = Math.ceil(Math.log2(Math.abs(x)));
  let f = x / 2 ** e;
  // log2 may be off by one near powers of two; nudge into [0.5, 1).
  while (Math.abs(f) >= 1) { f /= 2; e += 1; }
  while (Math.abs(f) < 0.5) { f *= 2; e -= 1; }
  return { fraction: f, exponent: e };
}

export interface QuantizedMultiplier {
  /** Q31 fixed-point multiplier in [2^30, 2^31) (or 0). */
  multiplier: number;
  /** Power-of-two exponent: positive = left shift. */
  shift: number;
}

/** TFLite QuantizeMultiplier: real = multiplier * 2^(shift - 31). */
export function quantizeMultiplier(real: number): QuantizedMultiplier {
  if (real === 0) return { multiplier: 0, shift: 0 };
  const { fraction, exponent } = frexp(real);
  let shift = exponent;
  let q = roundHalfAway(fraction * TWO_31);
  if (q === TWO_31) {
    q /= 2;
    shift += 1;
  }
  if (shift < -31) {
    shift = 0;
    q = 0;
  }
  return { multiplier: q, shift };
}

/**
 * gemmlowp SaturatingRoundingDoublingHighMul: the high 32 bits of 2*a*b, rounded half away from zero
 * (the nudge), then truncated toward zero as C++ integer division does.
 */
export function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const absA = a < 0 ? -a : a;
  const absB = b < 0 ? -b : b;
  if (absA < 4194304 || absB < 4194304) {
    // |a*b| < 2^22 * 2^31 = 2^53: the product and the nudge are exact in a double.
    const ab = a * b;
    const nudge = ab >= 0 ? 1073741824 : -1073741823;
    return ((ab + nudge) / TWO_31) | 0; // truncates toward zero; the result fits in int32
  }
  return highMulSplit(a, b);
}

/** The same computation for large operands: split b into 16-bit halves so each partial product is exact. */
function highMulSplit(a: number, b: number): number {
  const bl = b & 0xffff;            // [0, 65536)
  const bh = (b - bl) / 65536;      // signed high half
  const x = a * bh;                 // |x| < 2^46, exact
  const y = a * bl;                 // |y| < 2^47, exact
  const xh = Math.floor(x / 32768); // x = xh*2^15 + xl
  const xl = x - xh * 32768;
  // a*b = xh*2^31 + xl*2^16 + y
  const sign = Math.sign(xh * TWO_31 + (xl * 65536 + y)) >= 0 ? 1 : -1;
  const nudge = sign >= 0 ? 1073741824 : -1073741823;
  const r = xl * 65536 + y + nudge; // |r| < 2^48, exact
  const rFloor = Math.floor(r / TWO_31);
  const floorQ = xh + rFloor;
  const rem = r - rFloor * TWO_31;
  // Total = floorQ*2^31 + rem with 0 <= rem < 2^31; C++ division truncates toward zero.
  const totalNegative = floorQ < 0;
  return (totalNegative && rem !== 0 ? floorQ + 1 : floorQ) | 0;
}

/** gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero. */
export function roundingDivideByPOT(x: number, exponent: number): number {
  if (exponent === 0) return x;
  const mask = (1 << exponent) - 1;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** TFLite MultiplyByQuantizedMultiplier (double-rounding variant, TFLite Micro's default). */
export function multiplyByQuantizedMultiplier(x: number, multiplier: number, shift: number): number {
  const leftShift = shift > 0 ? shift : 0;
  const rightShift = shift > 0 ? 0 : -shift;
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(Math.imul(x, 1 << leftShift), multiplier), rightShift);
}

/** MultiplyByQuantizedMultiplierSmallerThanOneExp: shift <= 0. */
export function multiplyByQuantizedMultiplierSmallerThanOne(x: number, multiplier: number, shift: number): number {
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(x, multiplier), -shift);
}

/** MultiplyByQuantizedMultiplierGreaterThanOne: shift >= 0. */
export function multiplyByQuantizedMultiplierGreaterThanOne(x: number, multiplier: number, shift: number): number {
  return saturatingRoundingDoublingHighMul(Math.imul(x, 1 << shift), multiplier);
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

export function saturateInt32(x: number): number {
  return x < INT32_MIN ? INT32_MIN : x > INT32_MAX ? INT32_MAX : x;
}
