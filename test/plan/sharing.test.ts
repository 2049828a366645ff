import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Graph } from '../../src/graph/graph.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { OPS } from '../../src/ops/registry.js';
import type { MemoryPlan, PlanOptions } from '../../src/plan/memory_plan.js';
import { planMemory } from '../../src/plan/memory_plan.js';
import { NO_TRICKS } from '../../src/plan/options.js';
import { minPeakOrder, orderPeak } from '../../src/plan/order.js';
import { verifyPlan } from '../../src/plan/verify.js';
import { scratchId } from '../../src/plan/lifetimes.js';
import { alignUp } from '../../src/plan/align.js';
import { branchyGraph, chainGraph, depthwiseGraph, floatEdgesGraph, keepInputGraph, randomInputs } from './graphs.js';

function run(g: Graph, plan: MemoryPlan, inputs: Uint8Array[]): Uint8Array[] {
  const interp = new Interpreter(g, { plan });
  inputs.forEach((b, i) => interp.setInput(i, b));
  interp.invoke();
  return g.outputs.map((_, i) => interp.output(i));
}

/** The plan is sound and runs to the same bytes as giving every tensor its own memory. */
function assertSameOutputs(g: Graph, opts: PlanOptions): MemoryPlan {
  const plan = planMemory(g, opts);
  assert.deepEqual(verifyPlan(g, plan), []);
  const reference = planMemory(g, 'no-reuse');
  for (let seed = 1; seed <= 3; seed++) {
    const inputs = randomInputs(g, seed);
    assert.deepEqual(run(g, plan, inputs), run(g, reference, inputs), `seed ${seed}`);
  }
  return plan;
}

test('sharing: RESHAPE output aliases its input; RELU runs in place; outputs unchanged', () => {
  const g = chainGraph();
  const plan = assertSameOutputs(g, {});
  const [x, r1, flat, y] = [0, 1, 2, 3];
  assert.equal(plan.aliases.get(flat), r1);
  assert.deepEqual([...plan.inPlaceNodes.keys()].sort(), [0, 2]);
  for (const id of [r1, flat, y]) assert.equal(plan.placements.get(id)!.offset, plan.placements.get(x)!.offset);
  assert.equal(plan.arenaBytes, 256);
  assert.equal(planMemory(g, { ...NO_TRICKS }).arenaBytes, 512);
});

test('sharing: each trick can be switched off', () => {
  const g = chainGraph();
  assert.equal(planMemory(g, { aliasReshape: false }).aliases.size, 0);
  assert.equal(planMemory(g, { inPlaceElementwise: false }).inPlaceNodes.size, 0);
  assert.deepEqual(verifyPlan(g, planMemory(g, { aliasReshape: false })), []);
  assert.equal(planMemory(g).aliases.size, 0, 'the legacy call uses no tricks');
});

test('sharing: an input that is also a graph output is never overwritten', () => {
  const g = keepInputGraph();
  const plan = assertSameOutputs(g, {});
  assert.equal(plan.inPlaceNodes.size, 0);
});

test('sharing: QUANTIZE of the float input writes over it; the group shrinks once the float dies', () => {
  const g = floatEdgesGraph();
  const plan = assertSameOutputs(g, {});
  assert.equal(plan.inPlaceNodes.get(0)?.kind, 'edge-quantize');
  assert.equal(plan.placements.get(1)!.offset, plan.placements.get(0)!.offset);
  // Step 0 holds the float input (1 KB); afterwards only 256 B of it stay in use.
  assert.equal(plan.liveBytes[0], 1024);
  assert.equal(plan.liveBytes[1], 256);
  assert.equal(planMemory(g, { edgeQuantize: false }).liveBytes[0], 1024 + 256);
});

test('sharing: in-place depthwise: N + one plane', () => {
  for (const stride of [1, 2]) {
    const g = depthwiseGraph(9, stride);
    const ops = OPS;
    const plan = planMemory(g, { ops });
    assert.deepEqual(verifyPlan(g, plan), []);
    const d = plan.inPlaceNodes.get(0);
    assert.equal(d?.kind, 'depthwise');
    assert.equal(d?.scratchBytes, 8 * 8 + 4 * 9, 'one 8x8 int8 channel plane, then its 9 taps as int32');
    assert.equal(plan.placements.get(g.outputs[0])!.offset, plan.placements.get(g.inputs[0])!.offset);
    assert.equal(plan.placements.get(scratchId(0))!.bytes, 64 + 36);
    assert.equal(plan.arenaBytes, 1024 + alignUp(64 + 36, 16), 'N + 1 plane instead of 2N');
    // Out of place: the zero-point row (16 channels) and 9 tap pointers are the kernel's scratch.
    assert.equal(planMemory(g, { ops, inPlaceDepthwise: false }).arenaBytes, 1024 + (stride === 1 ? 1024 : 256) + alignUp(16 + 8 * 9, 16));
    // The kernel offers the variant: the default plan puts the node in place too, and the outputs hold.
    assert.equal(assertSameOutputs(g, {}).inPlaceNodes.get(0)?.kind, 'depthwise');
  }
});

test('order: the order search runs one branch to its end and halves the peak; outputs unchanged', () => {
  const g = branchyGraph();
  const none = (): number => 0;
  const model = orderPeak(g, g.nodes.map((n) => n.index), none);
  const better = minPeakOrder(g, none)!;
  assert.ok(better, 'small graph: the search completes');
  assert.ok(orderPeak(g, better, none) < model, `peak ${orderPeak(g, better, none)} < ${model}`);
  assert.equal(model, 1024 + 8192 * 2);
  const plan = assertSameOutputs(g, {});
  assert.ok(plan.candidates.some((c) => c.order === 'reordered'));
  assert.ok(plan.arenaBytes < planMemory(g, { reorder: false }).arenaBytes);
  assert.notDeepEqual(plan.order, [0, 1, 2, 3, 4]);
});

test('order: minPeakOrder agrees with brute force over all topological orders', () => {
  const g = branchyGraph();
  const none = (): number => 0;
  const best = { peak: Infinity };
  const n = g.nodes.length;
  const preds = g.nodes.map((node) => node.inputs.flatMap((i) => g.nodes.filter((m) => m.outputs.includes(i)).map((m) => m.index)));
  const go = (order: number[]): void => {
    if (order.length === n) {
      best.peak = Math.min(best.peak, orderPeak(g, order, none));
      return;
    }
    for (let v = 0; v < n; v++) if (!order.includes(v) && preds[v].every((p) => order.includes(p))) go([...order, v]);
  };
  go([]);
  assert.equal(orderPeak(g, minPeakOrder(g, none)!, none), best.peak);
});

test('verify: a plan that overwrites a live tensor is caught', () => {
  const g = branchyGraph();
  const plan = planMemory(g, { ...NO_TRICKS });
  const placements = new Map(plan.placements);
  // Put b1's output on top of a1's output, which is still to be read by a2.
  const id = (name: string): number => g.tensors.find((t) => t.name === name)!.id;
  placements.set(id('b1'), { ...placements.get(id('b1'))!, offset: placements.get(id('a1'))!.offset });
  const errors = verifyPlan(g, { ...plan, placements });
  assert.ok(errors.length > 0);
  assert.match(errors[0], /overwrites/);
});
