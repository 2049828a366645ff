/**
 * The TinyNAS search space: MobileNetV2-style networks (a stem convolution, one depthwise-separable block,
 * then stages of inverted-residual blocks) where each block chooses its kernel (3/5/7) and expand ratio
 * (3/4/6), each stage its depth, and the whole network a width multiplier and an input resolution.
 *
 * A space is data (SpaceConfig); a network in it is a genome (Arch) with one kernel and expand gene per
 * block slot of the deepest network, as in Once-for-All: a stage of depth d uses its first d slots, so
 * mutating a depth keeps the other genes, and a subnet's weights are slices of the supernet's.
 */
import { InputError } from '../errors.js';

export interface StageSpace {
  /** Output channels at width 1.0. */
  channels: number;
  /** Stride of the stage's first block. */
  stride: number;
  /** Depth choices (blocks in the stage). */
  depths: readonly number[];
}

export interface SpaceConfig {
  name: string;
  inputChannels: number;
  classes: number;
  /** Stem: a 3x3 convolution (channels at width 1.0). */
  stem: { channels: number; stride: number };
  /** The depthwise-separable block after the stem (3x3 depthwise, 1x1 projection), stride 1. */
  first: { channels: number };
  stages: readonly StageSpace[];
  kernels: readonly number[];
  expands: readonly number[];
  /** Channels of a 1x1 convolution before pooling, at width 1.0 (0: none). */
  head: number;
  widths: readonly number[];
  resolutions: readonly number[];
  /** Channel counts are rounded to a multiple of this (int8 SIMD kernels work in groups of 4 and 8). */
  divisor: number;
  /**
   * Each block may add squeeze-and-excitation after its depthwise layer (global mean, 1x1 down to a
   * quarter, ReLU, 1x1 up, sigmoid, channel-wise product): one more gene per block slot.
   */
  se?: boolean;
  /**
   * Batch normalisation after every convolution but the squeeze-and-excitation ones, while training;
   * folded into the convolutions, with statistics re-calibrated per subnet, for inference.
   */
  batchNorm?: boolean;
}

/** One subnet of a space. */
export interface Arch {
  width: number;
  resolution: number;
  /** Blocks used per stage. */
  depths: number[];
  /** Kernel size per block slot: stage s slot j at s * maxDepth + j. */
  kernels: number[];
  /** Expand ratio per block slot, laid out as `kernels`. */
  expands: number[];
  /** Squeeze-and-excitation per block slot (1: on), when the space offers it. */
  se?: number[];
}

/**
 * The ImageNet-scale space of the MCUNet paper's search (widths 0.2–1.0, resolutions 48–224, the
 * ProxylessNAS/OFA MobileNetV2 backbone with kernels 3/5/7, expand 3/4/6, depth 2–4 per stage).
 */
export const MBV2_IMAGENET: SpaceConfig = {
  name: 'mbv2-imagenet',
  inputChannels: 3,
  classes: 1000,
  stem: { channels: 32, stride: 2 },
  first: { channels: 16 },
  stages: [
    { channels: 24, stride: 2, depths: [2, 3, 4] },
    { channels: 40, stride: 2, depths: [2, 3, 4] },
    { channels: 80, stride: 2, depths: [2, 3, 4] },
    { channels: 96, stride: 1, depths: [2, 3, 4] },
    { channels: 192, stride: 2, depths: [2, 3, 4] },
    { channels: 320, stride: 1, depths: [1] },
  ],
  kernels: [3, 5, 7],
  expands: [3, 4, 6],
  head: 0,
  widths: [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
  resolutions: [48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224],
  divisor: 8,
  batchNorm: true,
};

/**
 * The same backbone for 32x32 datasets (CIFAR-10): a stride-1 stem and one stride-2 stage fewer, so a
 * 32x32 input still ends at 2x2, and resolutions from the native 32 up to 2.5x (upsampled).
 */
export const MBV2_CIFAR: SpaceConfig = {
  name: 'mbv2-cifar',
  inputChannels: 3,
  classes: 10,
  stem: { channels: 32, stride: 1 },
  first: { channels: 16 },
  stages: [
    { channels: 24, stride: 1, depths: [1, 2, 3] },
    { channels: 40, stride: 2, depths: [2, 3, 4] },
    { channels: 80, stride: 2, depths: [2, 3, 4] },
    { channels: 96, stride: 1, depths: [2, 3, 4] },
    { channels: 192, stride: 2, depths: [1, 2, 3] },
  ],
  kernels: [3, 5, 7],
  expands: [3, 4, 6],
  head: 0,
  widths: [0.25, 0.35, 0.5, 0.6, 0.75, 0.9, 1.0],
  resolutions: [32, 40, 48, 56, 64, 72, 80],
  divisor: 8,
  batchNorm: true,
};

/** MBV2_CIFAR with the squeeze-and-excitation choice in every block. */
export const MBV2_SE_CIFAR: SpaceConfig = { ...MBV2_CIFAR, name: 'mbv2se-cifar', se: true };

export const SPACES: Readonly<Record<string, SpaceConfig>> = { [MBV2_IMAGENET.name]: MBV2_IMAGENET, [MBV2_CIFAR.name]: MBV2_CIFAR, [MBV2_SE_CIFAR.name]: MBV2_SE_CIFAR };

export function findSpace(name: string): SpaceConfig {
  const s = SPACES[name];
  if (!s) throw new InputError(`unknown search space "${name}"; known: ${Object.keys(SPACES).join(', ')}`);
  return s;
}

export function maxDepth(space: SpaceConfig): number {
  return Math.max(...space.stages.flatMap((s) => s.depths));
}

/** Channels at a width multiplier: rounded to the divisor, never below it, never 10 % under the exact value. */
export function scaledChannels(space: SpaceConfig, base: number, width: number): number {
  const d = space.divisor;
  const exact = base * width;
  let c = Math.max(d, Math.floor((exact + d / 2) / d) * d);
  if (c < 0.9 * exact) c += d;
  return c;
}

/** One block of a subnet as it runs. */
export interface BlockShape {
  stage: number;
  /** Position in the stage (0: the block that may stride). */
  index: number;
  /** Slot in the genome arrays. */
  slot: number;
  kernel: number;
  expand: number;
  inChannels: number;
  midChannels: number;
  outChannels: number;
  stride: number;
  /** Input size (square). */
  inSize: number;
  residual: boolean;
  /** Squeeze-and-excitation channels (0: none). */
  seChannels: number;
}

export interface SubnetShape {
  resolution: number;
  stemChannels: number;
  stemStride: number;
  firstChannels: number;
  blocks: BlockShape[];
  headChannels: number;
  /** Feature map size before pooling. */
  finalSize: number;
  /** Channels fed to the classifier. */
  features: number;
}

/** SAME padding: output size = ceil(input / stride). */
export function stridedSize(n: number, stride: number): number {
  return Math.ceil(n / stride);
}

/** Every layer's channels and sizes for a genome (throws InputError when the genome is not of the space). */
export function subnetShape(space: SpaceConfig, arch: Arch): SubnetShape {
  checkArch(space, arch);
  const w = arch.width;
  const md = maxDepth(space);
  let size = stridedSize(arch.resolution, space.stem.stride);
  const stemChannels = scaledChannels(space, space.stem.channels, w);
  const firstChannels = scaledChannels(space, space.first.channels, w);
  let c = firstChannels;
  const blocks: BlockShape[] = [];
  space.stages.forEach((st, s) => {
    const outC = scaledChannels(space, st.channels, w);
    for (let j = 0; j < arch.depths[s]; j++) {
      const slot = s * md + j;
      const stride = j === 0 ? st.stride : 1;
      const expand = arch.expands[slot];
      blocks.push({
        stage: s, index: j, slot, kernel: arch.kernels[slot], expand,
        inChannels: c, midChannels: expandedChannels(space, c, expand), outChannels: outC,
        stride, inSize: size, residual: stride === 1 && c === outC,
        seChannels: arch.se?.[slot] ? seChannels(space, expandedChannels(space, c, expand)) : 0,
      });
      size = stridedSize(size, stride);
      c = outC;
    }
  });
  const headChannels = space.head > 0 ? scaledChannels(space, space.head, Math.max(1, w)) : 0;
  return { resolution: arch.resolution, stemChannels, stemStride: space.stem.stride, firstChannels, blocks, headChannels, finalSize: size, features: headChannels || c };
}

/** The hidden channels of an inverted-residual block (rounded like every other channel count). */
export function expandedChannels(space: SpaceConfig, inChannels: number, expand: number): number {
  return Math.max(space.divisor, Math.round((inChannels * expand) / space.divisor) * space.divisor);
}

/** The squeeze width of a block with `mid` hidden channels: a quarter, rounded like every channel count. */
export function seChannels(space: SpaceConfig, mid: number): number {
  return Math.max(space.divisor, Math.round(mid / 4 / space.divisor) * space.divisor);
}

export function checkArch(space: SpaceConfig, a: Arch): void {
  const md = maxDepth(space);
  const bad = (what: string) => { throw new InputError(`architecture is not in space ${space.name}: ${what}`); };
  if (!space.widths.includes(a.width)) bad(`width ${a.width} (choices ${space.widths.join(', ')})`);
  if (!space.resolutions.includes(a.resolution)) bad(`resolution ${a.resolution} (choices ${space.resolutions.join(', ')})`);
  if (a.depths.length !== space.stages.length) bad(`${a.depths.length} stage depths for ${space.stages.length} stages`);
  a.depths.forEach((d, s) => { if (!space.stages[s].depths.includes(d)) bad(`stage ${s} depth ${d}`); });
  if (a.kernels.length !== space.stages.length * md || a.expands.length !== a.kernels.length) bad('genome length');
  a.kernels.forEach((k) => { if (!space.kernels.includes(k)) bad(`kernel ${k}`); });
  a.expands.forEach((e) => { if (!space.expands.includes(e)) bad(`expand ratio ${e}`); });
  if (space.se) {
    if (!a.se || a.se.length !== a.kernels.length || a.se.some((v) => v !== 0 && v !== 1)) bad('squeeze-and-excitation genes');
  } else if (a.se && a.se.some((v) => v !== 0)) {
    bad('squeeze-and-excitation (the space has none)');
  }
}

type Rand = () => number;

function pick<T>(rand: Rand, xs: readonly T[]): T {
  return xs[Math.min(xs.length - 1, Math.floor(rand() * xs.length))];
}

/** A uniformly random genome; width and resolution fixed when given (a space optimisation cell). */
export function sampleArch(space: SpaceConfig, rand: Rand, fixed: { width?: number; resolution?: number } = {}): Arch {
  const slots = space.stages.length * maxDepth(space);
  return {
    width: fixed.width ?? pick(rand, space.widths),
    resolution: fixed.resolution ?? pick(rand, space.resolutions),
    depths: space.stages.map((s) => pick(rand, s.depths)),
    kernels: Array.from({ length: slots }, () => pick(rand, space.kernels)),
    expands: Array.from({ length: slots }, () => pick(rand, space.expands)),
    ...(space.se ? { se: Array.from({ length: slots }, () => (rand() < 0.5 ? 0 : 1)) } : {}),
  };
}

/** The largest (or smallest) network of the space at one width and resolution: the sandwich rule's ends. */
export function extremeArch(space: SpaceConfig, which: 'largest' | 'smallest', width: number, resolution: number): Arch {
  const f = which === 'largest' ? Math.max : Math.min;
  const slots = space.stages.length * maxDepth(space);
  return {
    width, resolution,
    depths: space.stages.map((s) => f(...s.depths)),
    kernels: new Array<number>(slots).fill(f(...space.kernels)),
    expands: new Array<number>(slots).fill(f(...space.expands)),
    ...(space.se ? { se: new Array<number>(slots).fill(which === 'largest' ? 1 : 0) } : {}),
  };
}

/** Each gene re-drawn with probability `p` (width and resolution stay: they are the space's, not the net's). */
export function mutateArch(space: SpaceConfig, a: Arch, rand: Rand, p: number): Arch {
  return {
    width: a.width, resolution: a.resolution,
    depths: a.depths.map((d, s) => (rand() < p ? pick(rand, space.stages[s].depths) : d)),
    kernels: a.kernels.map((k) => (rand() < p ? pick(rand, space.kernels) : k)),
    expands: a.expands.map((e) => (rand() < p ? pick(rand, space.expands) : e)),
    ...(a.se ? { se: a.se.map((v) => (rand() < p ? 1 - v : v)) } : {}),
  };
}

/** Uniform crossover: each gene from either parent. */
export function crossoverArch(a: Arch, b: Arch, rand: Rand): Arch {
  const mix = (x: number[], y: number[]) => x.map((v, i) => (rand() < 0.5 ? v : y[i]));
  return {
    width: a.width, resolution: a.resolution, depths: mix(a.depths, b.depths), kernels: mix(a.kernels, b.kernels), expands: mix(a.expands, b.expands),
    ...(a.se && b.se ? { se: mix(a.se, b.se) } : {}),
  };
}

/** A readable, unique name: only the genes in use (unused slots do not change the network). */
export function archKey(space: SpaceConfig, a: Arch): string {
  const md = maxDepth(space);
  const stages = a.depths.map((d, s) => {
    const blocks: string[] = [];
    for (let j = 0; j < d; j++) blocks.push(`k${a.kernels[s * md + j]}e${a.expands[s * md + j]}${a.se?.[s * md + j] ? 's' : ''}`);
    return blocks.join(',');
  });
  return `w${a.width}-r${a.resolution}-${stages.join('|')}`;
}

/** The genome from `archKey`'s text (the form checkpoints and `--arch` use). */
export function parseArchKey(space: SpaceConfig, key: string): Arch {
  const m = /^w([\d.]+)-r(\d+)-(.*)$/.exec(key.trim());
  if (!m) throw new InputError(`architecture "${key}": expected w<width>-r<resolution>-k3e4,k5e6|...`);
  const md = maxDepth(space);
  const stages = m[3].split('|');
  const base = extremeArch(space, 'smallest', Number(m[1]), Number(m[2]));
  const a: Arch = { ...base, depths: stages.map((s) => (s ? s.split(',').length : 0)) };
  stages.forEach((s, i) => s.split(',').forEach((b, j) => {
    const g = /^k(\d+)e(\d+)(s?)$/.exec(b);
    if (!g) throw new InputError(`architecture "${key}": block "${b}" is not k<kernel>e<expand>[s]`);
    a.kernels[i * md + j] = Number(g[1]);
    a.expands[i * md + j] = Number(g[2]);
    if (g[3] && !a.se) throw new InputError(`architecture "${key}": block "${b}" has squeeze-and-excitation; space ${space.name} has none`);
    if (a.se) a.se[i * md + j] = g[3] ? 1 : 0;
  }));
  checkArch(space, a);
  return a;
}
