import { numElements } from '../graph/graph.js';
import type { OpDef } from './op.js';
import { outputTensor } from './op.js';
import { padInPlace, padSpatialWindow, paddedShape, padValueSource, preparePad } from './pad.js';

/** PADV2: PAD with an explicit scalar pad value as input 2; TFLite Micro registers one kernel for both. */
export const padv2: OpDef<'PADV2'> = {
  name: 'PADV2',
  maxVersion: 4,
  role: 'other',
  window: padSpatialWindow,
  // PAD's backward copy, with a constant pad value: one read at run time from a tensor the copy may overwrite is not safe.
  inPlaceVariant: (node, g) => {
    const value = node.inputs[2];
    return value !== undefined && value >= 0 && !g.tensors[value].data ? null : padInPlace(node, g);
  },
  inferShapes: (node, g) => [paddedShape(node, g)],
  prepare: (node, g, views) => preparePad(node, g, views, padValueSource(node, g, views)),
  macs: (node, g) => numElements(outputTensor(node, g).shape),
};
