/**
 * CUMSUM (TFLite Micro's cumsum.cc, reference_ops::CumSum): running sums along one axis (a constant int32
 * scalar), optionally exclusive (each output is the sum before its element) and/or reversed (summing from
 * the far end). float32 adds in float; int8 rescales each term the way ADD_N does (shift up 20 bits, halve
 * into twice the input scale), sums in int32 and rescales each running sum to the output. As in ADD_N the
 * int8 accumulator starts at the rescaled input offset (-zero point), a term the reference's outputs carry.
 */
import type { Graph, Node } from '../graph/graph.js';
import { UnsupportedOpError } from '../errors.js';
import { addNOutput, addNScaling, addNTerm } from './add_n.js';
import type { Kernel, OpDef, TensorViews } from './op.js';
import { firstInputOnly, inputTensor, outputTensor } from './op.js';
import { constInts } from './data_move.js';
import { checkOutputShape, outputElements, quantOf, sameShapeAsInput, unsupportedTypes } from './elementwise_common.js';

/** The axis split: `before` rows of `depth` runs of `after` contiguous elements. */
export function cumsumGeometry(node: Node<'CUMSUM'>, g: Graph): { before: number; depth: number; after: number } {
  const shape = inputTensor(node, g, 0).shape;
  const [raw] = constInts(node, g, 1, 'axis', ['int32']);
  const axis = raw < 0 ? raw + shape.length : raw;
  if (shape.length < 1 || axis < 0 || axis >= shape.length) throw new UnsupportedOpError(node.op, node.index, `axis ${raw} outside rank ${shape.length}`);
  const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
  return { before: prod(shape.slice(0, axis)), depth: shape[axis], after: prod(shape.slice(axis + 1)) };
}

/**
 * Walks every run along the axis in the reference's order, calling `start()` before each run and
 * `step(index)` for each element, first to last (last to first when reversed).
 */
function forEachRun(node: Node<'CUMSUM'>, g: Graph, start: () => void, step: (index: number) => void): Kernel {
  const { before, depth, after } = cumsumGeometry(node, g);
  const reverse = node.options.reverse;
  return () => {
    for (let o = 0; o < after; o++) for (let b = 0; b < before; b++) {
      start();
      const base = (reverse ? after - 1 - o : o) + (reverse ? before - 1 - b : b) * depth * after;
      for (let d = 0; d < depth; d++) step(base + (reverse ? depth - 1 - d : d) * after);
    }
  };
}

function int8Kernel(node: Node<'CUMSUM'>, g: Graph, views: TensorViews): Kernel {
  const input = inputTensor(node, g, 0), output = outputTensor(node, g);
  const sc = addNScaling(quantOf(node, input), quantOf(node, output));
  const initial = addNTerm(sc, 0);
  const x = views.int8(input.id), y = views.int8(output.id);
  const exclusive = node.options.exclusive;
  let acc = 0;
  return forEachRun(node, g, () => { acc = initial; }, (i) => {
    const before = acc;
    acc = (acc + addNTerm(sc, x[i])) | 0;
    y[i] = addNOutput(sc, exclusive ? before : acc);
  });
}

export const cumsum: OpDef<'CUMSUM'> = {
  name: 'CUMSUM',
  maxVersion: 1,
  role: 'other',
  differentiableInputs: firstInputOnly,
  inferShapes: sameShapeAsInput,
  prepare(node, g, views) {
    const input = inputTensor(node, g, 0), output = outputTensor(node, g);
    checkOutputShape(node, g, input.shape);
    if (input.dtype === 'int8' && output.dtype === 'int8') return int8Kernel(node, g, views);
    if (input.dtype !== 'float32' || output.dtype !== 'float32') throw unsupportedTypes(node, g, 'float32 and int8');
    const x = views.float32(input.id), y = views.float32(output.id);
    const exclusive = node.options.exclusive;
    let acc = 0;
    return forEachRun(node, g, () => { acc = 0; }, (i) => {
      if (exclusive) { y[i] = acc; acc = Math.fround(acc + x[i]); } else { acc = Math.fround(acc + x[i]); y[i] = acc; }
    });
  },
  macs: outputElements,
};
