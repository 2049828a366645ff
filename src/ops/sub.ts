/**
 * SUB: TFLite Micro's sub.cc. The int8 path is ADD's with input 1 negated, except that sub_common.cc
 * derives its multipliers in float where add_common.cc uses double (see `prepareAddSub`).
 */
import type { OpDef } from './op.js';
import { binaryInferShapes, prepareAddSub } from './add.js';
import { outputElements } from './elementwise_common.js';

export const sub: OpDef<'SUB'> = {
  name: 'SUB',
  // v1 float, v2 int8, v3 broadcasting over more than 4 dimensions (we broadcast up to 6-D);
  // v4+ are int64 / int16 variants.
  maxVersion: 3,
  inferShapes: binaryInferShapes,
  prepare: (node, g, views) => prepareAddSub(node, g, views, true),
  macs: outputElements,
  role: 'elementwise',
};
