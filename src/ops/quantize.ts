/**
 * QUANTIZE: TFLite Micro's quantize_common.cc.
 *   float32 -> int8/uint8: AffineQuantize, q = round(x / scale) + zero point, the division in float and
 *     the rounding half away from zero, then clamped.
 *   int8/uint8 -> int8/uint8: Requantize, (q - in_zp) * (in_scale / out_scale) + out_zp with the
 *     multiplier as QuantizeMultiplier makes it; tabulated in prepare (256 entries).
 *   int16/int32 sides (version 2): the same two formulas element by element.
 * Per-channel quantisation (version 3) is refused.
 */
import type { DType } from '../graph/dtype.js';
import { dtypeRange } from '../graph/dtype.js';
import type { Graph, Node } from '../graph/graph.js';
import type { Kernel, OpDef, TensorViews } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { multiplyByQuantizedMultiplier, quantizeMultiplier, roundHalfAway } from '../quant/fixedpoint.js';
import {
  checkOutputShape, outputElements, quantOf, sameShapeAsInput, unsupportedTypes,
} from './elementwise_common.js';
import { reader, writer } from './element_access.js';

const INT32_MIN = -2147483648;

/**
 * static_cast<int32_t>(TfLiteRound(x / scale)) + zero_point, as x86-64 evaluates it: an out-of-range or
 * NaN conversion gives INT32_MIN, and the zero-point addition wraps.
 */
export function affineQuantizeValue(x: number, scale: number, zeroPoint: number, lo: number, hi: number): number {
  const r = roundHalfAway(Math.fround(x / scale));
  const asInt = r >= -2147483648 && r < 2147483648 ? r : INT32_MIN;
  const v = (asInt + zeroPoint) | 0;
  return v < lo ? lo : v > hi ? hi : v;
}

/** Requantize of one 8-bit value (reference_ops::Requantize). */
export function requantizeTable(inDtype: DType, inScale: number, inZp: number, outDtype: DType, outScale: number, outZp: number): Int32Array {
  const { multiplier, shift } = quantizeMultiplier(inScale / outScale);
  const [inLo] = dtypeRange(inDtype);
  const [lo, hi] = dtypeRange(outDtype);
  const table = new Int32Array(256);
  for (let k = 0; k < 256; k++) {
    const v = multiplyByQuantizedMultiplier(k + inLo - inZp, multiplier, shift) + outZp;
    table[k] = v < lo ? lo : v > hi ? hi : v;
  }
  return table;
}

const EIGHT_BIT: readonly DType[] = ['int8', 'uint8'];
const INTEGER: readonly DType[] = ['int8', 'uint8', 'int16', 'int32'];

/**
 * QUANTIZE with a 16- or 32-bit side: float -> int16/int32 by AffineQuantize, integer -> integer by
 * Requantize element by element (too many input values to tabulate).
 */
function wideQuantize(node: Node<'QUANTIZE'>, g: Graph, views: TensorViews, qo: { scale: number; zeroPoint: number }, lo: number, hi: number): Kernel {
  const input = inputTensor(node, g, 0), output = outputTensor(node, g);
  const w = writer(views, output);
  const n = outputElements(node, g);
  if (input.dtype === 'float32') {
    const x = views.float32(input.id);
    return () => { for (let i = 0; i < n; i++) w(i, affineQuantizeValue(x[i], qo.scale, qo.zeroPoint, lo, hi)); };
  }
  if (!INTEGER.includes(input.dtype)) throw unsupportedTypes(node, g);
  const qi = quantOf(node, input);
  const { multiplier, shift } = quantizeMultiplier(qi.scale / qo.scale);
  const r = reader(views, input);
  return () => {
    for (let i = 0; i < n; i++) {
      const v = multiplyByQuantizedMultiplier(Number(r(i)) - qi.zeroPoint, multiplier, shift) + qo.zeroPoint;
      w(i, v < lo ? lo : v > hi ? hi : v);
    }
  };
}

export const quantize: OpDef<'QUANTIZE'> = {
  name: 'QUANTIZE',
  // v1: float -> int8/uint8 and 8-bit requantisation; v2 int16 (and int32) outputs and requantising
  // between integer types; v3 per-channel and v4 int4 are refused.
  maxVersion: 2,
  inferShapes: sameShapeAsInput,
  prepare(node, g, views) {
    const input = inputTensor(node, g, 0);
    const output = outputTensor(node, g);
    checkOutputShape(node, g, input.shape);
    if (!INTEGER.includes(output.dtype)) throw unsupportedTypes(node, g);
    const qo = quantOf(node, output);
    const [lo, hi] = dtypeRange(output.dtype);
    if (!EIGHT_BIT.includes(output.dtype) || (INTEGER.includes(input.dtype) && !EIGHT_BIT.includes(input.dtype))) {
      return wideQuantize(node, g, views, qo, lo, hi);
    }
    const y = output.dtype === 'int8' ? views.int8(output.id) : views.uint8(output.id);
    const n = y.length;
    if (input.dtype === 'float32') {
      const x = views.float32(input.id);
      const { scale, zeroPoint } = qo;
      // Forward order keeps this correct even if the (smaller) output overlays the input.
      return () => {
        for (let i = 0; i < n; i++) {
          const r = Math.fround(x[i] / scale);
          // In range: plain rounding; NaN, infinities and huge values take the exact (x86) path.
          if (r > -1e9 && r < 1e9) {
            const v = (r < 0 ? -Math.round(-r) : Math.round(r)) + zeroPoint;
            y[i] = v < lo ? lo : v > hi ? hi : v;
          } else {
            y[i] = affineQuantizeValue(x[i], scale, zeroPoint, lo, hi);
          }
        }
      };
    }
    if (EIGHT_BIT.includes(input.dtype) && !(input.dtype === 'uint8' && output.dtype === 'uint8')) {
      const qi = quantOf(node, input);
      const table = requantizeTable(input.dtype, qi.scale, qi.zeroPoint, output.dtype, qo.scale, qo.zeroPoint);
      const x = input.dtype === 'int8' ? views.int8(input.id) : views.uint8(input.id);
      const base = dtypeRange(input.dtype)[0];
      return () => {
        for (let i = 0; i < n; i++) y[i] = table[x[i] - base];
      };
    }
    throw unsupportedTypes(node, g);
  },
  macs: outputElements,
  role: 'elementwise',
};
