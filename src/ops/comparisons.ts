/**
 * EQUAL, NOT_EQUAL, GREATER, GREATER_EQUAL, LESS, LESS_EQUAL: TFLite Micro's comparisons.cc. Output bool,
 * inputs broadcast. int8 inputs with their own scales are compared on a common footing as the reference
 * does: (q - zero point) << 8, then each scaled by its own scale (QuantizeMultiplierSmallerThanOneExp of
 * the scale, MultiplyByQuantizedMultiplierSmallerThanOneExp); other dtypes compare raw values.
 */
import type { OpName } from '../graph/options.js';
import type { OpDef } from './op.js';
import { inputTensor } from './op.js';
import { UnsupportedOpError } from '../errors.js';
import { multiplyByQuantizedMultiplier, quantizeMultiplier } from '../quant/fixedpoint.js';
import { broadcastInferShapes, broadcastKernel } from './binary_broadcast.js';
import type { Element } from './element_access.js';
import { outputElements, quantOf, requireDtype } from './elementwise_common.js';

type Comparison = 'EQUAL' | 'NOT_EQUAL' | 'GREATER' | 'GREATER_EQUAL' | 'LESS' | 'LESS_EQUAL';

const TESTS: Record<Comparison, (a: Element, b: Element) => boolean> = {
  EQUAL: (a, b) => a === b,
  NOT_EQUAL: (a, b) => a !== b,
  GREATER: (a, b) => a > b,
  GREATER_EQUAL: (a, b) => a >= b,
  LESS: (a, b) => a < b,
  LESS_EQUAL: (a, b) => a <= b,
};

const LEFT_SHIFT = 8;

function comparison<K extends Comparison & OpName>(name: K, dtypes: readonly string[]): OpDef<K> {
  const test = TESTS[name];
  return {
    name,
    // v1 float/int32/int64 (and bool for (NOT_)EQUAL), v2 int8; v3+ add int16 / string.
    maxVersion: 2,
    inferShapes: broadcastInferShapes,
    prepare(node, g, views) {
      const t0 = inputTensor(node, g, 0), t1 = inputTensor(node, g, 1);
      requireDtype(node, t0, dtypes as never, 'input');
      if (t1.dtype !== t0.dtype) throw new UnsupportedOpError(node.op, node.index, `inputs of different types (${t0.dtype}, ${t1.dtype})`);
      requireDtype(node, g.tensors[node.outputs[0]], ['bool'], 'output');
      const f = (a: Element, b: Element): Element => (test(a, b) ? 1 : 0);
      if (t0.dtype !== 'int8' && t0.dtype !== 'uint8') return broadcastKernel(node, g, views, f);
      const scaled = (t: typeof t0) => {
        const q = quantOf(node, t);
        const { multiplier, shift } = quantizeMultiplier(q.scale);
        return (v: Element) => multiplyByQuantizedMultiplier((Number(v) - q.zeroPoint) * (1 << LEFT_SHIFT), multiplier, shift);
      };
      return broadcastKernel(node, g, views, f, scaled(t0), scaled(t1));
    },
    macs: outputElements,
    role: 'other',
    differentiableInputs: (node) => node.inputs.map(() => false),
  };
}

const ALL = ['float32', 'int32', 'int64', 'int8', 'uint8'];
export const equal = comparison('EQUAL', [...ALL, 'bool']);
export const notEqual = comparison('NOT_EQUAL', [...ALL, 'bool']);
export const greater = comparison('GREATER', ALL);
export const greaterEqual = comparison('GREATER_EQUAL', ALL);
export const less = comparison('LESS', ALL);
export const lessEqual = comparison('LESS_EQUAL', ALL);
