import type { CArray } from '../../codegen/c_syntax.js';
import type { LayerCode } from '../../codegen/lower/layer.js';
import type { CArg, CStruct, Statement } from '../../codegen/lower/kernel_call.js';

/**
 * The WebAssembly module's forms of the int8 convolution kernels: the same call with one more argument,
 * the weights packed for its pixel-lane GEMM (csrc/kernels/tm_gemm.h, tm_wasm_tile_gemm_packed), so the
 * inner loop reads each weight pair with one splat load. The packing is done here once, at load; the C
 * that `compile` emits for a microcontroller calls the plain kernels with the plain weights.
 */
const PACKED: Readonly<Record<string, string>> = {
  tm_conv2d_1x1_s8: 'tm_conv2d_1x1_packed_s8',
  tm_conv2d_s8: 'tm_conv2d_packed_s8',
  tm_conv2d_1x1_inplace_s8: 'tm_conv2d_1x1_inplace_packed_s8',
};

const ROW_KERNEL = 'tm_conv2d_rows_packed_s8';
const WINOGRAD_KERNEL = 'tm_conv2d_winograd_s8';

/** Weight rows [n_out][depth] as [group of 4 outputs][depth pair][output][2] int16, zero-padded. */
export function packTileWeights(w: ArrayLike<number>, nOut: number, depth: number): Int16Array {
  const pairs = (depth + 1) >> 1, groups = (nOut + 3) >> 2;
  const packed = new Int16Array(groups * pairs * 8);
  for (let c = 0; c < nOut; c++) {
    const base = ((c >> 2) * pairs * 4 + (c & 3)) * 2;
    for (let k = 0; k < depth; k++) packed[base + (k >> 1) * 8 + (k & 1)] = w[c * depth + k];
  }
  return packed;
}

/**
 * The same for tm_conv2d_rows_packed_s8: each window row of `rowLen` values padded to an even length with a
 * zero weight, so the kernel packs every window row of the input into whole depth pairs.
 */
export function packRowWeights(w: ArrayLike<number>, nOut: number, kH: number, rowLen: number): Int16Array {
  const padded = rowLen + (rowLen & 1), rows = new Int8Array(nOut * kH * padded);
  for (let c = 0; c < nOut; c++)
    for (let ky = 0; ky < kH; ky++)
      for (let k = 0; k < rowLen; k++) rows[(c * kH + ky) * padded + k] = w[(c * kH + ky) * rowLen + k];
  return packTileWeights(rows, nOut, kH * padded);
}

/** 2G of Winograd's F(2x2, 3x3): integer, so U = G2 g G2^T is four times the textbook transform, exactly. */
const G2 = [[2, 0, 0], [1, 1, 1], [1, -1, 1], [0, 0, 2]];

/**
 * Weights [n_out][3][3][in_c] transformed for tm_conv2d_winograd_s8 (csrc/kernels/tm_conv_winograd.h): per
 * position xi = 4a + b of the 4x4 transform, U_xi[c][i] = sum_rs G2[a][r] w[c][r][s][i] G2[b][s] (|U| <= 1152),
 * each packed as packTileWeights packs a [n_out][in_c] matrix, one after another.
 */
export function packWinogradWeights(w: ArrayLike<number>, nOut: number, inC: number): Int16Array {
  const u = new Int16Array(nOut * inC), parts: Int16Array[] = [];
  for (let a = 0; a < 4; a++)
    for (let b = 0; b < 4; b++) {
      for (let c = 0; c < nOut; c++)
        for (let i = 0; i < inC; i++) {
          let sum = 0;
          for (let r = 0; r < 3; r++)
            for (let s = 0; s < 3; s++) sum += G2[a][r] * G2[b][s] * w[((c * 3 + r) * 3 + s) * inC + i];
          u[c * inC + i] = sum;
        }
      parts.push(packTileWeights(u, nOut, inC));
    }
  const packed = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  parts.forEach((p, k) => packed.set(p, k * p.length));
  return packed;
}

/** Whether a convolution takes tm_conv2d_winograd_s8 (the kernel's own test, tm_wino_takes). */
function takesWinograd(s: CStruct): boolean {
  const one = (name: string) => field(s, name) === 1;
  return field(s, 'k_h') === 3 && field(s, 'k_w') === 3 && one('stride_h') && one('stride_w') && one('dil_h') && one('dil_w') &&
    field(s, 'in_c') % 8 === 0 && field(s, 'in_c') <= 64 && field(s, 'out_c') <= 256;
}

/**
 * Whether a convolution takes tm_conv2d_rows_packed_s8 (the same test as the kernel's): a window row is one
 * run of at most 16 bytes, packed straight from the input instead of through im2col columns.
 */
function takesRowKernel(s: CStruct): boolean {
  return field(s, 'dil_w') === 1 && field(s, 'k_w') * field(s, 'in_c') <= 16 && 16 * field(s, 'k_h') <= 1152;
}

function field(s: CStruct, name: string): number {
  const v = s.fields[name];
  if (typeof v !== 'number') throw new Error(`${s.type}.${name} is not a number`);
  return v;
}

/** One call rewritten to its packed form when the module has it (`has`), memoising the packing per weight array. */
function packedCall(st: Statement, has: (fn: string) => boolean, memo: Map<CArray, CArray>): Statement {
  if (st.kind !== 'call' || !(st.fn in PACKED) || !has(PACKED[st.fn])) return st;
  const [shape, , , weights] = st.args;
  if (shape?.kind !== 'struct' || weights?.kind !== 'const' || weights.array.type !== 'int8_t') return st;
  const s = shape.struct;
  const winograd = st.fn === 'tm_conv2d_s8' && has(WINOGRAD_KERNEL) && takesWinograd(s);
  const rows = !winograd && st.fn === 'tm_conv2d_s8' && has(ROW_KERNEL) && takesRowKernel(s);
  // One weight array has one shape (every patch of a stage has the layer's), so one of the layouts.
  let packed = memo.get(weights.array);
  if (!packed) {
    const kH = field(s, 'k_h'), rowLen = field(s, 'k_w') * field(s, 'in_c'), nOut = field(s, 'out_c');
    const values = winograd ? packWinogradWeights(weights.array.values, nOut, field(s, 'in_c'))
      : rows ? packRowWeights(weights.array.values, nOut, kH, rowLen) : packTileWeights(weights.array.values, nOut, kH * rowLen);
    packed = { name: `${weights.array.name}_${winograd ? 'winograd' : rows ? 'rows' : 'packed'}`, type: 'int16_t', values, align: 16, linkage: 'static' };
    memo.set(weights.array, packed);
  }
  const wp: CArg = { kind: 'const', array: packed };
  return { kind: 'call', fn: winograd ? WINOGRAD_KERNEL : rows ? ROW_KERNEL : PACKED[st.fn], args: [...st.args, wp] };
}

/** What the rewriting asks of the module: whether it has a kernel, and the size of a depthwise layer's state. */
export interface ModuleKernels {
  has(fn: string): boolean;
  kernel(fn: string): (...args: number[]) => unknown;
}

const DW_KERNEL = 'tm_depthwise_conv2d_s8', DW_PREPARED = 'tm_depthwise_conv2d_prepared_s8', DW_STATE_BYTES = 'tm_depthwise_state_bytes';
const DW_IN_PLACE = 'tm_depthwise_conv2d_inplace_s8', DW_IN_PLACE_PREPARED = 'tm_depthwise_conv2d_inplace_prepared_s8';
/** The Cortex-M form that goes four channels at a time through a wider scratch: the same arguments and bytes. */
const DW_IN_PLACE_GROUPS = 'tm_depthwise_conv2d_groups_inplace_s8';
const PW_IN_PLACE_COPY = 'tm_conv2d_1x1_inplace_copy_packed_s8';

/**
 * A model's calls in the module's forms: convolution weights packed for its GEMM, depthwise layers with a
 * prepared state. One instance per program, so the layers that share their constants (the patches of a
 * stage, once ConstantPool has merged their equal arrays) share the packed weights and the state too,
 * and every in-place depthwise or pointwise call shares one copy buffer: a patch-based plan then touches about the
 * constants of a layer-wise one, not one copy per patch.
 */
export class WasmForms {
  private readonly packed = new Map<CArray, CArray>();
  private readonly states = new Map<string, CArray>();
  private readonly ids = new Map<object, number>();
  /** The in-place depthwise kernels' copy of their input and scratch, sized for the largest (used within one call). */
  private readonly copy: CArray = { name: 'dw_inplace_copy', type: 'int8_t', values: new Int8Array(16), align: 16, linkage: 'static' };

  constructor(private readonly kernels: ModuleKernels) {}

  /** A layer's code with its convolution calls in the module's packed form and its depthwise calls prepared. */
  layer(code: LayerCode): LayerCode {
    const has = (fn: string) => this.kernels.has(fn);
    return { ...code, statements: code.statements.map((st) => this.pointwiseOverCopy(this.preparedDepthwiseCall(this.singleChannelDepthwise(packedCall(st, has, this.packed))))) };
  }

  /**
   * An in-place pointwise call (already in its packed form) as one call of the ordinary kernel over a copy of
   * its input outside the arena (the shared copy buffer), instead of one call and one memmove per block of
   * 16 pixels: the same bytes, pixel by pixel.
   */
  private pointwiseOverCopy(st: Statement): Statement {
    if (st.kind !== 'call' || st.fn !== PACKED.tm_conv2d_1x1_inplace_s8 || !this.kernels.has(PW_IN_PLACE_COPY)) return st;
    const shape = st.args[0];
    if (shape?.kind !== 'struct') return st;
    const s = shape.struct, need = field(s, 'in_h') * field(s, 'in_w') * field(s, 'in_c');
    // Grown before the program lays its constants out (after every layer is rewritten).
    if (this.copy.values.length < need) this.copy.values = new Int8Array(need);
    return { kind: 'call', fn: PW_IN_PLACE_COPY, args: [...st.args, { kind: 'const', array: this.copy }] };
  }

  private readonly convShapes = new Map<CStruct, CStruct>();
  private readonly convWeights = new Map<CArray, CArray>();

  /**
   * A depthwise layer over one input channel (a grayscale first layer: depth_mult filters of one channel)
   * is a convolution of in_c 1, which the shallow-window convolution kernel runs through the pixel-lane GEMM
   * instead of one tap at a time (person_detect's first layer: ~77 -> ~25 ns a pixel). The same integers:
   * the folded bias is the same sum for in_c 1 (bias - zp * the channel's taps), padded taps read the zero
   * point in both, and the requantisation struct is the layer's own. The Cortex-M lowering does the same
   * with split weights (src/codegen/lower/depthwise_conv2d.ts).
   */
  private singleChannelDepthwise(st: Statement): Statement {
    if (st.kind !== 'call' || st.fn !== DW_KERNEL || !this.kernels.has(ROW_KERNEL)) return st;
    const [shape, params, input, weights, output, scratch] = st.args;
    if (shape?.kind !== 'struct' || weights?.kind !== 'const' || weights.array.type !== 'int8_t' || !params || !input || !output || !scratch) return st;
    const d = shape.struct;
    if (field(d, 'in_c') !== 1 || field(d, 'depth_mult') !== field(d, 'out_c')) return st;
    let conv = this.convShapes.get(d);
    if (!conv) {
      const f = (name: string) => field(d, name);
      conv = {
        type: 'tm_conv_shape', name: `${d.name}_as_conv`,
        fields: {
          in_h: f('in_h'), in_w: f('in_w'), in_c: 1, out_h: f('out_h'), out_w: f('out_w'), out_c: f('out_c'),
          k_h: f('k_h'), k_w: f('k_w'), stride_h: f('stride_h'), stride_w: f('stride_w'), dil_h: f('dil_h'), dil_w: f('dil_w'),
          pad_top: f('pad_top'), pad_left: f('pad_left'), in_zp: f('in_zp'),
        },
      };
      this.convShapes.set(d, conv);
    }
    // Only where the row kernel takes the shape itself (its other path would want a convolution's scratch).
    if (!takesRowKernel(conv)) return st;
    let w = this.convWeights.get(weights.array);
    if (!w) {
      // Depthwise filters are [1][k_h][k_w][out_c]; a convolution's are [out_c][k_h][k_w][1].
      const cout = field(d, 'out_c'), taps = field(d, 'k_h') * field(d, 'k_w'), src = weights.array.values;
      const values = new Int8Array(cout * taps);
      for (let m = 0; m < cout; m++) for (let t = 0; t < taps; t++) values[m * taps + t] = src[t * cout + m];
      w = { name: `${weights.array.name}_as_conv`, type: 'int8_t', values, align: 16, linkage: 'static' };
      this.convWeights.set(weights.array, w);
    }
    const convCall: Statement = { kind: 'call', fn: 'tm_conv2d_s8', args: [{ kind: 'struct', struct: conv }, params, input, { kind: 'const', array: w }, output, scratch] };
    return packedCall(convCall, (fn) => this.kernels.has(fn), this.packed);
  }

  private id(o: object): number {
    let i = this.ids.get(o);
    if (i === undefined) this.ids.set(o, (i = this.ids.size));
    return i;
  }

  /**
   * The state is filled from the weights, the requantisation and the window (not the input's size), so
   * calls with the same weight array, parameter struct, channels and window share one.
   */
  private depthwiseState(shape: CStruct, params: CArg | undefined, weights: CArray): CArray {
    const inC = field(shape, 'in_c'), taps = field(shape, 'k_h') * field(shape, 'k_w');
    const key = [this.id(weights), params?.kind === 'struct' ? this.id(params.struct) : -1, inC, taps, field(shape, 'depth_mult')].join(':');
    let state = this.states.get(key);
    if (!state) {
      const bytes = Number(this.kernels.kernel(DW_STATE_BYTES)(inC, taps));
      state = { name: `${weights.name}_state${this.states.size}`, type: 'uint8_t', values: new Uint8Array(bytes), align: 16, linkage: 'static' };
      this.states.set(key, state);
    }
    return state;
  }

  /**
   * A depthwise call in the module's prepared form: one more argument, a zeroed state buffer of the size the
   * module asks for, which the kernel's first call fills with the layer's requantisation constants and
   * interleaved weights.
   */
  private preparedDepthwiseCall(st: Statement): Statement {
    if (st.kind !== 'call' || !this.kernels.has(DW_STATE_BYTES)) return st;
    // Both in-place forms become the ordinary kernel over a copy outside the arena.
    const inPlace = (st.fn === DW_IN_PLACE || st.fn === DW_IN_PLACE_GROUPS) && this.kernels.has(DW_IN_PLACE_PREPARED);
    if (!inPlace && !(st.fn === DW_KERNEL && this.kernels.has(DW_PREPARED))) return st;
    const [shape, params, , weights] = st.args;
    if (shape?.kind !== 'struct' || weights?.kind !== 'const') return st;
    const state: CArg = { kind: 'const', array: this.depthwiseState(shape.struct, params, weights.array) };
    if (!inPlace) return { kind: 'call', fn: DW_PREPARED, args: [...st.args, state] };
    // In place: a copy of the input outside the arena, then the ordinary kernel's scratch (zero-point row, taps).
    const s = shape.struct, taps = field(s, 'k_h') * field(s, 'k_w'), inC = field(s, 'in_c');
    const inputBytes = field(s, 'in_h') * field(s, 'in_w') * inC;
    const need = ((inputBytes + 15) & ~15) + ((inC + 7) & ~7) + 8 * taps + 16;
    // Grown before the program lays its constants out (after every layer is rewritten).
    if (this.copy.values.length < need) this.copy.values = new Int8Array(need);
    return { kind: 'call', fn: DW_IN_PLACE_PREPARED, args: [...st.args, { kind: 'const', array: this.copy }, state] };
  }
}
