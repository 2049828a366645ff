/** Backward of AVERAGE_POOL_2D, MAX_POOL_2D and MEAN in float32. */
import type { Window2D } from '../../ops/conv_util.js';
import { forEachWindow } from '../../ops/conv_util.js';

/** Each output gradient spread evenly over the taps of its window that lie inside the input. */
export function avgPoolInputGrad(win: Window2D, dz: Float32Array, dx: Float32Array, accumulate: boolean): void {
  const { inW, inC: C } = win;
  if (!accumulate) dx.fill(0);
  forEachWindow(win, (o, rowBase, y0, y1, x0, x1) => {
    const inv = 1 / ((y1 - y0) * (x1 - x0));
    for (let iy = y0; iy < y1; iy++) {
      for (let ix = x0; ix < x1; ix++) {
        const s = ((rowBase + iy) * inW + ix) * C;
        for (let c = 0; c < C; c++) dx[s + c] += dz[o * C + c] * inv;
      }
    }
  });
}

/** Each output gradient to the first tap holding its window's maximum (the forward's choice). */
export function maxPoolInputGrad(win: Window2D, x: Float32Array, dz: Float32Array, dx: Float32Array, accumulate: boolean): void {
  const { inW, inC: C } = win;
  if (!accumulate) dx.fill(0);
  const best = new Float64Array(C);
  const where = new Int32Array(C);
  forEachWindow(win, (o, rowBase, y0, y1, x0, x1) => {
    best.fill(-Infinity);
    where.fill(-1);
    for (let iy = y0; iy < y1; iy++) {
      for (let ix = x0; ix < x1; ix++) {
        const s = ((rowBase + iy) * inW + ix) * C;
        for (let c = 0; c < C; c++) if (x[s + c] > best[c]) { best[c] = x[s + c]; where[c] = s + c; }
      }
    }
    for (let c = 0; c < C; c++) if (where[c] >= 0) dx[where[c]] += dz[o * C + c];
  });
}

/** MEAN: dX[i] (+)= dY[out(i)] / count, `outStrides` mapping an input index to its output (0 on reduced axes). */
export function meanInputGrad(inShape: readonly number[], outStrides: Int32Array, count: number, dy: Float32Array, dx: Float32Array, accumulate: boolean): void {
  const rank = inShape.length;
  const idx = new Int32Array(rank);
  const inv = 1 / count;
  let o = 0;
  for (let i = 0; i < dx.length; i++) {
    const v = dy[o] * inv;
    dx[i] = accumulate ? dx[i] + v : v;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      o += outStrides[d];
      if (idx[d] < inShape[d]) break;
      o -= outStrides[d] * inShape[d];
      idx[d] = 0;
    }
  }
}

/** Per input dimension, the output stride (0 on reduced axes) of a reduction over `axes`. */
export function reductionStrides(inShape: readonly number[], axes: readonly number[]): { strides: Int32Array; count: number } {
  const strides = new Int32Array(inShape.length);
  let stride = 1;
  let count = 1;
  for (let d = inShape.length - 1; d >= 0; d--) {
    if (axes.includes(d)) { count *= inShape[d]; continue; }
    strides[d] = stride;
    stride *= inShape[d];
  }
  return { strides, count };
}
