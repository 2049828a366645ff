import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Board } from '../../src/boards/boards.js';
import { findBoard } from '../../src/boards/boards.js';
import { compileModel } from '../../src/compiler/compile_model.js';
import { GraphBuilder, perTensor } from '../../src/graph/builder.js';
import type { Graph } from '../../src/graph/graph.js';
import { loadModel } from '../../src/model.js';
import { fusePads } from '../../src/plan/fuse_pad.js';
import { planMemory } from '../../src/plan/memory_plan.js';
import { prng } from '../../src/plan/pack/local_search.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { inspectCommand } from '../../src/cli/inspect.js';
import { planCommand } from '../../src/cli/plan.js';
import { compileCommand } from '../../src/cli/compile.js';
import { modelPath } from '../helpers/shared.js';
import { randomInputs } from '../plan/graphs.js';

/** Run a command, capturing what it prints. */
function capture(fn: () => number): { code: number; out: string } {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => { lines.push(a.join(' ')); };
  try {
    return { code: fn(), out: lines.join('\n') };
  } finally {
    console.log = log;
  }
}

function board(sramBytes: number): Board {
  return { ...findBoard('stm32f746'), name: `test-${sramBytes}`, sramBytes };
}

function run(interp: Interpreter, inputs: Uint8Array[]): Uint8Array[] {
  inputs.forEach((b, i) => interp.setInput(i, b));
  interp.invoke();
  return Array.from({ length: interp.outputCount }, (_, i) => interp.output(i));
}

test('compile: the slower in-place depthwise kernel is never used where it lowers no peak (MLPerf KWS)', () => {
  const g = loadModel(modelPath('mlperf_kws_dscnn_int8.tflite'));
  // With the pointwise layers in place too, KWS's depthwise layers become its peak (16,256 -> 9,280 B);
  // without, in-place depthwise lowers nothing there, which is the case this test is about.
  const tricks = { inPlacePointwise: false };
  const fused = fusePads(g).graph;
  // Every in-place variant wherever it fits, as the planner would put it if peaks did not decide.
  const all = planMemory(fused, { ...tricks, peakOnlyAt: new Set(fused.nodes.map((n) => n.index)) });
  assert.ok([...all.inPlaceNodes.values()].some((d) => d.kind === 'depthwise'), 'the planner alone would run depthwise in place');
  for (const opts of [{}, { board: findBoard('mps2-an386') }, { objective: 'memory' as const }]) {
    // Layer-wise: without in-place pointwise, 24x1 strips would lower KWS's peak (10,416 B), which is not this test's case.
    const c = compileModel(g, { ...opts, tricks, patch: 'off' });
    assert.equal(c.plan.arenaBytes, all.arenaBytes, 'the same peak');
    const dw = c.kernels.filter((k) => k.op === 'DEPTHWISE_CONV_2D');
    assert.ok(dw.length > 0);
    for (const k of dw) {
      assert.equal(k.variant, 'standard', `node ${k.node}`);
      assert.match(k.why, /would not lower the peak|fits|speed/);
    }
  }
});

test('compile: an in-place depthwise layer kept for memory really lowers the peak (mcunet-vww1, layer-wise)', () => {
  const g = loadModel(modelPath('mcunet_vww1_int8_floatio.tflite'));
  const c = compileModel(g, { patch: 'off', objective: 'memory' });
  const fused = fusePads(g).graph;
  assert.equal(c.plan.arenaBytes, planMemory(fused, {}).arenaBytes, 'the least layer-wise peak');
  const kept = c.kernels.filter((k) => k.variant === 'in-place depthwise');
  const capable = fused.nodes.filter((n) => n.op === 'DEPTHWISE_CONV_2D').length;
  assert.ok(kept.length > 0 && kept.length < capable, `${kept.length} of ${capable} depthwise layers in place`);
  for (const k of kept) {
    assert.match(k.why, /lowers the peak/);
    const without = planMemory(fused, { standardKernels: new Set([k.node]) });
    assert.ok(without.arenaBytes > c.plan.arenaBytes, `node ${k.node}: ${without.arenaBytes} > ${c.plan.arenaBytes}`);
  }
  const speed = compileModel(g, { objective: 'speed' });
  assert.equal(speed.kernels.filter((k) => k.variant === 'in-place depthwise').length, 0);
  assert.equal(speed.kind, 'layer-wise');
  assert.ok(speed.plan.arenaBytes >= c.plan.arenaBytes);
});

test('compile: with a board, the fastest plan that fits; the smallest when none does (person_detect)', () => {
  const g = loadModel(modelPath('tflm_person_detect_int8.tflite'));
  const all = compileModel(g, { board: board(10 ** 7) }).candidates;
  const names = all.map((c) => c.name);
  assert.ok(names.includes('layer-wise, standard kernels') && names.some((n) => / strips,/.test(n)) && names.some((n) => /^patch \d+x\d+, /.test(n)), `layer-wise, strips and tiles weighed: ${names.join('; ')}`);
  const smallest = Math.min(...all.map((c) => c.arenaBytes));
  for (const sram of new Set(all.map((c) => c.arenaBytes))) {
    const fastestFitting = all.filter((c) => c.arenaBytes <= sram).sort((a, b) => a.cost - b.cost || a.arenaBytes - b.arenaBytes)[0];
    assert.equal(compileModel(g, { board: board(sram) }).plan.arenaBytes, fastestFitting.arenaBytes, `board of ${sram} B`);
  }
  const none = compileModel(g, { board: board(smallest - 1) });
  assert.equal(none.plan.arenaBytes, smallest);
  assert.equal(none.fit?.fits, false);
  assert.equal(none.fit?.sram.shortBytes, 1);
  assert.equal(compileModel(g, { board: board(10 ** 7), objective: 'memory' }).plan.arenaBytes, smallest, '--objective overrides');
});

/**
 * Without a board the default weighs memory and time together: 4x4 tiles would save 928 B (5 %) over 24
 * strips at 17.7 % more MACs, nearly all in depthwise layers, so the strips are taken; `--objective memory`
 * still takes the tiles and `--objective speed` runs layer by layer.
 */
test('compile: without a board, the least peak x estimated time (person_detect: strips over tiles)', () => {
  const g = loadModel(modelPath('tflm_person_detect_int8.tflite'));
  const c = compileModel(g);
  assert.equal(c.objective, 'balanced');
  const product = (x: { arenaBytes: number; cost: number }) => x.arenaBytes * x.cost;
  const chosen = c.candidates.find((x) => x.chosen)!;
  for (const x of c.candidates) assert.ok(product(chosen) <= product(x), `${chosen.name} against ${x.name}`);
  assert.equal(c.kind, 'patch-based');
  assert.equal(c.patch?.cols, 1, 'strips');
  assert.equal(c.patch?.extraMacs, 0);
  const memory = compileModel(g, { objective: 'memory' });
  assert.ok(memory.plan.arenaBytes < c.plan.arenaBytes && memory.patch!.extraMacs > 0, 'the smallest peak recomputes halos');
  assert.ok(c.plan.arenaBytes < c.layerwise.arenaBytes / 2);
  assert.equal(compileModel(g, { objective: 'speed' }).kind, 'layer-wise');
});

test('one peak SRAM figure: inspect, plan, compile (MODEL_ARENA_BYTES) and the interpreter agree, per option set', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tinyml-onefig-'));
  try {
    for (const file of ['tflm_person_detect_int8.tflite', 'mlperf_kws_dscnn_int8.tflite', 'mcunet_vww1_int8_floatio.tflite']) {
      const model = modelPath(file);
      for (const flags of [{ board: 'stm32f412' }, { board: 'mps2-an386' }, { board: 'mps2-an386', patch: 'off', objective: 'memory' }, { board: 'stm32h743', objective: 'speed' }]) {
        const i = JSON.parse(capture(() => inspectCommand(model, { ...flags, json: true })).out);
        const p = JSON.parse(capture(() => planCommand(model, { ...flags, json: true })).out);
        const out = join(dir, `${file}-${Object.values(flags).join('-')}`);
        const c = JSON.parse(capture(() => compileCommand(model, { ...flags, output: out, json: true })).out);
        const interp = new Interpreter(loadModel(model), { board: findBoard(flags.board), ...(flags.patch ? { patch: 'off' } : {}), ...(flags.objective ? { objective: flags.objective as 'memory' | 'speed' } : {}) });
        const what = `${file} ${JSON.stringify(flags)}`;
        assert.equal(i.peakSramBytes, p.peakBytes, what);
        assert.equal(c.arenaBytes, p.peakBytes, what);
        assert.equal(interp.plan.arenaBytes, p.peakBytes, what);
      }
      const i = JSON.parse(capture(() => inspectCommand(model, { json: true })).out);
      const p = JSON.parse(capture(() => planCommand(model, { json: true })).out);
      assert.equal(i.peakSramBytes, p.peakBytes, `${file} defaults`);
      assert.equal(new Interpreter(loadModel(model)).plan.arenaBytes, p.peakBytes, `${file} defaults`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** x -> DEPTHWISE kxk (SAME) -> RELU -> y: a layer wider than any shared model's. */
function wideDepthwise(k: number, stride: number, seed = 3): Graph {
  const rand = prng(seed);
  const b = new GraphBuilder(`dw${k}x${k}`);
  const c = 8;
  const q = perTensor(0.05, -3);
  const x = b.tensor('x', [1, 20, 20, c], 'int8', q);
  const w = b.constant('w', [1, k, k, c], 'int8', Int8Array.from({ length: k * k * c }, () => Math.floor(rand() * 255) - 127), perTensor(0.004, 0));
  const bias = b.constant('b', [c], 'int32', Int32Array.from({ length: c }, () => Math.floor(rand() * 2000) - 1000), perTensor(0.05 * 0.004, 0));
  const out = Math.ceil(20 / stride);
  const y = b.tensor('y', [1, out, out, c], 'int8', perTensor(0.07, 4));
  const z = b.tensor('z', [1, out, out, c], 'int8', perTensor(0.07, 4));
  b.node('DEPTHWISE_CONV_2D', [x, w, bias], [y], { padding: 'SAME', strideH: stride, strideW: stride, dilationH: 1, dilationW: 1, activation: 'NONE', depthMultiplier: 1 });
  b.node('RELU', [y], [z], {});
  return b.input(x).output(z).build();
}

test('a 9x9 depthwise convolution plans in place where that lowers the peak and runs to the same bytes', () => {
  for (const stride of [1, 2]) {
    const g = wideDepthwise(9, stride);
    const c = compileModel(g, { objective: 'memory' });
    const k = c.kernels.find((x) => x.op === 'DEPTHWISE_CONV_2D')!;
    const inputs = randomInputs(g, 5);
    const want = run(new Interpreter(g, { plan: planMemory(g, 'no-reuse') }), inputs);
    assert.deepEqual(run(new Interpreter(c), inputs), want, `stride ${stride}, ${k.variant}`);
    if (stride === 1) assert.equal(k.variant, 'in-place depthwise', 'same-size output over its input: N + one plane instead of 2N');
    assert.deepEqual(run(new Interpreter(g, { objective: 'speed' }), inputs), want);
  }
});
