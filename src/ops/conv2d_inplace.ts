/**
 * In-place pointwise convolution: a 1x1, stride-1, unpadded int8 CONV_2D whose output overlays its input
 * (TinyEngine's in-place idea carried from depthwise to pointwise layers). In NHWC output pixel p needs input
 * pixel p only, so pixels run in order and a block's outputs go down once its inputs are read: with the
 * output at the input's first byte and cout <= cin, output pixel p ends at or before input pixel p's end,
 * so a write only ever lands on input pixels already consumed. A widening layer (cout > cin) runs the
 * pixels backwards instead: output pixel p starts at or after input pixel p's start, so its bytes land on
 * pixels >= p, already consumed; the buffer grows past the input's end as PAD in place does. Peak
 * max(N_in, N_out) + one block instead of N_in + N_out.
 *
 * The rule here is the C kernel's (csrc/kernels/tm_conv_pointwise_inplace.h), limits included, so a node the
 * planner puts in place always runs and always compiles.
 */
import type { Graph, Node } from '../graph/graph.js';
import { UnsupportedOpError } from '../errors.js';
import type { InPlaceVariant, Kernel } from './op.js';
import type { Int8Gemm } from './gemm.js';
import { GEMM_BLOCK_ROWS, runInt8Gemm } from './gemm.js';
import { int8ConvScratchBytes } from './conv2d.js';
import { window2d, convWindowParams } from './conv_util.js';

/**
 * Pixels the C kernel computes per call of the ordinary pointwise kernel before moving them over the
 * input: a multiple of the WebAssembly tile (8) and the DSP path's pixel pair, small against any layer
 * where the trick pays (the block's outputs are the trick's whole cost in memory).
 */
export const POINTWISE_BLOCK_PIXELS = 16;

/** The geometry of a pointwise convolution that can run in place, or null. */
export interface PointwiseInPlace {
  pixels: number;
  cin: number;
  cout: number;
  /** Pixels per block (the C kernel's call). */
  block: number;
  /** Bytes of the block's outputs in the scratch (rounded up so the kernel's own scratch stays aligned). */
  blockBytes: number;
}

export function pointwiseInPlaceGeometry(node: Node<'CONV_2D'>, g: Graph): PointwiseInPlace | null {
  const input = g.tensors[node.inputs[0]];
  const filter = g.tensors[node.inputs[1]];
  const output = g.tensors[node.outputs[0]];
  if (!input || !filter || !output || input.data || input.shape.length !== 4 || output.shape.length !== 4 || filter.shape.length !== 4) return null;
  // int8 only: the float and 16x8 kernels are not block-wise.
  if (input.dtype !== 'int8' || output.dtype !== 'int8' || filter.dtype !== 'int8') return null;
  const [n, h, w, cin] = input.shape;
  const [cout, kH, kW, cinFilter] = filter.shape;
  const o = node.options;
  if (n !== 1 || kH !== 1 || kW !== 1 || cinFilter !== cin || o.strideH !== 1 || o.strideW !== 1) return null;
  if (output.shape[1] !== h || output.shape[2] !== w || output.shape[3] !== cout) return null;
  const pixels = h * w;
  const block = Math.min(pixels, POINTWISE_BLOCK_PIXELS);
  return { pixels, cin, cout, block, blockBytes: (block * cout + 15) & ~15 };
}

/**
 * The planner's view: scratch for one block's outputs plus the ordinary kernel's own scratch. It ties the
 * input and output into one buffer, which can keep other tricks (concatenation in place) from applying,
 * so the planner uses it only where it lowers the arena (`peakOnly`).
 */
export function pointwiseInPlace(node: Node<'CONV_2D'>, g: Graph): InPlaceVariant | null {
  const geo = pointwiseInPlaceGeometry(node, g);
  if (!geo) return null;
  const win = window2d(g.tensors[node.inputs[0]].shape, 1, 1, convWindowParams(node.options));
  return { scratchBytes: geo.blockBytes + int8ConvScratchBytes(win, geo.cin), trick: 'inPlacePointwise', slowdown: POINTWISE_IN_PLACE_SLOWDOWN, peakOnly: true };
}

/**
 * The extra work is one memmove of the outputs (out_c bytes a pixel against in_c * out_c MACs) and a kernel
 * call per block. Measured: person_detect's patch plan with 59 pointwise layers in place (in-place depthwise
 * off) ran 19,095,880 Cortex-M4 instructions under QEMU against 19,094,360 with none (+0.008 %): free.
 */
const POINTWISE_IN_PLACE_SLOWDOWN = 1;

/**
 * The TypeScript kernel: the plan's scratch is not needed, because runInt8Gemm sums all products of a call's
 * rows before it requantises and writes them. Called on blocks of at most its own block of rows, in pixel
 * order (narrowing) or backwards (widening), it only overwrites input pixels already read — the C kernel's
 * order with the TypeScript kernel's block. Refuses an overlap other than the one the plan promises.
 */
export function pointwiseInPlaceKernel(node: Node<'CONV_2D'>, g: Graph, gm: Int8Gemm, x: Int8Array, y: Int8Array): Kernel {
  const geo = pointwiseInPlaceGeometry(node, g);
  if (!geo || x.byteOffset !== y.byteOffset) {
    throw new UnsupportedOpError(node.op, node.index, 'the plan overlays the output on the input in a way the in-place pointwise kernel does not run (1x1 stride-1 int8 batch 1, output at the input\'s first byte): planner bug');
  }
  const { pixels, cin, cout } = geo;
  const rows = GEMM_BLOCK_ROWS;
  if (cout <= cin) return () => { for (let p = 0; p < pixels; p += rows) runInt8Gemm(gm, x, p * cin, cin, Math.min(rows, pixels - p), y, p * cout); };
  const last = Math.floor((pixels - 1) / rows) * rows;
  return () => { for (let p = last; p >= 0; p -= rows) runInt8Gemm(gm, x, p * cin, cin, Math.min(rows, pixels - p), y, p * cout); };
}
