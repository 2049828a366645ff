import type { Node } from '../../graph/graph.js';
import { interpolation, interpolation10, resizeScale, resizeScale10 } from '../../ops/resize_bilinear.js';
import type { CArray } from '../c_syntax.js';
import { arrayDef, call, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';

/** RESIZE_BILINEAR float32 -> tm_resize_bilinear_f32 (int8: _s8), each row's and column's neighbours and fraction from the op's own helpers. */
export function lowerResizeBilinear(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node<'RESIZE_BILINEAR'>;
  const input = ctx.input(0), output = ctx.output();
  const int8 = input.dtype === 'int8' && output.dtype === 'int8';
  if (!int8 && (input.dtype !== 'float32' || output.dtype !== 'float32')) throw ctx.unsupported(`${input.dtype} RESIZE_BILINEAR is not generated`);
  const [batches, inH, inW, c] = input.shape;
  const [, outH, outW] = output.shape;
  const { alignCorners, halfPixelCenters } = node.options;
  if (alignCorners && halfPixelCenters) throw ctx.unsupported('align_corners and half_pixel_centers together');
  ctx.requireDisjoint(input, output, 'RESIZE_BILINEAR');
  if (int8) return lowerResizeBilinearInt8(ctx, [batches, inH, inW, c], outH, outW);
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

/** int8 RESIZE_BILINEAR -> tm_resize_bilinear_s8, neighbours and 1/1024 weights from the op's integer helpers. */
function lowerResizeBilinearInt8(ctx: LayerContext, [batches, inH, inW, c]: number[], outH: number, outW: number): LayerCode {
  const { alignCorners, halfPixelCenters } = (ctx.node as Node<'RESIZE_BILINEAR'>).options;
  const axis = (what: string, inSize: number, outSize: number): [CArray, CArray] => {
    const scale = resizeScale10(inSize, outSize, alignCorners);
    const pairs = new Int32Array(2 * outSize), weight = new Int32Array(outSize);
    for (let v = 0; v < outSize; v++) {
      const [s, lo, hi] = interpolation10(v, scale, halfPixelCenters, inSize);
      pairs[2 * v] = lo;
      pairs[2 * v + 1] = hi;
      weight[v] = s - 1024 * lo;
    }
    return [
      { name: ctx.name(`${what}s`), type: 'int32_t', values: pairs, linkage: 'static' },
      { name: ctx.name(`w${what}`), type: 'int32_t', values: weight, linkage: 'static' },
    ];
  };
  const [rows, wy] = axis('row', inH, outH), [cols, wx] = axis('col', inW, outW);
  const params = ctx.struct('tm_resize_bilinear_s8_params', 'params', { batches, in_h: inH, in_w: inW, c, out_h: outH, out_w: outW, rows, wy, cols, wx });
  return {
    headers: ['tm_resize.h'], definitions: [rows, wy, cols, wx].map(arrayDef).concat([structDef(params)]), weights: [],
    statements: [call('tm_resize_bilinear_s8', structArg(params), ctx.ptr(ctx.input(0)), ctx.ptr(ctx.output()))],
  };
}
