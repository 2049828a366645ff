import type { Tensor } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import type { Interpreter } from './interpreter.js';
import { decodeTensor, dequantize } from './tensor_io.js';

/*
 * Timing and reading a model's runs, the same way wherever it runs (`tinyml run` in Node, the web page):
 * only `performance.now()` and the interpreter.
 */

/** Untimed runs before the timed ones, so the JIT has compiled the kernels (a cold run is not a steady figure). */
export const WARM_UP_RUNS = 3;

export interface Timing {
  /** Median time of one run (inputs written, then invoked). */
  milliseconds: number;
  runs: number;
  warmUpRuns: number;
}

/**
 * Run `repeat` times (after warm-up runs when repeat > 1); the median. Inputs are written before every run.
 * `minWarmUpMs` keeps warming up until that much time has passed: a browser tiers WebAssembly up to its
 * optimising compiler in the background, later on a busy machine, so three runs can leave the baseline code
 * in place while the timed runs execute.
 */
export function timeRuns(interp: Interpreter, inputs: readonly Uint8Array[], repeat: number, minWarmUpMs = 0): Timing {
  // Later layers may reuse the inputs' memory, so every run starts by writing them again.
  const runOnce = (): number => {
    const t0 = performance.now();
    inputs.forEach((bytes, i) => interp.setInput(i, bytes));
    interp.invoke();
    return performance.now() - t0;
  };
  let warmUpRuns = 0;
  if (repeat > 1) {
    const start = performance.now();
    while (warmUpRuns < WARM_UP_RUNS || performance.now() - start < minWarmUpMs) {
      runOnce();
      warmUpRuns++;
    }
  }
  const times = Array.from({ length: repeat }, runOnce).sort((a, b) => a - b);
  return { milliseconds: times[Math.floor(times.length / 2)], runs: repeat, warmUpRuns };
}

export interface OutputSummary {
  name: string;
  dtype: string;
  shape: number[];
  values: number[];
  dequantized: number[] | null;
  topClass: number | null;
}

/** A classifier's output: one row of at most 1,000 scores. */
function isClassifier(t: Tensor): boolean {
  return t.shape.length <= 2 && numElements(t.shape) > 1 && numElements(t.shape) <= 1000 && (t.shape.length < 2 || t.shape[0] === 1);
}

/** One output after a run: raw values, dequantised, and the top class for classifiers. */
export function summariseOutput(t: Tensor, bytes: Uint8Array): OutputSummary {
  const values = decodeTensor(t, bytes);
  const deq = dequantize(t, values);
  const scores = deq ?? values;
  let top: number | null = null;
  if (isClassifier(t)) {
    top = 0;
    for (let k = 1; k < scores.length; k++) if (scores[k] > scores[top]) top = k;
  }
  return { name: t.name, dtype: t.dtype, shape: t.shape, values, dequantized: deq, topClass: top };
}
