import { numElements } from '../../graph/graph.js';
import type { Node, Tensor } from '../../graph/graph.js';
import { dtypeRange } from '../../graph/dtype.js';
import { quantizeMultiplier } from '../../quant/fixedpoint.js';
import { quantOf } from '../../ops/elementwise_common.js';
import { call, floatArg, intArg, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';

/**
 * QUANTIZE float32 -> int8 and DEQUANTIZE int8 -> float32 (a float model's edges). Both tolerate the
 * output at the input's offset (the edge-quantize trick): QUANTIZE writes forwards, DEQUANTIZE backwards.
 */
export function lowerQuantize(ctx: LayerContext): LayerCode {
  const input = ctx.input(0), output = ctx.output();
  const quantize = ctx.node.op === 'QUANTIZE';
  const [from, to] = quantize ? ['float32', 'int8'] : ['int8', 'float32'];
  if (input.dtype !== from || output.dtype !== to) return lowerRequantize(ctx);
  const q = (quantize ? output : input).quant;
  if (!q || q.scale.length !== 1) throw ctx.unsupported('per-tensor quantisation required');
  if (ctx.overlap(input, output) === 'partial') throw ctx.unsupported('the memory plan overlays output and input at different offsets');
  const args = [intArg(numElements(input.shape)), floatArg(q.scale[0]), intArg(q.zeroPoint[0]), ctx.ptr(input), ctx.ptr(output)];
  return {
    headers: ['tm_quantize.h'],
    definitions: [],
    weights: [],
    statements: [call(quantize ? 'tm_quantize_f32_s8' : 'tm_dequantize_s8_f32', ...args)],
  };
}

/** Element type codes of tm_requantize.h (TM_Q_*). */
const Q_TYPES: Partial<Record<Tensor['dtype'], number>> = { int8: 1, uint8: 2, int16: 3, int32: 4 };

/** The other QUANTIZE / DEQUANTIZE pairs (uint8, int16, int32 sides) -> tm_requantize.h, as the TypeScript op computes them. */
function lowerRequantize(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node;
  const input = ctx.input(0), output = ctx.output();
  const inType = Q_TYPES[input.dtype] ?? 0, outType = Q_TYPES[output.dtype] ?? 0;
  const f: Record<string, number> = { in_type: inType, out_type: outType, in_zp: 0, out_zp: 0, mult: 0, shift: 0, scale: 0, lo: 0, hi: 0 };
  let kernel: string;
  if (node.op === 'DEQUANTIZE') {
    if (!inType || output.dtype !== 'float32') throw ctx.unsupported(`${input.dtype} -> ${output.dtype} is not generated`);
    const q = quantOf(node, input);
    Object.assign(f, { in_zp: q.zeroPoint, scale: q.scale });
    kernel = 'tm_dequantize';
  } else {
    if (!outType) throw ctx.unsupported(`${input.dtype} -> ${output.dtype} is not generated`);
    const qo = quantOf(node, output);
    const [lo, hi] = dtypeRange(output.dtype);
    Object.assign(f, { out_zp: qo.zeroPoint, lo, hi });
    if (input.dtype === 'float32') {
      f.scale = qo.scale;
      kernel = 'tm_affine_quantize';
    } else {
      if (!inType) throw ctx.unsupported(`${input.dtype} -> ${output.dtype} is not generated`);
      const qi = quantOf(node, input);
      const m = quantizeMultiplier(qi.scale / qo.scale);
      Object.assign(f, { in_zp: qi.zeroPoint, mult: m.multiplier, shift: m.shift });
      kernel = 'tm_requantize';
    }
  }
  const layout = ctx.overlap(input, output);
  if (layout === 'partial') throw ctx.unsupported('the memory plan overlays output and input at different offsets');
  const params = ctx.struct('tm_requantize_params', 'params', f);
  return {
    headers: ['tm_requantize.h'], definitions: [structDef(params)], weights: [],
    statements: [call(kernel, structArg(params), intArg(numElements(input.shape)), ctx.ptr(input), ctx.ptr(output))],
  };
}
