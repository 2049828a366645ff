import { numElements } from '../../graph/graph.js';
import { call, floatArg, intArg } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';

/**
 * QUANTIZE float32 -> int8 and DEQUANTIZE int8 -> float32 (a float model's edges). Both tolerate the
 * output at the input's offset (the edge-quantize trick): QUANTIZE writes forwards, DEQUANTIZE backwards.
 */
export function lowerQuantize(ctx: LayerContext): LayerCode {
  const input = ctx.input(0), output = ctx.output();
  const quantize = ctx.node.op === 'QUANTIZE';
  const [from, to] = quantize ? ['float32', 'int8'] : ['int8', 'float32'];
  if (input.dtype !== from || output.dtype !== to) throw ctx.unsupported(`${input.dtype} -> ${output.dtype} is not generated (${from} -> ${to} only)`);
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
