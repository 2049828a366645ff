import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/model.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { UnsupportedOpError } from '../../src/errors.js';
import type { Graph } from '../../src/graph/graph.js';
import type { MemoryPlan, PlanOptions } from '../../src/plan/memory_plan.js';
import { planMemory } from '../../src/plan/memory_plan.js';
import { ALL_TRICKS, NO_TRICKS, TRICK_NAMES } from '../../src/plan/options.js';
import { STRATEGIES } from '../../src/plan/pack/registry.js';
import type { StrategyName } from '../../src/plan/pack/registry.js';
import { verifyPlan } from '../../src/plan/verify.js';
import { manifests, modelPath, readBin } from '../helpers/shared.js';
import type { Manifest } from '../helpers/shared.js';
import { compareOutput } from '../helpers/compare.js';

/** Every packing strategy alone, all tricks, each trick alone and each trick switched off. */
function configurations(): { name: string; opts: PlanOptions }[] {
  const list: { name: string; opts: PlanOptions }[] = [];
  for (const s of Object.keys(STRATEGIES) as StrategyName[]) list.push({ name: `${s}, no tricks`, opts: { ...NO_TRICKS, strategies: [s] } });
  list.push({ name: 'all tricks', opts: { ...ALL_TRICKS } });
  for (const k of TRICK_NAMES) {
    list.push({ name: `only ${k}`, opts: { ...NO_TRICKS, [k]: true } });
    list.push({ name: `all but ${k}`, opts: { ...ALL_TRICKS, [k]: false } });
  }
  return list;
}

/** Plans that place every buffer the same way run the same; run each distinct one once. */
function signature(p: MemoryPlan): string {
  const places = [...p.placements.entries()].sort((a, b) => a[0] - b[0]).map(([id, q]) => `${id}@${q.offset}`);
  return `${p.order.join(',')}|${places.join(',')}|${[...p.inPlaceNodes.keys()].join(',')}`;
}

function runCases(g: Graph, m: Manifest, plan: MemoryPlan): Uint8Array[][] {
  const interp = new Interpreter(g, { plan });
  return m.cases.map((c) => {
    c.inputs.forEach((f, i) => interp.setInput(i, readBin(m, f)));
    interp.invoke();
    return c.outputs.map((_, i) => interp.output(i));
  });
}

for (const m of manifests()) {
  test(`plans keep outputs: ${m.id}`, (t) => {
    const g = loadModel(modelPath(m));
    let baseline: Uint8Array[][];
    try {
      baseline = runCases(g, m, planMemory(g, 'no-reuse'));
    } catch (e) {
      if (e instanceof UnsupportedOpError) {
        t.skip(`kernel missing: ${e.message}`);
        return;
      }
      throw e;
    }
    const seen = new Map<string, string>();
    for (const { name, opts } of configurations()) {
      const plan = planMemory(g, opts);
      assert.deepEqual(verifyPlan(g, plan), [], `${m.id} / ${name}: plan is sound`);
      assert.ok(plan.arenaBytes >= plan.lowerBound, `${name}: arena >= lower bound`);
      const sig = signature(plan);
      if (seen.has(sig)) continue;
      seen.set(sig, name);
      const got = runCases(g, m, plan);
      m.cases.forEach((c, k) => c.outputs.forEach((f, i) => {
        assert.deepEqual(got[k][i], baseline[k][i], `${m.id}/${c.name} output ${i} under "${name}" differs from the no-reuse run`);
        const diff = compareOutput(m, m.outputs[i], got[k][i], readBin(m, f));
        assert.equal(diff, null, `${m.id}/${c.name} output ${i} under "${name}": ${diff}`);
      }));
    }
    t.diagnostic(`${seen.size} distinct plans run: ${[...seen.values()].join('; ')}`);
  });
}
