import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/model.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import type { Graph } from '../../src/graph/graph.js';
import type { MemoryPlan } from '../../src/plan/memory_plan.js';
import { planMemory } from '../../src/plan/memory_plan.js';
import { fusePads } from '../../src/plan/fuse_pad.js';
import { searchPatchPlan } from '../../src/plan/patch/search.js';
import { verifyPlan } from '../../src/plan/verify.js';
import { manifests, modelPath, readBin } from '../helpers/shared.js';
import type { Manifest } from '../helpers/shared.js';

function outputs(g: Graph, plan: MemoryPlan, m: Manifest): Uint8Array[][] {
  const interp = new Interpreter(g, { plan });
  return m.cases.map((c) => {
    c.inputs.forEach((f, i) => interp.setInput(i, readBin(m, f)));
    interp.invoke();
    return c.outputs.map((_, i) => interp.output(i));
  });
}

const person = manifests().find((x) => x.id === 'tflm_person_detect_int8')!;

test('strips: person_detect in full-width strips with row caches recomputes nothing and keeps the bytes', () => {
  const { graph: g } = fusePads(loadModel(modelPath(person)));
  const want = outputs(g, planMemory(g, 'no-reuse'), person);
  // 12 strips: one row of the split tensor each; 24: finer than the split tensor (the last layer waits a strip).
  for (const n of [12, 24]) {
    const r = searchPatchPlan(g, { fixed: { n, cols: 1, lastNode: 7 }, strategies: ['greedy-size'] });
    assert.ok(r.best && r.graph, `${n}x1@7 builds`);
    assert.equal(r.best.patch.cols, 1);
    assert.ok(r.best.patch.extraMacs <= 0, `${n}x1: no row computed twice (${r.best.patch.extraMacs} extra MACs)`);
    assert.deepEqual(verifyPlan(r.graph, r.best), [], `${n}x1@7`);
    assert.deepEqual(outputs(r.graph, r.best, person), want, `${n}x1@7`);
  }
});
