/**
 * A subnet becomes our Graph: the same IR the planner, the code generator and the training engine use,
 * so its peak SRAM and Flash come from the real pipeline, and training it is training any model.
 * Parameters are named by their place in the network (`s2b1/dw/weights`), the names the supernet
 * slices its shared weights by.
 */
import { GraphBuilder } from '../graph/builder.js';
import type { Graph, TensorId } from '../graph/graph.js';
import type { Activation } from '../graph/options.js';
import { quantizeGraph } from '../quant/ptq.js';
import type { Range } from '../quant/ptq.js';
import { seededRandom } from '../util/random.js';
import type { Arch, SpaceConfig, SubnetShape } from './space.js';
import { archKey, stridedSize, subnetShape } from './space.js';

/** A layer's parameter, by name and shape (OHWI for convolutions, [1,H,W,C] depthwise, [out,in] FC). */
export interface ParamRequest {
  name: string;
  shape: number[];
  /** Inputs per output (He initialisation's fan-in). */
  fanIn: number;
  /** 'scale': a batch normalisation's (starts at 1). */
  kind: 'weights' | 'bias' | 'scale';
}

/** Per batch-normalised layer (by name, e.g. `s2b1/expand`): the statistics of its convolution's output. */
export type BnStats = Map<string, { mean: Float32Array; variance: Float32Array }>;

/**
 * How a space with batch normalisation is built: as trained (BATCH_NORMALIZE, then the scale and shift as
 * a 1x1 depthwise layer), or for inference with it folded into each convolution by these statistics
 * (null: mean 0, variance 1, for shapes and byte counts alone).
 */
export type NormMode = { kind: 'train' } | { kind: 'fold'; stats: BnStats | null };

/** Batch normalisation's epsilon (Keras' default, which TFLite converters fold with). */
export const BN_EPSILON = 1e-3;

export type ParamSource = (p: ParamRequest) => Float32Array;

/** Seeded He-normal weights and zero biases: a fresh network. */
export function heInit(seed: number): ParamSource {
  const rand = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  return (p) => {
    const n = p.shape.reduce((a, d) => a * d, 1);
    const v = new Float32Array(n);
    if (p.kind === 'bias') return v;
    if (p.kind === 'scale') return v.fill(1);
    const std = Math.sqrt(2 / p.fanIn);
    for (let i = 0; i < n; i++) v[i] = normal() * std;
    return v;
  };
}

/** All zeros: enough for memory and Flash accounting, where only shapes and byte counts matter. */
export const zeroParams: ParamSource = (p) => new Float32Array(p.shape.reduce((a, d) => a * d, 1));

/**
 * The float32 network of one genome (batch 1, NHWC, SAME padding, ReLU6, softmax output). In a space with
 * batch normalisation, `norm` says whether it is the training graph or the inference graph (default:
 * folded with unit statistics, for shapes only).
 */
export function buildSubnet(space: SpaceConfig, arch: Arch, params: ParamSource = heInit(1), shape: SubnetShape = subnetShape(space, arch), norm: NormMode = { kind: 'fold', stats: null }): Graph {
  const b = new GraphBuilder(`tinynas-${space.name}`, `TinyNAS subnet ${archKey(space, arch)}`);
  let size = arch.resolution;
  let c = space.inputChannels;
  const constant = (name: string, dims: number[], fanIn: number, kind: ParamRequest['kind']): TensorId => {
    const v = params({ name, shape: dims, fanIn, kind });
    const n = dims.reduce((a, d) => a * d, 1);
    if (v.length !== n) throw new Error(`parameter ${name}: source gave ${v.length} values for shape [${dims.join(',')}]`);
    return b.constant(name, dims, 'float32', v);
  };
  const bn = space.batchNorm === true;
  /** A convolution's output channel o scaled by s[o], its bias b'[o] = beta[o] - mean[o] s[o]: batch normalisation folded. */
  const folded = (name: string, weights: Float32Array, channels: number, channelOf: (i: number) => number): { w: Float32Array; bias: Float32Array } => {
    const gamma = params({ name: `${name}/bn/weights`, shape: [1, 1, 1, channels], fanIn: 1, kind: 'scale' });
    const beta = params({ name: `${name}/bn/bias`, shape: [channels], fanIn: 1, kind: 'bias' });
    const st = norm.kind === 'fold' ? norm.stats?.get(name) : undefined;
    const scale = new Float32Array(channels);
    const bias = new Float32Array(channels);
    for (let o = 0; o < channels; o++) {
      const [m, v] = st ? [st.mean[o], st.variance[o]] : [0, 1];
      scale[o] = gamma[o] / Math.sqrt(v + BN_EPSILON);
      bias[o] = beta[o] - m * scale[o];
    }
    const w = weights.map((v, i) => v * scale[channelOf(i)]);
    return { w, bias };
  };
  /** A layer's output: plain, or batch-normalised as trained (normalise, then scale and shift as a 1x1 depthwise layer). */
  const layer = (name: string, op: 'CONV_2D' | 'DEPTHWISE_CONV_2D', x: TensorId, wDims: number[], fanIn: number, outC: number, stride: number, act: Activation, normalised: boolean): TensorId => {
    const options = { padding: 'SAME' as const, strideH: stride, strideW: stride, dilationH: 1, dilationW: 1 };
    const withOpts = (a: Activation) => (op === 'CONV_2D' ? { ...options, activation: a } : { ...options, activation: a, depthMultiplier: 1 });
    size = stridedSize(size, stride);
    c = outC;
    const y = b.tensor(name, [1, size, size, c], 'float32');
    if (!normalised) {
      const w = constant(`${name}/weights`, wDims, fanIn, 'weights');
      const bias = constant(`${name}/bias`, [outC], 1, 'bias');
      b.node(op, [x, w, bias], [y], withOpts(act) as never);
      return y;
    }
    if (norm.kind === 'fold') {
      const raw = params({ name: `${name}/weights`, shape: wDims, fanIn, kind: 'weights' });
      // OHWI: channel = outer index; depthwise [1, H, W, C]: channel = inner index.
      const per = raw.length / outC;
      const f = folded(name, raw, outC, op === 'CONV_2D' ? (i) => Math.floor(i / per) : (i) => i % outC);
      b.node(op, [x, b.constant(`${name}/weights`, wDims, 'float32', f.w), b.constant(`${name}/bias`, [outC], 'float32', f.bias)], [y], withOpts(act) as never);
      return y;
    }
    const w = constant(`${name}/weights`, wDims, fanIn, 'weights');
    b.node(op, [x, w, -1], [y], withOpts('NONE') as never);
    const normed = b.tensor(`${name}/normalised`, [1, size, size, c], 'float32');
    b.node('BATCH_NORMALIZE', [y], [normed], { epsilon: BN_EPSILON });
    const gamma = constant(`${name}/bn/weights`, [1, 1, 1, c], 1, 'scale');
    const beta = constant(`${name}/bn/bias`, [c], 1, 'bias');
    const out = b.tensor(`${name}/bn`, [1, size, size, c], 'float32');
    b.node('DEPTHWISE_CONV_2D', [normed, gamma, beta], [out], { ...options, strideH: 1, strideW: 1, activation: act, depthMultiplier: 1 });
    return out;
  };
  const conv = (name: string, x: TensorId, outC: number, k: number, stride: number, act: Activation, normalised = bn): TensorId =>
    layer(name, 'CONV_2D', x, [outC, k, k, c], k * k * c, outC, stride, act, normalised);
  const depthwise = (name: string, x: TensorId, k: number, stride: number): TensorId =>
    layer(name, 'DEPTHWISE_CONV_2D', x, [1, k, k, c], k * k, c, stride, 'RELU6', bn);

  /** x * sigmoid(up(relu(down(mean(x))))): channel weights from the global context. */
  const squeezeExcite = (name: string, x: TensorId, squeeze: number): TensorId => {
    const [hw, mid] = [size, c];
    const pooled = b.tensor(`${name}/se_mean`, [1, 1, 1, mid], 'float32');
    b.node('MEAN', [x, b.constant(`${name}/se_mean/axes`, [2], 'int32', Int32Array.of(1, 2))], [pooled], { keepDims: true });
    size = 1;
    // The excitation acts on one pixel per image: no batch statistics to speak of, no normalisation.
    let s = conv(`${name}/se_reduce`, pooled, squeeze, 1, 1, 'RELU', false);
    s = conv(`${name}/se_expand`, s, mid, 1, 1, 'NONE', false);
    const gate = b.tensor(`${name}/se_gate`, [1, 1, 1, mid], 'float32');
    b.node('LOGISTIC', [s], [gate], {});
    size = hw;
    const y = b.tensor(`${name}/se`, [1, size, size, mid], 'float32');
    b.node('MUL', [x, gate], [y], { activation: 'NONE' });
    return y;
  };

  const input = b.tensor('input', [1, size, size, c], 'float32');
  b.input(input);
  let x = conv('stem', input, shape.stemChannels, 3, shape.stemStride, 'RELU6');
  x = depthwise('first/dw', x, 3, 1);
  x = conv('first/project', x, shape.firstChannels, 1, 1, 'NONE');
  for (const blk of shape.blocks) {
    const name = `s${blk.stage}b${blk.index}`;
    const blockIn = x;
    let y = blk.midChannels !== blk.inChannels || blk.expand !== 1 ? conv(`${name}/expand`, x, blk.midChannels, 1, 1, 'RELU6') : x;
    y = depthwise(`${name}/dw`, y, blk.kernel, blk.stride);
    if (blk.seChannels) y = squeezeExcite(name, y, blk.seChannels);
    y = conv(`${name}/project`, y, blk.outChannels, 1, 1, 'NONE');
    if (blk.residual) {
      const sum = b.tensor(`${name}/add`, [1, size, size, c], 'float32');
      b.node('ADD', [blockIn, y], [sum], { activation: 'NONE' });
      y = sum;
    }
    x = y;
  }
  if (shape.headChannels > 0) x = conv('head', x, shape.headChannels, 1, 1, 'RELU6');

  const pooled = b.tensor('pool', [1, 1, 1, c], 'float32');
  b.node('AVERAGE_POOL_2D', [x], [pooled], { padding: 'VALID', strideH: 1, strideW: 1, filterH: size, filterW: size, activation: 'NONE' });
  const flat = b.tensor('flatten', [1, c], 'float32');
  b.node('RESHAPE', [pooled, b.constant('flatten/shape', [2], 'int32', Int32Array.of(1, c))], [flat], { newShape: [1, c] });
  const fcW = constant('classifier/weights', [space.classes, c], c, 'weights');
  const fcB = constant('classifier/bias', [space.classes], 1, 'bias');
  const logits = b.tensor('logits', [1, space.classes], 'float32');
  b.node('FULLY_CONNECTED', [flat, fcW, fcB], [logits], { activation: 'NONE', keepNumDims: false });
  const probs = b.tensor('probabilities', [1, space.classes], 'float32');
  b.node('SOFTMAX', [logits], [probs], { beta: 1 });
  b.output(probs);
  return b.build();
}

/**
 * The int8 model the subnet deploys as (post-training quantised with placeholder ranges): the graph whose
 * plan and constants decide SRAM and Flash. Ranges change scales, never shapes or bytes.
 */
export function deployGraph(space: SpaceConfig, arch: Arch, params: ParamSource = zeroParams): Graph {
  const g = buildSubnet(space, arch, params);
  const ranges = new Map<TensorId, Range>();
  for (const t of g.tensors) if (!t.data && t.dtype === 'float32') ranges.set(t.id, { min: -6, max: 6 });
  return quantizeGraph(g, ranges);
}
