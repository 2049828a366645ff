import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { loadModel } from '../src/model.js';
import { Interpreter } from '../src/runtime/interpreter.js';
import { randomTensorBytes } from '../src/runtime/tensor_io.js';
import type { BenchManifest } from './shared.js';
import { SHARED, readCaseInput } from './shared.js';

/** TFLite Micro reference kernels, native x86-64 release build, mean of 30, measured on this machine (issue #2). */
export const TFLM_NATIVE_MS: Record<string, number> = {
  mlperf_vww_mobilenetv1_int8: 6.5,
  tflm_person_detect_int8: 6.3,
  mlperf_ic_resnet8_int8: 8.2,
  mlperf_kws_dscnn_int8: 2.5,
  mcunet_vww1_int8_floatio: 11.8,
  tflm_micro_speech_int8: 0.52,
};

export interface InferenceRow {
  model: string;
  medianMs: number;
  runs: number;
  arenaBytes: number;
  tflmArenaBytes: number;
  nativeMs: number | null;
}

export function benchInference(m: BenchManifest, budgetMs = 1500): InferenceRow {
  const g = loadModel(join(SHARED, m.model));
  const interp = new Interpreter(g);
  const c = m.cases[0];
  g.inputs.forEach((id, i) => interp.setInput(i, c ? readCaseInput(m, c.inputs[i]) : randomTensorBytes(g.tensors[id], i)));
  for (let i = 0; i < 3; i++) interp.invoke(); // warm up the JIT
  const times: number[] = [];
  const t0 = performance.now();
  while (times.length < 5 || (performance.now() - t0 < budgetMs && times.length < 200)) {
    const s = performance.now();
    interp.invoke();
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  return {
    model: m.id,
    medianMs: times[Math.floor(times.length / 2)],
    runs: times.length,
    arenaBytes: interp.plan.arenaBytes,
    tflmArenaBytes: m.tflm_reference.arena_used_bytes,
    nativeMs: TFLM_NATIVE_MS[m.id] ?? null,
  };
}
