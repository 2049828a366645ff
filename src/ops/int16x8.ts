/**
 * TFLite's 16x8 scheme for the weighted layers (int16 activations with zero point 0, int8 symmetric
 * weights, int64 or int32 bias): reference_integer_ops' int16 ConvPerChannel, DepthwiseConvPerChannel and
 * FullyConnected. Accumulators are 64-bit (exact here: below 2^53), and requantisation is the 64-bit
 * MultiplyByQuantizedMultiplier, which first reduces the multiplier to 16 bits.
 */
import type { Graph, Node, Tensor } from '../graph/graph.js';
import { UnsupportedOpError } from '../errors.js';
import type { Kernel, TensorViews } from './op.js';
import { inputTensor, optionalInput, outputTensor } from './op.js';
import type { Window2D } from './conv_util.js';
import { activationBounds, channelMultipliers, fullyConnectedMultipliers, requireSymmetricWeights } from './conv_util.js';
import { reader } from './element_access.js';
import { multiplyByQuantizedMultiplier } from '../quant/fixedpoint.js';

/** MultiplyByQuantizedMultiplier(int64 x, int32 multiplier, shift): the reduced 16-bit multiplier form. */
export function mbqm64(x: number, multiplier: number, shift: number): number {
  const reduced = multiplier < 0x7fff0000 ? (multiplier + (1 << 15)) >> 16 : 0x7fff;
  const total = 15 - shift;
  const r = (BigInt(x) * BigInt(reduced) + (1n << BigInt(total - 1))) >> BigInt(total);
  return Number(BigInt.asIntN(32, r));
}

function requireZeroPoints(node: Node, ...ts: Tensor[]): void {
  for (const t of ts) if ((t.quant?.zeroPoint[0] ?? 0) !== 0) throw new UnsupportedOpError(node.op, node.index, `16x8 tensor ${t.name} has a non-zero zero point`);
}

/** Bias values (int64 or int32), zeros when absent. */
function biasValues(node: Node, g: Graph, views: TensorViews, channels: number): number[] {
  const b = optionalInput(node, g, 2);
  if (!b) return new Array<number>(channels).fill(0);
  if (b.dtype !== 'int64' && b.dtype !== 'int32') throw new UnsupportedOpError(node.op, node.index, `16x8 bias ${b.name} is ${b.dtype}`);
  const r = reader(views, b);
  return Array.from({ length: channels }, (_, c) => Number(r(c)));
}

interface Layer16 {
  /** An int32 bias makes the reference accumulate in int32 and requantise with the 32-bit multiply. */
  int32Bias: boolean;
  x: Int16Array;
  w: Int8Array;
  y: Int16Array;
  bias: number[];
  multiplier: Int32Array;
  shift: Int32Array;
  lo: number;
  hi: number;
}

function layer16(node: Node, g: Graph, views: TensorViews, channels: number, act: Parameters<typeof activationBounds>[1], fc: boolean): Layer16 {
  const input = inputTensor(node, g, 0), weights = inputTensor(node, g, 1), output = outputTensor(node, g);
  requireSymmetricWeights(node, weights);
  requireZeroPoints(node, input, output);
  const { multiplier, shift } = (fc ? fullyConnectedMultipliers : channelMultipliers)(node, input, weights, output, channels);
  const [lo, hi] = activationBounds(node, act, output);
  const int32Bias = optionalInput(node, g, 2)?.dtype === 'int32';
  return { int32Bias, x: views.int16(input.id), w: views.int8(weights.id), y: views.int16(output.id), bias: biasValues(node, g, views, channels), multiplier, shift, lo, hi };
}

function store(l: Layer16, o: number, c: number, acc: number): void {
  const v = l.int32Bias
    ? multiplyByQuantizedMultiplier((acc + l.bias[c]) | 0, l.multiplier[c], l.shift[c])
    : mbqm64(acc + l.bias[c], l.multiplier[c], l.shift[c]);
  l.y[o] = v < l.lo ? l.lo : v > l.hi ? l.hi : v;
}

/** CONV_2D 16x8 (one group): filters [cout][kH][kW][cin]. */
export function conv16x8(node: Node<'CONV_2D'>, g: Graph, views: TensorViews, win: Window2D, cout: number): Kernel {
  const l = layer16(node, g, views, cout, node.options.activation, false);
  const { batches, inH, inW, inC, outH, outW, kH, kW, strideH, strideW, dilH, dilW, padTop, padLeft } = win;
  return () => {
    for (let b = 0; b < batches; b++) for (let oy = 0; oy < outH; oy++) for (let ox = 0; ox < outW; ox++) for (let c = 0; c < cout; c++) {
      let acc = 0;
      for (let ky = 0; ky < kH; ky++) {
        const iy = oy * strideH - padTop + ky * dilH;
        if (iy < 0 || iy >= inH) continue;
        for (let kx = 0; kx < kW; kx++) {
          const ix = ox * strideW - padLeft + kx * dilW;
          if (ix < 0 || ix >= inW) continue;
          const xi = ((b * inH + iy) * inW + ix) * inC, wi = ((c * kH + ky) * kW + kx) * inC;
          for (let ic = 0; ic < inC; ic++) acc += l.x[xi + ic] * l.w[wi + ic];
        }
      }
      store(l, ((b * outH + oy) * outW + ox) * cout + c, c, acc);
    }
  };
}

/** DEPTHWISE_CONV_2D 16x8: filters [1][kH][kW][cout], output channel c reads input channel c / mult. */
export function depthwise16x8(node: Node<'DEPTHWISE_CONV_2D'>, g: Graph, views: TensorViews, win: Window2D, cout: number): Kernel {
  const l = layer16(node, g, views, cout, node.options.activation, false);
  const { batches, inH, inW, inC, outH, outW, kH, kW, strideH, strideW, dilH, dilW, padTop, padLeft } = win;
  const mult = cout / inC;
  return () => {
    for (let b = 0; b < batches; b++) for (let oy = 0; oy < outH; oy++) for (let ox = 0; ox < outW; ox++) for (let c = 0; c < cout; c++) {
      let acc = 0;
      const ic = Math.floor(c / mult);
      for (let ky = 0; ky < kH; ky++) {
        const iy = oy * strideH - padTop + ky * dilH;
        if (iy < 0 || iy >= inH) continue;
        for (let kx = 0; kx < kW; kx++) {
          const ix = ox * strideW - padLeft + kx * dilW;
          if (ix >= 0 && ix < inW) acc += l.x[((b * inH + iy) * inW + ix) * inC + ic] * l.w[(ky * kW + kx) * cout + c];
        }
      }
      store(l, ((b * outH + oy) * outW + ox) * cout + c, c, acc);
    }
  };
}

/** FULLY_CONNECTED 16x8: rows of `depth` inputs times weights [units][depth]. */
export function fullyConnected16x8(node: Node<'FULLY_CONNECTED'>, g: Graph, views: TensorViews, rows: number, units: number, depth: number): Kernel {
  const l = layer16(node, g, views, units, node.options.activation, true);
  return () => {
    for (let r = 0; r < rows; r++) for (let c = 0; c < units; c++) {
      let acc = 0;
      for (let k = 0; k < depth; k++) acc += l.x[r * depth + k] * l.w[c * depth + k];
      store(l, r * units + c, c, acc);
    }
  };
}
