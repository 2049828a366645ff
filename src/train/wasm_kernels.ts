/**
 * The float32 training kernels of the C library (csrc/kernels/tm_train_f32.h) in one WebAssembly instance
 * of its own: the same functions as ./kernels (same arguments, results within float rounding), plus the
 * forward of the layers training spends its time in.
 *
 * The instance's memory holds, from its heap base: the window struct the kernels read, the session's
 * arena (SessionMemory lays its buffers there, so kernels read and write them in place), long-lived
 * buffers (`floats`), and a scratch stack each call takes from and returns. An argument that lies outside
 * the memory (a weight in its graph tensor, a dequantised copy) is copied onto that stack for the call,
 * and an output copied back. A layout's memory is sized once, up front: growing it would detach every view.
 *
 * Several sessions may share one instance (WasmTrainInstance), each laying its arena from the same base:
 * a weight-shared supernet trains a new subnet every step, and a fresh instance each time costs a
 * memory of hundreds of MB to map, fault in and collect. They take turns, and a step leaves nothing in
 * the arena the next needs. When a session needs more memory than there is, the memory grows and the
 * sessions laid out before see a detached buffer (`detached`): they are to be rebuilt.
 */
import type { Window2D } from '../ops/conv_util.js';
import { instantiateKernels, kernelModule, kernelModuleProblem } from '../runtime/wasm/kernel_module.js';
import { structLayout } from '../runtime/wasm/c_layout.js';
import type { TrainKernels } from './kernels/index.js';
import type { BroadcastMap } from './kernels/elementwise.js';
import { sumToGrad } from './kernels/elementwise.js';
import type { ArenaRegion } from './views.js';

type Fn = (...args: number[]) => number;
type Array32 = Float32Array | Int32Array | Int8Array | Uint8Array;

const PAGE = 65536;
const ALIGN = 64;
const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** The window struct's fields (C name) from a Window2D (TypeScript name). */
const WINDOW_FIELDS: readonly [string, keyof Window2D][] = [
  ['batches', 'batches'], ['in_h', 'inH'], ['in_w', 'inW'], ['in_c', 'inC'], ['out_h', 'outH'], ['out_w', 'outW'],
  ['k_h', 'kH'], ['k_w', 'kW'], ['stride_h', 'strideH'], ['stride_w', 'strideW'], ['dil_h', 'dilH'], ['dil_w', 'dilW'],
  ['pad_top', 'padTop'], ['pad_left', 'padLeft'],
];

export interface WasmTrainLayout {
  /** Bytes of the session's arena. */
  arenaBytes: number;
  /** Bytes of the long-lived buffers `floats` hands out. */
  persistentBytes: number;
  /** Bytes of the per-call scratch stack (see `scratchBytes`). */
  scratchBytes: number;
}

/** Why the WebAssembly training kernels cannot run here ('' when they can). */
export function wasmTrainingProblem(): string {
  return kernelModule() ? '' : kernelModuleProblem() || 'no WebAssembly';
}

/** The working memory of the kernels that need some, in floats (the C library's own sizing functions). */
export interface WasmScratchSizes {
  convScratch(win: Window2D, cout: number): number;
  fcScratch(batches: number, K: number, units: number): number;
  depthwiseScratch(win: Window2D, rows: number): number;
}

/** One instance of the kernel library: its exports, its memory, where the window struct and the free memory lie. */
export class WasmTrainInstance {
  readonly fn: Record<string, Fn> = {};
  readonly memory: WebAssembly.Memory;
  /** The window struct the kernels read. */
  readonly windowAt: number;
  /** Where a layout's arena starts. */
  readonly base: number;
  readonly windowSlots: [number, keyof Window2D][];

  /** `module`: another build of the kernel library (tests run the portable build, without SIMD, as a microcontroller would). */
  constructor(module = kernelModule()) {
    if (!module) throw new Error(`the WebAssembly training kernels cannot run here: ${wasmTrainingProblem()}`);
    const instance = instantiateKernels(module);
    for (const name of KERNELS) this.fn[name] = instance.kernel(`tm_train_${name}`) as unknown as Fn;
    this.memory = instance.memory;
    const window = structLayout('tm_train_window');
    this.windowAt = alignUp(instance.heapBase, ALIGN);
    this.base = alignUp(this.windowAt + window.size, ALIGN);
    this.windowSlots = WINDOW_FIELDS.map(([c, ts]) => [(this.windowAt + window.fields.get(c)!.offset) >> 2, ts]);
    this.reserve(this.base);
  }

  /** The memory at least `bytes` long (growing detaches every earlier view of it). */
  reserve(bytes: number): ArrayBuffer {
    const short = bytes - this.memory.buffer.byteLength;
    if (short > 0) this.memory.grow(Math.ceil(short / PAGE));
    return this.memory.buffer;
  }
}

export class WasmTrainKernels implements TrainKernels, WasmScratchSizes {
  readonly arena: ArenaRegion;
  private buffer: ArrayBuffer;
  private u8: Uint8Array;
  private i32: Int32Array;
  private readonly instance: WasmTrainInstance;
  private readonly fn: Record<string, Fn>;
  private readonly windowAt: number;
  private readonly windowSlots: [number, keyof Window2D][];
  private persistentTop: number;
  private readonly persistentEnd: number;
  private readonly scratchBase: number;
  private readonly scratchEnd: number;
  private sp: number;
  /** Outputs that lie outside the memory: copied back when the call returns. */
  private readonly pending: { to: Array32; from: number }[] = [];

  /**
   * `layoutOf` sizes the memory, asking the kernels' scratch sizes of this instance. `source`: an
   * instance to share (see above), or the module to instantiate (default: the kernel library).
   */
  constructor(layoutOf: (sizes: WasmScratchSizes) => WasmTrainLayout, source: WasmTrainInstance | WebAssembly.Module | null = kernelModule()) {
    const instance = source instanceof WasmTrainInstance ? source : new WasmTrainInstance(source);
    this.instance = instance;
    this.fn = instance.fn;
    this.windowAt = instance.windowAt;
    this.windowSlots = instance.windowSlots;
    this.buffer = instance.memory.buffer;
    this.i32 = new Int32Array(this.buffer);
    const layout = layoutOf(this);
    const persistentAt = alignUp(instance.base + layout.arenaBytes, ALIGN);
    this.persistentEnd = alignUp(persistentAt + layout.persistentBytes, ALIGN);
    this.scratchBase = this.persistentEnd;
    this.scratchEnd = alignUp(this.scratchBase + layout.scratchBytes, ALIGN);
    this.buffer = instance.reserve(this.scratchEnd);
    this.u8 = new Uint8Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
    this.arena = { buffer: this.buffer, offset: instance.base, bytes: layout.arenaBytes };
    this.persistentTop = persistentAt;
    this.sp = this.scratchBase;
  }

  /** Whether the shared memory grew since this layout was made: every view of it is gone. */
  get detached(): boolean {
    return this.buffer !== this.instance.memory.buffer;
  }

  /** A long-lived float buffer inside the memory (zeroed), for the life of the instance. */
  floats(n: number): Float32Array {
    const at = this.persistentTop;
    const end = alignUp(at + 4 * n, 16);
    if (end > this.persistentEnd) throw new Error(`WebAssembly training memory: ${n} floats do not fit the ${this.persistentEnd - at} bytes left for long-lived buffers`);
    this.persistentTop = end;
    // Zeroed here: in a shared instance another session's arena lay there.
    return new Float32Array(this.buffer, at, n).fill(0);
  }

  // ---------------------------------------------------------------------------------------------
  // Scratch sizes (the C library says; callers size the layout with them)

  /** Floats of working memory the CONV_2D kernels take for this window. */
  convScratch(win: Window2D, cout: number): number {
    return this.fn.conv2d_scratch(this.window(win), cout);
  }

  fcScratch(batches: number, K: number, units: number): number {
    return this.fn.fc_scratch(batches, K, units);
  }

  depthwiseScratch(win: Window2D, rows: number): number {
    return this.fn.depthwise_scratch(this.window(win), rows);
  }

  // ---------------------------------------------------------------------------------------------
  // Forward

  conv2d(win: Window2D, cout: number, x: Float32Array, w: Float32Array, bias: Float32Array | null, actMin: number, actMax: number, y: Float32Array): void {
    const at = this.window(win);
    const scratch = this.scratch(4 * this.fn.conv2d_scratch(at, cout));
    this.fn.conv2d_f32(at, cout, this.input(x), this.input(w), this.optional(bias), actMin, actMax, this.output(y), scratch);
    this.done();
  }

  depthwise(win: Window2D, M: number, x: Float32Array, w: Float32Array, bias: Float32Array | null, actMin: number, actMax: number, y: Float32Array): void {
    this.fn.depthwise_f32(this.window(win), M, this.input(x), this.input(w), this.optional(bias), actMin, actMax, this.output(y));
    this.done();
  }

  fullyConnected(batches: number, K: number, units: number, x: Float32Array, w: Float32Array, bias: Float32Array | null, actMin: number, actMax: number, y: Float32Array): void {
    const scratch = this.scratch(4 * this.fn.fc_scratch(batches, K, units));
    this.fn.fc_f32(batches, K, units, this.input(x), this.input(w), this.optional(bias), actMin, actMax, this.output(y), scratch);
    this.done();
  }

  /** ADD (sign 1) or SUB (sign -1) of two float tensors of the output's shape: y = clamp(a + sign * b). */
  add(a: Float32Array, b: Float32Array, sign: number, actMin: number, actMax: number, y: Float32Array): void {
    this.fn.add_f32(y.length, this.input(a), this.input(b), sign, actMin, actMax, this.output(y));
    this.done();
  }

  maxPool(win: Window2D, actMin: number, actMax: number, x: Float32Array, y: Float32Array): void {
    this.fn.max_pool_f32(this.window(win), actMin, actMax, this.input(x), this.output(y));
    this.done();
  }

  avgPool(win: Window2D, actMin: number, actMax: number, x: Float32Array, y: Float32Array): void {
    this.fn.avg_pool_f32(this.window(win), actMin, actMax, this.input(x), this.output(y));
    this.done();
  }

  // ---------------------------------------------------------------------------------------------
  // Backward: the signatures of ./kernels

  conv2dInputGrad(win: Window2D, cout: number, dz: Float32Array, wt: Float32Array, dx: Float32Array, accumulate: boolean): void {
    const at = this.window(win);
    const scratch = this.scratch(4 * this.fn.conv2d_scratch(at, cout));
    this.fn.conv2d_input_grad_f32(at, cout, this.input(dz), this.input(wt), this.output(dx), accumulate ? 1 : 0, scratch);
    this.done();
  }

  conv2dWeightGrad(win: Window2D, cout: number, dz: Float32Array, x: Float32Array, xC: number, pick: Int32Array | null, out: Float32Array): void {
    const at = this.window(win);
    const scratch = this.scratch(4 * this.fn.conv2d_scratch(at, cout));
    this.fn.conv2d_weight_grad_f32(at, cout, this.input(dz), this.input(x), xC, this.optional(pick), pick ? pick.length : xC, this.output(out), scratch);
    this.done();
  }

  biasGrad(dz: Float32Array, channels: number, out: Float32Array): void {
    this.fn.bias_grad_f32(dz.length, channels, this.input(dz), this.output(out));
    this.done();
  }

  depthwiseInputGrad(win: Window2D, M: number, dz: Float32Array, w: Float32Array, dx: Float32Array, accumulate: boolean): void {
    this.fn.depthwise_input_grad_f32(this.window(win), M, this.input(dz), this.input(w), this.output(dx), accumulate ? 1 : 0);
    this.done();
  }

  depthwiseWeightGrad(win: Window2D, M: number, dz: Float32Array, x: Float32Array, xC: number, pick: Int32Array | null, channels: Int32Array | null, out: Float32Array): void {
    const at = this.window(win);
    const kept = channels ? channels.length : win.inC;
    const scratch = this.scratch(4 * this.fn.depthwise_scratch(at, kept * M));
    this.fn.depthwise_weight_grad_f32(at, M, this.input(dz), this.input(x), xC, this.optional(pick), this.optional(channels), kept, this.output(out), scratch);
    this.done();
  }

  fcInputGrad(batches: number, units: number, K: number, dz: Float32Array, w: Float32Array, dx: Float32Array, accumulate: boolean): void {
    this.fn.fc_input_grad_f32(batches, units, K, this.input(dz), this.input(w), this.output(dx), accumulate ? 1 : 0);
    this.done();
  }

  fcWeightGrad(batches: number, units: number, dz: Float32Array, x: Float32Array, xK: number, pick: Int32Array | null, out: Float32Array): void {
    const scratch = this.scratch(pick ? 4 * batches * pick.length : 0);
    this.fn.fc_weight_grad_f32(batches, units, this.input(dz), this.input(x), xK, this.optional(pick), pick ? pick.length : xK, this.output(out), scratch);
    this.done();
  }

  avgPoolInputGrad(win: Window2D, dz: Float32Array, dx: Float32Array, accumulate: boolean): void {
    this.fn.avg_pool_input_grad_f32(this.window(win), this.input(dz), this.output(dx), accumulate ? 1 : 0);
    this.done();
  }

  maxPoolInputGrad(win: Window2D, x: Float32Array, dz: Float32Array, dx: Float32Array, accumulate: boolean): void {
    this.fn.max_pool_input_grad_f32(this.window(win), this.input(x), this.input(dz), this.output(dx), accumulate ? 1 : 0);
    this.done();
  }

  /** BATCH_NORMALIZE forward (batch statistics): the same floats as src/ops/batch_normalize.ts. */
  batchNormalize(x: Float32Array, channels: number, eps: number, y: Float32Array): void {
    const scratch = this.scratch(64 * channels);
    this.fn.bn_forward_f32(x.length, channels, this.input(x), eps, this.output(y), scratch);
    this.done();
  }

  batchNormalizeInputGrad(x: Float32Array, channels: number, eps: number, gy: Float32Array, gx: Float32Array, accumulate: boolean): void {
    const scratch = this.scratch(64 * channels);
    this.fn.bn_input_grad_f32(x.length, channels, this.input(x), eps, this.input(gy), this.output(gx), accumulate ? 1 : 0, scratch);
    this.done();
  }

  /** ADD / SUB's gradient: in the module where nothing broadcasts, else the TypeScript kernel. */
  sumToGrad(m: BroadcastMap, sign: number, gin: Float32Array, gout: Float32Array, accumulate: boolean): void {
    if (!m.same) {
      sumToGrad(m, sign, gin, gout, accumulate);
      return;
    }
    this.fn.signed_grad_f32(gout.length, sign, this.input(gin), this.output(gout), accumulate ? 1 : 0);
    this.done();
  }

  clampGradFromValues(v: Int8Array | Float32Array, lo: number, hi: number, gin: Float32Array, gout: Float32Array, accumulate: boolean): void {
    const kernel = v instanceof Float32Array ? this.fn.clamp_grad_f32 : this.fn.clamp_grad_s8;
    kernel(gout.length, this.input(v), lo, hi, this.input(gin), this.output(gout), accumulate ? 1 : 0);
    this.done();
  }

  clampGradFromBits(bits: Uint8Array, gin: Float32Array, gout: Float32Array, accumulate: boolean): void {
    this.fn.clamp_grad_bits(gout.length, this.input(bits), this.input(gin), this.output(gout), accumulate ? 1 : 0);
    this.done();
  }

  // ---------------------------------------------------------------------------------------------
  // Arguments

  private window(win: Window2D): number {
    for (const [slot, key] of this.windowSlots) this.i32[slot] = win[key];
    return this.windowAt;
  }

  private scratch(bytes: number): number {
    const at = this.sp;
    this.sp = alignUp(at + bytes, 16);
    if (this.sp > this.scratchEnd) {
      this.sp = this.scratchBase;
      this.pending.length = 0;
      throw new Error(`WebAssembly training scratch: a call needs more than the ${this.scratchEnd - this.scratchBase} bytes the session reserved`);
    }
    return at;
  }

  /** The address of an argument the kernel reads: where it lies, or a copy on the scratch stack. */
  private input(a: Array32): number {
    if (a.buffer === this.buffer) return a.byteOffset;
    const at = this.scratch(a.byteLength);
    this.u8.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    return at;
  }

  private optional(a: Array32 | null): number {
    return a ? this.input(a) : 0;
  }

  /** The address of an argument the kernel writes (copied in too: kernels may accumulate or write part of it). */
  private output(a: Array32): number {
    if (a.buffer === this.buffer) return a.byteOffset;
    const at = this.input(a);
    this.pending.push({ to: a, from: at });
    return at;
  }

  /** After a call: outputs copied back, the scratch stack emptied. */
  private done(): void {
    for (const { to, from } of this.pending) new Uint8Array(to.buffer, to.byteOffset, to.byteLength).set(this.u8.subarray(from, from + to.byteLength));
    this.pending.length = 0;
    this.sp = this.scratchBase;
  }
}

/** The exports used, without their tm_train_ prefix. */
const KERNELS = [
  'conv2d_scratch', 'fc_scratch', 'depthwise_scratch',
  'conv2d_f32', 'depthwise_f32', 'fc_f32', 'max_pool_f32', 'avg_pool_f32',
  'conv2d_input_grad_f32', 'conv2d_weight_grad_f32', 'bias_grad_f32', 'depthwise_input_grad_f32', 'depthwise_weight_grad_f32',
  'fc_input_grad_f32', 'fc_weight_grad_f32', 'avg_pool_input_grad_f32', 'max_pool_input_grad_f32',
  'clamp_grad_f32', 'clamp_grad_s8', 'clamp_grad_bits', 'bn_forward_f32', 'bn_input_grad_f32', 'add_f32', 'signed_grad_f32',
] as const;
