/**
 * DEPTHWISE_CONV_2D: NHWC input, filter [1, kH, kW, inC * depthMultiplier], output channel
 * oc = c * depthMultiplier + m reads input channel c. Semantics of TFLite's reference
 * DepthwiseConvPerChannel (int8) and DepthwiseConv (float32, in float32 arithmetic). int8 interior
 * windows (every tap inside the input) run channel by channel along each output row with the input
 * offset folded into the bias, 3x3 windows unrolled with the input values reused as the window slides;
 * border windows skip the taps that fall outside, as the reference does.
 */
import type { Graph, Node } from '../graph/graph.js';
import { ModelFormatError, UnsupportedOpError } from '../errors.js';
import type { InPlaceVariant, Kernel, OpDef, TensorViews } from './op.js';
import { depthwise16x8 } from './int16x8.js';
import { firstInputOnly, inputTensor, optionalInput, outputTensor, sameStart } from './op.js';
import { DTYPE_BYTES } from '../graph/dtype.js';
import type { Window2D } from './conv_util.js';
import {
  activationBounds, convSpatialWindow, convWindowParams, biasInt32, channelMultipliers, expectRank, interiorRange, kernelKind, nodeWindow2d,
  requireSymmetricWeights, where, zeroPointOf,
} from './conv_util.js';
import type { Requant } from './gemm.js';
import { requant, splitRequant } from './gemm.js';

interface DwGeometry {
  win: Window2D;
  cout: number;
  depthMultiplier: number;
}

function geometry(node: Node<'DEPTHWISE_CONV_2D'>, g: Graph): DwGeometry {
  const input = inputTensor(node, g, 0);
  const filter = inputTensor(node, g, 1);
  expectRank(node, input, 4, 'input');
  expectRank(node, filter, 4, 'filter');
  const [one, kH, kW, cout] = filter.shape;
  const inC = input.shape[3];
  if (one !== 1) throw new ModelFormatError(where(node), `filter shape [${filter.shape.join(',')}] must start with 1`);
  // The multiplier follows from the channel counts (output channels = input channels * multiplier).
  if (inC <= 0 || cout % inC !== 0) {
    throw new ModelFormatError(where(node), `${cout} output channels are not a multiple of ${inC} input channels`);
  }
  const o = node.options;
  const win = nodeWindow2d(node, input.shape, kH, kW, convWindowParams(o));
  return { win, cout, depthMultiplier: cout / inC };
}

/** x offsets of each tap relative to the window's top-left input pixel (interior windows only). */
function tapOffsets(win: Window2D): Int32Array {
  const t = new Int32Array(win.kH * win.kW);
  for (let ky = 0; ky < win.kH; ky++) {
    for (let kx = 0; kx < win.kW; kx++) t[ky * win.kW + kx] = (ky * win.dilH * win.inW + kx * win.dilW) * win.inC;
  }
  return t;
}

/** The int8 parameters both kernels use: weights, bias, bias with the input offset folded in, requantisation. */
interface Int8Params {
  w: Int8Array;
  inOff: number;
  bias: Int32Array;
  /** Interior windows: sum((x + off) * w) = sum(x * w) + off * (sum of the channel's taps). */
  folded: Int32Array;
  rq: Requant;
}

function int8Params(node: Node<'DEPTHWISE_CONV_2D'>, g: Graph, views: TensorViews, geo: DwGeometry): Int8Params {
  const input = inputTensor(node, g, 0);
  const filter = inputTensor(node, g, 1);
  const biasT = optionalInput(node, g, 2);
  const output = outputTensor(node, g);
  requireSymmetricWeights(node, filter);
  const { win, cout } = geo;
  const nTaps = win.kH * win.kW;
  const inOff = -zeroPointOf(input);
  const w = views.int8(filter.id);
  const { multiplier, shift } = channelMultipliers(node, input, filter, output, cout);
  const [actMin, actMax] = activationBounds(node, node.options.activation, output);
  const bias = biasInt32(node, biasT, biasT ? views.int32(biasT.id) : null, cout);
  const folded = new Int32Array(cout);
  for (let oc = 0; oc < cout; oc++) {
    let s = 0;
    for (let t = 0; t < nTaps; t++) s += w[t * cout + oc];
    folded[oc] = bias[oc] + inOff * s;
  }
  const rq = splitRequant({ bias: folded, multiplier, shift, outZp: zeroPointOf(output), actMin, actMax });
  return { w, inOff, bias, folded, rq };
}

function prepareInt8(node: Node<'DEPTHWISE_CONV_2D'>, g: Graph, views: TensorViews, geo: DwGeometry): Kernel {
  const input = inputTensor(node, g, 0);
  const output = outputTensor(node, g);
  const { win, cout, depthMultiplier: M } = geo;
  const { batches, inH, inW, inC, outH, outW, kH, kW, strideH, strideW, dilH, dilW, padTop, padLeft } = win;
  const nTaps = kH * kW;
  const { w, inOff, bias, folded, rq } = int8Params(node, g, views, geo);
  const { m, left, right, outZp, lo, hi } = rq;
  const taps = tapOffsets(win);
  const [rowLo, rowHi] = interiorRange(outH, inH, kH, strideH, dilH, padTop);
  const [colLo, colHi] = interiorRange(outW, inW, kW, strideW, dilW, padLeft);
  const x = views.int8(input.id);
  const y = views.int8(output.id);
  const dx = dilW * inC;
  const dy = dilH * inW * inC;

  /**
   * 3x3 interior columns [ox0, ox1) of row (b, oy): output channel by output channel, so the nine
   * weights and the requantisation parameters stay in registers while the window slides along the row;
   * at stride 1 each step loads only the three new input values.
   */
  const interior3x3 = (b: number, oy: number, ox0: number, ox1: number): void => {
    const rowX = ((b * inH + oy * strideH - padTop) * inW - padLeft) * inC;
    const rowY = ((b * outH + oy) * outW) * cout;
    const sx = strideW * inC;
    const slide = strideW === 1 && dilW === 1;
    for (let c = 0; c < cout; c++) {
      const xc = M === 1 ? c : (c / M) | 0;
      const w0 = w[c], w1 = w[cout + c], w2 = w[2 * cout + c];
      const w3 = w[3 * cout + c], w4 = w[4 * cout + c], w5 = w[5 * cout + c];
      const w6 = w[6 * cout + c], w7 = w[7 * cout + c], w8 = w[8 * cout + c];
      const base = folded[c], mc = m[c], lc = left[c], rc = right[c];
      let r0 = rowX + ox0 * sx + xc;
      let o = rowY + ox0 * cout + c;
      if (slide) {
        // Columns a (left), b (middle) of the window carried over; column n loaded fresh.
        let a0 = x[r0], a1 = x[r0 + dy], a2 = x[r0 + 2 * dy];
        let b0 = x[r0 + dx], b1 = x[r0 + dx + dy], b2 = x[r0 + dx + 2 * dy];
        for (let ox = ox0; ox < ox1; ox++) {
          const rn = r0 + 2 * dx;
          const n0 = x[rn], n1 = x[rn + dy], n2 = x[rn + 2 * dy];
          const acc = base + a0 * w0 + b0 * w1 + n0 * w2 + a1 * w3 + b1 * w4 + n1 * w5 + a2 * w6 + b2 * w7 + n2 * w8;
          y[o] = requant(acc, mc, lc, rc, outZp, lo, hi);
          a0 = b0; a1 = b1; a2 = b2;
          b0 = n0; b1 = n1; b2 = n2;
          r0 += dx;
          o += cout;
        }
        continue;
      }
      for (let ox = ox0; ox < ox1; ox++) {
        const r1 = r0 + dy, r2 = r1 + dy;
        const acc = base
          + x[r0] * w0 + x[r0 + dx] * w1 + x[r0 + 2 * dx] * w2
          + x[r1] * w3 + x[r1 + dx] * w4 + x[r1 + 2 * dx] * w5
          + x[r2] * w6 + x[r2 + dx] * w7 + x[r2 + 2 * dx] * w8;
        y[o] = requant(acc, mc, lc, rc, outZp, lo, hi);
        r0 += sx;
        o += cout;
      }
    }
  };

  /**
   * Any window size, interior columns [ox0, ox1): channel by channel as above, over the tap offsets with
   * the channel's weights stored contiguously (wT[oc * nTaps + t]).
   */
  const wT = new Int8Array(cout * nTaps);
  for (let oc = 0; oc < cout; oc++) for (let t = 0; t < nTaps; t++) wT[oc * nTaps + t] = w[t * cout + oc];
  const interiorAny = (b: number, oy: number, ox0: number, ox1: number): void => {
    const rowX = ((b * inH + oy * strideH - padTop) * inW - padLeft) * inC;
    const rowY = ((b * outH + oy) * outW) * cout;
    const sx = strideW * inC;
    for (let oc = 0; oc < cout; oc++) {
      const wb = oc * nTaps;
      const base = folded[oc], mc = m[oc], lc = left[oc], rc = right[oc];
      let xb = rowX + ox0 * sx + ((oc / M) | 0);
      let o = rowY + ox0 * cout + oc;
      for (let ox = ox0; ox < ox1; ox++) {
        let acc = base;
        for (let t = 0; t < nTaps; t++) acc += x[xb + taps[t]] * wT[wb + t];
        y[o] = requant(acc, mc, lc, rc, outZp, lo, hi);
        xb += sx;
        o += cout;
      }
    }
  };
  const interior = kH === 3 && kW === 3 ? interior3x3 : interiorAny;

  /**
   * Windows that overhang the input: the taps inside are listed once per pixel (x and w offsets),
   * the ones outside are skipped, as the reference does.
   */
  const tapX = new Int32Array(nTaps);
  const tapW = new Int32Array(nTaps);
  const border = (b: number, oy: number, ox0: number, ox1: number): void => {
    const iy0 = oy * strideH - padTop;
    for (let ox = ox0; ox < ox1; ox++) {
      const n = windowTaps(win, cout, b, iy0, ox * strideW - padLeft, tapX, tapW);
      const o = ((b * outH + oy) * outW + ox) * cout;
      for (let oc = 0; oc < cout; oc++) {
        const c = M === 1 ? oc : (oc / M) | 0;
        let acc = bias[oc];
        for (let t = 0; t < n; t++) acc += (x[tapX[t] + c] + inOff) * w[tapW[t] + oc];
        y[o + oc] = requant(acc, m[oc], left[oc], right[oc], outZp, lo, hi);
      }
    }
  };

  return () => {
    for (let b = 0; b < batches; b++) {
      for (let oy = 0; oy < outH; oy++) {
        if (oy < rowLo || oy >= rowHi || colLo >= colHi) {
          border(b, oy, 0, outW);
          continue;
        }
        border(b, oy, 0, colLo);
        interior(b, oy, colLo, colHi);
        border(b, oy, colHi, outW);
      }
    }
  };
}

/**
 * The taps of the window at input (iy0, ix0) of batch b that lie inside the input, in the reference's (ky, kx)
 * order: each one's input pixel offset (channel 0) in tapX and filter offset in tapW. Returns their count.
 */
function windowTaps(win: Window2D, cout: number, b: number, iy0: number, ix0: number, tapX: Int32Array, tapW: Int32Array): number {
  const { inH, inW, inC, kH, kW, dilH, dilW } = win;
  let n = 0;
  for (let ky = 0; ky < kH; ky++) {
    const iy = iy0 + ky * dilH;
    if (iy < 0 || iy >= inH) continue;
    for (let kx = 0; kx < kW; kx++) {
      const ix = ix0 + kx * dilW;
      if (ix < 0 || ix >= inW) continue;
      tapX[n] = ((b * inH + iy) * inW + ix) * inC;
      tapW[n] = (ky * kW + kx) * cout;
      n++;
    }
  }
  return n;
}

function prepareFloat(node: Node<'DEPTHWISE_CONV_2D'>, g: Graph, views: TensorViews, geo: DwGeometry): Kernel {
  const input = inputTensor(node, g, 0);
  const filter = inputTensor(node, g, 1);
  const biasT = optionalInput(node, g, 2);
  const output = outputTensor(node, g);
  const { win, cout, depthMultiplier: M } = geo;
  const { batches, outH, outW, kH, kW, strideH, strideW, padTop, padLeft } = win;
  const w = views.float32(filter.id);
  const bias = new Float32Array(cout);
  if (biasT) bias.set(views.float32(biasT.id).subarray(0, cout));
  const [actMin, actMax] = activationBounds(node, node.options.activation, output);
  const x = views.float32(input.id);
  const y = views.float32(output.id);
  // The taps of each window that lie inside the input, in the reference's (ky, kx) order.
  const tapX = new Int32Array(kH * kW);
  const tapW = new Int32Array(kH * kW);
  return () => {
    for (let b = 0; b < batches; b++) {
      for (let oy = 0; oy < outH; oy++) {
        const iy0 = oy * strideH - padTop;
        for (let ox = 0; ox < outW; ox++) {
          const n = windowTaps(win, cout, b, iy0, ox * strideW - padLeft, tapX, tapW);
          const o = ((b * outH + oy) * outW + ox) * cout;
          for (let oc = 0; oc < cout; oc++) {
            const c = M === 1 ? oc : (oc / M) | 0;
            // float32 arithmetic step by step, as the C++ reference (see gemmFloat).
            let acc = 0;
            for (let t = 0; t < n; t++) acc = Math.fround(acc + Math.fround(x[tapX[t] + c] * w[tapW[t] + oc]));
            y[o + oc] = Math.min(Math.max(Math.fround(acc + bias[oc]), actMin), actMax);
          }
        }
      }
    }
  };
}

/**
 * TinyEngine's in-place depthwise convolution (MCUNet, NeurIPS 2020), run when the plan puts the output
 * over the input (src/plan/inplace_rules.ts, depthwiseInPlace): batch 1, one output channel per input
 * channel, output no larger than the input. Channel by channel, input plane c is saved into the plan's
 * scratch (one plane), then output channel c is computed from it into ((y * outW + x) * C + c) — positions
 * of channel c only, whose input is already saved; other channels are untouched. Same arithmetic as the
 * normal kernels (interior windows with the folded bias, border windows tap by tap), so bit-identical.
 */
function inPlacePlane(node: Node<'DEPTHWISE_CONV_2D'>, views: TensorViews, geo: DwGeometry, elementBytes: number): Uint8Array {
  const { batches, inH, inW, outH, outW } = geo.win;
  if (batches !== 1 || geo.depthMultiplier !== 1 || outH > inH || outW > inW) {
    throw new UnsupportedOpError(node.op, node.index, 'in place needs batch 1, depth multiplier 1 and an output no larger than the input (planner bug)');
  }
  const need = inH * inW * elementBytes;
  const scratch = views.scratch?.(node.index);
  if (!scratch) throw new UnsupportedOpError(node.op, node.index, 'runs in place but the tensor views offer no scratch buffer (run it under a MemoryPlan)');
  if (scratch.byteLength < need) {
    throw new Error(`node ${node.index} (${node.op}): in-place scratch of ${scratch.byteLength} bytes, one channel plane needs ${need}: planner bug`);
  }
  if (scratch.byteOffset % elementBytes !== 0) throw new Error(`node ${node.index} (${node.op}): scratch at byte ${scratch.byteOffset} is not aligned for its elements`);
  return scratch;
}

function prepareInt8InPlace(node: Node<'DEPTHWISE_CONV_2D'>, g: Graph, views: TensorViews, geo: DwGeometry): Kernel {
  const { win, cout: C } = geo;
  const { inH, inW, outH, outW, kH, kW, strideH, strideW, dilH, dilW, padTop, padLeft } = win;
  const nTaps = kH * kW;
  const { w, inOff, bias, folded, rq } = int8Params(node, g, views, geo);
  const { m, left, right, outZp, lo, hi } = rq;
  const raw = inPlacePlane(node, views, geo, 1);
  const plane = new Int8Array(raw.buffer, raw.byteOffset, inH * inW);
  const buf = views.int8(node.inputs[0]);
  const [rowLo, rowHi] = interiorRange(outH, inH, kH, strideH, dilH, padTop);
  const [colLo, colHi] = interiorRange(outW, inW, kW, strideW, dilW, padLeft);
  // Tap offsets inside one plane (stride 1 between pixels, not C).
  const taps = new Int32Array(nTaps);
  for (let ky = 0; ky < kH; ky++) for (let kx = 0; kx < kW; kx++) taps[ky * kW + kx] = ky * dilH * inW + kx * dilW;
  const wc = new Int8Array(nTaps);
  const nPixels = inH * inW;
  const planeWin: Window2D = { ...win, batches: 1, inC: 1 };
  const tapX = new Int32Array(nTaps);
  const tapW = new Int32Array(nTaps);

  const channel = (c: number): void => {
    for (let i = 0, src = c; i < nPixels; i++, src += C) plane[i] = buf[src];
    for (let t = 0; t < nTaps; t++) wc[t] = w[t * C + c];
    const base = folded[c], b = bias[c], mc = m[c], lc = left[c], rc = right[c];
    for (let oy = 0; oy < outH; oy++) {
      const iy0 = oy * strideH - padTop;
      const rowInterior = oy >= rowLo && oy < rowHi;
      let o = oy * outW * C + c;
      for (let ox = 0; ox < outW; ox++, o += C) {
        const ix0 = ox * strideW - padLeft;
        let acc: number;
        if (rowInterior && ox >= colLo && ox < colHi) {
          const p = iy0 * inW + ix0;
          acc = base;
          for (let t = 0; t < nTaps; t++) acc += plane[p + taps[t]] * wc[t];
        } else {
          // A border window: its taps inside the plane (tap index as the filter offset, one channel).
          const n = windowTaps(planeWin, 1, 0, iy0, ix0, tapX, tapW);
          acc = b;
          for (let t = 0; t < n; t++) acc += (plane[tapX[t]] + inOff) * wc[tapW[t]];
        }
        buf[o] = requant(acc, mc, lc, rc, outZp, lo, hi);
      }
    }
  };
  return () => {
    for (let c = 0; c < C; c++) channel(c);
  };
}

function prepareFloatInPlace(node: Node<'DEPTHWISE_CONV_2D'>, g: Graph, views: TensorViews, geo: DwGeometry): Kernel {
  const biasT = optionalInput(node, g, 2);
  const output = outputTensor(node, g);
  const { win, cout: C } = geo;
  const { inH, inW, outH, outW, kH, kW, strideH, strideW, padTop, padLeft } = win;
  const w = views.float32(inputTensor(node, g, 1).id);
  const bias = new Float32Array(C);
  if (biasT) bias.set(views.float32(biasT.id).subarray(0, C));
  const [actMin, actMax] = activationBounds(node, node.options.activation, output);
  const raw = inPlacePlane(node, views, geo, 4);
  const plane = new Float32Array(raw.buffer, raw.byteOffset, inH * inW);
  // Bit patterns, not values, move between the arena and the plane (no NaN canonicalisation).
  const planeBits = new Uint32Array(raw.buffer, raw.byteOffset, inH * inW);
  const buf = views.float32(node.inputs[0]);
  const bufBits = new Uint32Array(buf.buffer, buf.byteOffset, buf.length);
  const nPixels = inH * inW;
  // The plane is one channel of one image: its taps' offsets are pixel indices.
  const planeWin: Window2D = { ...win, batches: 1, inC: 1 };
  const tapX = new Int32Array(kH * kW);
  const tapW = new Int32Array(kH * kW);
  return () => {
    for (let c = 0; c < C; c++) {
      for (let i = 0, src = c; i < nPixels; i++, src += C) planeBits[i] = bufBits[src];
      for (let oy = 0; oy < outH; oy++) {
        const iy0 = oy * strideH - padTop;
        for (let ox = 0; ox < outW; ox++) {
          const n = windowTaps(planeWin, C, 0, iy0, ox * strideW - padLeft, tapX, tapW);
          // float32 arithmetic step by step in the reference's (ky, kx) order, as prepareFloat.
          let acc = 0;
          for (let t = 0; t < n; t++) acc = Math.fround(acc + Math.fround(plane[tapX[t]] * w[tapW[t] + c]));
          buf[(oy * outW + ox) * C + c] = Math.min(Math.max(Math.fround(acc + bias[c]), actMin), actMax);
        }
      }
    }
  };
}

/**
 * TinyEngine's in-place depthwise convolution (MCUNet, NeurIPS 2020): channel by channel, copy input
 * plane c into a scratch of one plane, then compute output channel c from it into the positions of
 * channel c. In NHWC an output element (y, x, c) sits at ((y * outW + x) * C + c), a position of channel c
 * in the input too, so only the saved channel is overwritten — N + one plane instead of 2N. Needs one
 * output channel per input channel and an output no larger than the input. The C kernel
 * (tm_depthwise_conv2d.h) runs every node this accepts. It walks the tensor once per channel (once per four
 * channels where the planner could widen its scratch to four planes), hence slower, so it is peak-only: put
 * where it lowers the arena (in person_detect's patch plan, 11 layers of the 73 the stage has).
 */
function depthwiseInPlace(node: Node<'DEPTHWISE_CONV_2D'>, g: Graph): InPlaceVariant | null {
  const input = g.tensors[node.inputs[0]];
  const output = g.tensors[node.outputs[0]];
  if (!input || !output || input.data || input.shape.length !== 4 || output.shape.length !== 4) return null;
  const [n, inH, inW, inC] = input.shape;
  const [on, outH, outW, outC] = output.shape;
  if (n !== 1 || on !== 1 || outC !== inC || outH > inH || outW > inW) return null;
  if (DTYPE_BYTES[output.dtype] !== DTYPE_BYTES[input.dtype]) return null;
  // The in-place kernels are int8 and float32 (the 16x8 kernel reads its whole window while writing).
  if (input.dtype !== 'int8' && input.dtype !== 'float32') return null;
  const [, kH, kW] = g.tensors[node.inputs[1]].shape;
  // One channel's plane, then (for the C kernel) the channel's taps as int32.
  const plane = (inH * inW * DTYPE_BYTES[input.dtype] + 3) & ~3;
  const scratchBytes = plane + 4 * kH * kW;
  // A 3x3 int8 layer with whole groups of four channels has a four-at-a-time form on Cortex-M (the DSP 3x3
  // block reads the group's four copied planes): ~2.5x fewer instructions, given four planes of scratch.
  const groups = input.dtype === 'int8' && inC % 4 === 0 && kH === 3 && kW === 3;
  return {
    scratchBytes, trick: 'inPlaceDepthwise', slowdown: DEPTHWISE_IN_PLACE_SLOWDOWN, peakOnly: true,
    ...(groups ? { widerScratchBytes: Math.max(scratchBytes, 4 * inH * inW) } : {}),
  };
}

/**
 * The C kernel's working memory out of place (tm_depthwise_conv2d.h): a zero-point row of one pixel's
 * channels (rounded up to 8 bytes) and one tap pointer per window tap (8 bytes: room for 64-bit hosts).
 */
function int8Scratch(node: Node<'DEPTHWISE_CONV_2D'>, g: Graph): number {
  const input = g.tensors[node.inputs[0]];
  if (input.dtype !== 'int8' || input.shape.length !== 4) return 0;
  const [, kH, kW] = g.tensors[node.inputs[1]].shape;
  return ((input.shape[3] + 7) & ~7) + 8 * kH * kW;
}

/**
 * The channel-by-channel form, measured on the MLPerf KWS model under QEMU (Cortex-M4): 6.95 M instructions in
 * place against 5.61 M. The planner weighs variants before it knows which layers get the wider scratch (that is
 * settled after packing), so it prices the slower form; the four-channel form runs near the standard kernel
 * (KWS with all four layers in it: 3.66 M against 3.65 M).
 */
const DEPTHWISE_IN_PLACE_SLOWDOWN = 1.24;

export const depthwiseConv2d: OpDef<'DEPTHWISE_CONV_2D'> = {
  name: 'DEPTHWISE_CONV_2D',
  // v1 float, v2 dilation, v3 int8, v5 16x8, v7 int4 weights (unpacked to int8 at load); v4/v6 (hybrid)
  // are refused by dtype.
  maxVersion: 7,
  role: 'layer',

  inferShapes(node, g) {
    const { win, cout } = geometry(node, g);
    return [[win.batches, win.outH, win.outW, cout]];
  },

  prepare(node, g, views) {
    const geo = geometry(node, g);
    const input = inputTensor(node, g, 0);
    const output = outputTensor(node, g);
    const expect = [geo.win.batches, geo.win.outH, geo.win.outW, geo.cout];
    if (output.shape.length !== 4 || output.shape.some((d, i) => d !== expect[i])) {
      throw new ModelFormatError(where(node), `output shape [${output.shape.join(',')}], expected [${expect.join(',')}]`);
    }
    const kind = kernelKind(node, input, output, inputTensor(node, g, 1), true);
    if (kind === 'int16x8') return depthwise16x8(node, g, views, geo.win, geo.cout);
    // The plan runs the node in place when it puts the output at the input's first byte.
    const inPlace = sameStart(views.bytes(input.id), views.bytes(output.id));
    if (kind === 'int8') return inPlace ? prepareInt8InPlace(node, g, views, geo) : prepareInt8(node, g, views, geo);
    return inPlace ? prepareFloatInPlace(node, g, views, geo) : prepareFloat(node, g, views, geo);
  },

  scratchBytes: int8Scratch,
  inPlaceVariant: depthwiseInPlace,
  window: convSpatialWindow,
  differentiableInputs: firstInputOnly,

  macs(node, g) {
    const { win, cout } = geometry(node, g);
    return win.batches * win.outH * win.outW * cout * win.kH * win.kW;
  },

  // An int8 depthwise MAC reuses nothing (each input byte meets one weight per window, each output gets its
  // own requantisation): about 3 Cortex-M4 instructions (106 per 3x3 window of four channels) against about
  // 0.7-1 for a pointwise MAC, and 3-6 against ~30 G MAC/s in WebAssembly SIMD.
  cost(node, g) {
    const macs = depthwiseConv2d.macs(node, g);
    return inputTensor(node, g, 0).dtype === 'float32' ? macs : 3 * macs;
  },
};
