import type { AnyNode, Graph, TensorId } from '../graph/graph.js';
import { isVariable, stateFillByte, tensorBytes } from '../graph/graph.js';
import { InputError } from '../errors.js';
import type { Kernel, OpDef } from '../ops/op.js';
import { OPS, checkSupported } from '../ops/registry.js';
import type { MemoryPlan } from '../plan/memory_plan.js';
import { assertRunnable } from '../plan/runnable.js';
import type { CompiledModel } from '../compiler/compile_model.js';
import { compileModel } from '../compiler/compile_model.js';
import type { CompileOptions } from '../compiler/options.js';
import { ArenaViews } from './views.js';
import { instantiateKernels, kernelModule, kernelModuleProblem } from './wasm/kernel_module.js';
import type { JsFallback } from './wasm/wasm_program.js';
import { buildWasmProgram } from './wasm/wasm_program.js';

/**
 * Which kernels run the model: `wasm`, the C kernel library (the code `compile` emits) built to WebAssembly
 * SIMD, with the TypeScript kernel for any node it does not take; `js`, the TypeScript kernels alone.
 */
export type Backend = 'wasm' | 'js';

/** The default: WebAssembly where this engine runs WebAssembly SIMD, TypeScript otherwise. */
export function defaultBackend(): Backend {
  return kernelModule() ? 'wasm' : 'js';
}

export interface InterpreterOptions extends CompileOptions {
  /**
   * Run the graph exactly as given under this plan (tests and tools that plan for themselves); otherwise
   * the interpreter compiles the model with the options, as every command does.
   */
  plan?: MemoryPlan;
  /** Default: defaultBackend(). Both give the same bytes. */
  backend?: Backend;
}

function isCompiled(m: Graph | CompiledModel): m is CompiledModel {
  return 'plan' in m && 'kernels' in m;
}

/**
 * Runs a compiled model in one preallocated ArrayBuffer laid out by its MemoryPlan. All kernels are
 * prepared (validated, requantisation precomputed, bound to their memory) at construction. Variable
 * (state) tensors have arena memory of their own for the whole run, so their values persist across invokes.
 */
export class Interpreter {
  readonly plan: MemoryPlan;
  readonly views: ArenaViews;
  readonly backend: Backend;
  /** Nodes the WebAssembly backend leaves to the TypeScript kernels, and why (empty on the js backend). */
  readonly jsFallbacks: readonly JsFallback[];
  private readonly kernels: Kernel[];
  /** What invoke runs: the kernels, with each of the wasm program's runs of steps as one call. */
  private readonly sequence: Kernel[];

  /** The graph run: the compiled model's (PADs fused, patch stage rewritten) or the one given with a plan. */
  readonly graph: Graph;
  /** How the model was compiled (null when run under a caller's plan). */
  readonly compiled: CompiledModel | null;

  constructor(model: Graph | CompiledModel, opts: InterpreterOptions = {}) {
    if (isCompiled(model)) this.compiled = model;
    else if (opts.plan) {
      checkSupported(model);
      this.compiled = null;
    } else this.compiled = compileModel(model, opts);
    const graph = this.compiled ? this.compiled.graph : (model as Graph);
    const plan = this.compiled ? this.compiled.plan : opts.plan!;
    this.graph = graph;
    this.plan = plan;
    assertRunnable(graph, plan);
    this.backend = opts.backend ?? defaultBackend();
    let wasmSteps: (Kernel | null)[] = [];
    let runs: { from: number; to: number; run: Kernel }[] = [];
    if (this.backend === 'wasm') {
      const module = kernelModule();
      if (!module) throw new InputError(`the wasm backend needs WebAssembly SIMD, which this JavaScript engine lacks (${kernelModuleProblem()}); use the js backend`);
      const program = buildWasmProgram(graph, plan, instantiateKernels(module));
      this.views = new ArenaViews(graph, plan, program.buffer, program.arenaBase);
      this.jsFallbacks = program.fallbacks;
      wasmSteps = program.steps;
      runs = program.runs;
    } else {
      this.views = new ArenaViews(graph, plan, new ArrayBuffer(Math.max(plan.arenaBytes, 16)));
      this.jsFallbacks = [];
    }
    // Every node is prepared by its op, which validates it the same way on both backends; where the C
    // library runs the node, its call replaces the TypeScript kernel.
    this.kernels = plan.order.map((i, step) => {
      const node = graph.nodes[i] as AnyNode;
      const js = (OPS[node.op] as OpDef).prepare(node as never, graph, this.views);
      return wasmSteps[step] ?? js;
    });
    this.sequence = [];
    for (let step = 0, r = 0; step < this.kernels.length;) {
      if (r < runs.length && runs[r].from === step) {
        this.sequence.push(runs[r].run);
        step = runs[r++].to;
      } else {
        this.sequence.push(this.kernels[step++]);
      }
    }
    this.resetState();
  }

  /**
   * Set every variable (state) tensor to its starting value, as TFLite Micro's ResetVariableTensors does:
   * int8 ones to their zero point, all others to zero. Done once at construction; state then carries from
   * one invoke to the next until the next reset.
   */
  resetState(): void {
    for (const t of this.graph.tensors) if (isVariable(t)) this.views.bytes(t.id).fill(stateFillByte(t));
  }

  /** PAD nodes folded into convolutions for this run. */
  get fusedPads(): number { return this.compiled?.fusedPads ?? 0; }

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
    for (const k of this.sequence) k();
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
