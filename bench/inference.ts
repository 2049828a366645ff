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
import { benchLiteRt } from './litert.js';

/** Runs per timing: the median of at least this many, after warm-up, one thread. */
export const TIMED_RUNS = 200;

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
  /** Largest difference, in quantisation steps, between LiteRT.js and TFLite Micro's reference output (int outputs). */
  litertMaxSteps: number | null;
  arenaBytes: number;
  speedArenaBytes: number;
  tflmArenaBytes: number;
  nativeMs: number | null;
  /** LiteRT.js as ../shared/README.md measured it (for comparison with this run's figure). */
  publishedLitertMs: number | null;
}

function time(interp: Interpreter): Timing {
  for (let i = 0; i < 5; i++) interp.invoke(); // warm up the JIT and the caches
  const times: number[] = [];
  for (let i = 0; i < TIMED_RUNS; i++) {
    const s = performance.now();
    interp.invoke();
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  return { ms: times[times.length >> 1], runs: times.length };
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
  const timed = (opts: InterpreterOptions) => {
    const interp = new Interpreter(g, opts);
    inputs.forEach((b, i) => interp.setInput(i, b));
    return { interp, t: time(interp) };
  };
  const wasm = timed({ backend: 'wasm' });
  const speed = timed({ backend: 'wasm', objective: 'speed' });
  const js = timed({ backend: 'js' });
  const litert = await benchLiteRt(modelFile, g.inputs.map((id, i) => ({ bytes: inputs[i], dtype: g.tensors[id].dtype, shape: g.tensors[id].shape })), 60000, TIMED_RUNS);
  let litertMaxSteps: number | null = null;
  const c = m.cases[0];
  if ('outputs' in litert && c) {
    const steps = g.outputs.map((id, i) => maxSteps(g.tensors[id].dtype, litert.outputs[i], readCaseInput(m, c.outputs[i])));
    litertMaxSteps = steps.every((s) => s !== null) ? Math.max(...(steps as number[])) : null;
  }
  const peers = nodePeerFigures().get(m.id);
  return {
    model: m.id, kind: wasm.interp.compiled?.kind ?? 'layer-wise',
    wasm: wasm.t, wasmSpeed: speed.t, js: js.t, jsNodes: wasm.interp.jsFallbacks.length,
    litert: 'ms' in litert ? { ms: litert.ms, runs: litert.runs } : litert, litertMaxSteps,
    arenaBytes: wasm.interp.plan.arenaBytes, speedArenaBytes: speed.interp.plan.arenaBytes,
    tflmArenaBytes: tflmM4Figures().get(m.id)?.arenaBytes ?? m.tflm_reference.arena_used_bytes,
    nativeMs: peers?.tflmNativeMs ?? null, publishedLitertMs: peers?.litertMs ?? null,
  };
}
