import type { Node } from '../../graph/graph.js';
import { numElements } from '../../graph/graph.js';
import { softmaxScaling } from '../../ops/softmax.js';
import { call, floatArg, intArg, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';

/** SOFTMAX int8 -> int8 over the last dimension -> tm_softmax_s8 (gemmlowp fixed point). */
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
  if (input.dtype !== 'int8' || output.dtype !== 'int8' || !input.quant || !output.quant) throw ctx.unsupported(`${input.dtype} -> ${output.dtype} SOFTMAX is not generated (int8 only)`);
  if (output.quant.zeroPoint[0] !== -128 || output.quant.scale[0] !== 1 / 256) throw ctx.unsupported('int8 output must have scale 1/256 and zero point -128');
  const s = softmaxScaling(node, Math.fround(node.options.beta), input.quant.scale[0]);
  const depth = input.shape[input.shape.length - 1];
  ctx.requireDisjoint(input, output, 'SOFTMAX');
  const params = ctx.struct('tm_softmax_params', 'params', {
    rows: numElements(input.shape) / depth, depth, input_mult: s.inputMultiplier, input_left_shift: s.inputLeftShift, diff_min: s.diffMin,
  });
  return {
    headers: ['tm_softmax.h'],
    definitions: [structDef(params)],
    weights: [],
    statements: [call('tm_softmax_s8', structArg(params), ctx.ptr(input), ctx.ptr(output))],
  };
}
