import type { Node } from '../../graph/graph.js';
import { numElements } from '../../graph/graph.js';
import { quantizeMultiplier } from '../../quant/fixedpoint.js';
import { meanMultiplier } from '../../ops/mean.js';
import { call, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';
import { constantValues } from './layer.js';

/** MEAN (int8) over constant axes -> tm_mean_s8, with 1/count folded into the multiplier as TFLite Micro does. */
export function lowerMean(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node<'MEAN'>;
  const input = ctx.input(0), axisT = ctx.input(1), output = ctx.output();
  if (input.dtype !== 'int8' || output.dtype !== 'int8' || !input.quant || !output.quant) throw ctx.unsupported(`${input.dtype} MEAN is not generated (int8 only)`);
  if (!axisT.data || axisT.dtype !== 'int32') throw ctx.unsupported('axes must be a constant int32 tensor');
  const rank = input.shape.length;
  if (rank > 4) throw ctx.unsupported(`rank ${rank} input (the C kernel takes up to 4)`);
  const axes = new Set(Array.from(constantValues(axisT), (a) => (a < 0 ? a + rank : a)));
  const dims = [...new Array(4 - rank).fill(1), ...input.shape];
  const reduced = dims.map((_, i) => (axes.has(i - (4 - rank)) ? 1 : 0));
  const count = dims.reduce((n, d, i) => (reduced[i] ? n * d : n), 1);
  if (numElements(output.shape) * count !== numElements(input.shape)) throw ctx.unsupported('output size does not match the reduced axes');
  const base = quantizeMultiplier(input.quant.scale[0] / output.quant.scale[0]);
  const m = meanMultiplier(base.multiplier, base.shift, Math.max(count, 1));
  ctx.requireDisjoint(input, output, 'MEAN');
  const params = ctx.struct('tm_mean_params', 'params', {
    in_dims: dims, reduced, count, in_zp: input.quant.zeroPoint[0], out_zp: output.quant.zeroPoint[0], mult: m.multiplier, shift: m.shift,
  });
  return {
    headers: ['tm_mean.h'],
    definitions: [structDef(params)],
    weights: [],
    statements: [call('tm_mean_s8', structArg(params), ctx.ptr(input), ctx.ptr(output))],
  };
}
