/**
 * gemmlowp's fixed-point math functions (fixedpoint.h) and the two TFLite adds to them (common.h:
 * log_x_for_x_greater_than_or_equal_to_1, GetReciprocal), as used by the int8 SOFTMAX, LOG_SOFTMAX,
 * LOGISTIC and TANH reference kernels.
 *
 * A gemmlowp `FixedPoint<int32_t, IntegerBits>` is a raw int32 holding value * 2^(31 - IntegerBits).
 * C++ carries IntegerBits in the type; here it is an argument, and values are plain int32 numbers.
 * gemmlowp's `+`/`-` are non-saturating int32 operations (they wrap in practice), hence the `| 0`s.
 */
import { roundingDivideByPOT, saturatingRoundingDoublingHighMul as mul } from './fixedpoint.js';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** FixedPoint<int32, 0>::One(): 1.0 is not representable in Q0.31, so gemmlowp uses the largest value. */
export const ONE_Q0 = INT32_MAX;

/**
 * SaturatingRoundingMultiplyByPOT: x * 2^exponent, saturating when exponent > 0,
 * rounding half away from zero when exponent < 0.
 */
export function saturatingRoundingMultiplyByPOT(x: number, exponent: number): number {
  if (exponent === 0) return x;
  if (exponent < 0) return roundingDivideByPOT(x, -exponent);
  const threshold = (1 << (31 - exponent)) - 1;
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return Math.imul(x, 1 << exponent);
}

/** Rescale<dstBits>(FixedPoint<srcBits>): change the number of integer bits. */
export function rescale(x: number, srcIntegerBits: number, dstIntegerBits: number): number {
  return saturatingRoundingMultiplyByPOT(x, srcIntegerBits - dstIntegerBits);
}

/** RoundingHalfSum: (a + b) / 2 rounded half away from zero, computed without overflow. */
export function roundingHalfSum(a: number, b: number): number {
  const sum = a + b; // exact in a double
  return Math.trunc((sum + (sum >= 0 ? 1 : -1)) / 2);
}

function saturatingAdd32(a: number, b: number): number {
  const s = a + b;
  return s > INT32_MAX ? INT32_MAX : s < INT32_MIN ? INT32_MIN : s;
}

function saturatingSub32(a: number, b: number): number {
  const s = a - b;
  return s > INT32_MAX ? INT32_MAX : s < INT32_MIN ? INT32_MIN : s;
}

/** exp(a) for a in [-1/4, 0), Q0.31 in and out: a 4th-order Taylor expansion around -1/8. */
export function expOnIntervalBetweenNegativeOneQuarterAnd0Excl(a: number): number {
  const constantTerm = 1895147668; // exp(-1/8)
  const oneThird = 715827883;
  const x = (a + (1 << 28)) | 0; // a + 1/8
  const x2 = mul(x, x);
  const x3 = mul(x2, x);
  const x4 = mul(x2, x2);
  const x4Over4 = roundingDivideByPOT(x4, 2);
  const poly = roundingDivideByPOT((mul((x4Over4 + x3) | 0, oneThird) + x2) | 0, 1);
  return (constantTerm + mul(constantTerm, (x + poly) | 0)) | 0;
}

/** exp of the pure powers-of-two part, -2^k, for k = -2..4, in Q0.31 (gemmlowp's barrel shifter table). */
const EXP_BARREL: ReadonlyArray<readonly [number, number]> = [
  [-2, 1672461947], [-1, 1302514674], [0, 790015084], [1, 290630308], [2, 39332535], [3, 720401], [4, 242],
];

/** exp(a) for a <= 0, `a` in Q(integerBits), result in Q0.31. */
export function expOnNegativeValues(a: number, integerBits: number): number {
  const fractionalBits = 31 - integerBits;
  const oneQuarter = 1 << (fractionalBits - 2);
  const aModQuarterMinusOneQuarter = ((a & (oneQuarter - 1)) - oneQuarter) | 0;
  let result = expOnIntervalBetweenNegativeOneQuarterAnd0Excl(rescale(aModQuarterMinusOneQuarter, integerBits, 0));
  const remainder = (aModQuarterMinusOneQuarter - a) | 0;
  for (const [exponent, multiplier] of EXP_BARREL) {
    if (integerBits > exponent && (remainder & (1 << (fractionalBits + exponent))) !== 0) {
      result = mul(result, multiplier);
    }
  }
  if (integerBits > 5 && a < -(1 << (36 - integerBits))) result = 0; // below -32: exp underflows
  return a === 0 ? ONE_Q0 : result;
}

/**
 * Newton-Raphson division shared by 1/(1+x) and (1-x)/(1+x), x in [0, 1) in Q0.31; the iterate lives in
 * Q2.29. Returns the Q2.29 iterate (approximately 1 / ((1+x)/2)).
 */
function reciprocalOfHalfDenominatorQ2(a: number): number {
  const halfDenominator = roundingHalfSum(a, ONE_Q0);
  const c48Over17 = 1515870810;
  const cNeg32Over17 = -1010580540;
  const oneQ2 = 1 << 29;
  let x = (c48Over17 + mul(halfDenominator, cNeg32Over17)) | 0;
  for (let i = 0; i < 3; i++) {
    const halfDenominatorTimesX = mul(halfDenominator, x);
    const oneMinus = (oneQ2 - halfDenominatorTimesX) | 0;
    x = (x + rescale(mul(x, oneMinus), 4, 2)) | 0;
  }
  return x;
}

/** 1 / (1 + x) for x in [0, 1), Q0.31 in and out. */
export function oneOverOnePlusXForXIn01(a: number): number {
  // ExactMulByPot<-1> turns Q2.29 into Q1.30 without touching the raw value; then back to Q0.31.
  return rescale(reciprocalOfHalfDenominatorQ2(a), 1, 0);
}

/** (1 - x) / (1 + x) for x in [0, 1), Q0.31 in and out. */
export function oneMinusXOverOnePlusXForXIn01(a: number): number {
  return rescale((reciprocalOfHalfDenominatorQ2(a) - (1 << 29)) | 0, 2, 0);
}

/** tanh(a), `a` in Q(integerBits), result in Q0.31. */
export function tanh(a: number, integerBits: number): number {
  if (a === 0) return 0;
  const n = a < 0 ? a : (-a | 0);
  // -tanh(n) for n < 0 = (1 - exp(2n)) / (1 + exp(2n)); 2n is the same raw value with one more integer bit.
  const t = oneMinusXOverOnePlusXForXIn01(expOnNegativeValues(n, integerBits + 1));
  return a < 0 ? (-t | 0) : t;
}

/** logistic(a) = 1 / (1 + exp(-a)), `a` in Q(integerBits), result in Q0.31. */
export function logistic(a: number, integerBits: number): number {
  if (a === 0) return 1 << 30;
  const positive = a > 0;
  const absA = positive ? a : (-a | 0);
  const ifPositive = oneOverOnePlusXForXIn01(expOnNegativeValues(-absA | 0, integerBits));
  return positive ? ifPositive : (ONE_Q0 - ifPositive) | 0;
}

/** TFLite's SaturatingRoundingMultiplyByPOTParam: a left shift by a run-time exponent >= 0, saturating. */
function saturatingShiftLeft(x: number, exponent: number): number {
  return saturatingRoundingMultiplyByPOT(x, exponent);
}

/**
 * TFLite's log_x_for_x_greater_than_or_equal_to_1_impl: log(x), x in Q(inputIntegerBits), result in
 * Q(outputIntegerBits). Range reduction by the leading-zero count, then a rational approximation around
 * 2^(1/4).
 */
export function logXForXGreaterThanOrEqualTo1(x: number, inputIntegerBits: number, outputIntegerBits: number): number {
  const accumBits = outputIntegerBits + 1;
  const log2 = 1488522236;
  const sqrtSqrtHalf = 1805811301;
  const sqrtHalf = 1518500250;
  const oneQuarter = 536870912;
  const alphaN = 117049297;
  const alphaD = 127690142;
  const alphaI = 1057819769;
  const alphaF = 638450708;

  const shiftedQuarter = rescale(oneQuarter, 0, accumBits);

  const zAHeadroomPlus1 = Math.clz32(x);
  const rATmp = saturatingShiftLeft(x, zAHeadroomPlus1 - 1);
  const rA = saturatingShiftLeft(mul(rATmp, sqrtHalf), 1);
  const zAPow2Adj = saturatingAdd32(
    saturatingShiftLeft(inputIntegerBits - zAHeadroomPlus1, 31 - accumBits), shiftedQuarter);

  const zB = mul(x, sqrtHalf);
  const zBHeadroom = Math.clz32(zB) - 1;
  const rB = saturatingShiftLeft(x, zBHeadroom);
  const zBPow2Adj = saturatingSub32(
    saturatingShiftLeft(inputIntegerBits - zBHeadroom, 31 - accumBits), shiftedQuarter);

  const r = Math.min(rA, rB);
  const zPow2Adj = Math.max(zAPow2Adj, zBPow2Adj);

  const p = roundingHalfSum(r, sqrtSqrtHalf);
  let q = (r - sqrtSqrtHalf) | 0;
  q = (q + q) | 0;
  const commonSq = mul(q, q);
  const num = (mul(q, r) + mul(mul(q, commonSq), alphaN)) | 0;
  const denomMinusOne = (mul(p, (((alphaI + q) | 0) + mul(alphaD, commonSq)) | 0) + mul(alphaF, q)) | 0;
  const recipDenom = oneOverOnePlusXForXIn01(denomMinusOne);
  const numScaled = rescale(num, 0, accumBits);
  return rescale((mul(zPow2Adj, log2) + mul(numScaled, recipDenom)) | 0, accumBits, outputIntegerBits);
}

/**
 * TFLite GetReciprocal: 1/x for x > 0 in Q(xIntegerDigits), returned as a Q0.31 mantissa; the caller
 * shifts by `out.numBitsOverUnit`. `out` is caller-owned so kernels allocate nothing per call.
 */
export function getReciprocal(x: number, xIntegerDigits: number, out: { numBitsOverUnit: number }): number {
  const headroomPlusOne = Math.clz32(x);
  out.numBitsOverUnit = xIntegerDigits - headroomPlusOne;
  // Normalise so bit 31 is set, then subtract 1.0 (2^31): x/2^k - 1 in [0, 1) as Q0.31.
  const shiftedSumMinusOne = (x << headroomPlusOne) & 0x7fffffff;
  return oneOverOnePlusXForXIn01(shiftedSumMinusOne);
}

/**
 * TFLite CalculateInputRadius: the largest |input difference| whose rescaled value still fits
 * Q(integerBits) after the left shift (double arithmetic, floored). Beyond it LOGISTIC / TANH saturate
 * and SOFTMAX ignores the element.
 */
export function calculateInputRadius(integerBits: number, leftShift: number, totalSignedBits = 31): number {
  return Math.floor(((2 ** integerBits) - 1) * 2 ** (totalSignedBits - integerBits) / 2 ** leftShift);
}

/**
 * TFLite GetInvSqrtQuantizedMultiplierExp: 1/sqrt(input) for an int32 input > 1 as a Q0.31 multiplier
 * and exponent, by 5 Newton-Raphson steps in Q3.28 from x = 1 after normalising the input into
 * [2^27, 2^29) by pairs of bits. `reverseShift` -1 turns the right shift into MultiplyByQuantizedMultiplier's
 * left-shift convention (kReverseShift). Inputs 0 and 1 give (INT32_MAX, 0), as the reference special-cases them.
 */
export function invSqrtQuantizedMultiplierExp(input: number, reverseShift: number): { multiplier: number; shift: number } {
  if (input <= 1) return { multiplier: INT32_MAX, shift: 0 };
  let shift = 11;
  while (input >= 1 << 29) {
    input = Math.trunc(input / 4);
    shift++;
  }
  const leftShiftBitPairs = Math.floor((Math.clz32(input) - 1) / 2) - 1;
  shift -= leftShiftBitPairs;
  input <<= 2 * leftShiftBitPairs;
  // Q3.28 values; a product of two is Q6.25, of three Q9.22, and Rescale back to Q3 saturates.
  const fxInput = input >> 1;
  const halfInput = roundingDivideByPOT(fxInput, 1);
  const halfThree = (1 << 28) + (1 << 27);
  let x = 1 << 28;
  for (let i = 0; i < 5; i++) {
    const x3 = rescale(mul(mul(x, x), x), 9, 3);
    x = rescale((mul(halfThree, x) - mul(halfInput, x3)) | 0, 6, 3);
  }
  let multiplier = mul(x, 1518500250); // times sqrt(2)/2 in Q0.31
  if (shift < 0) {
    multiplier <<= -shift;
    shift = 0;
  }
  return { multiplier, shift: shift * reverseShift };
}
