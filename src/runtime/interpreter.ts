import type { AnyNode, Graph, TensorId } from '../graph/graph.js';
import { tensorBytes } from '../graph/graph.js';
import { InputError } from '../errors.js';
import type { Kernel, OpDef } from '../ops/op.js';
import { OPS, checkSupported } from '../ops/registry.js';
import type { MemoryPlan } from '../plan/memory_plan.js';
import { planMemory } from '../plan/memory_plan.js';
import { assertRunnable } from '../plan/runnable.js';
import { ArenaViews } from './views.js';

export interface InterpreterOptions {
  /** A plan from the planner; by default greedy-by-size. */
  plan?: MemoryPlan;
  /** Give every tensor its own memory so all intermediates can be read after invoke (debugging). */
  preserveAll?: boolean;
}

/**
 * Runs a graph in one preallocated ArrayBuffer laid out by a MemoryPlan. All kernels are prepared
 * (validated, requantisation precomputed, bound to their memory) at construction.
 */
export class Interpreter {
  readonly plan: MemoryPlan;
  readonly arena: ArrayBuffer;
  readonly views: ArenaViews;
  private readonly kernels: Kernel[];

  constructor(readonly graph: Graph, opts: InterpreterOptions = {}) {
    checkSupported(graph);
    // Default: the best layer-wise plan with every reuse trick (the figure `inspect` and `plan` print).
    this.plan = opts.plan ?? (opts.preserveAll ? planMemory(graph, 'no-reuse') : planMemory(graph, {}));
    assertRunnable(graph, this.plan);
    this.arena = new ArrayBuffer(Math.max(this.plan.arenaBytes, 16));
    this.views = new ArenaViews(graph, this.plan, this.arena);
    this.kernels = this.plan.order.map((i) => {
      const node = graph.nodes[i] as AnyNode;
      const def = OPS[node.op] as OpDef;
      return def.prepare(node as never, graph, this.views);
    });
  }

  get inputCount(): number { return this.graph.inputs.length; }
  get outputCount(): number { return this.graph.outputs.length; }

  /** Write raw little-endian bytes into model input `i`. */
  setInput(i: number, bytes: Uint8Array): void {
    const id = this.graph.inputs[i];
    if (id === undefined) throw new InputError(`the model has ${this.inputCount} input(s); there is no input ${i}`);
    const t = this.graph.tensors[id];
    const need = tensorBytes(t);
    if (bytes.byteLength !== need) {
      throw new InputError(`input ${i} (${t.name}) needs ${need} bytes (${t.dtype}[${t.shape.join(',')}]), got ${bytes.byteLength}`);
    }
    this.views.bytes(id).set(bytes);
  }

  invoke(): void {
    for (const k of this.kernels) k();
  }

  /** Run nodes one at a time, calling `after(step)` after each (for per-layer comparison and timing). */
  invokeStepwise(after: (step: number, nodeIndex: number) => void): void {
    this.kernels.forEach((k, step) => {
      k();
      after(step, this.plan.order[step]);
    });
  }

  /** A copy of model output `i` as raw bytes. */
  output(i: number): Uint8Array {
    const id = this.graph.outputs[i];
    if (id === undefined) throw new InputError(`the model has ${this.outputCount} output(s); there is no output ${i}`);
    return this.views.bytes(id).slice();
  }

  /** Current contents of any tensor (a view: valid until the arena is reused). */
  tensor(id: TensorId): Uint8Array {
    return this.views.bytes(id);
  }
}
