/** EXPAND_DIMS (a relabelling), SHAPE and FILL: TFLite Micro's expand_dims.cc, shape.cc, fill.cc. */
import { DTYPE_BYTES } from '../graph/dtype.js';
import { numElements } from '../graph/graph.js';
import { ModelFormatError } from '../errors.js';
import type { OpDef } from './op.js';
import { firstInputOnly, inputTensor, outputTensor } from './op.js';
import { MOVABLE, constInts, requireDtype, requireOutputShape, requireSameDtype, sameMemory } from './data_move.js';
import { writer } from './element_access.js';

export const expandDims: OpDef<'EXPAND_DIMS'> = {
  name: 'EXPAND_DIMS',
  maxVersion: 1,
  role: 'alias',
  differentiableInputs: firstInputOnly,
  inferShapes(node, g) {
    const s = inputTensor(node, g, 0).shape;
    const [a] = constInts(node, g, 1, 'axis', ['int32', 'int64']);
    const axis = a < 0 ? a + s.length + 1 : a;
    if (axis < 0 || axis > s.length) throw new ModelFormatError(`node ${node.index} (EXPAND_DIMS)`, `axis ${a} outside rank ${s.length + 1}`);
    return [[...s.slice(0, axis), 1, ...s.slice(axis)]];
  },
  prepare(node, g, views) {
    const input = inputTensor(node, g, 0), output = outputTensor(node, g);
    requireDtype(node, input, MOVABLE);
    requireSameDtype(node, input, output);
    requireOutputShape(node, output, expandDims.inferShapes(node, g)[0]);
    const src = views.bytes(input.id), dst = views.bytes(output.id);
    if (sameMemory(src, dst)) return () => {};
    return () => dst.set(src);
  },
  macs: () => 0,
};

export const shape: OpDef<'SHAPE'> = {
  name: 'SHAPE',
  maxVersion: 1,
  role: 'other',
  differentiableInputs: (node) => node.inputs.map(() => false),
  inferShapes: (node, g) => [[inputTensor(node, g, 0).shape.length]],
  prepare(node, g, views) {
    const dims = inputTensor(node, g, 0).shape;
    const out = outputTensor(node, g);
    requireDtype(node, out, ['int32', 'int64']);
    requireOutputShape(node, out, [dims.length]);
    const w = writer(views, out);
    return () => dims.forEach((d, i) => w(i, out.dtype === 'int64' ? BigInt(d) : d));
  },
  macs: () => 0,
};

export const fill: OpDef<'FILL'> = {
  name: 'FILL',
  maxVersion: 3,
  role: 'other',
  differentiableInputs: (node) => node.inputs.map(() => false),
  inferShapes: (node, g) => [constInts(node, g, 0, 'dims', ['int32', 'int64'])],
  prepare(node, g, views) {
    const value = inputTensor(node, g, 1), out = outputTensor(node, g);
    requireDtype(node, out, MOVABLE);
    requireSameDtype(node, value, out);
    requireOutputShape(node, out, fill.inferShapes(node, g)[0]);
    const eb = DTYPE_BYTES[out.dtype];
    const v = views.bytes(value.id), dst = views.bytes(out.id);
    const n = numElements(out.shape);
    return () => { for (let i = 0; i < n; i++) dst.set(v.subarray(0, eb), i * eb); };
  },
  macs: () => 0,
};
