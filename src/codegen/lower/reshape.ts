import { tensorBytes } from '../../graph/graph.js';
import { call, comment, intArg } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';

/** RESHAPE / SQUEEZE: the bytes do not change; a memmove when the plan gave the output its own place. */
export function lowerReshape(ctx: LayerContext): LayerCode {
  const input = ctx.input(0), output = ctx.output();
  if (input.data) throw ctx.unsupported('reshape of a constant');
  const same = ctx.overlap(input, output) === 'same';
  return {
    headers: ['tm_common.h'],
    definitions: [],
    weights: [],
    statements: [same
      ? comment(`${output.name} aliases ${input.name}: nothing to move`)
      : call('memmove', ctx.ptr(output), ctx.ptr(input), intArg(tensorBytes(input)))],
  };
}
