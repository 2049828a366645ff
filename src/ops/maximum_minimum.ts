/**
 * MAXIMUM and MINIMUM: TFLite Micro's maximum_minimum.cc, elementwise with broadcasting on raw values
 * (quantised inputs share the output's quantisation, which the reference assumes and does not rescale).
 */
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { UnsupportedOpError } from '../errors.js';
import { broadcastInferShapes, broadcastKernel } from './binary_broadcast.js';
import { outputElements, requireDtype } from './elementwise_common.js';

function maxMin<K extends 'MAXIMUM' | 'MINIMUM'>(name: K): OpDef<K> {
  const pick = name === 'MAXIMUM' ? (a: number | bigint, b: number | bigint) => (a > b ? a : b) : (a: number | bigint, b: number | bigint) => (a < b ? a : b);
  return {
    name,
    // v1 float, v2 int8, v3 uint8?, v4 int16.
    maxVersion: 4,
    inferShapes: broadcastInferShapes,
    prepare(node, g, views) {
      const t0 = inputTensor(node, g, 0), t1 = inputTensor(node, g, 1), out = outputTensor(node, g);
      requireDtype(node, t0, ['float32', 'int8', 'uint8', 'int16', 'int32', 'int64'], 'input');
      if (t1.dtype !== t0.dtype || out.dtype !== t0.dtype) throw new UnsupportedOpError(node.op, node.index, `mixed types ${t0.dtype}, ${t1.dtype} -> ${out.dtype}`);
      return broadcastKernel(node, g, views, pick);
    },
    macs: outputElements,
    role: 'other',
  };
}

export const maximum = maxMin('MAXIMUM');
export const minimum = maxMin('MINIMUM');
