import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Graph, TensorId } from '../../src/graph/graph.js';
import { numElements, tensorBytes } from '../../src/graph/graph.js';
import { GraphBuilder, perTensor } from '../../src/graph/builder.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import type { MemoryPlan } from '../../src/plan/memory_plan.js';
import { planMemory } from '../../src/plan/memory_plan.js';
import { assertRunnable } from '../../src/plan/runnable.js';
import { verifyPlan } from '../../src/plan/verify.js';
import { scratchId } from '../../src/plan/lifetimes.js';
import { prng } from '../../src/plan/pack/local_search.js';
import { pointwiseInPlace, POINTWISE_BLOCK_PIXELS } from '../../src/ops/conv2d_inplace.js';
import { UnsupportedOpError } from '../../src/errors.js';

/**
 * In-place pointwise convolution (src/ops/conv2d_inplace.ts, csrc/kernels/tm_conv_pointwise_inplace.h):
 * a 1x1 CONV_2D whose output overlays its input, forward when narrowing, backward when widening. Both
 * backends (TypeScript kernels; the C kernels in WebAssembly) must give the bytes of the normal kernel.
 */

function addConv(b: GraphBuilder, name: string, x: TensorId, shape: number[], cout: number, rand: () => number, k = 1): { id: TensorId; shape: number[] } {
  const cin = shape[3];
  const n = cout * k * k * cin;
  const w = b.constant(`${name}_w`, [cout, k, k, cin], 'int8', Int8Array.from({ length: n }, () => Math.floor(rand() * 255) - 127),
    { scale: Array.from({ length: cout }, () => 0.002 + rand() * 0.01), zeroPoint: new Array<number>(cout).fill(0), axis: 0 });
  const bias = b.constant(`${name}_b`, [cout], 'int32', Int32Array.from({ length: cout }, () => Math.floor(rand() * 2000) - 1000), null);
  const outShape = [1, shape[1], shape[2], cout];
  const y = b.tensor(name, outShape, 'int8', perTensor(0.05 + rand() * 0.05, Math.floor(rand() * 20) - 10));
  b.node('CONV_2D', [x, w, bias], [y], { padding: 'SAME', strideW: 1, strideH: 1, dilationW: 1, dilationH: 1, activation: rand() < 0.5 ? 'RELU6' : 'NONE' });
  return { id: y, shape: outShape };
}

/** One 1x1 convolution h x w x cin -> cout. */
function pointwiseGraph(h: number, w: number, cin: number, cout: number, seed: number): Graph {
  const rand = prng(seed);
  const b = new GraphBuilder('pw');
  const x = b.tensor('x', [1, h, w, cin], 'int8', perTensor(0.05, Math.floor(rand() * 20) - 10));
  const y = addConv(b, 'y', x, [1, h, w, cin], cout, rand);
  return b.input(x).output(y.id).build();
}

function randomInputs(g: Graph, seed: number): Uint8Array[] {
  const rand = prng(seed);
  return g.inputs.map((id) => Uint8Array.from({ length: tensorBytes(g.tensors[id]) }, () => Math.floor(rand() * 256)));
}

function run(g: Graph, plan: MemoryPlan, inputs: Uint8Array[], backend: 'js' | 'wasm'): Uint8Array[] {
  const interp = new Interpreter(g, { plan, backend });
  assert.deepEqual(interp.jsFallbacks ?? [], [], 'every node runs on the C kernels in WebAssembly');
  inputs.forEach((b, i) => interp.setInput(i, b));
  interp.invoke();
  return g.outputs.map((_, i) => interp.output(i));
}

const CASES: [number, number, number, number][] = [
  // h, w, cin, cout: equal, narrowing, widening; odd pixel counts, none a multiple of the block (a layer of
  // one block or less gains nothing: its block of scratch is its whole output).
  [5, 7, 16, 16], [9, 11, 32, 8], [5, 5, 24, 20], [7, 9, 8, 16], [1, 37, 12, 4], [6, 5, 24, 40], [13, 5, 64, 64],
];

test('CONV_2D 1x1 in place: cout == cin, < cin and > cin, odd pixel counts, equal the normal kernel on both backends', () => {
  CASES.forEach(([h, w, cin, cout], k) => {
    const g = pointwiseGraph(h, w, cin, cout, 10 + k);
    const plan = planMemory(g, {});
    const what = `${h}x${w}x${cin}->${cout}`;
    assert.deepEqual(verifyPlan(g, plan), [], what);
    assertRunnable(g, plan);
    assert.equal(plan.inPlaceNodes.get(0)?.kind, 'pointwise', `${what} runs in place`);
    assert.equal(plan.placements.get(g.outputs[0])!.offset, plan.placements.get(g.inputs[0])!.offset);
    const pixels = h * w;
    const block = Math.min(pixels, POINTWISE_BLOCK_PIXELS);
    // The larger of the two tensors plus one block of outputs and the kernel's columns, not both tensors.
    const apart = planMemory(g, { inPlacePointwise: false });
    assert.ok(plan.arenaBytes < apart.arenaBytes, `${what}: ${plan.arenaBytes} B in place, ${apart.arenaBytes} B apart`);
    assert.ok(plan.placements.get(scratchId(0))!.bytes >= block * cout, 'a block of outputs in the scratch');
    const reference = planMemory(g, 'no-reuse');
    for (let seed = 1; seed <= 2; seed++) {
      const inputs = randomInputs(g, seed);
      const want = run(g, reference, inputs, 'js');
      assert.deepEqual(run(g, plan, inputs, 'js'), want, `${what} js, seed ${seed}`);
      assert.deepEqual(run(g, plan, inputs, 'wasm'), want, `${what} wasm, seed ${seed}`);
    }
  });
});

test('CONV_2D 1x1 in place: only where it lowers the arena, and switched off the plan is what it was', () => {
  // A narrowing 1x1 at the peak, then a 3x3 whose input and output (small) stay apart.
  const rand = prng(3);
  const b = new GraphBuilder('chain');
  const x = b.tensor('x', [1, 12, 12, 64], 'int8', perTensor(0.05, 1));
  const a = addConv(b, 'a', x, [1, 12, 12, 64], 16, rand);
  const c = addConv(b, 'c', a.id, a.shape, 16, rand, 3);
  const g = b.input(x).output(c.id).build();
  const on = planMemory(g, {});
  const off = planMemory(g, { inPlacePointwise: false });
  assert.equal(on.inPlaceNodes.get(0)?.kind, 'pointwise');
  assert.equal(off.inPlaceNodes.size, 0);
  assert.ok(on.arenaBytes < off.arenaBytes, `${on.arenaBytes} < ${off.arenaBytes}`);
  assert.deepEqual([...on.options.peakOnlyAt ?? []], [0], 'the decision is recorded, so a re-plan repeats it');
  assert.deepEqual(verifyPlan(g, on), []);
  const inputs = randomInputs(g, 5);
  assert.deepEqual(run(g, on, inputs, 'wasm'), run(g, off, inputs, 'wasm'));
  assert.deepEqual(run(g, on, inputs, 'js'), run(g, off, inputs, 'js'));
});

test('CONV_2D 1x1 in place: verifyPlan catches an output that does not start at its input, assertRunnable a node the kernel cannot take', () => {
  const g = pointwiseGraph(5, 7, 16, 8, 1);
  const plan = planMemory(g, {});
  assert.equal(plan.inPlaceNodes.get(0)?.kind, 'pointwise');
  const out = g.outputs[0];
  const moved = new Map(plan.placements);
  moved.set(out, { ...moved.get(out)!, offset: moved.get(out)!.offset + 16 });
  const errors = verifyPlan(g, { ...plan, placements: moved });
  assert.ok(errors.some((e) => /overwrites x/.test(e)), errors.join('; '));

  // A 3x3 convolution has no in-place pointwise variant: a plan claiming one is refused, not run wrong.
  const rand = prng(2);
  const b = new GraphBuilder('k3');
  const x = b.tensor('x', [1, 6, 6, 8], 'int8', perTensor(0.05, 0));
  const y = addConv(b, 'y', x, [1, 6, 6, 8], 8, rand, 3);
  const g3 = b.input(x).output(y.id).build();
  assert.equal(pointwiseInPlace(g3.nodes[0] as never, g3), null);
  const p3 = planMemory(g3, {});
  const fake = { ...p3, inPlaceNodes: new Map([[0, { kind: 'pointwise' as const, input: x, output: y.id, scratchBytes: 0 }]]) };
  assert.throws(() => assertRunnable(g3, fake), UnsupportedOpError);
  assert.equal(numElements(g3.tensors[y.id].shape), 288);
});
