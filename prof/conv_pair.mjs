// Paired A/B of two kernel libraries on one int8 CONV_2D (random weights): node prof/conv_pair.mjs A.wasm B.wasm H,W,CIN,COUT,K,STRIDE[,VALID]
// Invokes alternate A, B, A, B...; prints the median of the per-pair ratios (as prof/pair.mjs for a model).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Interpreter } from '../dist/src/runtime/interpreter.js';
import { loadKernelModule } from '../dist/src/runtime/wasm/kernel_module.js';
import { oneNodeGraph } from '../dist/test/ops/harness.js';
const [fa, fb, spec = '32,32,16,16,3,1'] = process.argv.slice(2);
const [h, w, cin, cout, k, stride, pad = 'SAME'] = spec.split(',').map((v, i) => (i < 6 ? +v : v));
let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 255;
const oh = pad === 'SAME' ? Math.ceil(h / stride) : Math.floor((h - k) / stride) + 1, ow = pad === 'SAME' ? Math.ceil(w / stride) : Math.floor((w - k) / stride) + 1;
const ws = Array.from({ length: cout }, (_, i) => 0.004 * 2 ** ((i % 5) - 3));
const g = oneNodeGraph('CONV_2D', { padding: pad, strideW: stride, strideH: stride, dilationW: 1, dilationH: 1, activation: 'RELU' }, [
  { shape: [1, h, w, cin], dtype: 'int8', scale: 0.05, zeroPoint: -3 },
  { shape: [cout, k, k, cin], dtype: 'int8', scale: ws, zeroPoint: ws.map(() => 0), data: Uint8Array.from({ length: cout * k * k * cin }, rnd) },
  { shape: [cout], dtype: 'int32', scale: ws.map((s) => s * 0.05), zeroPoint: ws.map(() => 0), data: new Uint8Array(Int32Array.from({ length: cout }, () => rnd() * 10 - 1280).buffer) },
], { shape: [1, oh, ow, cout], dtype: 'int8', scale: 0.05, zeroPoint: -5 });
g.inputs = [0];
g.outputs = [3];
const x = Uint8Array.from({ length: h * w * cin }, rnd);
const make = async (f) => {
  await loadKernelModule(new Uint8Array(readFileSync(f)));
  const it = new Interpreter(g, { backend: 'wasm', objective: 'speed' });
  it.setInput(0, x);
  for (let i = 0; i < 30; i++) it.invoke();
  return it;
};
const A = await make(fa), B = await make(fb);
if (Buffer.compare(Buffer.from(A.output(0)), Buffer.from(B.output(0))) !== 0) console.log('OUTPUTS DIFFER');
const ta = [], tb = [], r = [];
const N = +(process.env.N ?? 1500);
for (let i = 0; i < N; i++) {
  const first = i & 1 ? A : B, second = i & 1 ? B : A;
  let t = performance.now(); first.invoke(); const t1 = performance.now() - t;
  t = performance.now(); second.invoke(); const t2 = performance.now() - t;
  const a = i & 1 ? t1 : t2, b = i & 1 ? t2 : t1;
  ta.push(a); tb.push(b); r.push(b / a);
}
const q = (v, f) => [...v].sort((u, z) => u - z)[Math.floor(v.length * f)];
console.log(`conv ${spec}: A med ${(q(ta, 0.5) * 1000).toFixed(1)} us | B med ${(q(tb, 0.5) * 1000).toFixed(1)} us | B/A median pair ratio ${q(r, 0.5).toFixed(3)} (p25 ${q(r, 0.25).toFixed(3)}, p75 ${q(r, 0.75).toFixed(3)})`);
