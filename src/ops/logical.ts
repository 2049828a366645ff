/** LOGICAL_AND, LOGICAL_OR (broadcasting) and LOGICAL_NOT on bool tensors: TFLite Micro's logical.cc / logical_not. */
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { broadcastInferShapes, broadcastKernel } from './binary_broadcast.js';
import { checkOutputShape, outputElements, requireDtype, sameShapeAsInput } from './elementwise_common.js';

function logical<K extends 'LOGICAL_AND' | 'LOGICAL_OR'>(name: K): OpDef<K> {
  const f = name === 'LOGICAL_AND' ? (a: number | bigint, b: number | bigint) => (a && b ? 1 : 0) : (a: number | bigint, b: number | bigint) => (a || b ? 1 : 0);
  return {
    name,
    maxVersion: 1,
    inferShapes: broadcastInferShapes,
    prepare(node, g, views) {
      for (const t of [inputTensor(node, g, 0), inputTensor(node, g, 1), outputTensor(node, g)]) requireDtype(node, t, ['bool'], 'tensor');
      return broadcastKernel(node, g, views, f);
    },
    macs: outputElements,
    role: 'other',
  };
}

export const logicalAnd = logical('LOGICAL_AND');
export const logicalOr = logical('LOGICAL_OR');

export const logicalNot: OpDef<'LOGICAL_NOT'> = {
  name: 'LOGICAL_NOT',
  maxVersion: 1,
  inferShapes: sameShapeAsInput,
  prepare(node, g, views) {
    const input = inputTensor(node, g, 0), output = outputTensor(node, g);
    requireDtype(node, input, ['bool'], 'input');
    requireDtype(node, output, ['bool'], 'output');
    checkOutputShape(node, g, input.shape);
    const x = views.uint8(input.id), y = views.uint8(output.id);
    return () => { for (let i = 0; i < y.length; i++) y[i] = x[i] ? 0 : 1; };
  },
  macs: outputElements,
  role: 'elementwise',
};
