import type { DType } from './dtype.js';
import type { AnyNode, Graph, Node, QuantParams, TensorId } from './graph.js';
import type { OpName, OpOptionsMap } from './options.js';

type TypedData = Int8Array | Uint8Array | Int16Array | Int32Array | Float32Array;

/** Builds a Graph by hand (models we make ourselves, tests). Constants are copied into fresh buffers. */
export class GraphBuilder {
  private readonly g: Graph;

  constructor(name: string, description = '') {
    this.g = { name, tensors: [], nodes: [], inputs: [], outputs: [], description };
  }

  tensor(name: string, shape: number[], dtype: DType, quant: QuantParams | null = null): TensorId {
    const id = this.g.tensors.length;
    this.g.tensors.push({ id, name, shape: [...shape], dtype, quant, data: null });
    return id;
  }

  constant(name: string, shape: number[], dtype: DType, values: TypedData, quant: QuantParams | null = null): TensorId {
    const id = this.tensor(name, shape, dtype, quant);
    const bytes = new Uint8Array(values.byteLength);
    bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    this.g.tensors[id].data = bytes;
    return id;
  }

  /** A variable (state) tensor: zero at reset, kept across invokes by the op that owns it. */
  variable(name: string, shape: number[], dtype: DType, quant: QuantParams | null = null): TensorId {
    const id = this.tensor(name, shape, dtype, quant);
    this.g.tensors[id].variable = true;
    return id;
  }

  node<K extends OpName>(op: K, inputs: TensorId[], outputs: TensorId[], options: OpOptionsMap[K], version = 1): Node<K> {
    const n: Node<K> = { index: this.g.nodes.length, op, version, inputs, outputs, options };
    this.g.nodes.push(n as unknown as AnyNode);
    return n;
  }

  input(id: TensorId): this {
    this.g.inputs.push(id);
    return this;
  }

  output(id: TensorId): this {
    this.g.outputs.push(id);
    return this;
  }

  build(): Graph {
    return this.g;
  }
}

export function perTensor(scale: number, zeroPoint: number): QuantParams {
  return { scale: [scale], zeroPoint: [zeroPoint], axis: 0 };
}
