import type { Node } from '../../graph/graph.js';
import { logSoftmaxInt8Params } from '../../ops/log_softmax.js';
import { rows } from '../../ops/softmax.js';
import type { CArray } from '../c_syntax.js';
import { call, intArg, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';

/** LOG_SOFTMAX over the last dimension -> tm_log_softmax_s8 (with the op's own Prepare tables) or _f32. */
export function lowerLogSoftmax(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node<'LOG_SOFTMAX'>;
  const input = ctx.input(0), output = ctx.output();
  const { outer, depth } = rows(node, ctx.graph);
  ctx.requireDisjoint(input, output, 'LOG_SOFTMAX');
  if (input.dtype === 'float32' && output.dtype === 'float32') {
    return { headers: ['tm_log_softmax.h'], definitions: [], weights: [], statements: [call('tm_log_softmax_f32', intArg(outer), intArg(depth), ctx.ptr(input), ctx.ptr(output))] };
  }
  if (input.dtype !== 'int8' || output.dtype !== 'int8') throw ctx.unsupported(`${input.dtype} -> ${output.dtype} is not generated`);
  const p = logSoftmaxInt8Params(node, ctx.graph);
  const table = (what: string, values: Int32Array): CArray => ({ name: ctx.name(what), type: 'int32_t', values, align: 4, linkage: 'extern', comment: `LOG_SOFTMAX ${what}, indexed by max - x` });
  const diffQ5 = table('diff_q5', p.diffQ5), expQ12 = table('exp_q12', p.expQ12);
  const params = ctx.struct('tm_log_softmax_params', 'params', {
    rows: outer, depth, diff_min: p.diffMin, reverse_mult: p.reverse.multiplier, reverse_shift: p.reverse.shift, diff_q5: diffQ5, exp_q12: expQ12,
  });
  return {
    headers: ['tm_log_softmax.h'], definitions: [structDef(params)], weights: [diffQ5, expQ12],
    statements: [call('tm_log_softmax_s8', structArg(params), ctx.ptr(input), ctx.ptr(output))],
  };
}
