import type { Node } from '../../graph/graph.js';
import { numElements } from '../../graph/graph.js';
import { softmaxScaling } from '../../ops/softmax.js';
import { call, floatArg, intArg, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';

/** SOFTMAX over the last dimension: int8 -> int8 / int16 (tm_softmax_s8, tm_softmax_s8_s16: gemmlowp fixed point), float32. */
export function lowerSoftmax(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node<'SOFTMAX'>;
  const input = ctx.input(0), output = ctx.output();
  if (input.dtype === 'float32' && output.dtype === 'float32') {
    const depth = input.shape[input.shape.length - 1];
    // Row by row: the output may not overwrite a row before it is read, so in place only at the same offset.
    if (ctx.overlap(input, output) === 'partial') throw ctx.unsupported('the memory plan overlays output and input at different offsets');
    return {
      headers: ['tm_softmax.h'], definitions: [], weights: [],
      statements: [call('tm_softmax_f32', intArg(numElements(input.shape) / depth), intArg(depth), floatArg(Math.fround(node.options.beta)), ctx.ptr(input), ctx.ptr(output))],
    };
  }
  const to16 = output.dtype === 'int16';
  if (input.dtype !== 'int8' || (output.dtype !== 'int8' && !to16) || !input.quant || !output.quant) throw ctx.unsupported(`${input.dtype} -> ${output.dtype} SOFTMAX is not generated (int8 to int8 or int16)`);
  const q = { scale: output.quant.scale[0], zp: output.quant.zeroPoint[0] };
  const fixed = to16 ? q.zp === -32768 && Math.abs(Math.fround(q.scale) - 1 / 65536) <= 0.001 / 65536 : q.zp === -128 && q.scale === 1 / 256;
  if (!fixed) throw ctx.unsupported(`${output.dtype} output must have the fixed quantisation (1/256, -128 or 1/65536, -32768)`);
  const s = softmaxScaling(node, Math.fround(node.options.beta), input.quant.scale[0]);
  const depth = input.shape[input.shape.length - 1];
  ctx.requireDisjoint(input, output, 'SOFTMAX');
  const params = ctx.struct('tm_softmax_params', 'params', {
    rows: numElements(input.shape) / depth, depth, input_mult: s.inputMultiplier, input_left_shift: s.inputLeftShift, diff_min: s.diffMin,
  });
  return {
    headers: [to16 ? 'tm_softmax16.h' : 'tm_softmax.h'],
    definitions: [structDef(params)],
    weights: [],
    statements: [call(to16 ? 'tm_softmax_s8_s16' : 'tm_softmax_s8', structArg(params), ctx.ptr(input), ctx.ptr(output))],
  };
}
