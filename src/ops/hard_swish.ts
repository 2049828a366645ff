/**
 * HARD_SWISH: x * relu6(x + 3) / 6. TFLite Micro's hard_swish_common.cc + reference/hard_swish.h.
 *
 * int8 works in 16-bit fixed point: the input is put on a "hires" scale (input scale / 128); one Q15
 * multiplier takes it to the output scale (before a final right shift), another to the "reluish" scale
 * where 3.0 is 32768, giving a factor in [0, 1] by which the output-scaled input is multiplied. The
 * int16 arithmetic (and its wrap-around) is reproduced exactly; the result depends on one int8 value, so
 * prepare tabulates it.
 */
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { UnsupportedOpError } from '../errors.js';
import { quantizeMultiplier } from '../quant/fixedpoint.js';
import {
  int8Table, outputElements, quantOf, sameShapeAsInput, unaryKernel,
} from './elementwise_common.js';

const INT16_MIN = -32768;
const INT16_MAX = 32767;

/** Truncate to int16 as a C cast does (two's complement wrap). */
function toInt16(x: number): number {
  return (x << 16) >> 16;
}

/** gemmlowp SaturatingRoundingDoublingHighMul for int16. */
function srdhm16(a: number, b: number): number {
  if (a === INT16_MIN && b === INT16_MIN) return INT16_MAX;
  const ab = a * b;
  const nudge = ab >= 0 ? 1 << 14 : 1 - (1 << 14);
  return toInt16(Math.trunc((ab + nudge) / 32768));
}

/** hard_swish.h SaturatingDoublingHighMul: like srdhm16 but truncating (no nudge). */
function sdhm16(a: number, b: number): number {
  if (a === INT16_MIN && b === INT16_MIN) return INT16_MAX;
  return toInt16(Math.trunc((a * b) / 32768));
}

/** gemmlowp RoundingDivideByPOT on int16 (its mask is an int16 too, which matters for exponents >= 16). */
function roundingDivideByPOT16(x: number, exponent: number): number {
  const mask = toInt16(2 ** exponent - 1);
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return toInt16((x >> exponent) + (remainder > threshold ? 1 : 0));
}

function saturatingLeftShift16(value: number, amount: number): number {
  const r = value * 2 ** amount;
  return r > INT16_MAX ? INT16_MAX : r < INT16_MIN ? INT16_MIN : r;
}

/** DownScaleInt32ToInt16Multiplier: round a Q31 multiplier to Q15. */
function downScaleToInt16(m: number): number {
  if (m >= 2147483647 - (1 << 15)) return INT16_MAX;
  return (m + (1 << 15)) >> 16;
}

export interface HardSwishParams {
  inputZeroPoint: number;
  outputZeroPoint: number;
  outputMultiplier: number;
  outputExponent: number;
  reluishMultiplier: number;
  reluishExponent: number;
}

/** HardSwishPrepare: the scales are combined in float, as the C code does. */
export function hardSwishParams(inScale: number, inZeroPoint: number, outScale: number, outZeroPoint: number): HardSwishParams {
  const hiresInputScale = Math.fround(Math.fround(1 / 128) * inScale);
  const reluishScale = Math.fround(3 / 32768);
  const out = quantizeMultiplier(Math.fround(hiresInputScale / outScale));
  const reluish = quantizeMultiplier(Math.fround(hiresInputScale / reluishScale));
  return {
    inputZeroPoint: inZeroPoint,
    outputZeroPoint: outZeroPoint,
    outputMultiplier: downScaleToInt16(out.multiplier),
    outputExponent: out.shift,
    reluishMultiplier: downScaleToInt16(reluish.multiplier),
    reluishExponent: reluish.shift,
  };
}

/** reference_ops::HardSwish<int8_t> for one value. */
export function hardSwishInt8(q: number, p: HardSwishParams): number {
  const inputValue = toInt16(q - p.inputZeroPoint);
  const hires = toInt16(inputValue * 128);
  const preshiftOutputScale = srdhm16(hires, p.outputMultiplier);
  let reluish = hires;
  if (p.reluishExponent > 0) reluish = saturatingLeftShift16(reluish, p.reluishExponent - 1);
  reluish = srdhm16(reluish, p.reluishMultiplier);
  if (p.reluishExponent > 0) reluish = saturatingLeftShift16(reluish, 1);
  if (p.reluishExponent < 0) reluish = roundingDivideByPOT16(reluish, -p.reluishExponent);
  // From [-1, 1] to [0, 1] in Q15.
  reluish = toInt16((reluish + (1 << 15)) >> 1);
  const preshiftOutput = sdhm16(reluish, preshiftOutputScale);
  let v = roundingDivideByPOT16(preshiftOutput, -p.outputExponent);
  v = toInt16(v + p.outputZeroPoint);
  return v > 127 ? 127 : v < -128 ? -128 : v;
}

export const hardSwish: OpDef<'HARD_SWISH'> = {
  name: 'HARD_SWISH',
  // The converter gives HARD_SWISH version 1 for float and int8 alike.
  maxVersion: 1,
  inferShapes: sameShapeAsInput,
  prepare(node, g, views) {
    // in * min(6, max(0, in + 3)) / 6, each operation rounded to float.
    const float32 = (v: number) => {
      const r = Math.fround(v + 3);
      const c = r < 0 ? 0 : r > 6 ? 6 : r;
      return Math.fround(v * c) / 6;
    };
    return unaryKernel(node, g, views, { table: hardSwish.int8Table!(node, g), float32 });
  },
  int8Table(node, g) {
    const input = inputTensor(node, g, 0), output = outputTensor(node, g);
    if (input.dtype !== 'int8' || output.dtype !== 'int8') return null;
    const qi = quantOf(node, input), qo = quantOf(node, output);
    const p = hardSwishParams(qi.scale, qi.zeroPoint, qo.scale, qo.zeroPoint);
    if (p.outputExponent > 0) {
      throw new UnsupportedOpError('HARD_SWISH', node.index, 'input scale / output scale >= 256 (TFLite requires a right shift)');
    }
    return int8Table((q) => hardSwishInt8(q, p));
  },
  macs: outputElements,
  role: 'elementwise',
};
