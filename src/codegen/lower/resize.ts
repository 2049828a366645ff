import type { Node } from '../../graph/graph.js';
import { interpolation, resizeScale } from '../../ops/resize_bilinear.js';
import type { CArray } from '../c_syntax.js';
import { arrayDef, call, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';

/** RESIZE_BILINEAR float32 -> tm_resize_bilinear_f32, each row's and column's neighbours and fraction from the op's own helper. */
export function lowerResizeBilinear(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node<'RESIZE_BILINEAR'>;
  const input = ctx.input(0), output = ctx.output();
  if (input.dtype !== 'float32' || output.dtype !== 'float32') throw ctx.unsupported(`${input.dtype} RESIZE_BILINEAR is not generated`);
  const [batches, inH, inW, c] = input.shape;
  const [, outH, outW] = output.shape;
  const { alignCorners, halfPixelCenters } = node.options;
  ctx.requireDisjoint(input, output, 'RESIZE_BILINEAR');
  const axis = (what: string, inSize: number, outSize: number): [CArray, CArray] => {
    const scale = resizeScale(inSize, outSize, alignCorners);
    const pairs = new Int32Array(2 * outSize), frac = new Float32Array(outSize);
    for (let v = 0; v < outSize; v++) {
      const [s, lo, hi] = interpolation(v, scale, halfPixelCenters, inSize);
      pairs[2 * v] = lo;
      pairs[2 * v + 1] = hi;
      frac[v] = Math.fround(s - lo);
    }
    return [
      { name: ctx.name(`${what}s`), type: 'int32_t', values: pairs, linkage: 'static' },
      { name: ctx.name(`d${what}`), type: 'float', values: frac, linkage: 'static' },
    ];
  };
  const [rows, dy] = axis('row', inH, outH), [cols, dx] = axis('col', inW, outW);
  const params = ctx.struct('tm_resize_bilinear_params', 'params', { batches, in_h: inH, in_w: inW, c, out_h: outH, out_w: outW, rows, dy, cols, dx });
  return {
    headers: ['tm_resize.h'], definitions: [rows, dy, cols, dx].map(arrayDef).concat([structDef(params)]), weights: [],
    statements: [call('tm_resize_bilinear_f32', structArg(params), ctx.ptr(input), ctx.ptr(output))],
  };
}
