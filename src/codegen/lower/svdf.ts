import type { Node } from '../../graph/graph.js';
import { floatActivationRange } from '../../quant/activation.js';
import { SVDF_STATE_INPUT, svdfGeometry, svdfIntegerScaling } from '../../ops/svdf.js';
import type { CArray } from '../c_syntax.js';
import type { CArg } from './kernel_call.js';
import { call, intArg, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';
import { operandArg } from './broadcast_binary.js';

const FLT_MAX = 3.4028234663852886e38;

/**
 * SVDF -> tm_svdf_f32 / tm_svdf_s8_s16 / tm_svdf_s8_s8 (tm_svdf.h), the state tensor updated in place in
 * the arena (the plan keeps variable tensors for the whole run; model_reset_state starts them over).
 */
export function lowerSvdf(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node<'SVDF'>;
  const x = ctx.input(0), wf = ctx.input(1), wt = ctx.input(2), bias = ctx.optionalInput(3), state = ctx.input(SVDF_STATE_INPUT), out = ctx.output();
  if (!state.variable) throw ctx.unsupported(`state ${state.name} is not a variable tensor`);
  for (const t of [x, state]) ctx.requireDisjoint(t, out, 'SVDF');
  const geo = svdfGeometry(node, ctx.graph);
  const shape = ctx.struct('tm_svdf_shape', 'shape', { batch: geo.batch, input_size: geo.inputSize, filters: geo.filters, units: geo.units, memory: geo.memory, rank: geo.rank });
  const weights: CArray[] = [];
  const args: CArg[] = [ctx.ptr(x), operandArg(ctx, weights, wf, 'weights_feature'), operandArg(ctx, weights, wt, 'weights_time'), bias ? operandArg(ctx, weights, bias, 'bias') : intArg(0), ctx.ptr(state), ctx.ptr(out)];
  const floats = [x, wf, wt, state, out].every((t) => t.dtype === 'float32') && (!bias || bias.dtype === 'float32');
  if (floats) {
    const [lo, hi] = floatActivationRange(node.options.activation);
    const act = ctx.struct('tm_float_act', 'act', { act_min: Math.max(lo, -FLT_MAX), act_max: Math.min(hi, FLT_MAX) });
    return { headers: ['tm_svdf.h'], definitions: [structDef(shape), structDef(act)], weights, statements: [call('tm_svdf_f32', structArg(shape), structArg(act), ...args)] };
  }
  const stateType = state.dtype;
  if (x.dtype !== 'int8' || wf.dtype !== 'int8' || out.dtype !== 'int8' || (stateType !== 'int8' && stateType !== 'int16') || wt.dtype !== stateType || (bias && bias.dtype !== 'int32')) {
    throw ctx.unsupported('SVDF is generated for float32, and int8 with int8 or int16 weights_time and state and int32 bias');
  }
  const s = svdfIntegerScaling(node, ctx.graph);
  const q = ctx.struct('tm_svdf_q_params', 'q', {
    in_zp: s.qi.zeroPoint, state_zp: s.qs.zeroPoint, out_zp: s.qo.zeroPoint,
    feature_mult: s.m1.multiplier, feature_shift: s.m1.shift, out_mult: s.m2.multiplier, out_shift: s.m2.shift,
    state_min: s.stateLo, state_max: s.stateHi,
  });
  const kernel = stateType === 'int16' ? 'tm_svdf_s8_s16' : 'tm_svdf_s8_s8';
  return { headers: ['tm_svdf.h'], definitions: [structDef(shape), structDef(q)], weights, statements: [call(kernel, structArg(shape), structArg(q), ...args)] };
}
