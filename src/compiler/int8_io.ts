import type { AnyNode, Graph, TensorId } from '../graph/graph.js';
import { tensorReaders } from '../graph/graph.js';
import { InputError } from '../errors.js';

/** What `--io` leaves at the model's boundary: its own tensors, or the quantised ones beside its float boundary. */
export type IoChoice = 'model' | 'int8';

export interface Int8IoResult {
  graph: Graph;
  /** QUANTIZE nodes dropped at the inputs and DEQUANTIZE nodes at the outputs. */
  droppedInputs: number;
  droppedOutputs: number;
}

const QUANTISED = new Set(['int8', 'int16']);

/**
 * `--io int8`: a model quantised with float inputs and outputs (a QUANTIZE right after each input, a
 * DEQUANTIZE right before each output) loses those boundary ops, so a sensor's int8 data goes straight in
 * and the quantised result comes straight out. The float input is often the largest tensor of all
 * (4 bytes a value), so dropping it lowers the peak; the arithmetic of every remaining node is unchanged,
 * so the outputs are the original's quantised outputs bit for bit. A float input or output with no such op
 * beside it is an error naming the tensor: the caller asked for an int8 boundary the model cannot give.
 */
export function int8Io(g: Graph): Int8IoResult {
  const readers = tensorReaders(g);
  const producer = new Map<TensorId, number>();
  g.nodes.forEach((n, i) => n.outputs.forEach((t) => producer.set(t, i)));
  const removed = new Set<number>();
  const name = (t: TensorId) => `"${g.tensors[t].name}"`;

  const inputs = g.inputs.map((t) => {
    if (QUANTISED.has(g.tensors[t].dtype)) return t;
    const rs = (readers.get(t) ?? []).map((r) => r.node);
    const q = rs.length === 1 ? g.nodes[rs[0]] : null;
    const out = q?.outputs[0];
    if (!q || q.op !== 'QUANTIZE' || g.tensors[t].dtype !== 'float32' || out === undefined || !QUANTISED.has(g.tensors[out].dtype) || g.outputs.includes(t)) {
      throw new InputError(`--io int8: input ${name(t)} is ${g.tensors[t].dtype}${rs.length ? `, read by ${rs.map((i) => `${g.nodes[i].op} (node ${i})`).join(', ')}` : ''}, not by one QUANTIZE to int8/int16: the model has no quantised input to expose`);
    }
    removed.add(rs[0]);
    return out;
  });

  const outputs = g.outputs.map((t) => {
    if (QUANTISED.has(g.tensors[t].dtype)) return t;
    const p = producer.get(t);
    const d = p === undefined ? null : g.nodes[p];
    const src = d?.inputs[0];
    if (!d || d.op !== 'DEQUANTIZE' || src === undefined || !QUANTISED.has(g.tensors[src].dtype) || g.inputs.includes(t)) {
      throw new InputError(`--io int8: output ${name(t)} is ${g.tensors[t].dtype}${d ? `, written by ${d.op} (node ${p})` : ''}, not by a DEQUANTIZE from int8/int16: the model has no quantised output to expose`);
    }
    // Another reader of the float output would lose its input.
    const inside = readers.get(t)?.[0];
    if (inside) throw new InputError(`--io int8: output ${name(t)} is also read inside the model (node ${inside.node}); it cannot be dropped`);
    removed.add(p!);
    return src;
  });

  if (removed.size === 0) return { graph: g, droppedInputs: 0, droppedOutputs: 0 };
  const nodes: AnyNode[] = [];
  g.nodes.forEach((n, i) => { if (!removed.has(i)) nodes.push({ ...n, index: nodes.length } as AnyNode); });
  const droppedInputs = inputs.filter((t, i) => t !== g.inputs[i]).length;
  return { graph: { ...g, nodes, inputs, outputs }, droppedInputs, droppedOutputs: removed.size - droppedInputs };
}
