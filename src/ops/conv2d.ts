/**
 * CONV_2D: NHWC input, OHWI filter, optional bias. Semantics of TFLite's reference ConvPerChannel
 * (int8) and Conv (float32, in float32 arithmetic), including grouped convolution (input channels a
 * multiple of the filter's). Each output row is unrolled into patches (im2col) and multiplied as a small GEMM; a
 * padded tap holds the input zero point, which contributes exactly nothing once the input offset
 * is folded into the bias, so interior and border pixels share one loop.
 */
import type { Graph, Node, Tensor } from '../graph/graph.js';
import { ModelFormatError, UnsupportedOpError } from '../errors.js';
import type { Kernel, OpDef, TensorViews } from './op.js';
import { firstInputOnly, inputTensor, optionalInput, outputTensor } from './op.js';
import type { Window2D } from './conv_util.js';
import type { Int8Requant } from './gemm.js';
import { conv16x8 } from './int16x8.js';
import { pointwiseInPlace, pointwiseInPlaceKernel } from './conv2d_inplace.js';
import { gemmFloat, prepareInt8Gemm, requant, runInt8Gemm, splitRequant } from './gemm.js';
import {
  activationBounds, convSpatialWindow, convWindowParams, biasInt32, channelMultipliers, expectRank, foldInputOffset, kernelKind, nodeWindow2d,
  requireSymmetricWeights, where, zeroPointOf,
} from './conv_util.js';

interface ConvGeometry {
  win: Window2D;
  cout: number;
  /** Input channels seen by one filter (the filter's last dimension). */
  cinPerGroup: number;
  groups: number;
  /** Length of one filter: kH * kW * cinPerGroup. */
  K: number;
}

function geometry(node: Node<'CONV_2D'>, g: Graph): ConvGeometry {
  const input = inputTensor(node, g, 0);
  const filter = inputTensor(node, g, 1);
  expectRank(node, input, 4, 'input');
  expectRank(node, filter, 4, 'filter');
  const [cout, kH, kW, cinPerGroup] = filter.shape;
  const inC = input.shape[3];
  if (cinPerGroup <= 0 || inC % cinPerGroup !== 0) {
    throw new ModelFormatError(where(node), `input has ${inC} channels, filter expects a multiple of ${cinPerGroup}`);
  }
  const groups = inC / cinPerGroup;
  if (cout % groups !== 0) throw new ModelFormatError(where(node), `${cout} filters do not split into ${groups} groups`);
  const o = node.options;
  const win = nodeWindow2d(node, input.shape, kH, kW, convWindowParams(o));
  return { win, cout, cinPerGroup, groups, K: kH * kW * cinPerGroup };
}

function checkOutput(node: Node, out: Tensor, expect: number[]): void {
  if (out.shape.length !== 4 || out.shape.some((d, i) => d !== expect[i])) {
    throw new ModelFormatError(where(node), `output shape [${out.shape.join(',')}], expected [${expect.join(',')}]`);
  }
}

/**
 * Copy the patches of output row (b, oy), group `grp`, into `buf` (outW rows of K values),
 * writing `padValue` where a tap falls outside the input.
 */
function im2colRow<T extends Int8Array | Float32Array>(
  x: T, buf: T, geo: ConvGeometry, b: number, oy: number, grp: number, padValue: number,
): void {
  const { win, cinPerGroup: cg } = geo;
  const { inH, inW, inC, kH, kW, dilH, dilW } = win;
  const iy0 = oy * win.strideH - win.padTop;
  const cOff = grp * cg;
  let d = 0;
  for (let ox = 0; ox < win.outW; ox++) {
    const ix0 = ox * win.strideW - win.padLeft;
    for (let ky = 0; ky < kH; ky++) {
      const iy = iy0 + ky * dilH;
      if (iy < 0 || iy >= inH) {
        buf.fill(padValue, d, d + kW * cg);
        d += kW * cg;
        continue;
      }
      const rowBase = (b * inH + iy) * inW;
      for (let kx = 0; kx < kW; kx++) {
        const ix = ix0 + kx * dilW;
        if (ix < 0 || ix >= inW) {
          buf.fill(padValue, d, d + cg);
          d += cg;
          continue;
        }
        const s = (rowBase + ix) * inC + cOff;
        for (let c = 0; c < cg; c++) buf[d + c] = x[s + c];
        d += cg;
      }
    }
  }
}

/** A 1x1, stride-1 convolution over all input channels reads the input itself as its patch matrix. */
function isPointwise(geo: ConvGeometry): boolean {
  const w = geo.win;
  return w.kH === 1 && w.kW === 1 && w.strideH === 1 && w.strideW === 1 && w.padTop === 0 && w.padLeft === 0
    && w.outH === w.inH && w.outW === w.inW && geo.groups === 1;
}

function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

function prepareInt8(node: Node<'CONV_2D'>, g: Graph, views: TensorViews, geo: ConvGeometry): Kernel {
  const input = inputTensor(node, g, 0);
  const filter = inputTensor(node, g, 1);
  const bias = optionalInput(node, g, 2);
  const output = outputTensor(node, g);
  requireSymmetricWeights(node, filter);
  const { win, cout, K, groups } = geo;
  const inZp = zeroPointOf(input);
  const w = views.int8(filter.id);
  const { multiplier, shift } = channelMultipliers(node, input, filter, output, cout);
  const [actMin, actMax] = activationBounds(node, node.options.activation, output);
  const rawBias = biasInt32(node, bias, bias ? views.int32(bias.id) : null, cout);
  const q: Int8Requant = { bias: foldInputOffset(rawBias, w, K, -inZp), multiplier, shift, outZp: zeroPointOf(output), actMin, actMax };
  const x = views.int8(input.id);
  const y = views.int8(output.id);
  const { batches, outH, outW } = win;

  if (groups === 1) {
    const gm = prepareInt8Gemm(w, cout, K, q);
    if (isPointwise(geo)) {
      const pixels = batches * outH * outW;
      // The plan may put the output over the input (conv2d_inplace.ts).
      if (overlaps(x, y)) return pointwiseInPlaceKernel(node, g, gm, x, y);
      return () => runInt8Gemm(gm, x, 0, K, pixels, y, 0);
    }
    const buf = new Int8Array(outW * K);
    return () => {
      for (let b = 0; b < batches; b++) {
        for (let oy = 0; oy < outH; oy++) {
          im2colRow(x, buf, geo, b, oy, 0, inZp);
          runInt8Gemm(gm, buf, 0, K, outW, y, ((b * outH + oy) * outW) * cout);
        }
      }
    };
  }
  // Grouped convolution (rare): a plain loop per group.
  const rq = splitRequant(q);
  const buf = new Int8Array(outW * K);
  const perGroup = cout / groups;
  return () => {
    for (let b = 0; b < batches; b++) {
      for (let oy = 0; oy < outH; oy++) {
        const rowOut = ((b * outH + oy) * outW) * cout;
        for (let grp = 0; grp < groups; grp++) {
          im2colRow(x, buf, geo, b, oy, grp, inZp);
          for (let ox = 0; ox < outW; ox++) {
            for (let c = grp * perGroup; c < (grp + 1) * perGroup; c++) {
              let s = 0;
              for (let k = 0; k < K; k++) s += buf[ox * K + k] * w[c * K + k];
              y[rowOut + ox * cout + c] = requant(s + rq.bias[c], rq.m[c], rq.left[c], rq.right[c], rq.outZp, rq.lo, rq.hi);
            }
          }
        }
      }
    }
  };
}

function prepareFloat(node: Node<'CONV_2D'>, g: Graph, views: TensorViews, geo: ConvGeometry): Kernel {
  const input = inputTensor(node, g, 0);
  const filter = inputTensor(node, g, 1);
  const biasT = optionalInput(node, g, 2);
  const output = outputTensor(node, g);
  const { win, cout, K, groups } = geo;
  const w = views.float32(filter.id);
  const bias = new Float32Array(cout);
  if (biasT) bias.set(views.float32(biasT.id).subarray(0, cout));
  const [actMin, actMax] = activationBounds(node, node.options.activation, output);
  const x = views.float32(input.id);
  const y = views.float32(output.id);
  const { batches, outH, outW } = win;
  if (isPointwise(geo)) {
    const pixels = batches * outH * outW;
    return () => gemmFloat(x, 0, K, pixels, K, w, cout, bias, actMin, actMax, y, 0);
  }
  const buf = new Float32Array(outW * K);
  const perGroup = cout / groups;
  return () => {
    for (let b = 0; b < batches; b++) {
      for (let oy = 0; oy < outH; oy++) {
        const rowOut = ((b * outH + oy) * outW) * cout;
        if (groups === 1) {
          im2colRow(x, buf, geo, b, oy, 0, 0);
          gemmFloat(buf, 0, K, outW, K, w, cout, bias, actMin, actMax, y, rowOut);
          continue;
        }
        for (let grp = 0; grp < groups; grp++) {
          im2colRow(x, buf, geo, b, oy, grp, 0);
          for (let ox = 0; ox < outW; ox++) {
            for (let c = grp * perGroup; c < (grp + 1) * perGroup; c++) {
              let s = 0;
              for (let k = 0; k < K; k++) s = Math.fround(s + Math.fround(buf[ox * K + k] * w[c * K + k]));
              y[rowOut + ox * cout + c] = Math.min(Math.max(Math.fround(s + bias[c]), actMin), actMax);
            }
          }
        }
      }
    }
  };
}

/** Words of a column widened into int16 pairs for SMLAD (TM_WIDE_WORDS in tm_gemm.h). */
export function wideWords(depth: number): number {
  return (depth >> 1) + (depth & 3);
}

/** The C kernel's pointwise path (any stride, no padding) multiplies straight off its input (tm_conv2d_1x1_s8). */
export function isCPointwise(win: Window2D): boolean {
  return win.kH === 1 && win.kW === 1 && win.padTop === 0 && win.padLeft === 0;
}

/**
 * The C kernels' working memory for one int8 layer, planned into the arena rather than the stack so a
 * wide layer can never overrun it (csrc/kernels/tm_conv2d.h): two widened columns, plus the im2col column
 * (rounded up to a word) unless pointwise. The DSP path's need covers the portable path's two columns.
 */
export function int8ConvScratchBytes(win: Window2D, depth: number): number {
  const wide = 2 * 4 * wideWords(depth);
  return isCPointwise(win) ? wide : ((depth + 3) & ~3) + wide;
}

export const conv2d: OpDef<'CONV_2D'> = {
  name: 'CONV_2D',
  // v1 float, v3 int8, v4 16x8, v6 grouped, v7 int4 weights (unpacked to int8 at load); v2/v5 (hybrid)
  // are refused by dtype.
  maxVersion: 7,
  role: 'layer',
  window: convSpatialWindow,
  differentiableInputs: firstInputOnly,
  inPlaceVariant: pointwiseInPlace,

  inferShapes(node, g) {
    const { win, cout } = geometry(node, g);
    return [[win.batches, win.outH, win.outW, cout]];
  },

  prepare(node, g, views) {
    const geo = geometry(node, g);
    const input = inputTensor(node, g, 0);
    const output = outputTensor(node, g);
    checkOutput(node, output, [geo.win.batches, geo.win.outH, geo.win.outW, geo.cout]);
    const kind = kernelKind(node, input, output, inputTensor(node, g, 1), true);
    if (kind === 'int16x8') {
      if (geo.groups !== 1) throw new UnsupportedOpError(node.op, node.index, 'grouped 16x8 convolution');
      return conv16x8(node, g, views, geo.win, geo.cout);
    }
    return kind === 'int8' ? prepareInt8(node, g, views, geo) : prepareFloat(node, g, views, geo);
  },

  macs(node, g) {
    const { win, cout, K } = geometry(node, g);
    return win.batches * win.outH * win.outW * cout * K;
  },

  scratchBytes(node, g) {
    const { win, K, groups } = geometry(node, g);
    return inputTensor(node, g, 0).dtype === 'int8' && groups === 1 ? int8ConvScratchBytes(win, K) : 0;
  },
};
