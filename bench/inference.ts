import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { loadModel } from '../src/model.js';
import { Interpreter } from '../src/runtime/interpreter.js';
import { randomTensorBytes } from '../src/runtime/tensor_io.js';
import type { BenchManifest } from './shared.js';
import { SHARED, readCaseInput } from './shared.js';
import { nodePeerFigures, tflmM4Figures } from './references.js';

export interface InferenceRow {
  model: string;
  medianMs: number;
  runs: number;
  arenaBytes: number;
  kind: string;
  /** The same model compiled for speed (`--objective speed`): layer by layer, standard kernels. */
  speedMedianMs: number;
  speedArenaBytes: number;
  tflmArenaBytes: number;
  nativeMs: number | null;
  litertMs: number | null;
}

function median(interp: Interpreter, budgetMs: number): { ms: number; runs: number } {
  for (let i = 0; i < 3; i++) interp.invoke(); // warm up the JIT
  const times: number[] = [];
  const t0 = performance.now();
  while (times.length < 5 || (performance.now() - t0 < budgetMs && times.length < 200)) {
    const s = performance.now();
    interp.invoke();
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], runs: times.length };
}

/** One model in the interpreter: compiled with the defaults (what `tinyml run` does) and for speed. */
export function benchInference(m: BenchManifest, budgetMs = 1500): InferenceRow {
  const g = loadModel(join(SHARED, m.model));
  const c = m.cases[0];
  const setInputs = (interp: Interpreter): void => g.inputs.forEach((id, i) => interp.setInput(i, c ? readCaseInput(m, c.inputs[i]) : randomTensorBytes(g.tensors[id], i)));
  const byDefault = new Interpreter(g);
  setInputs(byDefault);
  const d = median(byDefault, budgetMs);
  const fast = new Interpreter(g, { objective: 'speed' });
  setInputs(fast);
  const f = median(fast, budgetMs);
  const peers = nodePeerFigures().get(m.id);
  return {
    model: m.id, medianMs: d.ms, runs: d.runs, arenaBytes: byDefault.plan.arenaBytes, kind: byDefault.compiled?.kind ?? 'layer-wise',
    speedMedianMs: f.ms, speedArenaBytes: fast.plan.arenaBytes,
    tflmArenaBytes: tflmM4Figures().get(m.id)?.arenaBytes ?? m.tflm_reference.arena_used_bytes,
    nativeMs: peers?.tflmNativeMs ?? null, litertMs: peers?.litertMs ?? null,
  };
}
