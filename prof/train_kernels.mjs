// Depthwise, batch-norm and 1x1-convolution training kernels of two kernel modules, interleaved (after `npx tsc`):
//   node prof/train_kernels.mjs OLD.wasm [NEW.wasm] [filter]   (NEW defaults to csrc/wasm/tm_kernels.wasm)
// Prints ms per call of each kernel on supernet-like shapes (batch 32, multiplier 1) and NEW / OLD (fastest of
// REPS interleaved runs, default 20). The operands lie in each module's memory, as a training session's arena
// does (an argument outside it would be copied in and out on every call and time the copy).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { window2d } from '../dist/src/ops/conv_util.js';
import { WasmTrainKernels } from '../dist/src/train/wasm_kernels.js';

const files = [process.argv[2], process.argv[3] ?? join(import.meta.dirname, '..', 'csrc', 'wasm', 'tm_kernels.wasm')];
const filter = process.argv[4] ?? '';
const MAX = 32 * 40 * 40 * 48;
const kernels = files.map((f) => new WasmTrainKernels(() => ({ arenaBytes: 0, persistentBytes: 4 * (6 * MAX + 4 * 65536) + 4096, scratchBytes: 64 << 20 }), new WebAssembly.Module(readFileSync(f))));
const pools = kernels.map((K) => ({ x: K.floats(MAX), dz: K.floats(MAX), y: K.floats(MAX), dx: K.floats(MAX), bn: K.floats(MAX), g: K.floats(MAX), wt: K.floats(65536), dw: K.floats(65536), bias: K.floats(65536), w2: K.floats(65536) }));
const sine = (a) => { for (let i = 0; i < a.length; i++) a[i] = Math.sin(i * 0.37); return a; };
const reps = Number(process.env.REPS ?? 20);

function time(label, ops) {
  for (const [name, op] of Object.entries(ops)) {
    if (!`${label} ${name}`.includes(filter)) continue;
    // The fastest of the interleaved runs: on a shared machine the minimum is the least disturbed.
    const t = [Infinity, Infinity];
    for (let r = 0; r < reps; r++) {
      for (const i of [0, 1]) {
        const t0 = performance.now();
        op(kernels[i], pools[i]);
        t[i] = Math.min(t[i], performance.now() - t0);
      }
    }
    console.log(`${label} ${name}: ${t[0].toFixed(2)} -> ${t[1].toFixed(2)} ms (x${(t[1] / t[0]).toFixed(2)})`);
  }
}

const view = (P, n, k) => { const v = P[k].subarray(0, n); return ['x', 'dz', 'wt', 'w2', 'bias', 'g'].includes(k) ? sine(v) : v; };

for (const [B, H, W, C, k, s] of [[32, 40, 40, 48, 1, 1], [32, 10, 10, 144, 1, 1], [32, 40, 40, 48, 7, 1], [32, 32, 32, 16, 3, 1], [32, 32, 32, 48, 5, 2], [32, 16, 16, 72, 7, 1], [32, 8, 8, 144, 3, 1]]) {
  const win = window2d([B, H, W, C], k, k, { padding: 'SAME', strideH: s, strideW: s, dilationH: 1, dilationW: 1 });
  const n = B * H * W * C, m = B * win.outH * win.outW * C;
  const a = pools.map((P) => ({ x: view(P, n, 'x'), wt: view(P, k * k * C, 'wt'), dz: view(P, m, 'dz'), y: view(P, m, 'y'), dx: view(P, n, 'dx'), dw: view(P, k * k * C, 'dw'), bn: view(P, n, 'bn'), g: view(P, n, 'g') }));
  const A = (K) => a[kernels.indexOf(K)];
  time(`[${B},${H},${W},${C}] k${k}/${s}`, {
    forward: (K) => { const v = A(K); K.depthwise(win, 1, v.x, v.wt, null, 0, 6, v.y); },
    inputGrad: (K) => { const v = A(K); K.depthwiseInputGrad(win, 1, v.dz, v.wt, v.dx, false); },
    weightGrad: (K) => { const v = A(K); K.depthwiseWeightGrad(win, 1, v.dz, v.x, C, null, null, v.dw); },
    ...(k === 1 ? {
      bnForward: (K) => { const v = A(K); K.batchNormalize(v.x, C, 1e-3, v.bn); },
      bnInputGrad: (K) => { const v = A(K); K.batchNormalizeInputGrad(v.x, C, 1e-3, v.g, v.bn, false); },
    } : {}),
  });
}

// 1x1 convolutions (the GEMM and its two gradients): expand and project layers.
for (const [B, H, W, C, cout] of [[32, 40, 40, 8, 48], [32, 40, 40, 48, 8], [32, 20, 20, 16, 96], [32, 10, 10, 144, 24]]) {
  const win = window2d([B, H, W, C], 1, 1, { padding: 'SAME', strideH: 1, strideW: 1, dilationH: 1, dilationW: 1 });
  const n = B * H * W * C, m = B * H * W * cout;
  const a = pools.map((P) => ({ x: view(P, n, 'x'), wt: view(P, cout * C, 'wt'), dz: view(P, m, 'dz'), y: view(P, m, 'y'), dx: view(P, n, 'dx'), dw: view(P, cout * C, 'dw') }));
  const A = (K) => a[kernels.indexOf(K)];
  time(`[${B},${H},${W},${C}] 1x1 conv -> ${cout}`, {
    forward: (K) => { const v = A(K); K.conv2d(win, cout, v.x, v.wt, null, 0, 6, v.y); },
    inputGrad: (K) => { const v = A(K); K.conv2dInputGrad(win, cout, v.dz, v.wt, v.dx, false); },
    weightGrad: (K) => { const v = A(K); K.conv2dWeightGrad(win, cout, v.dz, v.x, C, null, v.dw); },
  });
}
