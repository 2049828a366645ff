import type { Graph, Node } from '../graph/graph.js';
import { numElements, shapeStr } from '../graph/graph.js';
import { ModelFormatError } from '../errors.js';
import type { OpDef } from './op.js';
import { firstInputOnly, inputTensor, outputTensor } from './op.js';
import { MOVABLE, constInts, requireDtype, requireSameDtype, sameMemory } from './data_move.js';

/**
 * RESHAPE: the same bytes under a new shape. The new shape comes from the optional second input when it is
 * an int32 vector (as TFLite's GetOutputShape decides), else from the options, else from the output tensor
 * itself (TFLite Micro only ever uses the stored output shape). One -1 entry is inferred.
 */
function requestedShape(node: Node<'RESHAPE'>, g: Graph): number[] {
  const shapeId = node.inputs[1];
  if (shapeId !== undefined && shapeId >= 0) {
    const t = g.tensors[shapeId];
    if (t.shape.length === 1 && t.dtype === 'int32' && t.data !== null) return constInts(node, g, 1, 'shape');
  }
  const opt = node.options.newShape;
  if (opt !== null) {
    // Legacy converters wrote [0] for a scalar.
    return opt.length === 1 && opt[0] === 0 ? [] : [...opt];
  }
  return [...outputTensor(node, g).shape];
}

/** Replaces a single -1 so the element count matches; TFLite's stretch-dimension rule. */
export function resolveStretch(shape: readonly number[], count: number, whereAt: string): number[] {
  const out = [...shape];
  let stretch = -1;
  let known = 1;
  out.forEach((d, i) => {
    if (d === -1) {
      if (stretch !== -1) throw new ModelFormatError(whereAt, `more than one -1 in new shape ${shapeStr(shape)}`);
      stretch = i;
    } else if (d < 0) {
      throw new ModelFormatError(whereAt, `negative dimension in new shape ${shapeStr(shape)}`);
    } else {
      known *= d;
    }
  });
  if (stretch !== -1) out[stretch] = known === 0 ? 0 : Math.trunc(count / known);
  if (numElements(out) !== count) {
    throw new ModelFormatError(whereAt, `new shape ${shapeStr(shape)} does not hold the input's ${count} elements`);
  }
  return out;
}

export const reshape: OpDef<'RESHAPE'> = {
  name: 'RESHAPE',
  maxVersion: 1,
  role: 'alias',
  differentiableInputs: firstInputOnly,

  inferShapes(node, g) {
    const count = numElements(inputTensor(node, g, 0).shape);
    return [resolveStretch(requestedShape(node, g), count, `node ${node.index} (RESHAPE)`)];
  },

  prepare(node, g, views) {
    const input = inputTensor(node, g, 0);
    const output = outputTensor(node, g);
    requireDtype(node, input, MOVABLE);
    requireSameDtype(node, input, output);
    const count = numElements(input.shape);
    if (numElements(output.shape) !== count) {
      throw new ModelFormatError(`node ${node.index} (RESHAPE) output '${output.name}'`,
        `shape ${shapeStr(output.shape)} does not hold the input's ${count} elements`);
    }
    const src = views.bytes(node.inputs[0]);
    const dst = views.bytes(node.outputs[0]);
    // The planner may give the output the input's memory; then there is nothing to move.
    if (sameMemory(src, dst)) return () => {};
    return () => dst.set(src);
  },

  macs: () => 0,
};
