import type { Node } from '../../graph/graph.js';
import { DTYPE_BYTES } from '../../graph/dtype.js';
import { implicitPadValue, padAmounts } from '../../ops/pad.js';
import type { CArray } from '../c_syntax.js';
import type { CArg } from './kernel_call.js';
import { call, constArg, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';

interface PadLayout {
  inDims: number[];
  outDims: number[];
  before: number[];
}

/**
 * Rank-4 dims for the C kernel, with trailing unpadded dimensions folded into the last padded one
 * (padding W of an NHWC tensor pads rows of W*C bytes by multiples of C), so rows are long memcpys.
 */
export function padLayout(shape: readonly number[], before: readonly number[], after: readonly number[]): PadLayout {
  let inDims = [...shape], b = [...before], a = [...after];
  while (inDims.length > 1 && b[b.length - 1] === 0 && a[a.length - 1] === 0) {
    const inner = inDims.pop()!;
    b.pop();
    a.pop();
    const k = inDims.length - 1;
    inDims[k] *= inner;
    b[k] *= inner;
    a[k] *= inner;
  }
  if (inDims.length > 4) throw new Error(`pad over ${inDims.length} dimensions`);
  const lead = 4 - inDims.length;
  inDims = [...new Array(lead).fill(1), ...inDims];
  b = [...new Array(lead).fill(0), ...b];
  a = [...new Array(lead).fill(0), ...a];
  return { inDims, outDims: inDims.map((d, i) => d + b[i] + a[i]), before: b };
}

/** PAD / PADV2 -> tm_pad, or tm_pad_inplace when the plan writes the padded output over its input. */
export function lowerPad(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node<'PAD'> | Node<'PADV2'>;
  const input = ctx.input(0), output = ctx.output();
  if (input.dtype !== output.dtype) throw ctx.unsupported(`input ${input.dtype}, output ${output.dtype}`);
  const { before, after } = padAmounts(node, ctx.graph);
  let layout: PadLayout;
  try {
    layout = padLayout(input.shape, before, after);
  } catch {
    throw ctx.unsupported(`padding over more than 4 dimensions`);
  }
  const weights: CArray[] = [];
  let value: CArg;
  if (node.op === 'PADV2' && ctx.optionalInput(2)) {
    const v = ctx.input(2);
    if (!v.data) throw ctx.unsupported('non-constant pad value');
    const arr = ctx.constantArray(v, 'pad_value');
    weights.push(arr);
    value = constArg(arr);
  } else {
    const arr: CArray = { name: ctx.name('pad_value'), type: 'uint8_t', values: implicitPadValue(node, output), linkage: 'extern', align: 4, comment: `pad value of ${output.name}` };
    weights.push(arr);
    value = constArg(arr);
  }
  const params = ctx.struct('tm_pad_params', 'params', {
    in_dims: layout.inDims, out_dims: layout.outDims, before: layout.before, elem_bytes: DTYPE_BYTES[input.dtype],
  });
  const definitions = [structDef(params)];
  const overlap = ctx.overlap(input, output);
  if (overlap === 'partial') throw ctx.unsupported('the memory plan overlays the padded output on its input at a different offset');
  const statements = overlap === 'same'
    ? [call('tm_pad_inplace', structArg(params), value, ctx.ptr(input))]
    : [call('tm_pad', structArg(params), value, ctx.ptr(input), ctx.ptr(output))];
  return { headers: ['tm_pad.h'], definitions, weights, statements };
}
