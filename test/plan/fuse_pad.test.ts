import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/model.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { ExplicitPaddingNotWritableError } from '../../src/errors.js';
import type { Graph, TensorId } from '../../src/graph/graph.js';
import { numElements } from '../../src/graph/graph.js';
import type { DType } from '../../src/graph/dtype.js';
import { GraphBuilder, perTensor } from '../../src/graph/builder.js';
import type { Conv2DOptions } from '../../src/graph/options.js';
import type { MemoryPlan } from '../../src/plan/memory_plan.js';
import { planMemory } from '../../src/plan/memory_plan.js';
import { ALL_TRICKS, NO_TRICKS } from '../../src/plan/options.js';
import { verifyPlan } from '../../src/plan/verify.js';
import { fusePads } from '../../src/plan/fuse_pad.js';
import { searchPatchPlan } from '../../src/plan/patch/search.js';
import { prng } from '../../src/plan/pack/local_search.js';
import { writeTflite } from '../../src/tflite/writer.js';
import { planModel } from '../../src/cli/plan.js';
import { compileModel } from '../../src/compiler/compile_model.js';
import { manifests, modelPath, readBin } from '../helpers/shared.js';
import { compareOutput } from '../helpers/compare.js';

const MCUNET = 'mcunet_vww1_int8_floatio';

function mcunet(): { m: ReturnType<typeof manifests>[number]; g: Graph } {
  const m = manifests().find((x) => x.id === MCUNET || x.dir.endsWith(MCUNET));
  assert.ok(m, `manifest ${MCUNET} not found in ../shared/vectors`);
  return { m, g: loadModel(modelPath(m)) };
}

function runAll(interp: Interpreter, m: ReturnType<typeof manifests>[number]): Uint8Array[][] {
  return m.cases.map((c) => {
    c.inputs.forEach((f, i) => interp.setInput(i, readBin(m, f)));
    interp.invoke();
    return c.outputs.map((_, i) => interp.output(i));
  });
}

test(`fuse PAD: ${MCUNET} fuses its PADs, keeps every vector case bit-exact and does not grow the arena`, (t) => {
  const { m, g } = mcunet();
  const pads = g.nodes.filter((n) => n.op === 'PAD' || n.op === 'PADV2').length;
  const { graph: fused, fused: count } = fusePads(g);
  assert.ok(count > 0, 'at least one PAD fused');
  assert.equal(fused.nodes.length, g.nodes.length - count);
  fused.nodes.forEach((n, i) => assert.equal(n.index, i, 'nodes renumbered'));
  assert.equal(fused.nodes.filter((n) => n.op === 'PAD' || n.op === 'PADV2').length, pads - count);
  assert.deepEqual(fused.inputs, g.inputs);
  assert.deepEqual(fused.outputs, g.outputs);

  const off = runAll(new Interpreter(g, { fusePads: false }), m);
  const onInterp = new Interpreter(g, { patch: 'off' }); // default: fusion on
  assert.equal(onInterp.fusedPads, count, 'the interpreter fuses by default');
  const on = runAll(onInterp, m);
  // The fused graph under other plans: no tricks (no in-place depthwise) and no reuse at all.
  const plans: [string, MemoryPlan][] = [['no tricks', planMemory(fused, { ...NO_TRICKS })], ['no reuse', planMemory(fused, 'no-reuse')]];
  const others = plans.map(([name, plan]) => {
    assert.deepEqual(verifyPlan(fused, plan), [], `${name}: plan is sound`);
    return [name, runAll(new Interpreter(fused, { plan }), m)] as const;
  });
  m.cases.forEach((c, k) => c.outputs.forEach((f, i) => {
    assert.deepEqual(on[k][i], off[k][i], `${c.name} output ${i}: fusion on vs off`);
    for (const [name, got] of others) assert.deepEqual(got[k][i], off[k][i], `${c.name} output ${i}: fused graph under ${name}`);
    assert.equal(compareOutput(m, m.outputs[i], on[k][i], readBin(m, f)), null, `${c.name} output ${i} vs reference`);
  }));

  const arenaOn = planMemory(fused, { ...ALL_TRICKS }).arenaBytes;
  const arenaOff = planMemory(g, { ...ALL_TRICKS }).arenaBytes;
  const noTricksOn = planMemory(fused, { ...NO_TRICKS }).arenaBytes;
  const noTricksOff = planMemory(g, { ...NO_TRICKS }).arenaBytes;
  assert.ok(arenaOn <= arenaOff, `all tricks: arena with fusion ${arenaOn} <= without ${arenaOff}`);
  assert.ok(noTricksOn <= noTricksOff, `no other tricks: arena with fusion ${noTricksOn} <= without ${noTricksOff}`);
  assert.equal(onInterp.plan.arenaBytes, arenaOn);
  t.diagnostic(`${count} of ${pads} PADs fused; arena all tricks ${arenaOff} -> ${arenaOn}, no other tricks ${noTricksOff} -> ${noTricksOn}`);
});

test(`fuse PAD: patch-based plans over the fused ${MCUNET} keep outputs`, (t) => {
  const { m, g } = mcunet();
  const { graph: fused } = fusePads(g);
  const search = searchPatchPlan(fused, { maxOverhead: 0.2 });
  if (!search.best) {
    t.skip('no patch plan chosen for the fused graph');
    return;
  }
  const pg = search.graph!;
  const p = search.best.patch;
  const patched = pg.nodes.filter((_n, i) => p.origin[i] >= p.firstNode && p.origin[i] <= p.lastNode);
  // A border patch's convolution pads itself (explicit padding), as a fused PAD: no PAD step of its own.
  assert.ok(patched.some((n) => (n.op === 'CONV_2D' || n.op === 'DEPTHWISE_CONV_2D') && n.options.explicitPadding), 'border patches pad in the convolution');
  assert.equal(pg.nodes.filter((n, i) => n.op === 'PAD' && p.origin[i] === -1).length, 0, 'no PAD added for a patch');
  const want = runAll(new Interpreter(g, { fusePads: false, patch: 'off' }), m);
  const got = runAll(new Interpreter(pg, { plan: search.best }), m);
  m.cases.forEach((c, k) => c.outputs.forEach((_, i) => assert.deepEqual(got[k][i], want[k][i], `${c.name} output ${i}: patch plan over fused graph`)));
  t.diagnostic(`patch ${search.best.patch.n}x${search.best.patch.n} over the fused graph: ${search.best.arenaBytes} bytes`);
});

test('fuse PAD: tinyml plan --fuse-pad on|off and compile planning', () => {
  const { m } = mcunet();
  const file = modelPath(m);
  const on = planModel(file, { patch: 'off' });
  const off = planModel(file, { patch: 'off', fusePad: 'off' });
  assert.ok((on.fusedPads ?? 0) > 0);
  assert.equal(off.fusedPads, 0);
  assert.ok(on.peakBytes <= off.peakBytes, `plan --fuse-pad on ${on.peakBytes} <= off ${off.peakBytes}`);
  assert.equal(on.baselineBytes, off.baselineBytes, 'the no-tricks baseline is planned over the model as stored');
  assert.throws(() => planModel(file, { patch: 'off', fusePad: 'maybe' }), /--fuse-pad takes on or off/);
  const g = loadModel(file);
  const c = compileModel(g, { fusePads: true, patch: 'off' });
  assert.ok(c.graph.nodes.length < g.nodes.length);
  assert.equal(c.plan.arenaBytes, on.peakBytes);
});

// ---------------------------------------------------------------------------------------------
// Hand-built graphs: asymmetric pads, stride 2, conv and depthwise, int8 and float

interface Case {
  op: 'CONV_2D' | 'DEPTHWISE_CONV_2D';
  dtype: 'int8' | 'float32';
  convPadding: 'VALID' | 'SAME';
  padOp?: 'PAD' | 'PADV2';
}

const PADS = { top: 1, bottom: 2, left: 0, right: 1 };

function values(dtype: DType, n: number, rand: () => number, scale = 1): Int8Array | Float32Array {
  return dtype === 'int8'
    ? Int8Array.from({ length: n }, () => Math.floor(rand() * 255) - 127)
    : Float32Array.from({ length: n }, () => Math.fround((rand() * 2 - 1) * scale));
}

/** x [1,7,9,C] -> RELU -> PAD (top 1, bottom 2, left 0, right 1) -> 3x3 stride-2 conv -> y. */
function padConvGraph(c: Case, seed = 3): Graph {
  const rand = prng(seed);
  const b = new GraphBuilder(`pad-${c.op}-${c.dtype}-${c.convPadding}`);
  const C = 4;
  const int8 = c.dtype === 'int8';
  const q = int8 ? perTensor(0.05, -3) : null;
  const qy = int8 ? perTensor(0.08, 5) : null;
  const x = b.tensor('x', [1, 7, 9, C], c.dtype, q);
  const r = b.tensor('relu', [1, 7, 9, C], c.dtype, q);
  b.node('RELU', [x], [r], {});
  const pH = 7 + PADS.top + PADS.bottom;
  const pW = 9 + PADS.left + PADS.right;
  const p = b.tensor('padded', [1, pH, pW, C], c.dtype, q);
  const paddings = b.constant('paddings', [4, 2], 'int32', Int32Array.from([0, 0, PADS.top, PADS.bottom, PADS.left, PADS.right, 0, 0]));
  const padInputs: TensorId[] = [r, paddings];
  if (c.padOp === 'PADV2') {
    padInputs.push(int8 ? b.constant('pad_value', [1], 'int8', Int8Array.from([-3]), q) : b.constant('pad_value', [1], 'float32', Float32Array.from([0])));
  }
  b.node(c.padOp ?? 'PAD', padInputs, [p], {});
  const dw = c.op === 'DEPTHWISE_CONV_2D';
  const cout = dw ? C : 6;
  const wShape = dw ? [1, 3, 3, C] : [cout, 3, 3, C];
  const w = b.constant('w', wShape, c.dtype, values(c.dtype, numElements(wShape), rand, 0.5), int8 ? perTensor(0.01, 0) : null);
  const bias = int8
    ? b.constant('b', [cout], 'int32', Int32Array.from({ length: cout }, () => Math.floor(rand() * 400) - 200), perTensor(0.05 * 0.01, 0))
    : b.constant('b', [cout], 'float32', values('float32', cout, rand, 0.1));
  const out = (size: number): number => (c.convPadding === 'SAME' ? Math.ceil(size / 2) : Math.floor((size - 3) / 2) + 1);
  const y = b.tensor('y', [1, out(pH), out(pW), cout], c.dtype, qy);
  const o: Conv2DOptions = { padding: c.convPadding, strideH: 2, strideW: 2, dilationH: 1, dilationW: 1, activation: 'NONE' };
  if (dw) b.node('DEPTHWISE_CONV_2D', [p, w, bias], [y], { ...o, depthMultiplier: 1 });
  else b.node('CONV_2D', [p, w, bias], [y], o);
  return b.input(x).output(y).build();
}

function runOnce(g: Graph, plan: MemoryPlan, input: Uint8Array): Uint8Array {
  const interp = new Interpreter(g, { plan });
  interp.setInput(0, input);
  interp.invoke();
  return interp.output(0);
}

const CASES: Case[] = [];
for (const op of ['CONV_2D', 'DEPTHWISE_CONV_2D'] as const) {
  for (const dtype of ['int8', 'float32'] as const) {
    for (const convPadding of ['VALID', 'SAME'] as const) CASES.push({ op, dtype, convPadding });
    CASES.push({ op, dtype, convPadding: 'VALID', padOp: 'PADV2' });
  }
}

for (const c of CASES) {
  test(`fuse PAD: asymmetric pads (1,2,0,1), stride 2, ${c.padOp ?? 'PAD'} -> ${c.op} ${c.convPadding}, ${c.dtype}`, () => {
    const g = padConvGraph(c);
    const { graph: fused, fused: count } = fusePads(g);
    assert.equal(count, 1);
    assert.deepEqual(fused.nodes.map((n) => n.op), ['RELU', c.op]);
    const conv = fused.nodes[1];
    assert.ok(conv.op === 'CONV_2D' || conv.op === 'DEPTHWISE_CONV_2D');
    const expectPad = c.convPadding === 'VALID'
      ? PADS
      // SAME over the padded 10x10 with a 3x3 stride-2 window: 1 extra pixel, at the end (bottom / right).
      : { top: PADS.top, bottom: PADS.bottom + 1, left: PADS.left, right: PADS.right + 1 };
    assert.deepEqual(conv.options.explicitPadding, expectPad);
    assert.equal(conv.inputs[0], g.nodes[1].inputs[0], 'the convolution reads the PAD input');
    const rand = prng(11);
    const xT = g.tensors[g.inputs[0]];
    for (let trial = 0; trial < 3; trial++) {
      const raw = values(c.dtype, numElements(xT.shape), rand, 2);
      const input = new Uint8Array(raw.buffer.slice(0));
      const want = runOnce(g, planMemory(g, 'no-reuse'), input);
      // Fused, with every trick (in-place depthwise where it applies) and with no reuse at all.
      for (const plan of [planMemory(fused, { ...ALL_TRICKS }), planMemory(fused, 'no-reuse'), planMemory(fused, { ...NO_TRICKS })]) {
        assert.deepEqual(verifyPlan(fused, plan), []);
        assert.deepEqual(runOnce(fused, plan, input), want);
      }
    }
  });
}

test('fuse PAD: leaves PADs it cannot fuse', () => {
  // Pad value other than the zero point (PADV2 value 7 with zero point -3).
  {
    const g = padConvGraph({ op: 'CONV_2D', dtype: 'int8', convPadding: 'VALID', padOp: 'PADV2' });
    const v = g.tensors.find((t) => t.name === 'pad_value')!;
    v.data = new Uint8Array(Int8Array.from([7]).buffer);
    assert.equal(fusePads(g).fused, 0);
  }
  // PAD output also a graph output.
  {
    const g = padConvGraph({ op: 'CONV_2D', dtype: 'int8', convPadding: 'VALID' });
    g.outputs.push(g.nodes[1].outputs[0]);
    assert.equal(fusePads(g).fused, 0);
  }
  // PAD output read by a second node.
  {
    const g = padConvGraph({ op: 'CONV_2D', dtype: 'float32', convPadding: 'VALID' });
    const p = g.nodes[1].outputs[0];
    const extra = g.tensors.length;
    g.tensors.push({ ...g.tensors[p], id: extra, name: 'relu2' });
    g.nodes.push({ index: g.nodes.length, op: 'RELU', version: 1, inputs: [p], outputs: [extra], options: {} });
    g.outputs.push(extra);
    assert.equal(fusePads(g).fused, 0);
  }
  // Different quantisation on the PAD output than its input.
  {
    const g = padConvGraph({ op: 'DEPTHWISE_CONV_2D', dtype: 'int8', convPadding: 'VALID' });
    g.tensors[g.nodes[1].outputs[0]].quant = perTensor(0.05, -2);
    assert.equal(fusePads(g).fused, 0);
  }
});

test('fuse PAD: the TFLite writer refuses explicit padding', () => {
  const g = padConvGraph({ op: 'CONV_2D', dtype: 'int8', convPadding: 'VALID' });
  assert.ok(writeTflite(g).byteLength > 0);
  const { graph: fused } = fusePads(g);
  assert.throws(() => writeTflite(fused), (e: unknown) => e instanceof ExplicitPaddingNotWritableError && /explicit padding/.test((e as Error).message));
  const { m } = mcunet();
  assert.throws(() => writeTflite(fusePads(loadModel(modelPath(m))).graph), ExplicitPaddingNotWritableError);
});
