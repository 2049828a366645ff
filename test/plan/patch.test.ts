import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/model.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import type { Graph } from '../../src/graph/graph.js';
import type { MemoryPlan } from '../../src/plan/memory_plan.js';
import { planMemory } from '../../src/plan/memory_plan.js';
import { searchPatchPlan } from '../../src/plan/patch/search.js';
import { inputRegion, splitSpan } from '../../src/plan/patch/region.js';
import { patchGraph } from '../../src/plan/patch/rewrite.js';
import { stageOf } from '../../src/plan/patch/stage.js';
import { verifyPlan } from '../../src/plan/verify.js';
import { manifests, modelPath, readBin } from '../helpers/shared.js';
import type { Manifest } from '../helpers/shared.js';
import { compareOutput } from '../helpers/compare.js';

function outputs(g: Graph, plan: MemoryPlan, m: Manifest): Uint8Array[][] {
  const interp = new Interpreter(g, { plan });
  return m.cases.map((c) => {
    c.inputs.forEach((f, i) => interp.setInput(i, readBin(m, f)));
    interp.invoke();
    return c.outputs.map((_, i) => interp.output(i));
  });
}

test('patch: receptive field of a window op and near-equal splits', () => {
  // 3x3, stride 2, SAME on an even input: pad top 0 (TFLite puts the odd pixel at the end).
  const w = { kH: 3, kW: 3, strideH: 2, strideW: 2, dilH: 1, dilW: 1, padTop: 0, padLeft: 0 };
  assert.deepEqual(inputRegion(w, { rows: { lo: 0, hi: 5 }, cols: { lo: 5, hi: 10 } }), { rows: { lo: 0, hi: 11 }, cols: { lo: 10, hi: 21 } });
  // 3x3 stride 1 with pad 1 reaches one row outside on each side at the border.
  assert.deepEqual(inputRegion({ ...w, strideH: 1, strideW: 1, padTop: 1, padLeft: 1 }, { rows: { lo: 0, hi: 4 }, cols: { lo: 4, hi: 8 } }),
    { rows: { lo: -1, hi: 5 }, cols: { lo: 3, hi: 9 } });
  assert.deepEqual(splitSpan(10, 3), [{ lo: 0, hi: 4 }, { lo: 4, hi: 7 }, { lo: 7, hi: 10 }]);
});

const IMAGE_MODELS = ['mlperf_vww_mobilenetv1_int8', 'tflm_person_detect_int8', 'mcunet_vww1_int8_floatio', 'mlperf_ic_resnet8_int8', 'mlperf_vww_mobilenetv1_float'];

for (const m of manifests().filter((x) => IMAGE_MODELS.includes(x.id))) {
  test(`patch: the chosen patch plan of ${m.id} runs to the same bytes as layer by layer`, (t) => {
    const g = loadModel(modelPath(m));
    const r = searchPatchPlan(g, {});
    assert.ok(r.best, 'an image model has a patch plan that beats layer-by-layer');
    const best = r.best!;
    assert.ok(best.arenaBytes < r.layerwise.arenaBytes);
    assert.ok(best.patch.extraMacs <= 0.2 * r.totalMacs, 'under the default 20 % MACs cap');
    assert.deepEqual(verifyPlan(r.graph!, best), []);
    assert.throws(() => new Interpreter(g, { plan: best }), /its own graph/);
    const want = outputs(g, planMemory(g, 'no-reuse'), m);
    const got = outputs(r.graph!, best, m);
    assert.deepEqual(got, want);
    m.cases.forEach((c, k) => c.outputs.forEach((f, i) => assert.equal(compareOutput(m, m.outputs[i], got[k][i], readBin(m, f)), null)));
    t.diagnostic(`${best.patch.n}x${best.patch.n} patches, nodes ${best.patch.firstNode}..${best.patch.lastNode}: ${best.arenaBytes} bytes (layer-wise ${r.layerwise.arenaBytes}), extra MACs ${(100 * best.patch.extraMacs / r.totalMacs).toFixed(1)} %`);
  });
}

/** Splits through residual blocks (a tensor read by two consumers wanting different windows) and PADs. */
const FIXED: Record<string, [number, number][]> = {
  mcunet_vww1_int8_floatio: [[3, 2], [4, 6], [3, 7], [5, 12], [4, 16], [3, 17], [2, 28]],
  mlperf_ic_resnet8_int8: [[2, 0], [3, 3], [3, 7]],
  mlperf_kws_dscnn_int8: [[2, 2], [3, 4]],
};

for (const m of manifests().filter((x) => x.id in FIXED)) {
  test(`patch: fixed splits of ${m.id} (residual blocks, model PADs, uneven patches) keep the outputs`, () => {
    const g = loadModel(modelPath(m));
    const want = outputs(g, planMemory(g, 'no-reuse'), m);
    let ran = 0;
    for (const [n, lastNode] of FIXED[m.id]) {
      const r = searchPatchPlan(g, { fixed: { n, cols: n, lastNode }, strategies: ['greedy-size'] });
      if (!r.best) continue;
      ran++;
      assert.deepEqual(verifyPlan(r.graph!, r.best), [], `${n}x${n}@${lastNode}`);
      assert.deepEqual(outputs(r.graph!, r.best, m), want, `${n}x${n}@${lastNode}`);
    }
    assert.ok(ran > 0);
  });
}

test('patch: never chosen when it is not smaller than layer-by-layer', () => {
  for (const m of manifests()) {
    const g = loadModel(modelPath(m));
    const r = searchPatchPlan(g, { patchCounts: [2, 4] });
    if (r.best) assert.ok(r.best.arenaBytes < r.layerwise.arenaBytes, m.id);
  }
});

test('patch: the split tensor goes over the stage input only where the geometry allows, and verify agrees', () => {
  const m = manifests().find((x) => x.id === 'tflm_person_detect_int8')!;
  const g = loadModel(modelPath(m));
  const order = g.nodes.map((n) => n.index);
  let safe = 0;
  let unsafe = 0;
  for (const [last, n] of [[0, 2], [3, 2], [2, 3], [7, 2], [7, 4]]) {
    const stage = stageOf(g, order, 0, last)!;
    const pg = patchGraph(g, order, stage, n)!;
    // Force the overlay whatever the geometry says: the byte-level check must agree with it.
    const plan = planMemory(pg.graph, { reorder: false, strategies: ['greedy-size'], overlays: [{ tensor: stage.output, host: stage.input }] });
    const errors = verifyPlan(pg.graph, plan);
    assert.equal(errors.length === 0, pg.overlayOnInput, `${n}x${n}@${last}: ${errors[0] ?? 'sound'}`);
    if (pg.overlayOnInput) {
      safe++;
      assert.deepEqual(outputs(pg.graph, { ...plan, patch: { n, cols: n, firstNode: 0, lastNode: last, splitTensor: stage.output, extraMacs: pg.extraMacs, origin: pg.origin } }, m),
        outputs(g, planMemory(g, 'no-reuse'), m));
    } else {
      unsafe++;
    }
  }
  assert.ok(safe > 0 && unsafe > 0);
  const off = searchPatchPlan(g, { overlaySplitOnInput: false });
  const on = searchPatchPlan(g, {});
  assert.ok(on.best!.arenaBytes < off.best!.arenaBytes, `overlay saves memory: ${on.best!.arenaBytes} < ${off.best!.arenaBytes}`);
});
