import type { Graph, Node } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import { DTYPE_BYTES } from '../graph/dtype.js';
import type { InPlaceVariant, OpTable } from './options.js';

/**
 * When a kernel may write its output over its input, and with how much scratch: the rules the planner and
 * the in-place kernel variants must agree on. Kernels declare `inPlaceVariant: depthwiseInPlace` (or
 * `padInPlace`) on their OpDef; the planner then decides per node.
 */

/**
 * TinyEngine's in-place depthwise convolution (MCUNet, NeurIPS 2020): channel by channel, copy input
 * plane c into a scratch of one plane, then compute output channel c from it into the positions of
 * channel c. In NHWC an output element (y, x, c) sits at ((y * outW + x) * C + c), a position of channel c
 * in the input too, so only the saved channel is overwritten — N + one plane instead of 2N. Needs one
 * output channel per input channel and an output no larger than the input.
 */
export function depthwiseInPlace(node: Node<'DEPTHWISE_CONV_2D'>, g: Graph): InPlaceVariant | null {
  const input = g.tensors[node.inputs[0]];
  const output = g.tensors[node.outputs[0]];
  if (!input || !output || input.data || input.shape.length !== 4 || output.shape.length !== 4) return null;
  const [n, inH, inW, inC] = input.shape;
  const [on, outH, outW, outC] = output.shape;
  if (n !== 1 || on !== 1 || outC !== inC || outH > inH || outW > inW) return null;
  if (DTYPE_BYTES[output.dtype] !== DTYPE_BYTES[input.dtype]) return null;
  return { scratchBytes: inH * inW * DTYPE_BYTES[input.dtype] };
}

/**
 * PAD over its own input: output element e is the input element that lands there or the pad value, and
 * its index never precedes that input element's (paddings are non-negative), so a kernel that writes the
 * output from the last element to the first never overwrites an input element before reading it.
 */
export function padInPlace(node: Node<'PAD'> | Node<'PADV2'>, g: Graph): InPlaceVariant | null {
  const input = g.tensors[node.inputs[0]];
  const output = g.tensors[node.outputs[0]];
  if (!input || !output || input.data || input.dtype !== output.dtype) return null;
  if (numElements(output.shape) < numElements(input.shape)) return null;
  return { scratchBytes: 0 };
}

/**
 * The op table with every in-place variant the kernels run: OPS declares them on DEPTHWISE_CONV_2D and
 * PAD; this adds PADV2 (which runs PAD's kernel). Kept for the bench and `--assume-variants` callers.
 */
export function withInPlaceVariants(ops: OpTable): OpTable {
  return {
    ...ops,
    DEPTHWISE_CONV_2D: { ...ops.DEPTHWISE_CONV_2D, inPlaceVariant: depthwiseInPlace },
    PAD: { ...ops.PAD, inPlaceVariant: padInPlace },
    PADV2: { ...ops.PADV2, inPlaceVariant: padInPlace },
  } as OpTable;
}
