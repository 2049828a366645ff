// Per-step timing of the wasm backend: node prof/layers.mjs MODEL [speed]  (after npm run build)
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { loadModel } from '../dist/src/model.js';
import { Interpreter } from '../dist/src/runtime/interpreter.js';
import { randomTensorBytes } from '../dist/src/runtime/tensor_io.js';

const name = process.argv[2] ?? 'mlperf_vww_mobilenetv1_int8';
const objective = process.argv[3];
const g = loadModel(join('..', 'shared', 'models', `${name}.tflite`));
const it = new Interpreter(g, { backend: 'wasm', ...(objective ? { objective } : {}) });
g.inputs.forEach((id, i) => it.setInput(i, randomTensorBytes(g.tensors[id], i)));
const gr = it.graph;
const n = it.plan.order.length;
const acc = new Float64Array(n);
for (let i = 0; i < 20; i++) it.invoke();
const R = 300;
let t = performance.now();
for (let r = 0; r < R; r++) {
  let last = performance.now();
  it.invokeStepwise((step) => { const now = performance.now(); acc[step] += now - last; last = now; });
}
const total = acc.reduce((a, b) => a + b, 0) / R;
let t2 = performance.now();
for (let r = 0; r < R; r++) it.invoke();
console.log(`${name} ${it.compiled?.kind} steps=${n} stepwise=${total.toFixed(3)} ms invoke=${((performance.now() - t2) / R).toFixed(3)} ms fallbacks=${it.jsFallbacks.length}`);
for (let s = 0; s < n; s++) {
  const node = gr.nodes[it.plan.order[s]];
  const shp = (id) => id < 0 ? '-' : gr.tensors[id].shape.join('x');
  const ms = acc[s] / R;
  if (ms / total < (process.env.MINPCT ? +process.env.MINPCT : 1) / 100) continue;
  console.log(`${String(s).padStart(3)} ${node.op.padEnd(20)} ${(ms * 1000).toFixed(1).padStart(7)} us ${(100 * ms / total).toFixed(1).padStart(5)}%  in ${shp(node.inputs[0])} w ${node.inputs[1] !== undefined ? shp(node.inputs[1]) : ''} out ${shp(node.outputs[0])} ${JSON.stringify(node.options).slice(0, 80)}`);
}
const byOp = new Map();
for (let s = 0; s < n; s++) {
  const node = gr.nodes[it.plan.order[s]];
  const k = node.op + (node.op === 'CONV_2D' ? (gr.tensors[node.inputs[1]].shape[1] === 1 ? ' 1x1' : ' kxk') : '');
  const e = byOp.get(k) ?? [0, 0];
  e[0] += acc[s] / R; e[1]++;
  byOp.set(k, e);
}
for (const [k, [ms, c]] of [...byOp].sort((a, b) => b[1][0] - a[1][0])) console.log(`${k.padEnd(24)} ${(ms * 1000).toFixed(1).padStart(7)} us ${(100 * ms / total).toFixed(1).padStart(5)}% x${c}`);
