/**
 * The int16 LOGISTIC and TANH kernels of TFLite Micro (reference_integer_ops::Logistic / Tanh for int16,
 * with the Prepare of logistic_common.cc / tanh.cc): the input is brought to 1/(3 * 4096) units (a
 * power-of-two scale by one exact multiply by 3 << shift, any other by a 15-bit multiplier and a rounding
 * right shift), then sigmoid is read from a 256-entry table of sigmoid(i/24) in 0.16 with linear
 * interpolation on |x|, and mirrored for negative x. TANH reuses the table (tanh(x) = 2 sigmoid(2x) - 1)
 * with one bit less of fraction. Both require zero points 0 and an output scale of 2^-15.
 */
import type { Graph, Node } from '../graph/graph.js';
import { UnsupportedOpError } from '../errors.js';
import { roundHalfAway } from '../quant/fixedpoint.js';
import type { Kernel, TensorViews } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { quantOf } from './elementwise_common.js';

/**
 * TFLite's sigmoid_table_uint16 (kernels/internal/common.h): sigmoid(i/24) in unsigned 0.16, as
 * tabulated there. 44 entries sit one above round(65536 sigmoid(i/24)), so the table cannot be
 * recomputed; these are its values, as data.
 */
const SIGMOID_TABLE = new Uint16Array([
  32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
  43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
  51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
  57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
  61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
  63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
  64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
  64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
  65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
  65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
  65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
  65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
  65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
  65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
  65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
  65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535,
]);

/** TFLite CheckedLog2 on a float scale: log2 rounded half away from zero, and whether x is a power of two (within 1e-3). */
function checkedLog2(x: number): { log2: number; exact: boolean } {
  const l = Math.fround(Math.fround(Math.log(x)) * Math.fround(1 / Math.fround(Math.log(2))));
  const rounded = roundHalfAway(l);
  return { log2: rounded, exact: Math.abs(Math.fround(l - rounded)) < Math.fround(1e-3) };
}

export type Sigmoid16 = 'LOGISTIC' | 'TANH';

/** Prepare: the input multiplier and right shift to 1/(3 * 4096) units (multiplier 0 = power-of-two scale). */
export function sigmoidInt16Params(node: Node<Sigmoid16>, g: Graph): { multiplier: number; shift: number } {
  const input = inputTensor(node, g, 0), output = outputTensor(node, g);
  const qi = quantOf(node, input), qo = quantOf(node, output);
  if (qi.zeroPoint !== 0 || qo.zeroPoint !== 0) throw new UnsupportedOpError(node.op, node.index, 'int16 input and output need zero point 0');
  const out = checkedLog2(qo.scale);
  if (!out.exact || out.log2 !== -15) throw new UnsupportedOpError(node.op, node.index, `int16 output scale must be 2^-15, got ${qo.scale}`);
  // 3 integer bits: a power-of-two input scale 2^(shift - 12) needs no multiplier when the shift is 0
  // (TANH also takes 1).
  const { log2, exact } = checkedLog2(qi.scale);
  const potShift = 12 + log2;
  if (exact && (potShift === 0 || (node.op === 'TANH' && potShift === 1))) return { multiplier: 0, shift: potShift };
  let multiplier = qi.scale * 4096 * 3;
  let shift = 0;
  while (multiplier <= 32767 / 2 && shift <= 30) {
    shift++;
    multiplier *= 2;
  }
  return { multiplier: Math.trunc(multiplier), shift };
}

/**
 * int16 sigmoid or tanh of `n` values from `x` into `y` (may be the same array), the input brought to
 * 1/(3 * 4096) units by `multiplier` and right `shift` (multiplier 0: a power-of-two scale, times 3 << shift).
 * Shared with the LSTM's gates (src/ops/lstm.ts), which call the reference kernels the same way.
 */
export function sigmoidInt16(kind: Sigmoid16, multiplier: number, shift: number, x: Int16Array, y: Int16Array, n: number): void {
  if (multiplier === 0) {
    multiplier = 3 << shift;
    shift = 0;
  }
  const round = shift > 0 ? 1 << (shift - 1) : 0;
  if (kind === 'LOGISTIC') {
    for (let i = 0; i < n; i++) {
      const v = (x[i] * multiplier + round) >> shift;
      const a = Math.abs(v), uh = a >>> 9;
      // 0.16 table value << 9 plus the interpolated fraction: sigmoid in 0.25.
      let r = 0x7fff << 10;
      if (uh < 255) {
        const ua = SIGMOID_TABLE[uh];
        r = ua * 512 + (a & 0x1ff) * (SIGMOID_TABLE[uh + 1] - ua);
      }
      r = v >= 0 ? r + (1 << 9) : (1 << 25) - r + (1 << 9) - 1;
      y[i] = r >>> 10;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const v = (x[i] * multiplier + round) >> shift;
    const a = Math.abs(v), uh = a >>> 8;
    let r = 0xffff << 8;
    if (uh < 255) {
      const ua = SIGMOID_TABLE[uh];
      r = ua * 256 + (a & 0xff) * (SIGMOID_TABLE[uh + 1] - ua);
    }
    // 2 sigmoid - 1: subtract one half (2^23 in this 0.24 form), with the reference's rounding offsets.
    r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    y[i] = r >> 8;
  }
}

/** The prepared int16 LOGISTIC or TANH kernel. */
export function sigmoidInt16Kernel(node: Node<Sigmoid16>, g: Graph, views: TensorViews): Kernel {
  const { multiplier, shift } = sigmoidInt16Params(node, g);
  const x = views.int16(inputTensor(node, g, 0).id), y = views.int16(outputTensor(node, g).id);
  return () => sigmoidInt16(node.op, multiplier, shift, x, y, y.length);
}
