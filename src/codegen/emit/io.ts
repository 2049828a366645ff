import type { Graph, Tensor, TensorId } from '../../graph/graph.js';
import { tensorBytes } from '../../graph/graph.js';
import type { MemoryPlan } from '../../plan/memory_plan.js';
import { cElementType } from '../lower/layer.js';

/** One model input or output as the generated API presents it. */
export interface IoTensor {
  index: number;
  tensor: Tensor;
  offset: number;
  bytes: number;
  cType: string;
}

function ioTensors(g: Graph, plan: MemoryPlan, ids: readonly TensorId[], what: string): IoTensor[] {
  return ids.map((id, index) => {
    const tensor = g.tensors[id];
    const p = plan.placements.get(id);
    if (!p) throw new Error(`model ${what} ${index} (${tensor.name}) has no place in the memory plan`);
    return { index, tensor, offset: p.offset, bytes: tensorBytes(tensor), cType: cElementType(tensor) };
  });
}

export function modelInputs(g: Graph, plan: MemoryPlan): IoTensor[] {
  return ioTensors(g, plan, g.inputs, 'input');
}

export function modelOutputs(g: Graph, plan: MemoryPlan): IoTensor[] {
  return ioTensors(g, plan, g.outputs, 'output');
}
