/**
 * The shape rule and kernel skeleton of the binary ops that broadcast and compute element by element
 * with no requantisation of their own beyond a per-input transform (comparisons, MAXIMUM/MINIMUM,
 * logical AND/OR): `f(a, b)` per output element, inputs read through `planBroadcast`'s runs.
 */
import type { Graph, Node } from '../graph/graph.js';
import type { Kernel, TensorViews } from './op.js';
import { inputTensor, outputTensor } from './op.js';
import { broadcastShape, forEachRun, planBroadcast } from './broadcast.js';
import type { Element } from './element_access.js';
import { reader, writer } from './element_access.js';
import { checkOutputShape } from './elementwise_common.js';

export function broadcastInferShapes(node: Node, g: Graph): number[][] {
  return [broadcastShape(inputTensor(node, g, 0).shape, inputTensor(node, g, 1).shape, `node ${node.index} (${node.op})`)];
}

/** out[i] = f(pre0(a[i0]), pre1(b[i1])) over the broadcast of the two inputs. */
export function broadcastKernel(
  node: Node, g: Graph, views: TensorViews, f: (a: Element, b: Element) => Element,
  pre0: (v: Element) => Element = (v) => v, pre1: (v: Element) => Element = (v) => v,
): Kernel {
  const t0 = inputTensor(node, g, 0), t1 = inputTensor(node, g, 1), out = outputTensor(node, g);
  const plan = planBroadcast(t0.shape, t1.shape, `node ${node.index} (${node.op})`);
  checkOutputShape(node, g, plan.outShape);
  const a = reader(views, t0), b = reader(views, t1), w = writer(views, out);
  const { stride0, stride1 } = plan;
  const run = (o0: number, o1: number, oo: number, len: number): void => {
    for (let i = oo, end = oo + len; i < end; i++, o0 += stride0, o1 += stride1) w(i, f(pre0(a(o0)), pre1(b(o1))));
  };
  return () => forEachRun(plan, run);
}
