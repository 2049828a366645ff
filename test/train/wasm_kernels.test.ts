import { test } from 'node:test';
import { channelStatistics } from '../../src/ops/batch_normalize.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Padding } from '../../src/graph/options.js';
import type { Window2D } from '../../src/ops/conv_util.js';
import { window2d } from '../../src/ops/conv_util.js';
import { JS_TRAIN_KERNELS } from '../../src/train/kernels/index.js';
import { transposeConvWeights } from '../../src/train/kernels/conv.js';
import { broadcastMap } from '../../src/train/kernels/elementwise.js';
import { WasmTrainKernels, wasmTrainingProblem } from '../../src/train/wasm_kernels.js';
import type { Rand } from './helpers.js';
import { randomFloats, rng } from './helpers.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { skipWithout } from '../helpers/tools.js';

/*
 * Each WebAssembly training kernel against its TypeScript counterpart (src/train/kernels) on random
 * shapes: strides 1 and 2, SAME and VALID, dilation, channel counts that leave SIMD remainders. The C
 * kernels sum in another order, so results agree to float rounding: within 1e-4 of the largest value.
 * Twice: the committed module (SIMD), and the library built portable (-DTM_PORTABLE: the scalar code a
 * Cortex-M runs), which needs clang.
 */

const skip = wasmTrainingProblem() || false;
const js = JS_TRAIN_KERNELS;

function portableModule(): WebAssembly.Module {
  const dir = mkdtempSync(join(tmpdir(), 'tm-train-wasm-'));
  try {
    const out = join(dir, 'portable.wasm');
    const r = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'build_wasm.sh'), out], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, TM_WASM_CFLAGS: '-DTM_PORTABLE' } });
    assert.equal(r.status, 0, r.stderr);
    return new WebAssembly.Module(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const BUILDS: { name: string; skip: string | false; module: () => WebAssembly.Module | undefined }[] = [
  { name: 'SIMD', skip, module: () => undefined },
  { name: 'portable', skip: skip || skipWithout('clang'), module: portableModule },
];

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  const tol = 1e-4 * Math.max(scale, 1e-6);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) assert.fail(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]} (tolerance ${tol})`);
  }
}

/** Random values with about a third zero, as a gradient after a ReLU mask. */
function sparseFloats(r: Rand, n: number): Float32Array {
  return randomFloats(r, n).map((v, i) => (i % 3 === 1 || r() < 0.1 ? 0 : v));
}

interface WindowCase {
  name: string;
  win: Window2D;
}

/** Hand-picked windows (SIMD edges, the pointwise path, dilation), then random ones. */
function windows(seed: number, count: number): WindowCase[] {
  const make = (B: number, H: number, W: number, C: number, kH: number, kW: number, stride: number, padding: Padding, dil = 1): WindowCase => ({
    name: `[${B},${H},${W},${C}] ${kH}x${kW} stride ${stride} ${padding}${dil > 1 ? ` dilation ${dil}` : ''}`,
    win: window2d([B, H, W, C], kH, kW, { padding, strideH: stride, strideW: stride, dilationH: dil, dilationW: dil }),
  });
  const out = [
    make(2, 7, 6, 3, 3, 3, 1, 'SAME'),
    make(1, 9, 9, 5, 3, 3, 2, 'SAME'),
    make(3, 8, 7, 4, 3, 2, 2, 'VALID'),
    make(2, 6, 6, 16, 1, 1, 1, 'VALID'),
    make(2, 10, 9, 3, 3, 3, 1, 'SAME', 2),
    make(1, 28, 28, 1, 3, 3, 1, 'SAME'),
    make(2, 5, 5, 9, 5, 5, 1, 'VALID'),
    // 16-channel register runs then single vectors (the depthwise multiplier-1 kernels), k = 7 and 5.
    make(1, 9, 9, 20, 7, 7, 2, 'SAME'),
    make(1, 6, 6, 24, 5, 5, 1, 'SAME'),
    // Stride 1 with interior columns four at a time (the sliding-row depthwise forward), then the edge columns.
    make(2, 5, 11, 8, 3, 3, 1, 'SAME'),
    make(1, 8, 12, 12, 7, 7, 1, 'SAME'),
    make(1, 6, 10, 4, 3, 3, 1, 'VALID'),
    // Pointwise (the elementwise depthwise paths; over 64 pixels, 16 + 4 channels and a scalar remainder).
    make(3, 7, 5, 20, 1, 1, 1, 'SAME'),
    make(2, 9, 5, 6, 1, 1, 1, 'VALID'),
  ];
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  while (out.length < count) {
    const k = pick([1, 2, 3]);
    const c = make(pick([1, 2, 3]), 3 + Math.floor(r() * 7), 3 + Math.floor(r() * 7), pick([1, 2, 3, 5, 8, 11, 16]), k, pick([1, 2, 3]), pick([1, 2]), pick(['SAME', 'VALID'] as const), pick([1, 1, 2]));
    if (c.win.outH > 0 && c.win.outW > 0) out.push(c);
  }
  return out;
}

const inSize = (w: Window2D) => w.batches * w.inH * w.inW * w.inC;
const outPixels = (w: Window2D) => w.batches * w.outH * w.outW;

function outPixelsIn(w: Window2D): number {
  return w.batches * w.inH * w.inW;
}

/**
 * Reference forward of a window op, straight from its definition: out[p][o] = act(bias[o] + sum over the
 * taps inside the input of tap(x, w, o)); `pool` folds the taps instead (max, or mean over those inside).
 */
function naiveWindow(win: Window2D, outC: number, tap: (xAt: number, t: number, o: number) => number, pool: 'max' | 'avg' | null, bias: Float32Array | null, lo: number, hi: number): Float32Array {
  const y = new Float32Array(outPixels(win) * outC);
  for (let b = 0; b < win.batches; b++) {
    for (let oy = 0; oy < win.outH; oy++) {
      for (let ox = 0; ox < win.outW; ox++) {
        const p = (b * win.outH + oy) * win.outW + ox;
        for (let o = 0; o < outC; o++) {
          let s = pool === 'max' ? -Infinity : 0;
          let n = 0;
          for (let ky = 0; ky < win.kH; ky++) {
            for (let kx = 0; kx < win.kW; kx++) {
              const iy = oy * win.strideH - win.padTop + ky * win.dilH;
              const ix = ox * win.strideW - win.padLeft + kx * win.dilW;
              if (iy < 0 || iy >= win.inH || ix < 0 || ix >= win.inW) continue;
              const v = tap(((b * win.inH + iy) * win.inW + ix) * win.inC, ky * win.kW + kx, o);
              s = pool === 'max' ? Math.max(s, v) : s + v;
              n++;
            }
          }
          if (pool === 'avg') s /= n;
          y[p * outC + o] = Math.min(Math.max(s + (bias ? bias[o] : 0), lo), hi);
        }
      }
    }
  }
  return y;
}

for (const build of BUILDS) {
  let instance: WasmTrainKernels | null = null;
  const wasm = (): WasmTrainKernels => (instance ??= new WasmTrainKernels(() => ({ arenaBytes: 0, persistentBytes: 1 << 20, scratchBytes: 16 << 20 }), build.module()));

  test(`forward of CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and the pools equals its definition (${build.name})`, { skip: build.skip }, () => {
    const r = rng(10);
    for (const { name, win } of windows(3, 14)) {
      const x = randomFloats(r, inSize(win));
      const taps = win.kH * win.kW;
      for (const cout of [3, 8, 13]) {
        const w = randomFloats(r, cout * taps * win.inC);
        const bias = randomFloats(r, cout);
        const y = new Float32Array(outPixels(win) * cout);
        wasm().conv2d(win, cout, x, w, bias, 0, 6, y);
        const conv = (at: number, t: number, o: number) => { let s = 0; for (let c = 0; c < win.inC; c++) s += x[at + c] * w[(o * taps + t) * win.inC + c]; return s; };
        assertClose(y, naiveWindow(win, cout, conv, null, bias, 0, 6), `${name} CONV_2D -> ${cout}, RELU6`);
        // Neither bias nor activation (a convolution before a batch normalisation): the product alone.
        wasm().conv2d(win, cout, x, w, null, -Infinity, Infinity, y);
        assertClose(y, naiveWindow(win, cout, conv, null, null, -Infinity, Infinity), `${name} CONV_2D -> ${cout}, no bias or activation`);
      }
      for (const M of [1, 2]) {
        const cout = win.inC * M;
        const w = randomFloats(r, taps * cout);
        const y = new Float32Array(outPixels(win) * cout);
        wasm().depthwise(win, M, x, w, null, -Infinity, Infinity, y);
        const dw = (at: number, t: number, o: number) => x[at + Math.floor(o / M)] * w[t * cout + o];
        assertClose(y, naiveWindow(win, cout, dw, null, null, -Infinity, Infinity), `${name} DEPTHWISE_CONV_2D multiplier ${M}`);
        // With a bias and RELU6 too: a 1x1 window is a batch normalisation's scale and shift.
        const bias = randomFloats(r, cout);
        wasm().depthwise(win, M, x, w, bias, 0, 6, y);
        assertClose(y, naiveWindow(win, cout, dw, null, bias, 0, 6), `${name} DEPTHWISE_CONV_2D multiplier ${M}, bias, RELU6`);
      }
      // Pools have no dilation (their windows are TFLite's; a dilated window here is a convolution's).
      for (const pool of win.dilH === 1 && win.dilW === 1 ? (['max', 'avg'] as const) : []) {
        const y = new Float32Array(outPixels(win) * win.inC);
        (pool === 'max' ? wasm().maxPool.bind(wasm()) : wasm().avgPool.bind(wasm()))(win, -1, 1, x, y);
        assertClose(y, naiveWindow(win, win.inC, (at, _t, o) => x[at + o], pool, null, -1, 1), `${name} ${pool} pool, RELU_N1_TO_1`);
      }
    }
    for (const [batches, K, units] of [[32, 1568, 10], [3, 13, 7], [2, 5, 16]]) {
      const x = randomFloats(r, batches * K);
      const w = randomFloats(r, units * K);
      const bias = randomFloats(r, units);
      const y = new Float32Array(batches * units);
      wasm().fullyConnected(batches, K, units, x, w, bias, 0, Infinity, y);
      const expected = Float32Array.from({ length: batches * units }, (_, i) => {
        const [b, u] = [Math.floor(i / units), i % units];
        let s = bias[u];
        for (let k = 0; k < K; k++) s += x[b * K + k] * w[u * K + k];
        return Math.max(s, 0);
      });
      assertClose(y, expected, `FULLY_CONNECTED ${batches} x ${K} -> ${units}, RELU`);
    }
  });

  test(`CONV_2D input, weight and bias gradients equal the TypeScript kernels (${build.name})`, { skip: build.skip }, () => {
    const r = rng(11);
    for (const { name, win } of windows(1, 16)) {
      for (const cout of [1, 7, 8, 13]) {
        const what = `${name} -> ${cout}`;
        const taps = win.kH * win.kW;
        const dz = sparseFloats(r, outPixels(win) * cout);
        const w = randomFloats(r, cout * taps * win.inC);
        const wt = new Float32Array(w.length);
        transposeConvWeights(w, cout, taps, win.inC, wt);
        for (const accumulate of [false, true]) {
          const start = randomFloats(r, inSize(win));
          const [a, b] = [Float32Array.from(start), Float32Array.from(start)];
          wasm().conv2dInputGrad(win, cout, dz, wt, a, accumulate);
          js.conv2dInputGrad(win, cout, dz, wt, b, accumulate);
          assertClose(a, b, `${what} input gradient${accumulate ? ', accumulated' : ''}`);
        }
        const xC = win.inC + 2;
        const x = randomFloats(r, win.batches * win.inH * win.inW * xC);
        const xWin = { ...win, inC: xC };
        for (const pick of [null, Int32Array.of(xC - 1, 0, Math.min(2, xC - 1))]) {
          const n = cout * taps * (pick ? pick.length : xC);
          const [a, b] = [new Float32Array(n), new Float32Array(n)];
          wasm().conv2dWeightGrad(xWin, cout, dz, x, xC, pick, a);
          js.conv2dWeightGrad(xWin, cout, dz, x, xC, pick, b);
          assertClose(a, b, `${what} weight gradient${pick ? ` of channels ${pick.join(',')}` : ''}`);
        }
        const [a, b] = [new Float32Array(cout), new Float32Array(cout)];
        wasm().biasGrad(dz, cout, a);
        js.biasGrad(dz, cout, b);
        assertClose(a, b, `${what} bias gradient`);
      }
    }
  });

  test(`DEPTHWISE_CONV_2D input and weight gradients equal the TypeScript kernels (multipliers 1 and 2, channel subsets) (${build.name})`, { skip: build.skip }, () => {
    const r = rng(12);
    for (const { name, win } of windows(2, 14)) {
      for (const M of [1, 2]) {
        const what = `${name} multiplier ${M}`;
        const cout = win.inC * M;
        const taps = win.kH * win.kW;
        const dz = sparseFloats(r, outPixels(win) * cout);
        const w = randomFloats(r, taps * cout);
        for (const accumulate of [false, true]) {
          const start = randomFloats(r, inSize(win));
          const [a, b] = [Float32Array.from(start), Float32Array.from(start)];
          wasm().depthwiseInputGrad(win, M, dz, w, a, accumulate);
          js.depthwiseInputGrad(win, M, dz, w, b, accumulate);
          assertClose(a, b, `${what} input gradient${accumulate ? ', accumulated' : ''}`);
        }
        const x = randomFloats(r, inSize(win));
        const subset = win.inC > 2 ? Int32Array.of(win.inC - 1, 1) : null;
        // All channels; a subset read from the whole input (pick = the channels); a subset read from a
        // compact copy holding just those channels, as the compiler saves it (pick = 0, 1, ...).
        const variants: [Float32Array, number, Int32Array | null, Int32Array | null][] = [[x, win.inC, null, null]];
        if (subset) {
          const compact = Float32Array.from({ length: outPixelsIn(win) * subset.length }, (_, i) => x[Math.floor(i / subset.length) * win.inC + subset[i % subset.length]]);
          variants.push([x, win.inC, subset, subset], [compact, subset.length, Int32Array.of(0, 1), subset]);
        }
        // A consecutive run of channels then a stray one: the register path for the run, the rest after it.
        if (win.inC >= 9) {
          const run = Int32Array.of(1, 2, 3, 4, 0);
          variants.push([x, win.inC, run, run]);
        }
        for (const [xs, xC, pick, channels] of variants) {
          const n = (channels ? channels.length : win.inC) * M * taps;
          const [a, b] = [new Float32Array(n), new Float32Array(n)];
          wasm().depthwiseWeightGrad(win, M, dz, xs, xC, pick, channels, a);
          js.depthwiseWeightGrad(win, M, dz, xs, xC, pick, channels, b);
          assertClose(a, b, `${what} weight gradient${channels ? ` of channels ${channels.join(',')} from ${xC} channels` : ''}`);
        }
      }
    }
  });


  test(`FULLY_CONNECTED input and weight gradients equal the TypeScript kernels (${build.name})`, { skip: build.skip }, () => {
    const r = rng(13);
    for (const [batches, units, K] of [[1, 10, 1568], [3, 7, 13], [32, 10, 37], [5, 16, 8], [2, 1, 5]]) {
      const what = `${batches} x ${K} -> ${units}`;
      const dz = sparseFloats(r, batches * units);
      const w = randomFloats(r, units * K);
      for (const accumulate of [false, true]) {
        const start = randomFloats(r, batches * K);
        const [a, b] = [Float32Array.from(start), Float32Array.from(start)];
        wasm().fcInputGrad(batches, units, K, dz, w, a, accumulate);
        js.fcInputGrad(batches, units, K, dz, w, b, accumulate);
        assertClose(a, b, `${what} input gradient${accumulate ? ', accumulated' : ''}`);
      }
      const x = randomFloats(r, batches * K);
      for (const pick of [null, Int32Array.of(K - 1, 0, Math.floor(K / 2))]) {
        const n = units * (pick ? pick.length : K);
        const [a, b] = [new Float32Array(n), new Float32Array(n)];
        wasm().fcWeightGrad(batches, units, dz, x, K, pick, a);
        js.fcWeightGrad(batches, units, dz, x, K, pick, b);
        assertClose(a, b, `${what} weight gradient${pick ? ' of a subset' : ''}`);
      }
    }
  });

  test(`pool input gradients equal the TypeScript kernels, max-pool ties going to the first tap (${build.name})`, { skip: build.skip }, () => {
    const r = rng(14);
    const pools = [
      window2d([2, 28, 28, 16], 2, 2, { padding: 'VALID', strideH: 2, strideW: 2 }),
      window2d([1, 7, 7, 5], 3, 3, { padding: 'SAME', strideH: 2, strideW: 2 }),
      window2d([3, 5, 6, 3], 2, 2, { padding: 'SAME', strideH: 1, strideW: 1 }),
      window2d([2, 6, 6, 9], 3, 2, { padding: 'VALID', strideH: 1, strideW: 2 }),
    ];
    for (const win of pools) {
      const what = `[${win.batches},${win.inH},${win.inW},${win.inC}] ${win.kH}x${win.kW} stride ${win.strideH}x${win.strideW}`;
      // Values on a coarse grid so that windows hold ties.
      const x = randomFloats(r, inSize(win)).map((v) => Math.round(v * 2) / 2);
      const dz = randomFloats(r, outPixels(win) * win.inC);
      for (const accumulate of [false, true]) {
        const start = randomFloats(r, inSize(win));
        const [a, b] = [Float32Array.from(start), Float32Array.from(start)];
        wasm().maxPoolInputGrad(win, x, dz, a, accumulate);
        js.maxPoolInputGrad(win, x, dz, b, accumulate);
        assertClose(a, b, `${what} max-pool${accumulate ? ', accumulated' : ''}`);
        const [c, d] = [Float32Array.from(start), Float32Array.from(start)];
        wasm().avgPoolInputGrad(win, dz, c, accumulate);
        js.avgPoolInputGrad(win, dz, d, accumulate);
        assertClose(c, d, `${what} average-pool${accumulate ? ', accumulated' : ''}`);
      }
    }
  });

  // The portable build does the TypeScript kernel's double arithmetic in its order: the same floats. With SIMD,
  // channel counts that are a multiple of four sum in float blocks (another order): float rounding.
  const simd = build.name === 'SIMD';
  test(`batch normalisation (forward with batch statistics, input gradient) equals the TypeScript kernel (${simd ? 'to float rounding' : 'exactly'}, ${build.name})`, { skip: build.skip }, () => {
    const r = rng(16);
    const same = (a: Float32Array, b: Float32Array, what: string) => (simd ? assertClose(a, b, what) : assert.deepEqual(a, b, what));
    for (const [rows, C] of [[1, 1], [7, 3], [64, 8], [300, 37], [33, 4], [130, 20], [75, 48]]) {
      // Off-centre values: the two-pass variance is what keeps them apart from zero.
      const x = randomFloats(r, rows * C).map((v, i) => 3 + v * (1 + (i % C)));
      const y = new Float32Array(x.length);
      wasm().batchNormalize(x, C, 1e-3, y);
      const node = { mean: new Float64Array(C), s: new Float64Array(C) };
      channelStatistics(x, C, 1e-3, node.mean, node.s);
      const expected = x.map((v, i) => (v - node.mean[i % C]) * node.s[i % C]);
      same(y, expected, `forward ${rows}x${C}`);
      const gy = randomFloats(r, x.length);
      for (const accumulate of [false, true]) {
        const start = randomFloats(r, x.length);
        const [a, b] = [Float32Array.from(start), Float32Array.from(start)];
        wasm().batchNormalizeInputGrad(x, C, 1e-3, gy, a, accumulate);
        js.batchNormalizeInputGrad(x, C, 1e-3, gy, b, accumulate);
        same(a, b, `input gradient ${rows}x${C}${accumulate ? ', accumulated' : ''}`);
      }
    }
  });

  test(`ADD / SUB of two float tensors and their gradient (sum_to) give the TypeScript kernels' floats (${build.name})`, { skip: build.skip }, () => {
    const r = rng(17);
    for (const n of [1, 7, 64, 1001]) {
      const [a, b] = [randomFloats(r, n), randomFloats(r, n)];
      for (const [sign, lo, hi] of [[1, -Infinity, Infinity], [-1, 0, 6], [1, 0, 0.5]]) {
        const y = new Float32Array(n);
        wasm().add(a, b, sign, lo, hi, y);
        assert.deepEqual(y, a.map((v, i) => Math.min(Math.max(v + sign * b[i], lo), hi)), `n=${n} sign ${sign} clamp [${lo}, ${hi}]`);
      }
      const gin = randomFloats(r, n);
      const same = broadcastMap([1, n], [1, n]);
      for (const accumulate of [false, true]) {
        for (const sign of [1, -1]) {
          const start = randomFloats(r, n);
          const [x, e] = [Float32Array.from(start), Float32Array.from(start)];
          wasm().sumToGrad(same, sign, gin, x, accumulate);
          js.sumToGrad(same, sign, gin, e, accumulate);
          assert.deepEqual(x, e, `gradient n=${n} sign ${sign}${accumulate ? ', accumulated' : ''}`);
        }
      }
    }
    // Broadcast (a bias-like [1, 1, 3] input of a [2, 2, 3] sum): the TypeScript walk, the same result.
    const m = broadcastMap([2, 2, 3], [1, 1, 3]);
    const gin = randomFloats(r, 12);
    const [x, e] = [new Float32Array(3), new Float32Array(3)];
    wasm().sumToGrad(m, -1, gin, x, false);
    js.sumToGrad(m, -1, gin, e, false);
    assert.deepEqual(x, e, 'broadcast gradient');
  });

  test(`activation masks (float values, int8 codes, saved bits) equal the TypeScript kernels, in place too (${build.name})`, { skip: build.skip }, () => {
    const r = rng(15);
    for (const n of [1, 7, 64, 1001]) {
      const gin = randomFloats(r, n);
      const v = randomFloats(r, n).map((x) => Math.round(x * 4) / 2);
      const codes = Int8Array.from(v, (x) => x * 20);
      const bits = Uint8Array.from({ length: Math.ceil(n / 8) }, () => Math.floor(r() * 256));
      for (const accumulate of [false, true]) {
        const start = randomFloats(r, n);
        const run = (f: (gout: Float32Array) => void) => { const g = Float32Array.from(start); f(g); return g; };
        assertClose(run((g) => wasm().clampGradFromValues(v, 0, 6, gin, g, accumulate)), run((g) => js.clampGradFromValues(v, 0, 6, gin, g, accumulate)), `float mask n=${n}`);
        assertClose(run((g) => wasm().clampGradFromValues(v, -Infinity, 1, gin, g, accumulate)), run((g) => js.clampGradFromValues(v, -Infinity, 1, gin, g, accumulate)), `float mask n=${n}, no lower bound`);
        assertClose(run((g) => wasm().clampGradFromValues(codes, -10, 30, gin, g, accumulate)), run((g) => js.clampGradFromValues(codes, -10, 30, gin, g, accumulate)), `int8 mask n=${n}`);
        assertClose(run((g) => wasm().clampGradFromBits(bits, gin, g, accumulate)), run((g) => js.clampGradFromBits(bits, gin, g, accumulate)), `bit mask n=${n}`);
      }
      // In place: the gradient read and written is one buffer inside the instance.
      const inside = wasm().floats(n);
      inside.set(gin);
      const expected = Float32Array.from(gin);
      js.clampGradFromValues(v, 0, 6, expected, expected, false);
      wasm().clampGradFromValues(v, 0, 6, inside, inside, false);
      assertClose(inside, expected, `float mask n=${n} in place`);
    }
  });
}

test('a call needing more scratch than the instance reserved is refused with a clear error', { skip }, () => {
  const small = new WasmTrainKernels(() => ({ arenaBytes: 0, persistentBytes: 0, scratchBytes: 1024 }));
  const win = window2d([1, 8, 8, 4], 3, 3, { padding: 'SAME', strideH: 1, strideW: 1 });
  assert.throws(() => small.conv2dWeightGrad(win, 4, new Float32Array(256), new Float32Array(256), 4, null, new Float32Array(144)), /scratch: a call needs more than the 1024 bytes/);
  // The stack was emptied: a call that fits still runs.
  const out = new Float32Array(4);
  small.biasGrad(Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8), 4, out);
  assert.deepEqual([...out], [6, 8, 10, 12]);
});
