/**
 * A training session: a compiled program bound to memory and kernels, ready to take steps. The forward
 * runs the project's inference kernels (int8 ones bit-exact with TFLite), the backward the float32
 * kernels of ./kernels on dequantised values, and updates land on the parameters as the program says.
 * On the 'wasm' backend the session's memory lies in a WebAssembly instance of the C training kernels,
 * which run the float32 layers' forward and the layer backward in place; everything else stays as above.
 */
import type { AnyNode, Graph, TensorId } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import type { Kernel, OpDef } from '../ops/op.js';
import { OPS } from '../ops/registry.js';
import { affineQuantizeValue } from '../ops/quantize.js';
import { seededRandom } from '../util/random.js';
import { InputError } from '../errors.js';
import type { TrainStep, TrainingProgram } from './program.js';
import type { TrainingMemoryReport } from './memory.js';
import { planTrainingMemory } from './memory.js';
import type { OptimizerSpec } from './optimizer_spec.js';
import type { OptimizerClock } from './optimizer.js';
import { ParamUpdater, biasScales, typedValues } from './optimizer.js';
import type { TrainableParam } from './update.js';
import { SessionMemory } from './views.js';
import { DivergenceError } from './errors.js';
import type { BackwardContext } from './bind_backward.js';
import { bindBackward } from './bind_backward.js';
import { saveChannels, saveMask } from './kernels/elementwise.js';
import type { SoftTargets } from './kernels/loss.js';
import { softmaxCrossEntropy } from './kernels/loss.js';
import { JS_TRAIN_KERNELS } from './kernels/index.js';
import type { WasmTrainInstance } from './wasm_kernels.js';
import { WasmTrainKernels, wasmTrainingProblem } from './wasm_kernels.js';
import { bindWasmForward, wasmLayout } from './wasm_binding.js';

/** Where the float32 layer kernels run: the C library in WebAssembly (SIMD), or TypeScript. */
export type TrainingBackend = 'wasm' | 'js';

/** 'wasm' where this engine runs the WebAssembly SIMD kernel library, else 'js'. */
export function defaultTrainingBackend(): TrainingBackend {
  return wasmTrainingProblem() ? 'js' : 'wasm';
}

export interface SessionOptions {
  /** Optimizer (default: the one the program was compiled with). */
  optimizer?: OptimizerSpec;
  /** Quantisation-aware scaling of int8 gradients (ignored for float models). Default true. */
  qas?: boolean;
  /** Seed of the stochastic rounding. */
  seed?: number;
  /** 'planned' (default): buffers where the training memory plan puts them; 'separate': each apart. */
  layout?: 'planned' | 'separate';
  /** Loss above which a step counts as diverged (besides NaN/Infinity). Default 1e4. */
  maxLoss?: number;
  /**
   * Keep each trained parameter's gradient (summed over steps until `zeroGradients`) instead of updating
   * it: for a caller that owns the parameters, such as a weight-shared supernet. Float models only.
   */
  collectGradients?: boolean;
  /** Layer kernels: 'wasm' (default where WebAssembly SIMD runs) or 'js'. */
  backend?: TrainingBackend;
  /**
   * The 'wasm' backend's instance, shared with other sessions (default: one of its own). Sessions sharing
   * one overwrite each other's arena: step one at a time and read a session's activations before another
   * steps. One that needed more memory detaches those made before it (`detached`).
   */
  wasmInstance?: WasmTrainInstance;
}

export interface StepResult {
  /** Mean loss over the batch. */
  loss: number;
  correct: number;
}

export class TrainingSession {
  readonly memory: TrainingMemoryReport;
  readonly clock: OptimizerClock;
  readonly backend: TrainingBackend;
  private readonly wasm: WasmTrainKernels | null;
  /** Forward steps on kernels that read the parameters as they are (never prepared again). */
  private readonly unfolded = new Set<TrainStep>();
  private readonly mem: SessionMemory;
  private readonly g: Graph;
  private readonly kernels: Kernel[] = [];
  private readonly forwardSteps: number[] = [];
  private readonly updaters = new Map<TensorId, ParamUpdater>();
  private readonly labels: Int32Array;
  private readonly lossStep: number;
  /** Float copies of int8 values (host-side: a device kernel dequantises on the fly). */
  private readonly dequantCache = new Map<number, Float32Array>();
  private readonly maxLoss: number;
  private readonly backwardContext: BackwardContext;
  private lastLoss = { loss: 0, correct: 0 };
  private steps = 0;
  private soft: SoftTargets | undefined;
  /** Collected gradients by parameter tensor (collectGradients), in the tensor's own element order. */
  private readonly collected = new Map<TensorId, Float32Array>();

  constructor(readonly program: TrainingProgram, opts: SessionOptions = {}) {
    this.g = program.graph;
    const spec = opts.optimizer ?? program.options.optimizer;
    this.clock = { lr: spec.lr, step: 0 };
    this.maxLoss = opts.maxLoss ?? 1e4;
    this.memory = planTrainingMemory(program, { strategy: opts.layout === 'separate' ? 'no-reuse' : 'greedy-size' });
    this.backend = opts.backend ?? defaultTrainingBackend();
    if (this.backend === 'wasm' && wasmTrainingProblem()) throw new InputError(`the wasm training backend cannot run here (${wasmTrainingProblem()}): use backend 'js'`);
    const placements = this.memory.placements;
    this.wasm = this.backend === 'wasm' ? new WasmTrainKernels((sizes) => wasmLayout(program, placements, sizes), opts.wasmInstance) : null;
    this.mem = new SessionMemory(program, placements, this.wasm?.arena);
    this.labels = new Int32Array(program.batch);
    // The stochastic-rounding noise: the project's one seeded PRNG, reproducible from the session seed.
    const random = seededRandom(opts.seed ?? 1);
    const rule = { spec, rounding: program.options.rounding, qas: opts.qas ?? true };
    for (const p of program.update.params) {
      this.updaters.set(p.tensor, new ParamUpdater(this.g, p, rule, this.clock, random, (q) => biasScales(this.g, q)));
    }
    if (opts.collectGradients) {
      if (program.update.params.some((p) => this.g.tensors[p.tensor].dtype !== 'float32')) {
        throw new InputError('collecting gradients is for float32 models (int8 parameters train in place)');
      }
      for (const p of program.update.params) {
        const sink = new Float32Array(numElements(this.g.tensors[p.tensor].shape));
        this.collected.set(p.tensor, sink);
        this.updaters.get(p.tensor)!.sink = sink;
      }
    }
    this.backwardContext = {
      g: this.g, memory: this.mem, updaters: this.updaters,
      floatOf: (b) => this.floatOf(b), constantFloat: (id) => this.constantFloat(id),
      kernels: this.wasm ?? JS_TRAIN_KERNELS,
      floats: (n) => (this.wasm ? this.wasm.floats(n) : new Float32Array(n)),
    };
    const views = this.mem.tensorViews();
    program.steps.forEach((s, k) => {
      if (s.kind === 'forward') this.forwardSteps.push(k);
      this.kernels.push(this.bind(s, views));
    });
    this.lossStep = program.steps.findIndex((s) => s.kind === 'loss');
  }

  get batch(): number { return this.program.batch; }
  get sampleSize(): number { return numElements(this.g.tensors[this.g.inputs[0]].shape) / this.program.batch; }
  get classes(): number { return this.program.head.classes; }

  /** Write a batch of real-valued inputs (quantised for an int8 model). */
  setInput(x: Float32Array): void {
    const t = this.g.tensors[this.g.inputs[0]];
    const buf = this.mem.view(this.program.activation.get(t.id)!);
    if (x.length !== buf.length) throw new InputError(`a batch of ${this.batch} needs ${buf.length} input values, got ${x.length}`);
    if (buf instanceof Float32Array) {
      buf.set(x);
    } else if (buf instanceof Int8Array) {
      const s = t.quant!.scale[0];
      const zp = t.quant!.zeroPoint[0];
      // TFLite's AffineQuantize, as the deployed model's caller quantises: training sees what inference sees.
      for (let i = 0; i < x.length; i++) buf[i] = affineQuantizeValue(x[i], s, zp, -128, 127);
    } else {
      throw new InputError(`model input ${t.name} is ${t.dtype}: training takes float32 or int8 inputs`);
    }
  }

  /**
   * One training step on a batch: forward, loss, backward with in-place updates (or gradients collected).
   * `soft`: distillation targets mixed into the labels, and where to put this network's probabilities.
   */
  step(x: Float32Array, labels: ArrayLike<number>, soft?: SoftTargets): StepResult {
    this.checkAttached();
    this.setInput(x);
    this.soft = soft;
    for (let b = 0; b < this.batch; b++) this.labels[b] = labels[b];
    this.steps++;
    this.clock.step++;
    for (let k = 0; k < this.kernels.length; k++) {
      this.kernels[k]();
      if (k === this.lossStep) this.checkLoss();
    }
    this.refreshTrainedKernels();
    return { loss: this.lastLoss.loss / this.batch, correct: this.lastLoss.correct };
  }

  /** Forward only; returns the logits (dequantised) of the batch. */
  logits(x: Float32Array): Float32Array {
    this.checkAttached();
    this.setInput(x);
    for (const k of this.forwardSteps) this.kernels[k]();
    return Float32Array.from(this.floatOf(this.program.activation.get(this.program.head.logits)!));
  }

  /** Whether a session sharing this one's WebAssembly instance grew its memory: this one must be rebuilt. */
  get detached(): boolean {
    return this.wasm?.detached ?? false;
  }

  private checkAttached(): void {
    if (this.detached) throw new InputError('this training session\'s WebAssembly memory grew for another session sharing it: build the session again');
  }

  private checkLoss(): void {
    const l = this.lastLoss.loss / this.batch;
    if (!Number.isFinite(l) || l > this.maxLoss) throw new DivergenceError(this.steps, l, 'the loss is not finite or exploded');
  }

  /** Trained parameters changed: kernels that folded them in at prepare time are prepared again. */
  private refreshTrainedKernels(): void {
    const views = this.mem.tensorViews();
    for (const k of this.forwardSteps) {
      const s = this.program.steps[k] as Extract<TrainStep, { kind: 'forward' }>;
      if (this.unfolded.has(s)) continue;
      const n = this.g.nodes[s.node];
      if (n.inputs.some((id) => this.updaters.has(id))) this.kernels[k] = this.bind(s, views);
    }
    for (const [id] of this.updaters) this.dequantCache.delete(-1 - id);
  }

  // -------------------------------------------------------------------------------------------
  // Values as float32

  /** A buffer's values as floats: the buffer itself, or a dequantised host copy of an int8 one. */
  private floatOf(buffer: number): Float32Array {
    const v = this.mem.view(buffer);
    if (v instanceof Float32Array) return v;
    const b = this.program.buffers[buffer];
    const t = this.g.tensors[b.tensor!];
    let out = this.dequantCache.get(buffer);
    if (!out) this.dequantCache.set(buffer, (out = new Float32Array(v.length)));
    const s = t.quant!.scale[0];
    const zp = t.quant!.zeroPoint[0];
    for (let i = 0; i < v.length; i++) out[i] = s * (v[i] - zp);
    return out;
  }

  /** A constant's values as floats (weights dequantised per channel along the quantised axis). */
  private constantFloat(id: TensorId): Float32Array {
    const t = this.g.tensors[id];
    const raw = typedValues(t);
    if (raw instanceof Float32Array) return raw;
    const key = -1 - id;
    let out = this.dequantCache.get(key);
    if (out) return out;
    out = new Float32Array(raw.length);
    const q = t.quant!;
    const axisLen = q.scale.length > 1 ? t.shape[q.axis] : 1;
    const inner = q.scale.length > 1 ? numElements(t.shape.slice(q.axis + 1)) : 1;
    for (let i = 0; i < raw.length; i++) {
      const c = axisLen > 1 ? Math.floor(i / inner) % axisLen : 0;
      out[i] = q.scale[c] * (raw[i] - (q.zeroPoint[c] ?? 0));
    }
    this.dequantCache.set(key, out);
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Binding steps to kernels

  private bind(s: TrainStep, views: ReturnType<SessionMemory['tensorViews']>): Kernel {
    switch (s.kind) {
      case 'forward': {
        const n = this.g.nodes[s.node] as AnyNode;
        const onWasm = this.wasm ? bindWasmForward(this.wasm, n, this.g, views) : null;
        if (onWasm) {
          this.unfolded.add(s);
          return onWasm;
        }
        return (OPS[n.op] as OpDef).prepare(n as never, this.g, views);
      }
      case 'save-mask': {
        const from = this.mem.view(s.from) as Int8Array | Float32Array;
        const to = this.mem.view(s.to) as Uint8Array;
        return () => saveMask(from, s.lo, s.hi, to);
      }
      case 'save-channels': {
        const from = this.mem.view(s.from) as Int8Array | Float32Array;
        const to = this.mem.view(s.to) as Int8Array | Float32Array;
        const t = this.g.tensors[s.tensor];
        const C = t.shape[t.shape.length - 1];
        return () => saveChannels(from, C, s.channels, to);
      }
      case 'loss': {
        const grad = this.mem.float(s.to);
        const { classes, beta } = this.program.head;
        return () => { this.lastLoss = softmaxCrossEntropy(this.floatOf(s.from), classes, beta, this.labels, grad, this.soft); };
      }
      case 'update': {
        const u = this.updaters.get(s.param)!;
        const grad = this.mem.float(s.grad);
        return () => { for (let r = 0; r < u.layout.rows; r++) u.applyRow(r, grad, r * u.layout.rowLength); };
      }
      case 'backward':
        return bindBackward(this.backwardContext, s);
    }
  }

  /** The collected gradient of a trained parameter (collectGradients), or null. */
  collectedGradient(id: TensorId): Float32Array | null {
    return this.collected.get(id) ?? null;
  }

  zeroGradients(): void {
    for (const g of this.collected.values()) g.fill(0);
  }

  /** The trained parameters' tensors, by name (the caller writes new values with `writeParameter`). */
  trainedParameters(): Map<string, TensorId> {
    return new Map(this.program.update.params.map((p) => [this.g.tensors[p.tensor].name, p.tensor]));
  }

  /** Overwrite a trained parameter's values (float32); kernels that folded it in are prepared again. */
  writeParameter(id: TensorId, values: Float32Array): void {
    const v = typedValues(this.g.tensors[id]);
    if (!(v instanceof Float32Array) || v.length !== values.length) throw new InputError(`parameter ${this.g.tensors[id].name}: ${values.length} values for ${v.length} float32 elements`);
    v.set(values);
  }

  /** After `writeParameter` calls: re-prepare the forward kernels that read trained parameters. */
  parametersChanged(): void {
    this.refreshTrainedKernels();
  }

  /** Current value of any activation (raw stored values), for tests and debugging. */
  activationValues(id: TensorId): Int8Array | Float32Array | Int32Array | Uint8Array {
    return this.mem.view(this.program.activation.get(id)!);
  }

  /** The current gradient of a tensor (float32), when the program keeps one. */
  gradientOf(id: TensorId): Float32Array | null {
    const b = this.program.gradients.get(id);
    return b === undefined ? null : this.mem.float(b);
  }
}
