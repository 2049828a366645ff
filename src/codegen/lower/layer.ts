import type { AnyNode, Graph, Tensor, TensorId } from '../../graph/graph.js';
import { tensorBytes } from '../../graph/graph.js';
import { UnsupportedOpError } from '../../errors.js';
import type { MemoryPlan } from '../../plan/memory_plan.js';
import { scratchId } from '../../plan/lifetimes.js';
import type { CArray, CScalarType } from '../c_syntax.js';
import { cIdent } from '../c_syntax.js';
import type { KernelHeader } from '../kernels.js';
import type { CArg, CStruct, CStructField, Definition, Statement } from './kernel_call.js';

/** What one node contributes to the generated project (and to the WebAssembly backend's schedule). */
export interface LayerCode {
  /** Kernel headers it calls (their dependencies are added by the project). */
  headers: KernelHeader[];
  /** Constant parameter structs and requantisation arrays, placed in model.c before the schedule. */
  definitions: Definition[];
  /** Weight-sized constant arrays, placed in weights.c (Flash). */
  weights: CArray[];
  /** Statements of model_invoke for this node. */
  statements: Statement[];
}

/** The C element type of a tensor's dtype, for pointers into the arena. */
export function cElementType(t: Tensor): CScalarType {
  switch (t.dtype) {
    case 'int8': return 'int8_t';
    case 'uint8': case 'bool': return 'uint8_t'; // bool: one byte a value, as TFLite stores it
    case 'int16': return 'int16_t';
    case 'int32': return 'int32_t';
    case 'int64': return 'int64_t';
    case 'float32': return 'float';
    default: throw new Error(`no C element type for ${t.dtype}`);
  }
}

/** A constant tensor's values as a fresh typed array (the file's bytes may be unaligned). */
export function constantValues(t: Tensor): Int8Array | Uint8Array | Int16Array | Int32Array | Float32Array | Float64Array {
  if (!t.data) throw new Error(`tensor ${t.name} is not constant`);
  const copy = new Uint8Array(t.data.byteLength);
  copy.set(t.data);
  switch (t.dtype) {
    case 'int8': return new Int8Array(copy.buffer);
    case 'uint8': case 'bool': return copy;
    case 'int16': return new Int16Array(copy.buffer, 0, copy.byteLength >> 1);
    case 'int32': return new Int32Array(copy.buffer, 0, copy.byteLength >> 2);
    case 'float32': return new Float32Array(copy.buffer, 0, copy.byteLength >> 2);
    case 'int64': return Float64Array.from(new BigInt64Array(copy.buffer, 0, copy.byteLength >> 3), (v) => {
      // int64 constants go to C as integer literals: only those a double holds exactly.
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`constant ${t.name}: int64 value ${v} beyond 2^53`);
      return Number(v);
    });
    default: throw new Error(`constant ${t.name}: dtype ${t.dtype} not supported in generated code`);
  }
}

/**
 * One node being lowered: names its constants uniquely ([prefix]L<step>_...), turns tensor ids into arena
 * pointer expressions at the plan's offsets, and checks the plan's buffer overlaps against what the
 * chosen C kernel tolerates.
 */
export class LayerContext {
  readonly prefix: string;

  /** `symbolPrefix` starts every name (GenerateOptions.prefix), so several models' constants link together. */
  /**
   * splitWeights: the project's target has the Cortex-M DSP extension and the Flash budget lets this layer
   * store its weights split into 16-bit SMLAD pairs for the DSP-only kernels that take them
   * (GenerateOptions.flashBudget); false for the host and the wasm runtime.
   */
  constructor(readonly graph: Graph, readonly plan: MemoryPlan, readonly step: number, readonly node: AnyNode, symbolPrefix = '', readonly splitWeights = false) {
    this.prefix = `${symbolPrefix}L${step}`;
  }

  tensor(id: TensorId): Tensor {
    return this.graph.tensors[id];
  }

  input(i: number): Tensor {
    const id = this.node.inputs[i];
    if (id === undefined || id < 0) throw new UnsupportedOpError(this.node.op, this.node.index, `missing input ${i}`);
    return this.graph.tensors[id];
  }

  optionalInput(i: number): Tensor | null {
    const id = this.node.inputs[i];
    return id === undefined || id < 0 ? null : this.graph.tensors[id];
  }

  output(i = 0): Tensor {
    return this.graph.tensors[this.node.outputs[i]];
  }

  /** Arena byte offset of an activation tensor, from the memory plan. */
  offset(t: Tensor): number {
    const p = this.plan.placements.get(t.id);
    if (!p) throw new UnsupportedOpError(this.node.op, this.node.index, `tensor ${t.name} has no place in the memory plan`);
    return p.offset;
  }

  /** The pointer to an activation tensor in the arena (`ARENA(offset, T)` in C). */
  ptr(t: Tensor): CArg {
    if (t.data) throw new Error(`ptr() on constant ${t.name}`);
    return { kind: 'arena', offset: this.offset(t), type: this.elementType(t) };
  }

  /** The node's scratch buffer, if the plan gave it one. */
  scratch(): { ptr: CArg; bytes: number } | null {
    const p = this.plan.placements.get(scratchId(this.step));
    return p ? { ptr: { kind: 'arena', offset: p.offset, type: 'int8_t' }, bytes: p.bytes } : null;
  }

  /** The node's scratch as a `type` pointer, refusing a plan that gave it fewer than `bytes` (the op's scratchBytes). */
  scratchBuffer(bytes: number, type: CScalarType): CArg {
    const p = this.plan.placements.get(scratchId(this.step));
    if (!p || p.bytes < bytes) throw this.unsupported(`needs ${bytes} bytes of scratch; the plan gave ${p?.bytes ?? 0}`);
    return { kind: 'arena', offset: p.offset, type };
  }

  /** One of this layer's constant structs, named L<step>_<what>. */
  struct(type: string, what: string, fields: Readonly<Record<string, CStructField>>): CStruct {
    return { type, name: this.name(what), fields };
  }

  /** How the plan lays out an output over an input: apart, at the same offset, or partially overlapping. */
  overlap(a: Tensor, b: Tensor): 'disjoint' | 'same' | 'partial' {
    if (a.data || b.data) return 'disjoint';
    const oa = this.offset(a), ob = this.offset(b);
    const ea = oa + tensorBytes(a), eb = ob + tensorBytes(b);
    if (ea <= ob || eb <= oa) return 'disjoint';
    return oa === ob ? 'same' : 'partial';
  }

  /** Refuse a plan that overlays these tensors when the kernel reads one while writing the other. */
  requireDisjoint(a: Tensor, b: Tensor, kernel: string): void {
    if (this.overlap(a, b) !== 'disjoint') {
      throw new UnsupportedOpError(this.node.op, this.node.index, `the memory plan overlays ${b.name} on ${a.name}, which ${kernel} cannot compute in place`);
    }
  }

  /** A name for one of this layer's constants: L<step>_<what>. */
  name(what: string): string {
    return `${this.prefix}_${cIdent(what)}`;
  }

  /** A weights.c array for a constant tensor used as data (e.g. a constant operand of ADD). */
  constantArray(t: Tensor, what: string): CArray {
    return { name: this.name(what), type: this.elementType(t), values: constantValues(t), align: 4, linkage: 'extern', comment: `${t.name} ${t.dtype}[${t.shape.join(',')}]` };
  }

  /** The C type of a tensor's elements (each lowering checks the dtypes its kernels take). */
  elementType(t: Tensor): CScalarType {
    return cElementType(t);
  }

  /**
   * A batch of images through a kernel that takes one NHWC image: the statements repeated per image with the
   * input's and output's arena pointers stepped by one image (scratch and constants shared).
   */
  perImage(statements: readonly Statement[], input: Tensor, output: Tensor): Statement[] {
    const images = input.shape[0] ?? 1;
    if (images <= 1) return [...statements];
    if (this.overlap(input, output) !== 'disjoint') throw this.unsupported(`batch ${images} with the output over the input`);
    const steps = new Map([[this.offset(input), tensorBytes(input) / images], [this.offset(output), tensorBytes(output) / images]]);
    const image = (b: number) => statements.map((st): Statement => st.kind !== 'call' ? st : {
      ...st, args: st.args.map((a) => (a.kind === 'arena' && steps.has(a.offset) ? { ...a, offset: a.offset + b * steps.get(a.offset)! } : a)),
    });
    return Array.from({ length: images }, (_, b) => image(b)).flat();
  }

  unsupported(detail: string): UnsupportedOpError {
    return new UnsupportedOpError(this.node.op, this.node.index, detail);
  }
}
