import type { AnyNode, Graph } from '../graph/graph.js';
import { isConstant, tensorBytes } from '../graph/graph.js';
import type { OpDef } from '../ops/op.js';
import { OPS } from '../ops/registry.js';
import type { MemoryPlan } from '../plan/memory_plan.js';

export interface LayerRow {
  step: number;
  node: number;
  op: string;
  inputShapes: number[][];
  outputShapes: number[][];
  macs: number;
  /** Bytes of constant inputs (weights, biases): Flash. */
  weightBytes: number;
  /** Bytes of the outputs this layer writes. */
  activationBytes: number;
  /** Bytes of all buffers live during this step (activations + scratch). */
  liveBytes: number;
}

export interface ModelReport {
  name: string;
  layers: LayerRow[];
  totalMacs: number;
  /** Unique constant tensor bytes: what the weights need in Flash. */
  weightBytes: number;
  /** The memory plan's arena: peak SRAM for activations and scratch. */
  peakSramBytes: number;
  /** Step at which live memory peaks. */
  peakStep: number;
  lowerBound: number;
  strategy: string;
}

export function modelReport(g: Graph, plan: MemoryPlan): ModelReport {
  const layers: LayerRow[] = plan.order.map((nodeIndex, step) => {
    const n = g.nodes[nodeIndex] as AnyNode;
    const def = OPS[n.op] as OpDef;
    const ins = n.inputs.filter((i) => i >= 0).map((i) => g.tensors[i]);
    return {
      step,
      node: nodeIndex,
      op: n.op,
      inputShapes: ins.filter((t) => !isConstant(t)).map((t) => t.shape),
      outputShapes: n.outputs.map((o) => g.tensors[o].shape),
      macs: def.macs(n as never, g),
      weightBytes: ins.filter(isConstant).reduce((s, t) => s + tensorBytes(t), 0),
      activationBytes: n.outputs.reduce((s, o) => s + tensorBytes(g.tensors[o]), 0),
      liveBytes: plan.liveBytes[step] ?? 0,
    };
  });
  const constIds = new Set<number>();
  for (const n of g.nodes) for (const i of n.inputs) if (i >= 0 && isConstant(g.tensors[i])) constIds.add(i);
  let weightBytes = 0;
  for (const id of constIds) weightBytes += tensorBytes(g.tensors[id]);
  let peakStep = 0;
  plan.liveBytes.forEach((b, s) => { if (b > plan.liveBytes[peakStep]) peakStep = s; });
  return {
    name: g.name,
    layers,
    totalMacs: layers.reduce((s, l) => s + l.macs, 0),
    weightBytes,
    peakSramBytes: plan.arenaBytes,
    peakStep,
    lowerBound: plan.lowerBound,
    strategy: plan.strategy,
  };
}
