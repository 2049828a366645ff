// Paired A/B of two kernel libraries: invokes alternate A, B, A, B...; the median of the per-pair ratios.
// node prof/pair.mjs A.wasm B.wasm [model] [speed]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadModel } from '../dist/src/model.js';
import { Interpreter } from '../dist/src/runtime/interpreter.js';
import { loadKernelModule } from '../dist/src/runtime/wasm/kernel_module.js';
import { randomTensorBytes } from '../dist/src/runtime/tensor_io.js';
const [fa, fb, name = 'mlperf_vww_mobilenetv1_int8', objective] = process.argv.slice(2);
const g = loadModel(join('..', 'shared', 'models', `${name}.tflite`));
const make = async (f) => {
  await loadKernelModule(new Uint8Array(readFileSync(f)));
  const it = new Interpreter(g, { backend: 'wasm', ...(objective ? { objective } : {}) });
  g.inputs.forEach((id, i) => it.setInput(i, randomTensorBytes(g.tensors[id], i)));
  it.invoke();
  // The first run's output: a plan that overlays its input (in place) leaves it changed for the next runs.
  it.first = Buffer.from(it.output(0));
  for (let i = 0; i < 30; i++) it.invoke();
  return it;
};
const A = await make(fa), B = await make(fb);
if (Buffer.compare(A.first, B.first) !== 0) console.log('OUTPUTS DIFFER');
const ta = [], tb = [], r = [];
const N = +(process.env.N ?? 1500);
for (let i = 0; i < N; i++) {
  const first = i & 1 ? A : B, second = i & 1 ? B : A;
  let t = performance.now(); first.invoke(); const t1 = performance.now() - t;
  t = performance.now(); second.invoke(); const t2 = performance.now() - t;
  const a = i & 1 ? t1 : t2, b = i & 1 ? t2 : t1;
  ta.push(a); tb.push(b); r.push(b / a);
}
const q = (x, f) => [...x].sort((u, v) => u - v)[Math.floor(x.length * f)];
console.log(`${name}${objective ? ' ' + objective : ''}: A p10 ${q(ta, 0.1).toFixed(3)} med ${q(ta, 0.5).toFixed(3)} | B p10 ${q(tb, 0.1).toFixed(3)} med ${q(tb, 0.5).toFixed(3)} | B/A median pair ratio ${q(r, 0.5).toFixed(3)} (p25 ${q(r, 0.25).toFixed(3)}, p75 ${q(r, 0.75).toFixed(3)})`);
