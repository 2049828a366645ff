import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/model.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import type { InterpreterOptions } from '../../src/runtime/interpreter.js';
import type { Graph } from '../../src/graph/graph.js';
import type { MemoryPlan } from '../../src/plan/memory_plan.js';
import { planMemory } from '../../src/plan/memory_plan.js';
import { fusePads } from '../../src/plan/fuse_pad.js';
import { searchPatchPlan } from '../../src/plan/patch/search.js';
import { verifyPlan } from '../../src/plan/verify.js';
import { compileModel } from '../../src/compiler/compile_model.js';
import { parsePatch } from '../../src/cli/compile_flags.js';
import { InputError } from '../../src/errors.js';
import { manifests, modelPath, readBin } from '../helpers/shared.js';
import type { Manifest } from '../helpers/shared.js';

function outputs(interp: Interpreter, m: Manifest): Uint8Array[][] {
  return m.cases.map((c) => {
    c.inputs.forEach((f, i) => interp.setInput(i, readBin(m, f)));
    interp.invoke();
    return c.outputs.map((_, i) => interp.output(i));
  });
}

function planned(g: Graph, plan: MemoryPlan, m: Manifest): Uint8Array[][] {
  return outputs(new Interpreter(g, { plan, backend: 'js' }), m);
}

const person = manifests().find((x) => x.id === 'tflm_person_detect_int8')!;
const reference = (m: Manifest): Uint8Array[][] => m.cases.map((c) => c.outputs.map((f) => readBin(m, f)));

test('strips: person_detect in full-width strips with row caches recomputes nothing and keeps the bytes', () => {
  const { graph: g } = fusePads(loadModel(modelPath(person)));
  const want = planned(g, planMemory(g, 'no-reuse'), person);
  // 12 strips: one row of the split tensor each; 24: finer than the split tensor (its last layer waits a strip).
  for (const n of [12, 24]) {
    const r = searchPatchPlan(g, { fixed: { n, cols: 1, lastNode: 7 }, strategies: ['greedy-size'] });
    assert.ok(r.best && r.graph, `${n}x1@7 builds`);
    assert.equal(r.best.patch.cols, 1);
    assert.ok(r.best.patch.extraMacs <= 0, `${n}x1: no row computed twice (${r.best.patch.extraMacs} extra MACs)`);
    assert.deepEqual(verifyPlan(r.graph, r.best), [], `${n}x1@7`);
    assert.deepEqual(planned(r.graph, r.best, person), want, `${n}x1@7`);
  }
});

test('strips: person_detect 24x1@7 through the compile pipeline on both backends equals the reference vectors, arena <= 0.20x TFLM', () => {
  const g = loadModel(modelPath(person));
  const opts: InterpreterOptions = { patch: parsePatch('24x1@7') };
  for (const backend of ['wasm', 'js'] as const) {
    const it = new Interpreter(g, { ...opts, backend });
    assert.ok(it.plan.patch && it.plan.patch.cols === 1 && it.plan.patch.n === 24);
    assert.ok(it.plan.arenaBytes <= 0.2 * 85_024, `arena ${it.plan.arenaBytes}`);
    assert.deepEqual(it.jsFallbacks, [], 'every step runs in the module');
    assert.deepEqual(outputs(it, person), reference(person), backend);
  }
});

test('strips: under a 15 % MACs cap the memory objective takes the strips (4x4 tiles recompute 17.7 %)', () => {
  const c = compileModel(loadModel(modelPath(person)), { objective: 'memory', maxOverhead: 0.15 });
  assert.equal(c.kind, 'patch-based');
  assert.equal(c.plan.patch!.cols, 1, `${c.plan.patch!.n}x${c.plan.patch!.cols}`);
  assert.ok(c.plan.arenaBytes <= 17_004, `arena ${c.plan.arenaBytes}`);
});

test('strips: --patch takes NxN tiles and Nx1 strips, nothing else', () => {
  assert.deepEqual(parsePatch('12x1@7'), { n: 12, cols: 1, lastNode: 7 });
  assert.deepEqual(parsePatch('4x4@conv'), { n: 4, cols: 4, lastNode: 'conv' });
  assert.throws(() => parsePatch('4x2@7'), InputError);
});
