import type { OpDef } from '../../ops/op.js';
import { OPS } from '../../ops/registry.js';
import type { AnyNode, Graph, TensorId } from '../../graph/graph.js';
import type { Window } from './region.js';
import { windowOf } from './region.js';

/**
 * The first stage of a patch-based plan: nodes order[first..last] that read one activation tensor from
 * before the stage and hand one tensor on to the rest of the network, every node an op that can run on a
 * spatial patch (see windowOf), every activation NHWC with batch 1.
 */
export interface Stage {
  /** Positions in the model's order (inclusive). */
  first: number;
  last: number;
  nodes: number[];
  /** The tensor the stage reads (full size, held through the stage). */
  input: TensorId;
  /** The tensor the stage hands on (assembled patch by patch): the split point. */
  output: TensorId;
  windows: Map<number, Window>;
}

/** Elementwise ops may read several activations at the same positions (ADD of a residual). */
export function isElementwise(node: AnyNode): boolean {
  return (OPS[node.op] as OpDef).role === 'elementwise';
}

function activationInputs(g: Graph, node: AnyNode): TensorId[] {
  if (isElementwise(node)) return node.inputs.filter((i) => i >= 0 && !g.tensors[i].data);
  return node.inputs.length > 0 && node.inputs[0] >= 0 && !g.tensors[node.inputs[0]].data ? [node.inputs[0]] : [];
}

/** Every node's activation inputs besides input 0 must be constants (weights, bias, paddings). */
function onlyInput0Varies(g: Graph, node: AnyNode): boolean {
  if (isElementwise(node)) return true;
  return node.inputs.slice(1).every((i) => i < 0 || g.tensors[i].data !== null);
}

export function stageOf(g: Graph, order: readonly number[], first: number, last: number): Stage | null {
  const nodes = order.slice(first, last + 1);
  const inStage = new Set(nodes);
  const produced = new Set<TensorId>();
  const external = new Set<TensorId>();
  const windows = new Map<number, Window>();
  for (const i of nodes) {
    const node = g.nodes[i] as AnyNode;
    if (node.outputs.length !== 1) return null;
    const w = windowOf(node, g);
    if (!w || !onlyInput0Varies(g, node)) return null;
    const y = g.tensors[node.outputs[0]];
    if (y.shape.length !== 4 || y.shape[0] !== 1) return null;
    windows.set(i, w);
    for (const x of activationInputs(g, node)) if (!produced.has(x)) external.add(x);
    produced.add(node.outputs[0]);
  }
  if (external.size !== 1) return null;
  const output = g.nodes[order[last]].outputs[0];
  // Nothing but the split tensor may leave the stage.
  const outputs = new Set(g.outputs);
  for (const t of produced) {
    if (t === output) continue;
    if (outputs.has(t)) return null;
    if (g.nodes.some((n) => !inStage.has(n.index) && n.inputs.includes(t))) return null;
  }
  if (outputs.has(output)) return null;
  const input = [...external][0];
  return { first, last, nodes, input, output, windows };
}
