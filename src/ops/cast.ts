/**
 * CAST: TFLite Micro's cast.cc, a plain value conversion (static_cast): float to integer truncates toward
 * zero, integer to a narrower integer wraps, anything to bool is "not zero". ZEROS_LIKE writes zeros.
 */
import type { DType } from '../graph/dtype.js';
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import type { Element } from './element_access.js';
import { reader, writer } from './element_access.js';
import { checkOutputShape, outputElements, sameShapeAsInput } from './elementwise_common.js';

/** static_cast<T>(v) for the dtypes we hold. */
export function convertTo(dtype: DType): (v: Element) => Element {
  const int = (v: Element): bigint => (typeof v === 'bigint' ? v : BigInt(Math.trunc(v)));
  switch (dtype) {
    case 'float32': return (v) => Math.fround(Number(v));
    case 'bool': return (v) => (v ? 1 : 0);
    case 'int8': return (v) => Number(BigInt.asIntN(8, int(v)));
    case 'uint8': return (v) => Number(BigInt.asUintN(8, int(v)));
    case 'int16': return (v) => Number(BigInt.asIntN(16, int(v)));
    case 'int32': return (v) => Number(BigInt.asIntN(32, int(v)));
    case 'int64': return (v) => BigInt.asIntN(64, int(v));
  }
}

export const cast: OpDef<'CAST'> = {
  name: 'CAST',
  maxVersion: 1,
  inferShapes: sameShapeAsInput,
  prepare(node, g, views) {
    const input = inputTensor(node, g, 0), output = outputTensor(node, g);
    checkOutputShape(node, g, input.shape);
    const r = reader(views, input), w = writer(views, output), conv = convertTo(output.dtype);
    const n = outputElements(node, g);
    return () => { for (let i = 0; i < n; i++) w(i, conv(r(i))); };
  },
  macs: outputElements,
  role: 'other',
  differentiableInputs: (node) => node.inputs.map(() => false),
};

export const zerosLike: OpDef<'ZEROS_LIKE'> = {
  name: 'ZEROS_LIKE',
  maxVersion: 1,
  inferShapes: sameShapeAsInput,
  prepare(node, g, views) {
    checkOutputShape(node, g, inputTensor(node, g, 0).shape);
    const y = views.bytes(outputTensor(node, g).id);
    return () => { y.fill(0); };
  },
  macs: () => 0,
  role: 'other',
  differentiableInputs: (node) => node.inputs.map(() => false),
};
