import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DType } from '../../src/graph/dtype.js';
import type { Graph } from '../../src/graph/graph.js';
import { numElements, tensorBytes } from '../../src/graph/graph.js';
import { GraphBuilder, perTensor } from '../../src/graph/builder.js';
import type { Padding } from '../../src/graph/options.js';
import { loadModel } from '../../src/model.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { UnsupportedOpError } from '../../src/errors.js';
import { OPS } from '../../src/ops/registry.js';
import type { MemoryPlan, PlanOptions } from '../../src/plan/memory_plan.js';
import { planMemory } from '../../src/plan/memory_plan.js';
import { assertRunnable } from '../../src/plan/runnable.js';
import type { OpTable } from '../../src/plan/options.js';
import { scratchId } from '../../src/plan/lifetimes.js';
import { alignUp } from '../../src/plan/align.js';
import { verifyPlan } from '../../src/plan/verify.js';
import { prng } from '../../src/plan/pack/local_search.js';
import { manifests, modelPath, readBin } from '../helpers/shared.js';
import type { Manifest } from '../helpers/shared.js';
import { compareOutput } from '../helpers/compare.js';

/**
 * The in-place kernel variants the planner relies on: DEPTHWISE_CONV_2D over its input with one channel's
 * plane of scratch (TinyEngine), PAD copying backwards. Each must give the bytes of the normal kernel.
 */

const NO_INPLACE_KERNELS: PlanOptions = { inPlaceDepthwise: false, inPlacePad: false };

/** Seeded inputs: random floats for float32 tensors, random bytes for every other dtype. */
function randomInputs(g: Graph, seed: number): Uint8Array[] {
  const rand = prng(seed);
  return g.inputs.map((id) => {
    const t = g.tensors[id];
    if (t.dtype === 'float32') return new Uint8Array(Float32Array.from({ length: numElements(t.shape) }, () => rand() * 4 - 2).buffer);
    return Uint8Array.from({ length: tensorBytes(t) }, () => Math.floor(rand() * 256));
  });
}

function run(g: Graph, plan: MemoryPlan, inputs: Uint8Array[]): Uint8Array[] {
  const interp = new Interpreter(g, { plan });
  inputs.forEach((b, i) => interp.setInput(i, b));
  interp.invoke();
  return g.outputs.map((_, i) => interp.output(i));
}

/** The node runs in place under the default plan, the plan is sound, and the outputs equal no-reuse's. */
function assertInPlaceSame(g: Graph, kind: 'depthwise' | 'pad', opts: PlanOptions = {}, seeds = 2): MemoryPlan {
  // In-place depthwise is peak-only (used where it lowers the arena); here node 0 is told to take it regardless.
  const plan = planMemory(g, { peakOnlyAt: new Set([0]), ...opts });
  assert.deepEqual(verifyPlan(g, plan), []);
  assert.equal(plan.inPlaceNodes.get(0)?.kind, kind, 'node 0 runs in place');
  assert.equal(plan.placements.get(g.outputs[0])!.offset, plan.placements.get(g.inputs[0])!.offset);
  const reference = planMemory(g, 'no-reuse');
  for (let seed = 1; seed <= seeds; seed++) {
    const inputs = randomInputs(g, seed);
    assert.deepEqual(run(g, plan, inputs), run(g, reference, inputs), `seed ${seed}`);
  }
  return plan;
}

interface DwCase {
  h: number; w: number; c: number; k: number; stride: number; dil: number; padding: Padding;
  activation: 'NONE' | 'RELU6'; dtype: 'int8' | 'float32'; perChannel: boolean;
}

function dwGraph(p: DwCase, seed: number): Graph {
  const rand = prng(seed);
  const b = new GraphBuilder('dw');
  const q = p.dtype === 'int8' ? perTensor(0.05, Math.floor(rand() * 20) - 10) : null;
  const x = b.tensor('x', [1, p.h, p.w, p.c], p.dtype, q);
  const nw = p.k * p.k * p.c;
  const wq = p.dtype !== 'int8' ? null : p.perChannel
    ? { scale: Array.from({ length: p.c }, () => 0.002 + rand() * 0.02), zeroPoint: new Array<number>(p.c).fill(0), axis: 3 }
    : perTensor(0.01, 0);
  const wData = p.dtype === 'int8'
    ? Int8Array.from({ length: nw }, () => Math.floor(rand() * 255) - 127)
    : Float32Array.from({ length: nw }, () => rand() * 2 - 1);
  const w = b.constant('w', [1, p.k, p.k, p.c], p.dtype, wData, wq);
  const bias = p.dtype === 'int8'
    ? b.constant('b', [p.c], 'int32', Int32Array.from({ length: p.c }, () => Math.floor(rand() * 400) - 200), null)
    : b.constant('b', [p.c], 'float32', Float32Array.from({ length: p.c }, () => rand() - 0.5), null);
  const eff = (p.k - 1) * p.dil + 1;
  const out = (n: number): number => (p.padding === 'SAME' ? Math.ceil(n / p.stride) : Math.floor((n - eff) / p.stride) + 1);
  const y = b.tensor('y', [1, out(p.h), out(p.w), p.c], p.dtype, p.dtype === 'int8' ? perTensor(0.04, 3) : null);
  b.node('DEPTHWISE_CONV_2D', [x, w, bias], [y], {
    padding: p.padding, strideW: p.stride, strideH: p.stride, dilationW: p.dil, dilationH: p.dil, depthMultiplier: 1, activation: p.activation,
  });
  return b.input(x).output(y).build();
}

test('DEPTHWISE_CONV_2D in place: random geometries, int8 and float32, equal the normal kernel byte for byte', () => {
  const rand = prng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  let ran = 0;
  for (let i = 0; i < 60; i++) {
    const p: DwCase = {
      h: 3 + Math.floor(rand() * 10), w: 3 + Math.floor(rand() * 10), c: 1 + Math.floor(rand() * 12),
      k: pick([1, 3, 5]), stride: pick([1, 2]), dil: pick([1, 1, 2]), padding: pick(['SAME', 'VALID'] as const),
      activation: pick(['NONE', 'RELU6'] as const), dtype: i % 4 === 3 ? 'float32' : 'int8', perChannel: rand() < 0.5,
    };
    if (p.padding === 'VALID' && ((p.k - 1) * p.dil + 1 > Math.min(p.h, p.w))) continue;
    const g = dwGraph(p, 100 + i);
    const plan = assertInPlaceSame(g, 'depthwise');
    const elem = p.dtype === 'int8' ? 1 : 4;
    // One input channel plane (word-aligned), then the channel's taps as int32 for the C kernel.
    assert.equal(plan.placements.get(scratchId(0))!.bytes, alignUp(p.h * p.w * elem, 4) + 4 * p.k * p.k, 'one input channel plane of scratch and its taps');
    ran++;
  }
  assert.ok(ran >= 40, `${ran} cases ran`);
});

test('DEPTHWISE_CONV_2D in place: N + one plane instead of 2N; switched off, memory grows and outputs stay', () => {
  const p: DwCase = { h: 8, w: 8, c: 16, k: 3, stride: 1, dil: 1, padding: 'SAME', activation: 'NONE', dtype: 'int8', perChannel: false };
  const g = dwGraph(p, 9);
  const on = assertInPlaceSame(g, 'depthwise');
  assert.equal(on.arenaBytes, 1024 + alignUp(64 + 4 * 9, 16), 'N + one 8x8 plane (and 9 taps)');
  const off = planMemory(g, NO_INPLACE_KERNELS);
  assert.equal(off.inPlaceNodes.size, 0);
  assert.equal(off.arenaBytes, 2048 + alignUp(16 + 8 * 9, 16), '2N (and the zero-point row and tap pointers)');
  const inputs = randomInputs(g, 7);
  assert.deepEqual(run(g, on, inputs), run(g, off, inputs));
});

function padGraph(shape: number[], pads: [number, number][], dtype: DType, v2: boolean, seed: number): Graph {
  const b = new GraphBuilder('pad');
  const q = dtype === 'int8' ? perTensor(0.1, -5 + (seed % 7)) : null;
  const x = b.tensor('x', shape, dtype, q);
  const paddings = b.constant('paddings', [shape.length, 2], 'int32', Int32Array.from(pads.flat()), null);
  const y = b.tensor('y', shape.map((d, k) => d + pads[k][0] + pads[k][1]), dtype, q);
  if (v2) {
    const bytes = dtype === 'float32' ? new Float32Array([1.5]) : dtype === 'int16' ? new Int16Array([-300]) : new Int8Array([-7]);
    const value = b.constant('value', [], dtype, bytes, q);
    b.node('PADV2', [x, paddings, value], [y], {});
  } else {
    b.node('PAD', [x, paddings], [y], {});
  }
  return b.input(x).output(y).build();
}

test('PAD / PADV2 in place: random ranks 1-4, paddings and dtypes equal the normal kernel byte for byte', () => {
  const rand = prng(7);
  const dtypes: DType[] = ['int8', 'int16', 'float32'];
  const ops = OPS;
  for (let i = 0; i < 80; i++) {
    const rank = 1 + Math.floor(rand() * 4);
    const shape = Array.from({ length: rank }, () => 1 + Math.floor(rand() * 5));
    const pads = shape.map((): [number, number] => [Math.floor(rand() * 3), Math.floor(rand() * 3)]);
    const v2 = i % 3 === 2;
    const g = padGraph(shape, pads, dtypes[i % dtypes.length], v2, i);
    // PADV2 runs PAD's kernel; OPS declares the variant on PAD, the projection table on both.
    assertInPlaceSame(g, 'pad', v2 ? { ops } : {});
  }
});

test('PAD in place: the MobileNet shape (1x112x112x8 padded to 113x113 after) and no padding at all', () => {
  for (const pads of [[[0, 0], [0, 1], [0, 1], [0, 0]], [[0, 0], [1, 1], [1, 1], [0, 0]], [[0, 0], [0, 0], [0, 0], [0, 0]]] as [number, number][][]) {
    const g = padGraph([1, 112, 112, 8], pads, 'int8', false, 3);
    assertInPlaceSame(g, 'pad', {}, 1);
  }
});

test('runnable: a plan the kernels cannot run in place is refused with the node named', () => {
  const p: DwCase = { h: 8, w: 8, c: 4, k: 3, stride: 1, dil: 1, padding: 'SAME', activation: 'NONE', dtype: 'int8', perChannel: false };
  const g = dwGraph(p, 1);
  const plan = planMemory(g, {});
  assert.equal(plan.inPlaceNodes.get(0)?.kind, 'depthwise');
  // An op table whose kernel has no in-place mode.
  const { inPlaceVariant: _dropped, ...plain } = OPS.DEPTHWISE_CONV_2D;
  const without = { ...OPS, DEPTHWISE_CONV_2D: plain } as OpTable;
  assert.throws(() => assertRunnable(g, plan, without), (e: unknown) => e instanceof UnsupportedOpError && /no in-place variant/.test(e.message));
  // A plan that forgot the plane of scratch.
  const placements = new Map(plan.placements);
  placements.delete(scratchId(0));
  assert.throws(() => new Interpreter(g, { plan: { ...plan, placements } }), (e: unknown) => e instanceof UnsupportedOpError && /scratch/.test(e.message));
});

/** Each vector case's outputs under `plan`. */
function runCases(g: Graph, m: Manifest, plan: MemoryPlan): Uint8Array[][] {
  const interp = new Interpreter(g, { plan });
  return m.cases.map((c) => {
    c.inputs.forEach((f, i) => interp.setInput(i, readBin(m, f)));
    interp.invoke();
    return c.outputs.map((_, i) => interp.output(i));
  });
}

for (const m of manifests()) {
  test(`in-place kernels keep vector outputs: ${m.id}`, (t) => {
    const g = loadModel(modelPath(m));
    const configs: [string, PlanOptions][] = [
      ['all tricks (default)', {}],
      ['all tricks, every variant (PADV2 too)', { ops: OPS }],
      ['in-place depthwise/PAD off', NO_INPLACE_KERNELS],
    ];
    const arenas: string[] = [];
    let first: Uint8Array[][] | null = null;
    for (const [name, opts] of configs) {
      const plan = planMemory(g, opts);
      assert.deepEqual(verifyPlan(g, plan), [], `${m.id} / ${name}: plan is sound`);
      let got: Uint8Array[][];
      try {
        got = runCases(g, m, plan);
      } catch (e) {
        if (e instanceof UnsupportedOpError && !/in place/.test(e.message)) {
          t.skip(`kernel missing: ${e.message}`);
          return;
        }
        throw e;
      }
      const kinds = [...plan.inPlaceNodes.values()].filter((d) => d.kind === 'depthwise' || d.kind === 'pad').length;
      arenas.push(`${name}: ${plan.arenaBytes} B (${kinds} depthwise/PAD in place)`);
      const base = first;
      m.cases.forEach((c, k) => c.outputs.forEach((f, i) => {
        const diff = compareOutput(m, m.outputs[i], got[k][i], readBin(m, f));
        assert.equal(diff, null, `${m.id}/${c.name} output ${i} under "${name}": ${diff}`);
        if (base) assert.deepEqual(got[k][i], base[k][i], `${m.id}/${c.name} output ${i}: "${name}" differs from "${configs[0][0]}"`);
      }));
      first ??= got;
    }
    t.diagnostic(arenas.join('; '));
  });
}

test('mcunet-vww1: in-place depthwise/PAD shrink the arena (TinyEngine-style N + plane: about 89,600 vs 161,472); off, memory grows', () => {
  const g = loadModel(modelPath('mcunet_vww1_int8_floatio.tflite'));
  const on = planMemory(g);
  const withTricks = planMemory(g, {});
  const off = planMemory(g, NO_INPLACE_KERNELS);
  assert.ok(on.inPlaceNodes.size === 0, 'the legacy call stays trick-free');
  const dw = [...withTricks.inPlaceNodes.values()].filter((d) => d.kind === 'depthwise').length;
  assert.ok(dw > 0, 'some depthwise convolutions run in place');
  assert.ok(withTricks.arenaBytes < off.arenaBytes, `${withTricks.arenaBytes} < ${off.arenaBytes}`);
  // 89,600 is N + one plane; the C kernels' taps and tap pointers are planned scratch now too (a few dozen bytes).
  assert.ok(withTricks.arenaBytes <= 89_600 + 256, `arena ${withTricks.arenaBytes} B within the N + plane projection of 89,600 plus the kernels' scratch`);
  assert.equal(withTricks.arenaBytes, planMemory(g, { ops: OPS }).arenaBytes, 'the default is the projection');
});
