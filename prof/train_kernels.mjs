// Depthwise and batch-norm training kernels of two kernel modules, interleaved (after `npx tsc`):
//   node prof/train_kernels.mjs OLD.wasm [NEW.wasm]   (NEW defaults to csrc/wasm/tm_kernels.wasm)
// Prints ms per call of each kernel on supernet-like shapes (batch 32, multiplier 1) and NEW / OLD (fastest of REPS interleaved runs, default 20).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { window2d } from '../dist/src/ops/conv_util.js';
import { WasmTrainKernels } from '../dist/src/train/wasm_kernels.js';

const files = [process.argv[2], process.argv[3] ?? join(import.meta.dirname, '..', 'csrc', 'wasm', 'tm_kernels.wasm')];
const kernels = files.map((f) => new WasmTrainKernels(() => ({ arenaBytes: 0, persistentBytes: 1 << 20, scratchBytes: 64 << 20 }), new WebAssembly.Module(readFileSync(f))));
const floats = (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
const shapes = [[32, 32, 32, 16, 3, 1], [32, 32, 32, 48, 5, 2], [32, 16, 16, 72, 7, 1], [32, 8, 8, 144, 3, 1]];
const reps = Number(process.env.REPS ?? 20);
for (const [B, H, W, C, k, s] of shapes) {
  const win = window2d([B, H, W, C], k, k, { padding: 'SAME', strideH: s, strideW: s, dilationH: 1, dilationW: 1 });
  const x = floats(B * H * W * C), wt = floats(k * k * C), dz = floats(B * win.outH * win.outW * C);
  const y = new Float32Array(dz.length), dx = new Float32Array(x.length), dw = new Float32Array(k * k * C), bn = new Float32Array(x.length);
  const ops = {
    forward: (K) => K.depthwise(win, 1, x, wt, null, 0, 6, y),
    inputGrad: (K) => K.depthwiseInputGrad(win, 1, dz, wt, dx, false),
    weightGrad: (K) => K.depthwiseWeightGrad(win, 1, dz, x, C, null, null, dw),
    bnForward: (K) => K.batchNormalize(x, C, 1e-3, bn),
    bnInputGrad: (K) => K.batchNormalizeInputGrad(x, C, 1e-3, x, bn, false),
  };
  for (const [name, op] of Object.entries(ops)) {
    // The fastest of the interleaved runs: on a shared machine the minimum is the least disturbed.
    const t = [Infinity, Infinity];
    for (let r = 0; r < reps; r++) {
      for (const i of [0, 1]) {
        const t0 = performance.now();
        op(kernels[i]);
        t[i] = Math.min(t[i], performance.now() - t0);
      }
    }
    console.log(`[${B},${H},${W},${C}] k${k}/${s} ${name}: ${t[0].toFixed(2)} -> ${t[1].toFixed(2)} ms (x${(t[1] / t[0]).toFixed(2)})`);
  }
}
