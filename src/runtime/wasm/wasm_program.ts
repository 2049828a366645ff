import type { AnyNode, Graph } from '../../graph/graph.js';
import type { MemoryPlan } from '../../plan/memory_plan.js';
import type { CArray } from '../../codegen/c_syntax.js';
import type { LayerCode } from '../../codegen/lower/layer.js';
import { LayerContext } from '../../codegen/lower/layer.js';
import type { CArg, CStruct, Statement } from '../../codegen/lower/kernel_call.js';
import { calledKernels, isCArray } from '../../codegen/lower/kernel_call.js';
import { loweringFor } from '../../codegen/lower/registry.js';
import type { Kernel } from '../../ops/op.js';
import { structLayout } from './c_layout.js';
import type { KernelInstance } from './kernel_module.js';
import { WasmForms } from './packed_weights.js';
import { ConstantPool } from '../../codegen/emit/share.js';

/** A node the C library does not take, which therefore runs on its TypeScript kernel, and why. */
export interface JsFallback {
  step: number;
  node: number;
  op: string;
  reason: string;
}

/** A model laid out in one WebAssembly instance's memory: constants, then the arena at the plan's offsets. */
export interface WasmProgram {
  /** The instance's memory (sized once here and never grown, so views onto it stay valid). */
  buffer: ArrayBuffer;
  /** Byte address of arena offset 0. */
  arenaBase: number;
  /** Per step of the plan: the calls into the kernel library, or null where the TypeScript kernel runs. */
  steps: (Kernel | null)[];
  /**
   * Runs of consecutive steps [from, to) whose calls tm_run_calls makes in one call from JavaScript
   * (invoke runs these; stepwise runs take `steps`). Steps outside every run go one by one.
   */
  runs: { from: number; to: number; run: Kernel }[];
  fallbacks: JsFallback[];
  /** Bytes of constants (weights, folded biases, parameter structs) copied into the instance. */
  constantBytes: number;
  /** The C functions the schedule calls (after the module's rewrites: packed weights, prepared depthwise). */
  calledKernels: ReadonlySet<string>;
}

const PAGE = 65536;
/** Arena and constants start on a cache line; the kernels assume 16-byte aligned arena buffers (TM_ARENA_PTR). */
const ALIGN = 64;
const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

const ELEMENT_BYTES: Readonly<Record<CArray['type'], number>> = { int8_t: 1, uint8_t: 1, int16_t: 2, int32_t: 4, uint32_t: 4, int64_t: 8, float: 4 };

/**
 * The same lowering `tinyml compile` uses, per step; null (with the reason) where the C library refuses the
 * node, or where the module leaves out a kernel the node calls (the module holds the kernels worth running
 * in WebAssembly; the others run on their TypeScript kernel here and as C on the MCU).
 */
function lowerSteps(g: Graph, plan: MemoryPlan, fallbacks: JsFallback[], kernels: KernelInstance): (LayerCode | null)[] {
  // Equal constants merged first, so the module's forms (packed weights, depthwise states) are made once too.
  const pool = new ConstantPool(), forms = new WasmForms(kernels);
  return plan.order.map((nodeIndex, step) => {
    const node = g.nodes[nodeIndex] as AnyNode;
    const lower = loweringFor(node.op);
    const refuse = (reason: string) => { fallbacks.push({ step, node: nodeIndex, op: node.op, reason }); return null; };
    if (!lower) return refuse('no C kernel for this op');
    let code: LayerCode;
    try {
      code = lower(new LayerContext(g, plan, step, node));
    } catch (e) {
      return refuse((e as Error).message);
    }
    code = forms.layer({ ...code, statements: pool.statements(code.statements) });
    const missing = calledKernels(code.statements).find((fn) => fn !== 'memmove' && !kernels.has(fn));
    return missing ? refuse(`no C kernel ${missing} in the WebAssembly module`) : code;
  });
}

/** Places every constant array and struct the schedule refers to, each once, from `start`. */
class ConstantLayout {
  readonly address = new Map<CArray | CStruct, number>();
  top: number;

  constructor(start: number) { this.top = start; }

  private place(obj: CArray | CStruct, bytes: number, align: number): void {
    if (this.address.has(obj)) return;
    this.top = alignUp(this.top, Math.max(align, 16));
    this.address.set(obj, this.top);
    this.top += Math.max(bytes, 1);
  }

  array(a: CArray): void {
    this.place(a, a.values.length * ELEMENT_BYTES[a.type], Math.max(a.align ?? 4, ELEMENT_BYTES[a.type]));
  }

  struct(s: CStruct): void {
    const layout = structLayout(s.type);
    this.place(s, layout.size, layout.align);
    for (const v of Object.values(s.fields)) if (isCArray(v)) this.array(v);
  }

  /** What the calls take (the structs' arrays with them): the definitions' other copies are never read here. */
  statements(code: LayerCode): void {
    for (const s of code.statements) {
      if (s.kind !== 'call') continue;
      for (const a of s.args) {
        if (a.kind === 'const') this.array(a.array);
        else if (a.kind === 'struct') this.struct(a.struct);
      }
    }
  }
}

function writeArray(mem: ArrayBuffer, at: number, a: CArray): void {
  const n = a.values.length;
  switch (a.type) {
    case 'int8_t': new Int8Array(mem, at, n).set(a.values); break;
    case 'uint8_t': new Uint8Array(mem, at, n).set(a.values); break;
    case 'int16_t': new Int16Array(mem, at, n).set(a.values); break;
    case 'int32_t': new Int32Array(mem, at, n).set(a.values); break;
    case 'uint32_t': new Uint32Array(mem, at, n).set(a.values); break;
    case 'int64_t': new BigInt64Array(mem, at, n).set(Array.from(a.values, (v) => BigInt(v))); break;
    case 'float': new Float32Array(mem, at, n).set(a.values); break;
  }
}

function writeStruct(view: DataView, at: number, s: CStruct, address: ReadonlyMap<CArray | CStruct, number>): void {
  const layout = structLayout(s.type);
  for (const [name, value] of Object.entries(s.fields)) {
    const f = layout.fields.get(name);
    if (!f) throw new Error(`struct ${s.type} has no field ${name}`);
    const values = isCArray(value) ? [address.get(value)!] : typeof value === 'number' ? [value] : [...value];
    if (values.length > f.count) throw new Error(`${s.type}.${name} holds ${f.count} values, given ${values.length}`);
    values.forEach((v, i) => {
      const p = at + f.offset + i * (f.type === 'int8_t' || f.type === 'uint8_t' ? 1 : f.type === 'int16_t' ? 2 : 4);
      switch (f.type) {
        case 'int8_t': view.setInt8(p, v); break;
        case 'uint8_t': view.setUint8(p, v); break;
        case 'int16_t': view.setInt16(p, v, true); break;
        case 'int32_t': view.setInt32(p, v, true); break;
        case 'uint32_t': case 'ptr': view.setUint32(p, v, true); break;
        case 'float': view.setFloat32(p, v, true); break;
      }
    });
  }
}

function argValue(a: CArg, arenaBase: number, address: ReadonlyMap<CArray | CStruct, number>): number {
  switch (a.kind) {
    case 'arena': return arenaBase + a.offset;
    case 'const': return address.get(a.array)!;
    case 'struct': return address.get(a.struct)!;
    case 'int': case 'float': return a.value;
  }
}

/** A kernel call with every argument resolved to a number. */
interface ResolvedCall {
  fn: string;
  args: number[];
  /** Whether tm_run_calls can make it: every argument a 32-bit integer or pointer, few enough of them. */
  batchable: boolean;
}

function resolveCalls(statements: readonly Statement[], arenaBase: number, address: ReadonlyMap<CArray | CStruct, number>, maxArgs: number): ResolvedCall[] {
  return statements.flatMap((s) => {
    if (s.kind !== 'call') return [];
    const fn = s.fn === 'memmove' ? 'tm_memmove' : s.fn;
    // A float argument is an f32 parameter, which the dispatcher's all-i32 call forms do not have.
    const batchable = s.args.length <= maxArgs && s.args.every((a) => a.kind !== 'float');
    return [{ fn, args: s.args.map((a) => argValue(a, arenaBase, address)), batchable }];
  });
}

/** One step's calls as a closure. */
function stepKernel(calls: readonly ResolvedCall[], kernels: KernelInstance): Kernel {
  const bound = calls.map((c) => {
    const fn = kernels.kernel(c.fn);
    // A bound function: the engine calls the export with its arguments directly (a spread call is slower).
    return fn.bind(null, ...c.args) as () => void;
  });
  if (bound.length === 1) return bound[0];
  return () => { for (const c of bound) c(); };
}

const RUNNER = 'tm_run_calls', RUNNER_MAX_ARGS = 'tm_run_max_args';

/** Words of a step's entries in a tm_run_calls list; null when a call must go from JavaScript. */
function entryWords(calls: readonly ResolvedCall[] | null): number | null {
  if (!calls || calls.some((c) => !c.batchable)) return null;
  return calls.reduce((n, c) => n + 2 + c.args.length, 0);
}

/**
 * Lowers the graph as `tinyml compile` does, lays its constants and arena out in the instance's memory and
 * binds each step to its kernel calls. Nodes the C library refuses are left for the TypeScript kernels
 * (they read and write the same arena). Runs of two or more steps the dispatcher takes are also written
 * as tm_run_calls lists after the arena.
 */
export function buildWasmProgram(g: Graph, plan: MemoryPlan, kernels: KernelInstance): WasmProgram {
  const fallbacks: JsFallback[] = [];
  const lowered = lowerSteps(g, plan, fallbacks, kernels);
  const start = alignUp(kernels.heapBase, ALIGN);
  const layout = new ConstantLayout(start);
  for (const code of lowered) if (code) layout.statements(code);
  const arenaBase = alignUp(layout.top, ALIGN);
  const arenaEnd = arenaBase + Math.max(plan.arenaBytes, 16);
  const canRun = kernels.has(RUNNER) && kernels.has(RUNNER_MAX_ARGS) && kernels.tableIndex(RUNNER) !== null;
  const maxArgs = canRun ? Number(kernels.kernel(RUNNER_MAX_ARGS)()) : 0;
  const calls = lowered.map((code) => (code ? resolveCalls(code.statements, arenaBase, layout.address, maxArgs) : null));
  const words = calls.map(entryWords);
  const spans = canRun ? batchSpans(words) : [];
  const listBase = alignUp(arenaEnd, ALIGN);
  const end = listBase + 4 * spans.reduce((n, sp) => n + sp.words, 0);
  const have = kernels.memory.buffer.byteLength;
  if (end > have) kernels.memory.grow(Math.ceil((end - have) / PAGE));
  const buffer = kernels.memory.buffer;
  const view = new DataView(buffer);
  for (const [obj, at] of layout.address) {
    if ('values' in obj) writeArray(buffer, at, obj);
    else writeStruct(view, at, obj, layout.address);
  }
  const runs: WasmProgram['runs'] = [];
  let at = listBase;
  for (const sp of spans) {
    const list = new Int32Array(buffer, at, sp.words);
    let k = 0;
    for (let step = sp.from; step < sp.to; step++) {
      for (const c of calls[step]!) {
        list[k++] = kernels.tableIndex(c.fn)!;
        list[k++] = c.args.length;
        for (const v of c.args) list[k++] = v;
      }
    }
    runs.push({ from: sp.from, to: sp.to, run: kernels.kernel(RUNNER).bind(null, at, at + 4 * sp.words) as Kernel });
    at += 4 * sp.words;
  }
  const steps = calls.map((c) => (c ? stepKernel(c, kernels) : null));
  const called = new Set(lowered.flatMap((code) => (code ? calledKernels(code.statements) : [])));
  return { buffer, arenaBase, steps, runs, fallbacks, constantBytes: layout.top - start, calledKernels: called };
}

/** Maximal runs of two or more consecutive steps whose calls the dispatcher takes, with their list sizes. */
function batchSpans(words: readonly (number | null)[]): { from: number; to: number; words: number }[] {
  const spans: { from: number; to: number; words: number }[] = [];
  for (let i = 0; i < words.length;) {
    if (words[i] === null) { i++; continue; }
    let j = i, n = 0;
    for (; j < words.length && words[j] !== null; j++) n += words[j]!;
    if (j - i >= 2) spans.push({ from: i, to: j, words: n });
    i = j;
  }
  return spans;
}
