import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findBoard } from '../../src/boards/boards.js';
import type { Board } from '../../src/boards/boards.js';
import { DoesNotFitError, InputError, UnsupportedOpError } from '../../src/errors.js';
import { GraphBuilder, perTensor } from '../../src/graph/builder.js';
import { loadModel } from '../../src/model.js';
import { planMemory } from '../../src/plan/memory_plan.js';
import { cFloat, cIdent, cInt } from '../../src/codegen/c_syntax.js';
import { generateProject } from '../../src/codegen/project.js';
import { writeProject } from '../../src/codegen/write_project.js';
import { UnsupportedTargetError, parseTarget } from '../../src/codegen/target.js';
import { fastRequantExact, fastRequantLevel } from '../../src/codegen/lower/requant.js';
import { padLayout } from '../../src/codegen/lower/pad.js';
import { broadcastStrides } from '../../src/codegen/lower/elementwise.js';
import { ToolchainError, buildProject } from '../../src/codegen/toolchain.js';
import { compileCommand } from '../../src/cli/compile.js';
import { compileModel } from '../../src/compiler/compile_model.js';
import { modelPath } from '../helpers/shared.js';
import { buildFor, tempDir } from './harness.js';
import { requireTools, skipWithout } from '../helpers/tools.js';

test('C literals: floats round-trip exactly as float32, identifiers are valid, INT32_MIN is spelled out', () => {
  for (const x of [0.00783930719, 1 / 256, 0.584702909, -3.5, 1e-7, 123456.789]) {
    assert.equal(Math.fround(Number(cFloat(x).slice(0, -1))), Math.fround(x), cFloat(x));
  }
  assert.equal(cIdent('model/conv2d;bias:0'), 'model_conv2d_bias_0');
  assert.equal(cIdent('0abc'), '_0abc');
  assert.equal(cInt(-2147483648), '(-2147483647 - 1)');
});

test('the fast requantisation is only chosen where it is exact', () => {
  const m = [1 << 30, 2147483647, 0];
  assert.ok(fastRequantExact(m, [-1, -20, -5], [0, 0, 0], 9));
  assert.ok(fastRequantExact(m, [-25, -30, -1], [1000, -1000, 0], 9), 'small accumulators allow shifts to 30');
  assert.ok(!fastRequantExact(m, [-25, -1, -1], [1 << 29, 0, 0], 100_000), 'large accumulators need shifts <= 20');
  assert.ok(!fastRequantExact(m, [0, -1, -1], [0, 0, 0], 9), 'no left/zero shifts');
  assert.ok(!fastRequantExact([1 << 29], [-3], [0], 9), 'multipliers below 2^30 are not from QuantizeMultiplier');
  // The zero point joins the rounding constant (fast 2) only while |x| + 2^(e-1) + |zp| 2^e stays in int32.
  assert.equal(fastRequantLevel(m, [-1, -20, -5], [0, 0, 0], 9, -128), 2);
  assert.equal(fastRequantLevel([1 << 30], [-20], [0], 100_000, -128), 2, 'unbounded: 2^30 + 2^19 + 2^27 fits');
  assert.equal(fastRequantLevel([1 << 30], [-24], [1000], 9, -128), 1, '128 * 2^24 does not fit');
  assert.equal(fastRequantLevel([1 << 30], [-24], [1000], 9, 60), 2, 'a small zero point does');
  assert.equal(fastRequantLevel([1 << 29], [-3], [0], 9, 0), 0);
});

test('pad layout folds unpadded trailing dimensions into rows; broadcast strides are 0 where broadcast', () => {
  assert.deepEqual(padLayout([1, 80, 80, 3], [0, 1, 1, 0], [0, 1, 1, 0]), { inDims: [1, 1, 80, 240], outDims: [1, 1, 82, 246], before: [0, 0, 1, 3] });
  assert.deepEqual(padLayout([2, 3], [0, 1], [0, 2]), { inDims: [1, 1, 2, 3], outDims: [1, 1, 2, 6], before: [0, 0, 0, 1] });
  assert.deepEqual(broadcastStrides([1, 1, 1, 9]), [0, 0, 0, 1]);
  assert.deepEqual(broadcastStrides([4, 9]), [0, 0, 9, 1]);
});

test('unknown targets and targets the board cannot run are refused with the reason', () => {
  assert.throws(() => parseTarget('riscv'), UnsupportedTargetError);
  const g = loadModel(modelPath('tflm_hello_world_int8.tflite'));
  assert.throws(() => generateProject(g, planMemory(g), { board: findBoard('rp2040'), target: 'cortex-m4' }), /cortex-m0\+ core/);
  assert.throws(() => generateProject(g, planMemory(g), { board: findBoard('stm32f412'), target: 'cortex-m7' }), UnsupportedTargetError);
  assert.ok(generateProject(g, planMemory(g), { board: findBoard('rp2040'), target: 'generic' }).files.length > 0);
});

test('ops and dtypes without a C kernel are refused, naming the node', () => {
  const bf = new GraphBuilder('float-broadcast-5d');
  const p = bf.tensor('p', [2, 1, 3, 1, 2], 'float32');
  const q = bf.tensor('q', [2, 1, 2, 1], 'float32');
  const r = bf.tensor('r', [2, 2, 3, 2, 2], 'float32');
  bf.node('ADD', [p, q], [r], { activation: 'NONE' });
  const fg = bf.input(p).input(q).output(r).build();
  assert.throws(() => generateProject(fg, planMemory(fg), { board: findBoard('mps2-an386'), target: 'host' }), (e) => e instanceof UnsupportedOpError && /ADD at node 0: broadcast over 5 dimensions/.test(e.message));
  const b = new GraphBuilder('square-int32');
  const x = b.tensor('x', [1, 8], 'int32');
  const y = b.tensor('y', [1, 8], 'int32');
  b.node('SQUARE', [x], [y], {});
  const tg = b.input(x).output(y).build();
  assert.throws(() => generateProject(tg, planMemory(tg), { board: findBoard('mps2-an386'), target: 'host' }), /unsupported op SQUARE at node 0: int32 -> int32 is not generated/);
  // A table op compiles where its int8 kernel is a table or its dtype has a kernel of its own (int16 TANH):
  // int16 ELU has neither and is refused, naming it.
  const unary16 = (op: 'TANH' | 'ELU') => {
    const b16 = new GraphBuilder(`${op}16`);
    const x16 = b16.tensor('x', [1, 8], 'int16', perTensor(1 / 4096, 0));
    const y16 = b16.tensor('y', [1, 8], 'int16', perTensor(1 / 32768, 0));
    b16.node(op, [x16], [y16], {});
    const g16 = b16.input(x16).output(y16).build();
    return () => generateProject(g16, planMemory(g16), { board: findBoard('mps2-an386'), target: 'host' });
  };
  assert.doesNotThrow(unary16('TANH'));
  assert.throws(unary16('ELU'), /unsupported op ELU at node 0/);
});

test('a model too big for the board fails before anything is written', () => {
  const dir = join(tempDir('nofit'), 'out');
  const tiny: Board = { ...findBoard('stm32f412'), name: 'tiny', aliases: [], sramBytes: 32 * 1024 };
  const g = loadModel(modelPath('mlperf_vww_mobilenetv1_int8.tflite'));
  assert.throws(() => generateProject(g, planMemory(g), { board: tiny, target: 'cortex-m4' }), (e) => e instanceof DoesNotFitError && e.resource === 'SRAM');
  const smallFlash: Board = { ...findBoard('stm32f412'), name: 'small-flash', aliases: [], flashBytes: 64 * 1024 };
  assert.throws(() => generateProject(g, planMemory(g), { board: smallFlash, target: 'cortex-m4' }), (e) => e instanceof DoesNotFitError && e.resource === 'Flash');
  assert.throws(() => compileCommand(modelPath('mcunet_vww1_int8_floatio.tflite'), { board: 'mps2-an386', output: dir, target: 'riscv' }), UnsupportedTargetError);
  assert.throws(() => compileCommand(modelPath('tflm_person_detect_vela_customop.tflite'), { board: 'mps2-an386', output: dir }), UnsupportedOpError);
  assert.equal(existsSync(dir), false, 'nothing written');
});

test('compile writes a self-contained project: API header, schedule at the plan offsets, weights, only the kernels used', () => {
  const dir = join(tempDir('compile'), 'kws');
  const log = console.log;
  console.log = () => {};
  try {
    assert.equal(compileCommand(modelPath('mlperf_kws_dscnn_int8.tflite'), { board: 'mps2-an386', output: dir }), 0);
  } finally {
    console.log = log;
  }
  // The plan compile chose for the board (the fastest that fits), as the library computes it.
  const compiled = compileModel(loadModel(modelPath('mlperf_kws_dscnn_int8.tflite')), { board: findBoard('mps2-an386') });
  const g = compiled.graph, plan = compiled.plan;
  const h = readFileSync(join(dir, 'model.h'), 'utf8');
  assert.match(h, new RegExp(`#define MODEL_ARENA_BYTES ${plan.arenaBytes}u`));
  assert.match(h, /#define MODEL_INPUT0_SHAPE \{1, 49, 10, 1\}/);
  assert.match(h, /#define MODEL_INPUT0_ZERO_POINT 83/);
  const c = readFileSync(join(dir, 'model.c'), 'utf8');
  const first = g.nodes[plan.order[0]];
  assert.ok(c.includes(`ARENA(${plan.placements.get(first.inputs[0])!.offset}, int8_t)`), 'first layer reads its input at the plan offset');
  assert.doesNotMatch(c, /malloc|printf|#include <stdio.h>/);
  assert.ok(existsSync(join(dir, 'kernels', 'tm_depthwise_conv2d.h')));
  assert.ok(!existsSync(join(dir, 'kernels', 'tm_transpose.h')), 'no unused kernels');
  for (const f of ['weights.c', 'weights.h', 'Makefile', 'CMakeLists.txt', 'board.ld', 'harness/tm_startup_cortexm.c']) assert.ok(existsSync(join(dir, f)), f);
  rmSync(dir, { recursive: true, force: true });
});

test('a build that does not fit the board fails at link time with a clear message', { skip: skipWithout('arm', 'qemu') }, () => {
  requireTools('arm', 'qemu');
  const g = loadModel(modelPath('mlperf_kws_dscnn_int8.tflite'));
  const plan = planMemory(g);
  // Arena + stack fit exactly, so the generator accepts; the harness's .bss tips it over at link time.
  const board: Board = { ...findBoard('mps2-an386'), sramBytes: plan.arenaBytes + 8192 };
  const p = generateProject(g, plan, { board, target: 'cortex-m4' });
  const dir = tempDir('link');
  writeProject(dir, p);
  assert.throws(() => buildProject(dir), (e) => e instanceof ToolchainError && /does not fit the SRAM of mps2-an386/.test(e.message));
  writeFileSync(join(dir, 'unused'), '');
  rmSync(dir, { recursive: true, force: true });
});

test('compile --patch: with --objective memory the patch plan tinyml plan chooses, its arena as MODEL_ARENA_BYTES; bad specs fail before writing', () => {
  const model = modelPath('mlperf_vww_mobilenetv1_int8.tflite');
  const dir = join(tempDir('compile-patch'), 'vww');
  const log = console.log;
  const lines: string[] = [];
  console.log = (s: string) => { lines.push(s); };
  try {
    assert.throws(() => compileCommand(model, { board: 'mps2-an386', output: dir, patch: '3x4@2' }), InputError);
    assert.throws(() => compileCommand(model, { board: 'mps2-an386', output: dir, patch: '4x4@9999' }), InputError);
    assert.throws(() => compileCommand(model, { board: 'mps2-an386', output: dir, maxOverhead: '-5' }), InputError);
    assert.equal(existsSync(dir), false, 'nothing written');
    assert.equal(compileCommand(model, { board: 'mps2-an386', output: dir, patch: 'auto', maxOverhead: '20', objective: 'memory' }), 0);
  } finally {
    console.log = log;
  }
  const chosen = compileModel(loadModel(model), { patch: 'auto', maxOverhead: 0.2, objective: 'memory' });
  assert.equal(chosen.kind, 'patch-based');
  assert.match(readFileSync(join(dir, 'model.h'), 'utf8'), new RegExp(`#define MODEL_ARENA_BYTES ${chosen.plan.arenaBytes}u`));
  assert.ok(lines.some((l) => l.startsWith('patch ') && l.includes(`${chosen.plan.patch!.n}x${chosen.plan.patch!.n} patches`)), lines.join('\n'));
  assert.ok(existsSync(join(dir, 'kernels', 'tm_strided_slice.h')) && existsSync(join(dir, 'kernels', 'tm_concatenation.h')));
  rmSync(dir, { recursive: true, force: true });
});

test('model.h writes a negative zero point as (q + 128), and the host runner reports each case without a fake count', () => {
  const g = loadModel(modelPath('tflm_person_detect_int8.tflite'));
  const c = compileModel(g, { board: findBoard('mps2-an386') });
  const built = buildFor(c.graph, c.plan, 'host', 'mps2-an386', { modelName: 'person_detect' });
  try {
    const header = readFileSync(join(built.dir, 'model.h'), 'utf8');
    assert.match(header, /real = [\d.e-]+ \* \(q \+ 128\)/);
    assert.doesNotMatch(header, /- -/);
    const input = new Uint8Array(96 * 96);
    const r = built.run([[input], [input]], [2]);
    assert.match(r.log, /^tinyml: case 0 done$/m);
    assert.match(r.log, /^tinyml: case 1 done$/m);
    assert.doesNotMatch(r.log, /host 0/);
  } finally {
    built.cleanup();
  }
});

test('--flash-budget: weights split into SMLAD pairs only within the budget, the layers with the most MACs per byte first', () => {
  const g = loadModel(modelPath('mlperf_kws_dscnn_int8.tflite'));
  const c = compileModel(g, { board: findBoard('mps2-an386') });
  const gen = (flashBudget?: number) => generateProject(c.graph, c.plan, { board: findBoard('mps2-an386'), target: 'cortex-m4', flashBudget });
  const splitKernels = (p: ReturnType<typeof gen>) => p.layers.filter((l) => l.kernels.some((k) => /_w16_s8$/.test(k))).length;
  const int8 = gen(0), all = gen(), half = gen(Math.floor((int8.weightBytes + all.weightBytes) / 2));
  assert.equal(splitKernels(int8), 0);
  assert.equal(int8.splitWeights.steps, 0);
  assert.ok(splitKernels(all) > 0 && all.weightBytes > int8.weightBytes, 'the board has room: every layer that can is split');
  assert.equal(all.splitWeights.budget, Math.floor(findBoard('mps2-an386').flashBytes / 2));
  assert.ok(half.weightBytes <= half.splitWeights.budget, `${half.weightBytes} within ${half.splitWeights.budget}`);
  assert.ok(splitKernels(half) > 0 && splitKernels(half) < splitKernels(all), `${splitKernels(half)} of ${splitKernels(all)} split`);
  // VWW's resolution falls from 48x48 to 3x3: a budget for a few splits takes the early, wide-image layers.
  const v = compileModel(loadModel(modelPath('mlperf_vww_mobilenetv1_int8.tflite')), { board: findBoard('mps2-an386') });
  const vInt8 = generateProject(v.graph, v.plan, { board: findBoard('mps2-an386'), target: 'cortex-m4', flashBudget: 0 });
  const vSome = generateProject(v.graph, v.plan, { board: findBoard('mps2-an386'), target: 'cortex-m4', flashBudget: vInt8.weightBytes + 8192 });
  const splitSteps = vSome.layers.filter((l) => l.kernels.some((k) => /_w16_s8$/.test(k))).map((l) => l.step);
  assert.ok(splitSteps.length > 0 && Math.max(...splitSteps) < vSome.layers.length / 2, `split steps ${splitSteps.join(',')} of ${vSome.layers.length}`);
  assert.throws(() => compileCommand('x.tflite', { board: 'mps2-an386', output: '/nonexistent-dir/x', flashBudget: '-5' }), /--flash-budget takes a number of bytes/);
});
