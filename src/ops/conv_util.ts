/**
 * What CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, the pools and MEAN share: TFLite's window geometry
 * (ComputeOutSize / ComputePaddingHeightWidth), dtype and quantisation checks, per-channel multipliers
 * (PopulateConvolutionQuantizationParams) and the input-offset fold. The matrix products live in gemm.ts.
 */
import type { Graph, Node, Tensor } from '../graph/graph.js';
import type { Activation, Conv2DOptions, ExplicitPadding, Padding } from '../graph/options.js';
import { ModelFormatError, UnsupportedOpError } from '../errors.js';
import { quantizeMultiplier } from '../quant/fixedpoint.js';
import type { SpatialWindow } from './op.js';
import { inputTensor } from './op.js';
import { floatActivationRange, outputActivationRange } from '../quant/activation.js';

/** Output extent of one spatial dimension (TFLite ComputeOutSize; C integer division). */
export function computeOutSize(padding: Padding, imageSize: number, filterSize: number, stride: number, dilation = 1): number {
  const effective = (filterSize - 1) * dilation + 1;
  if (stride === 0) return 0;
  return padding === 'SAME'
    ? Math.trunc((imageSize + stride - 1) / stride)
    : Math.trunc((imageSize + stride - effective) / stride);
}

/** Leading (top/left) padding; TFLite puts the odd extra pixel at the end (ComputePaddingWithOffset). */
export function computePadding(stride: number, dilation: number, inSize: number, filterSize: number, outSize: number): number {
  const effective = (filterSize - 1) * dilation + 1;
  const total = (outSize - 1) * stride + effective - inSize;
  return total > 0 ? Math.trunc(total / 2) : 0;
}

/** Everything a 2-D window op needs about where its windows sit: the window and the extents around it. */
export interface Window2D extends SpatialWindow {
  batches: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
}

export interface WindowParams {
  padding: Padding;
  strideH: number;
  strideW: number;
  dilationH?: number;
  dilationW?: number;
  /** Explicit (top, bottom, left, right) padding; replaces `padding` when present (a fused PAD). */
  explicitPadding?: ExplicitPadding;
}

/** The window parameters of a CONV_2D / DEPTHWISE_CONV_2D node's options (explicit padding included). */
export function convWindowParams(o: Conv2DOptions): WindowParams {
  const p: WindowParams = { padding: o.padding, strideH: o.strideH, strideW: o.strideW, dilationH: o.dilationH, dilationW: o.dilationW };
  if (o.explicitPadding) p.explicitPadding = o.explicitPadding;
  return p;
}

/** Output extent of one dimension with explicit padding: floor((in + before + after - effective) / stride) + 1. */
export function explicitOutSize(imageSize: number, before: number, after: number, filterSize: number, stride: number, dilation = 1): number {
  const effective = (filterSize - 1) * dilation + 1;
  if (stride <= 0) return 0;
  const span = imageSize + before + after - effective;
  return span < 0 ? 0 : Math.floor(span / stride) + 1;
}

/** TFLite ComputePaddingHeightWidth over an NHWC input and a kH x kW window. */
export function window2d(inShape: readonly number[], kH: number, kW: number, p: WindowParams): Window2D {
  const [batches, inH, inW, inC] = inShape;
  const dilH = p.dilationH ?? 1;
  const dilW = p.dilationW ?? 1;
  const e = p.explicitPadding;
  if (e) {
    return {
      batches, inH, inW, inC, kH, kW, strideH: p.strideH, strideW: p.strideW, dilH, dilW,
      outH: explicitOutSize(inH, e.top, e.bottom, kH, p.strideH, dilH),
      outW: explicitOutSize(inW, e.left, e.right, kW, p.strideW, dilW),
      padTop: e.top, padLeft: e.left,
    };
  }
  const outH = computeOutSize(p.padding, inH, kH, p.strideH, dilH);
  const outW = computeOutSize(p.padding, inW, kW, p.strideW, dilW);
  return {
    batches, inH, inW, inC, outH, outW, kH, kW,
    strideH: p.strideH, strideW: p.strideW, dilH, dilW,
    padTop: computePadding(p.strideH, dilH, inH, kH, outH),
    padLeft: computePadding(p.strideW, dilW, inW, kW, outW),
  };
}

/**
 * window2d for a node: an empty output (a window larger than a VALID-padded input) or a zero stride,
 * dilation or window size is a model-format error.
 */
export function nodeWindow2d(node: Node, inShape: readonly number[], kH: number, kW: number, p: WindowParams): Window2D {
  const w = window2d(inShape, kH, kW, p);
  if (!(w.outH > 0 && w.outW > 0 && kH > 0 && kW > 0 && w.strideH > 0 && w.strideW > 0 && w.dilH > 0 && w.dilW > 0)) {
    throw new ModelFormatError(where(node), `window ${kH}x${kW}, stride ${w.strideH}x${w.strideW}, dilation ${w.dilH}x${w.dilW} over input [${inShape.join(',')}] leaves an output of ${w.outH}x${w.outW}`);
  }
  return w;
}

/**
 * The output positions [lo, hi) along one dimension whose whole window lies inside the input
 * (no padded taps): lo * stride >= pad and hi - 1 is the last o with o * stride - pad + (k - 1) * dil < in.
 */
export function interiorRange(outSize: number, inSize: number, k: number, stride: number, dil: number, pad: number): [number, number] {
  const lo = Math.min(outSize, Math.ceil(pad / stride));
  const last = Math.floor((inSize - 1 - (k - 1) * dil + pad) / stride);
  const hi = Math.max(lo, Math.min(outSize, last + 1));
  return [lo, hi];
}

export function where(node: Node): string {
  return `node ${node.index} (${node.op})`;
}

export function expectRank(node: Node, t: Tensor, rank: number, what: string): void {
  if (t.shape.length !== rank) {
    throw new ModelFormatError(where(node), `${what} must have rank ${rank}, has shape [${t.shape.join(',')}]`);
  }
}

// ---------------------------------------------------------------------------------------------
// Quantisation checks and parameters

/** The dtype pairing a kernel runs in: int8 activations with int8 weights, or float32 throughout. */
export type KernelKind = 'int8' | 'float32' | 'int16x8';

/**
 * Decide int8 vs float32 from the activation and weight dtypes; with `allow16x8`, also TFLite's 16x8 scheme
 * (int16 activations, int8 weights: the layers' int16 kernels); refuse anything else (hybrid).
 */
export function kernelKind(node: Node, input: Tensor, output: Tensor, weights: Tensor | null = null, allow16x8 = false): KernelKind {
  const w = weights?.dtype ?? input.dtype;
  if (allow16x8 && input.dtype === 'int16' && output.dtype === 'int16' && w === 'int8') {
    if (!input.quant || !output.quant || !weights?.quant) throw new UnsupportedOpError(node.op, node.index, 'int16 tensors without quantisation parameters');
    return 'int16x8';
  }
  if (input.dtype === 'int8' && output.dtype === 'int8' && w === 'int8') {
    if (!input.quant || !output.quant || (weights && !weights.quant)) {
      throw new UnsupportedOpError(node.op, node.index, 'int8 tensors without quantisation parameters');
    }
    return 'int8';
  }
  if (input.dtype === 'float32' && output.dtype === 'float32' && w === 'float32') return 'float32';
  const wDesc = weights ? `, weights ${weights.dtype}` : '';
  throw new UnsupportedOpError(node.op, node.index, `input ${input.dtype}${wDesc}, output ${output.dtype} (we implement int8 and float32)`);
}

export function scaleOf(t: Tensor): number {
  return t.quant!.scale[0];
}

export function zeroPointOf(t: Tensor): number {
  return t.quant!.zeroPoint[0];
}

const FUSED_ACTIVATIONS: readonly Activation[] = ['NONE', 'RELU', 'RELU6', 'RELU_N1_TO_1'];

/** Clamp bounds of a fused activation on the output (quantised or float). */
export function activationBounds(node: Node, act: Activation, output: Tensor): [number, number] {
  if (!FUSED_ACTIVATIONS.includes(act)) {
    throw new UnsupportedOpError(node.op, node.index, `fused activation ${act}`);
  }
  return output.dtype === 'float32' ? floatActivationRange(act) : outputActivationRange(act, output);
}

/** Weights must be symmetric (zero point 0), as TFLite's int8 spec and its reference kernels assume. */
export function requireSymmetricWeights(node: Node, weights: Tensor): void {
  if (weights.quant!.zeroPoint.some((z) => z !== 0)) {
    throw new UnsupportedOpError(node.op, node.index, `weights ${weights.name} have a non-zero zero point`);
  }
}

export interface ChannelMultipliers {
  multiplier: Int32Array;
  shift: Int32Array;
}

/**
 * PopulateConvolutionQuantizationParams: for each output channel, the double
 * input_scale * filter_scale / output_scale, quantised to a Q31 multiplier and a shift.
 * A per-tensor filter scale is broadcast to every channel.
 */
export function channelMultipliers(node: Node, input: Tensor, weights: Tensor, output: Tensor, channels: number): ChannelMultipliers {
  const scales = weights.quant!.scale;
  if (scales.length !== 1 && scales.length !== channels) {
    throw new ModelFormatError(where(node), `weights ${weights.name} have ${scales.length} scales for ${channels} channels`);
  }
  const multiplier = new Int32Array(channels);
  const shift = new Int32Array(channels);
  const inScale = scaleOf(input);
  const outScale = scaleOf(output);
  for (let c = 0; c < channels; c++) {
    const q = quantizeMultiplier((inScale * scales[scales.length === 1 ? 0 : c]) / outScale);
    multiplier[c] = q.multiplier;
    shift[c] = q.shift;
  }
  return { multiplier, shift };
}

/**
 * FULLY_CONNECTED's multipliers. Per-channel weights: as channelMultipliers. Per-tensor weights:
 * TFLite's GetQuantizedConvolutionMultipler, which multiplies input_scale * weight_scale in float32
 * before widening to double (unlike the per-channel path); the two differ in the last bits of the
 * multiplier for most real layers, so the distinction matters for bit-exactness.
 */
export function fullyConnectedMultipliers(node: Node, input: Tensor, weights: Tensor, output: Tensor, units: number): ChannelMultipliers {
  if (weights.quant!.scale.length > 1) return channelMultipliers(node, input, weights, output, units);
  const q = quantizeMultiplier(Math.fround(scaleOf(input) * scaleOf(weights)) / scaleOf(output));
  return { multiplier: new Int32Array(units).fill(q.multiplier), shift: new Int32Array(units).fill(q.shift) };
}

/** Bias values as an Int32Array of `channels` entries (zeros when the optional bias is absent). */
export function biasInt32(node: Node, bias: Tensor | null, biasView: Int32Array | null, channels: number): Int32Array {
  const out = new Int32Array(channels);
  if (!bias || !biasView) return out;
  if (bias.dtype !== 'int32') throw new UnsupportedOpError(node.op, node.index, `bias ${bias.name} is ${bias.dtype} (int8 kernels take int32 bias)`);
  if (biasView.length < channels) throw new ModelFormatError(where(node), `bias ${bias.name} has ${biasView.length} values for ${channels} channels`);
  out.set(biasView.subarray(0, channels));
  return out;
}

/**
 * Fold the input offset into the bias: sum((x + off) * w) = sum(x * w) + off * sum(w), exact in int32.
 * Valid for every window whose padded taps are filled with the input zero point (x + off = 0 there).
 */
export function foldInputOffset(bias: Int32Array, weights: Int8Array, rowLen: number, inputOffset: number): Int32Array {
  const out = new Int32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    let s = 0;
    const base = c * rowLen;
    for (let k = 0; k < rowLen; k++) s += weights[base + k];
    out[c] = bias[c] + inputOffset * s;
  }
  return out;
}

/** Pools keep the channel count: output [batches, outH, outW, inC]. */
export function checkPoolOutput(node: Node, out: Tensor, w: Window2D): void {
  const expect = [w.batches, w.outH, w.outW, w.inC];
  if (out.shape.length !== 4 || out.shape.some((d, i) => d !== expect[i])) {
    throw new ModelFormatError(where(node), `output shape [${out.shape.join(',')}], expected [${expect.join(',')}]`);
  }
}

/**
 * Pooling windows: calls `each(o, rowBase, y0, y1, x0, x1)` for output pixel o with the window clipped to
 * input rows [y0, y1) and columns [x0, x1); rowBase = batch * inH.
 */
export function forEachWindow(win: Window2D, each: (o: number, rowBase: number, y0: number, y1: number, x0: number, x1: number) => void): void {
  const { batches, inH, inW, outH, outW, kH, kW, strideH, strideW, padTop, padLeft } = win;
  for (let b = 0; b < batches; b++) {
    for (let oy = 0; oy < outH; oy++) {
      const iy0 = oy * strideH - padTop;
      const y0 = Math.max(0, iy0);
      const y1 = Math.min(inH, iy0 + kH);
      for (let ox = 0; ox < outW; ox++) {
        const ix0 = ox * strideW - padLeft;
        each((b * outH + oy) * outW + ox, b * inH, y0, y1, Math.max(0, ix0), Math.min(inW, ix0 + kW));
      }
    }
  }
}

type PoolNode = Node<'AVERAGE_POOL_2D'> | Node<'MAX_POOL_2D'>;

/** The window of a pooling node: both pools read a 4-D input through the same geometry. */
export function poolGeometry(node: PoolNode, g: Graph): Window2D {
  const input = inputTensor(node, g, 0);
  expectRank(node, input, 4, 'input');
  const o = node.options;
  return nodeWindow2d(node, input.shape, o.filterH, o.filterW, { padding: o.padding, strideH: o.strideH, strideW: o.strideW });
}

export function poolOutputShapes(node: PoolNode, g: Graph): number[][] {
  const w = poolGeometry(node, g);
  return [[w.batches, w.outH, w.outW, w.inC]];
}

/** Window taps visited (compare-or-add operations), the pools' counterpart of MACs. */
export function poolTaps(node: PoolNode, g: Graph): number {
  const w = poolGeometry(node, g);
  return w.batches * w.outH * w.outW * w.inC * w.kH * w.kW;
}

/** The window a CONV_2D / DEPTHWISE_CONV_2D reads input 0 through: zero-point padding adds nothing, so any padding crosses patches. */
export function convSpatialWindow(node: Node<'CONV_2D'> | Node<'DEPTHWISE_CONV_2D'>, g: Graph): SpatialWindow | null {
  const x = g.tensors[node.inputs[0]];
  if (!x || x.shape.length !== 4 || x.shape[0] !== 1) return null;
  const f = g.tensors[node.inputs[1]].shape;
  return window2d(x.shape, f[1], f[2], convWindowParams(node.options));
}

/**
 * The window of a pool. Pools count only the real pixels under a window, so a padded window would change
 * an average's divisor or a max on a patch edge: only unpadded pools whose windows stay inside cross patches.
 */
export function poolSpatialWindow(node: Node<'AVERAGE_POOL_2D'> | Node<'MAX_POOL_2D'>, g: Graph): SpatialWindow | null {
  const x = g.tensors[node.inputs[0]];
  if (!x || x.shape.length !== 4 || x.shape[0] !== 1) return null;
  const o = node.options;
  const w = window2d(x.shape, o.filterH, o.filterW, { padding: o.padding, strideH: o.strideH, strideW: o.strideW });
  const y = g.tensors[node.outputs[0]].shape;
  const fits = (y[1] - 1) * w.strideH + w.kH <= x.shape[1] && (y[2] - 1) * w.strideW + w.kW <= x.shape[2] && w.padTop === 0 && w.padLeft === 0;
  return fits ? { kH: w.kH, kW: w.kW, strideH: w.strideH, strideW: w.strideW, dilH: 1, dilW: 1, padTop: 0, padLeft: 0 } : null;
}
