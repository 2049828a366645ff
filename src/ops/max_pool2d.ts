/**
 * MAX_POOL_2D: the largest value of each window over the taps inside the input, then clamped by the
 * fused activation (TFLite's reference MaxPool, int8 and float32).
 */
import type { Graph, Node } from '../graph/graph.js';
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import type { Window2D } from './conv_util.js';
import { activationBounds, checkPoolOutput, forEachWindow, kernelKind, poolGeometry, poolSpatialWindow, poolOutputShapes, poolTaps } from './conv_util.js';

export const maxPool2d: OpDef<'MAX_POOL_2D'> = {
  name: 'MAX_POOL_2D',
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
    const i16 = input.dtype === 'int16' && output.dtype === 'int16';
    const int8 = !i16 && kernelKind(node, input, output) === 'int8';
    const [actMin, actMax] = activationBounds(node, node.options.activation, output);
    const { inW, inC: C } = win;
    const x = i16 ? views.int16(input.id) : int8 ? views.int8(input.id) : views.float32(input.id);
    const y = i16 ? views.int16(output.id) : int8 ? views.int8(output.id) : views.float32(output.id);
    const best = new Float64Array(C);
    const lowest = i16 ? -32768 : int8 ? -128 : -Infinity;
    const each = (o: number, rowBase: number, y0: number, y1: number, x0: number, x1: number): void => {
      best.fill(lowest);
      for (let iy = y0; iy < y1; iy++) {
        for (let ix = x0; ix < x1; ix++) {
          const s = ((rowBase + iy) * inW + ix) * C;
          for (let c = 0; c < C; c++) if (x[s + c] > best[c]) best[c] = x[s + c];
        }
      }
      for (let c = 0; c < C; c++) {
        const v = best[c];
        y[o * C + c] = Math.min(Math.max(v, actMin), actMax);
      }
    };
    return () => forEachWindow(win, each);
  },

  macs: poolTaps,
};
