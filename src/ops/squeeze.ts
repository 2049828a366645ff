import type { Graph, Node } from '../graph/graph.js';
import { shapeStr } from '../graph/graph.js';
import { ModelFormatError } from '../errors.js';
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { MOVABLE, requireDtype, requireOutputShape, requireSameDtype, sameMemory } from './data_move.js';

/**
 * SQUEEZE: drops the listed size-1 axes (negative axes count from the end), or every size-1 axis when the
 * list is empty — TFLite's rule. The bytes do not move.
 */
function squeezedShape(node: Node<'SQUEEZE'>, g: Graph): number[] {
  const shape = inputTensor(node, g, 0).shape;
  const rank = shape.length;
  const dims = node.options.squeezeDims;
  if (dims.length === 0) return shape.filter((d) => d !== 1);
  const drop = new Set<number>();
  for (const d of dims) {
    const axis = d < 0 ? d + rank : d;
    if (axis < 0 || axis >= rank) {
      throw new ModelFormatError(`node ${node.index} (SQUEEZE)`, `squeeze axis ${d} is outside a rank-${rank} input`);
    }
    if (shape[axis] !== 1) {
      throw new ModelFormatError(`node ${node.index} (SQUEEZE)`, `axis ${d} of ${shapeStr(shape)} has size ${shape[axis]}, not 1`);
    }
    drop.add(axis);
  }
  return shape.filter((_, i) => !drop.has(i));
}

export const squeeze: OpDef<'SQUEEZE'> = {
  name: 'SQUEEZE',
  maxVersion: 1,
  role: 'alias',

  inferShapes: (node, g) => [squeezedShape(node, g)],

  prepare(node, g, views) {
    const input = inputTensor(node, g, 0);
    const output = outputTensor(node, g);
    requireDtype(node, input, MOVABLE);
    requireSameDtype(node, input, output);
    requireOutputShape(node, output, squeezedShape(node, g));
    const src = views.bytes(node.inputs[0]);
    const dst = views.bytes(node.outputs[0]);
    if (sameMemory(src, dst)) return () => {};
    return () => dst.set(src);
  },

  macs: () => 0,
};
