/**
 * AVERAGE_POOL_2D: the mean of each window over the taps inside the input (padding is not counted).
 * int8 follows TFLite's reference: the raw values are summed and divided with rounding half away
 * from zero in integer arithmetic (input and output share quantisation), then clamped by the fused
 * activation. float32 divides the float sum by the tap count.
 */
import type { Graph, Node } from '../graph/graph.js';
import type { Kernel, OpDef, TensorViews } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import type { Window2D } from './conv_util.js';
import { activationBounds, checkPoolOutput, forEachWindow, kernelKind, poolGeometry, poolSpatialWindow, poolOutputShapes, poolTaps } from './conv_util.js';

/** `int8`: the integer path (int8, or int16 when the tensors are int16: the same rounding division). */
function prepareAvg(node: Node<'AVERAGE_POOL_2D'>, g: Graph, views: TensorViews, win: Window2D, int8: boolean): Kernel {
  const input = inputTensor(node, g, 0);
  const output = outputTensor(node, g);
  const [actMin, actMax] = activationBounds(node, node.options.activation, output);
  const { inW, inC: C } = win;
  const i16 = input.dtype === 'int16';
  const x = i16 ? views.int16(input.id) : int8 ? views.int8(input.id) : views.float32(input.id);
  const y = i16 ? views.int16(output.id) : int8 ? views.int8(output.id) : views.float32(output.id);
  // int8 sums are exact integers; a Float32Array rounds each float partial sum to float32 as C++ does.
  const acc = int8 ? new Float64Array(C) : new Float32Array(C);
  const each = (o: number, rowBase: number, y0: number, y1: number, x0: number, x1: number): void => {
    acc.fill(0);
    for (let iy = y0; iy < y1; iy++) {
      for (let ix = x0; ix < x1; ix++) {
        const s = ((rowBase + iy) * inW + ix) * C;
        for (let c = 0; c < C; c++) acc[c] += x[s + c];
      }
    }
    const count = (y1 - y0) * (x1 - x0);
    const half = Math.trunc(count / 2);
    for (let c = 0; c < C; c++) {
      let v: number;
      if (int8) {
        const a = acc[c];
        // C integer division truncates toward zero; the +-half makes it round half away from zero.
        v = a > 0 ? Math.trunc((a + half) / count) : Math.trunc((a - half) / count);
      } else {
        v = acc[c] / count;
      }
      y[o * C + c] = Math.min(Math.max(v, actMin), actMax);
    }
  };
  return () => forEachWindow(win, each);
}

export const averagePool2d: OpDef<'AVERAGE_POOL_2D'> = {
  name: 'AVERAGE_POOL_2D',
  // v1 float, v2 int8, v3 int16.
  maxVersion: 3,
  role: 'other',
  window: poolSpatialWindow,

  inferShapes: poolOutputShapes,

  prepare(node, g, views) {
    const win = poolGeometry(node, g);
    const input = inputTensor(node, g, 0);
    const output = outputTensor(node, g);
    checkPoolOutput(node, output, win);
    if (input.dtype === 'int16' && output.dtype === 'int16') return prepareAvg(node, g, views, win, true);
    const kind = kernelKind(node, input, output);
    return prepareAvg(node, g, views, win, kind === 'int8');
  },

  macs: poolTaps,
};
