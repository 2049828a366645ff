import type { OpName } from '../graph/options.js';
import { UnsupportedOpError } from '../errors.js';
import type { OpDef } from './op.js';

/** Placeholder for an op whose file is being written; refuses at prepare time. */
export function notYet<K extends OpName>(name: K): OpDef<K> {
  return {
    name,
    maxVersion: 0,
    inferShapes: (node, g) => node.outputs.map((o) => g.tensors[o].shape),
    prepare: (node) => { throw new UnsupportedOpError(name, node.index, 'kernel not implemented yet'); },
    macs: () => 0,
  };
}
