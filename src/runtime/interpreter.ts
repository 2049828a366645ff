import type { AnyNode, Graph, TensorId } from '../graph/graph.js';
import { tensorBytes } from '../graph/graph.js';
import { InputError } from '../errors.js';
import type { Kernel, OpDef } from '../ops/op.js';
import { OPS, checkSupported } from '../ops/registry.js';
import type { MemoryPlan } from '../plan/memory_plan.js';
import { planMemory } from '../plan/memory_plan.js';
import { assertRunnable } from '../plan/runnable.js';
import { fusePads } from '../plan/fuse_pad.js';
import { ArenaViews } from './views.js';

export interface InterpreterOptions {
  /** A plan from the planner; by default greedy-by-size. */
  plan?: MemoryPlan;
  /** Give every tensor its own memory so all intermediates can be read after invoke (debugging). */
  preserveAll?: boolean;
  /**
   * Fold each PAD into the convolution that reads it (src/plan/fuse_pad.ts) before planning. Default: on when
   * the interpreter plans for itself (no `plan`, no `preserveAll`); then `graph` is the rewritten graph (same
   * tensor ids, inputs and outputs; fused PAD outputs are never computed). Ignored when a `plan` is given.
   */
  fusePads?: boolean;
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

  /** The graph run: the one given, or its PAD-fused rewrite (see `InterpreterOptions.fusePads`). */
  readonly graph: Graph;
  /** PAD nodes folded into convolutions for this run (0 when fusion is off or found nothing). */
  readonly fusedPads: number;

  constructor(model: Graph, opts: InterpreterOptions = {}) {
    checkSupported(model);
    const fuse = !opts.plan && !opts.preserveAll && opts.fusePads !== false;
    const { graph, fused } = fuse ? fusePads(model) : { graph: model, fused: 0 };
    this.graph = graph;
    this.fusedPads = fused;
    // Default: the best layer-wise plan with every reuse trick, PAD fusion included (the figure `plan` prints).
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
