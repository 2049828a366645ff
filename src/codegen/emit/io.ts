import type { Graph, Tensor, TensorId } from '../../graph/graph.js';
import { isVariable, stateFillByte, tensorBytes } from '../../graph/graph.js';
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

/** A variable (state) tensor's bytes in the arena and the byte it starts from (an int8 one's zero point, else 0). */
export interface StateTensor {
  tensor: Tensor;
  offset: number;
  bytes: number;
  fill: number;
}

export function modelStates(g: Graph, plan: MemoryPlan): StateTensor[] {
  return g.tensors.filter(isVariable).map((tensor) => {
    const p = plan.placements.get(tensor.id);
    if (!p) throw new Error(`state tensor ${tensor.name} has no place in the memory plan`);
    return { tensor, offset: p.offset, bytes: tensorBytes(tensor), fill: stateFillByte(tensor) };
  });
}
