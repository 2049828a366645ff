import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { loadModel } from '../src/model.js';
import type { Graph } from '../src/graph/graph.js';
import type { InterpreterOptions } from '../src/runtime/interpreter.js';
import { Interpreter } from '../src/runtime/interpreter.js';
import { randomTensorBytes } from '../src/runtime/tensor_io.js';
import type { BenchManifest } from './shared.js';
import { SHARED, readCaseInput } from './shared.js';
import { nodePeerFigures, tflmM4Figures } from './references.js';
import { openLiteRt } from './litert.js';

/** Runs per timing: the median of this many, after warm-up, one thread. */
export const TIMED_RUNS = 200;
/**
 * Our wasm backend (both plans) and LiteRT.js are timed in turns of TIMED_RUNS / ROUNDS runs each, so that a
 * change in the machine's load (it is shared) falls on all three alike and their ratios stay fair.
 */
const ROUNDS = 5;

export interface Timing {
  ms: number;
  runs: number;
}

export interface InferenceRow {
  model: string;
  kind: string;
  /** What `tinyml run` does: the wasm backend (where WebAssembly SIMD exists), the default plan. */
  wasm: Timing;
  /** The same, compiled for speed (`--objective speed`: layer by layer, standard kernels). */
  wasmSpeed: Timing;
  /** The TypeScript kernels (`--backend js`), default plan. */
  js: Timing;
  /** Nodes the wasm backend left to TypeScript kernels (no C kernel yet). */
  jsNodes: number;
  litert: Timing | { refused: string };
  /** LiteRT.js refused the file as it is and ran our reader and writer's copy of the model: its reason. */
  litertRewritten?: string;
  /** Largest difference, in quantisation steps, between LiteRT.js and TFLite Micro's reference output (int outputs). */
  litertMaxSteps: number | null;
  arenaBytes: number;
  speedArenaBytes: number;
  tflmArenaBytes: number;
  nativeMs: number | null;
  /** LiteRT.js as ../shared/README.md measured it (for comparison with this run's figure). */
  publishedLitertMs: number | null;
}

const WARM_UP_MS = 500;

function time(interp: Interpreter): Timing {
  const start = performance.now();
  for (let i = 0; i < 5 || performance.now() - start < WARM_UP_MS; i++) interp.invoke(); // as timeInTurns
  const times: number[] = [];
  for (let i = 0; i < TIMED_RUNS; i++) {
    const s = performance.now();
    interp.invoke();
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  return { ms: times[times.length >> 1], runs: times.length };
}

/** Medians of interleaved timings (see ROUNDS); a run may be asynchronous (LiteRT.js). */
async function timeInTurns(runs: (() => unknown)[]): Promise<Timing[]> {
  // Warm up the JIT and the caches: at least 5 runs and WARM_UP_MS, as V8 moves WebAssembly from its baseline
  // compiler to the optimising one in the background, which a few fast runs in a fresh process do not outlast.
  for (const run of runs) {
    const start = performance.now();
    for (let i = 0; i < 5 || performance.now() - start < WARM_UP_MS; i++) await run();
  }
  const samples = runs.map((): number[] => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [k, run] of runs.entries()) {
      for (let i = 0; i < TIMED_RUNS / ROUNDS; i++) {
        const s = performance.now();
        const p = run();
        if (p instanceof Promise) await p;
        samples[k].push(performance.now() - s);
      }
    }
  }
  return samples.map((t) => {
    t.sort((a, b) => a - b);
    return { ms: t[t.length >> 1], runs: t.length };
  });
}

function inputsOf(g: Graph, m: BenchManifest): Uint8Array[] {
  const c = m.cases[0];
  return g.inputs.map((id, i) => (c ? readCaseInput(m, c.inputs[i]) : randomTensorBytes(g.tensors[id], i)));
}

function maxSteps(dtype: string, got: Uint8Array, want: Uint8Array): number | null {
  if (dtype !== 'int8' && dtype !== 'uint8') return null;
  const signed = dtype === 'int8';
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const a = signed ? (got[i] << 24) >> 24 : got[i], b = signed ? (want[i] << 24) >> 24 : want[i];
    worst = Math.max(worst, Math.abs(a - b));
  }
  return worst;
}

/** One model: our wasm backend (default and --objective speed), our js backend, and LiteRT.js, in one process. */
export async function benchInference(m: BenchManifest): Promise<InferenceRow> {
  const modelFile = join(SHARED, m.model);
  const g = loadModel(modelFile);
  const inputs = inputsOf(g, m);
  const make = (opts: InterpreterOptions) => {
    const interp = new Interpreter(g, opts);
    inputs.forEach((b, i) => interp.setInput(i, b));
    return interp;
  };
  const wasm = make({ backend: 'wasm' }), speed = make({ backend: 'wasm', objective: 'speed' });
  const jsTime = time(make({ backend: 'js' }));
  const session = await openLiteRt(modelFile, g.inputs.map((id, i) => ({ bytes: inputs[i], dtype: g.tensors[id].dtype, shape: g.tensors[id].shape })));
  let outputs: Uint8Array[] = [];
  const runs: (() => unknown)[] = [() => wasm.invoke(), () => speed.invoke()];
  if ('once' in session) runs.push(async () => { outputs = await session.once(); });
  const [wasmTime, speedTime, litertTime] = await timeInTurns(runs);
  if ('once' in session) session.close();
  const litert = 'once' in session ? litertTime : session;
  let litertMaxSteps: number | null = null;
  const c = m.cases[0];
  if ('once' in session && c) {
    const steps = g.outputs.map((id, i) => maxSteps(g.tensors[id].dtype, outputs[i], readCaseInput(m, c.outputs[i])));
    litertMaxSteps = steps.every((s) => s !== null) ? Math.max(...(steps as number[])) : null;
  }
  const peers = nodePeerFigures().get(m.id);
  return {
    model: m.id, kind: wasm.compiled?.kind ?? 'layer-wise',
    wasm: wasmTime, wasmSpeed: speedTime, js: jsTime, jsNodes: wasm.jsFallbacks.length,
    litert, litertMaxSteps, ...('once' in session && session.rewritten ? { litertRewritten: session.rewritten } : {}),
    arenaBytes: wasm.plan.arenaBytes, speedArenaBytes: speed.plan.arenaBytes,
    tflmArenaBytes: tflmM4Figures().get(m.id)?.arenaBytes ?? m.tflm_reference.arena_used_bytes,
    nativeMs: peers?.tflmNativeMs ?? null, publishedLitertMs: peers?.litertMs ?? null,
  };
}
