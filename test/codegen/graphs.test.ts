import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensorBytes } from '../../src/graph/graph.js';
import type { Graph } from '../../src/graph/graph.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { randomTensorBytes } from '../../src/runtime/tensor_io.js';
import { planMemory } from '../../src/plan/memory_plan.js';
import { OPS } from '../../src/ops/registry.js';
import type { MemoryPlan } from '../../src/plan/memory_plan.js';
import type { Target } from '../../src/codegen/target.js';
import { HAND_BUILT } from './graphs.js';
import { buildFor, firstDifference } from './harness.js';
import { requireTools, skipWithout } from '../helpers/tools.js';

const CASES = 4;

function interpreterOutputs(g: Graph, plan: MemoryPlan, cases: Uint8Array[][]): Uint8Array[][] {
  const interp = new Interpreter(g, { plan });
  return cases.map((c) => {
    c.forEach((bytes, i) => interp.setInput(i, bytes));
    interp.invoke();
    return g.outputs.map((_, i) => interp.output(i));
  });
}

/**
 * The generated C and the TypeScript interpreter, on the same graph and the same plan object, agree byte
 * for byte. With `inPlaceKernels` the C runs the plan that uses its in-place depthwise and pad kernels
 * (which the interpreter cannot run): the outputs must still be the interpreter's.
 */
function agree(makeGraph: () => Graph, target: Target, board: string, inPlaceKernels = false): void {
  const g = makeGraph();
  const plan = planMemory(g);
  const cases = Array.from({ length: CASES }, (_, k) => g.inputs.map((id, i) => randomTensorBytes(g.tensors[id], 100 * k + i)));
  const want = interpreterOutputs(g, plan, cases);
  // In-place depthwise and pointwise are peak-only (used where they lower the arena): here every node that can
  // is told to take them, so the C runs those kernels on these small graphs too.
  const cPlan = inPlaceKernels ? planMemory(g, { ops: OPS, peakOnlyAt: new Set(g.nodes.map((n) => n.index)) }) : plan;
  const built = buildFor(g, cPlan, target, board);
  if (inPlaceKernels) {
    const kernels = built.project.layers.flatMap((l) => l.kernels);
    assert.ok(kernels.some((k) => k.endsWith('_inplace') || k.endsWith('_inplace_s8')), `${g.name}: no in-place kernel in ${kernels.join(' ')}`);
  }
  try {
    const r = built.run(cases, g.outputs.map((id) => tensorBytes(g.tensors[id])));
    want.forEach((outs, k) => outs.forEach((w, j) => {
      assert.equal(firstDifference(r.outputs[k][j], w), null, `${g.name} case ${k} output ${j} (${target})`);
    }));
  } finally {
    built.cleanup();
  }
}

for (const make of HAND_BUILT) {
  const name = make().name;
  test(`codegen vs interpreter: ${name} on the host (portable kernels, ASan/UBSan)`, () => agree(make, 'host', 'mps2-an386'));
  test(`codegen vs interpreter: ${name} on Cortex-M4 under QEMU (DSP kernels)`, { skip: skipWithout('arm', 'qemu') }, () => {
    requireTools('arm', 'qemu');
    agree(make, 'cortex-m4', 'mps2-an386');
  });
}

for (const make of HAND_BUILT.slice(0)) {
  const name = make().name;
  if (name === 'cg_elementwise' || name === 'cg_slice_concat' || name === 'cg_extra_ops') continue; // no depthwise or pad to put in place
  test(`codegen vs interpreter: ${name} with in-place depthwise/pad kernels, host and Cortex-M4`, { skip: skipWithout('arm', 'qemu') }, () => {
    agree(make, 'host', 'mps2-an386', true);
    requireTools('arm', 'qemu');
    agree(make, 'cortex-m4', 'mps2-an386', true);
  });
}
