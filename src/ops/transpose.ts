import type { Graph, Node } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import { ModelFormatError } from '../errors.js';
import type { OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import {
  MOVABLE, constInts, planCopy, requireDtype, requireOutputShape, requireSameDtype, runCopy, stridesOf, wordViews,
} from './data_move.js';

/**
 * TRANSPOSE: output axis k is input axis perm[k] (perm a constant int32 vector), any rank. The copy plan
 * merges axes that stay adjacent, so e.g. NHWC -> NCHW ([0,3,1,2]) of [1,H,W,C] runs as a [C, H*W] gather.
 */
function permutation(node: Node<'TRANSPOSE'>, g: Graph): number[] {
  const rank = inputTensor(node, g, 0).shape.length;
  const perm = constInts(node, g, 1, 'perm');
  const at = `node ${node.index} (TRANSPOSE) input 1 (perm)`;
  if (perm.length !== rank) throw new ModelFormatError(at, `has ${perm.length} entries for a rank-${rank} input`);
  const seen = new Set<number>();
  for (const p of perm) {
    if (!Number.isInteger(p) || p < 0 || p >= rank || seen.has(p)) throw new ModelFormatError(at, `[${perm.join(',')}] is not a permutation of 0..${rank - 1}`);
    seen.add(p);
  }
  return perm;
}

export function transposedShape(node: Node<'TRANSPOSE'>, g: Graph): number[] {
  const shape = inputTensor(node, g, 0).shape;
  return permutation(node, g).map((p) => shape[p]);
}

export const transpose: OpDef<'TRANSPOSE'> = {
  name: 'TRANSPOSE',
  // v6: more than 5 dimensions (v5 int16, v4 5-D, v3 bool, v2 int8); the copy is rank- and dtype-agnostic.
  maxVersion: 6,
  role: 'other',
  inferShapes: (node, g) => [transposedShape(node, g)],

  prepare(node, g, views) {
    const input = inputTensor(node, g, 0);
    const output = outputTensor(node, g);
    requireDtype(node, input, MOVABLE);
    requireSameDtype(node, input, output);
    requireOutputShape(node, output, transposedShape(node, g));
    const perm = permutation(node, g);
    const inStrides = stridesOf(input.shape);
    const { layout, words } = wordViews(views, [node.inputs[0], node.outputs[0]], input.dtype);
    const [src, dst] = words;
    const plan = planCopy(output.shape, stridesOf(output.shape), perm.map((p) => inStrides[p]), 0, 0, layout.lanes);
    return () => runCopy(plan, dst, src);
  },

  macs: (node, g) => numElements(outputTensor(node, g).shape),
};
