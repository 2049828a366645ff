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
  let packed = memo.get(weights.array);
  if (!packed) {
    const depth = field(s, 'k_h') * field(s, 'k_w') * field(s, 'in_c');
    const values = packTileWeights(weights.array.values, field(s, 'out_c'), depth);
    packed = { name: `${weights.array.name}_packed`, type: 'int16_t', values, align: 16, linkage: 'static' };
    memo.set(weights.array, packed);
  }
  const wp: CArg = { kind: 'const', array: packed };
  return { kind: 'call', fn: PACKED[st.fn], args: [...st.args, wp] };
}

/** A layer's code with its convolution calls in the module's packed form. */
export function withPackedWeights(code: LayerCode, has: (fn: string) => boolean): LayerCode {
  const memo = new Map<CArray, CArray>();
  return { ...code, statements: code.statements.map((st) => packedCall(st, has, memo)) };
}
