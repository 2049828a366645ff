import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/model.js';
import { compileModel } from '../../src/compiler/compile_model.js';
import { findBoard } from '../../src/boards/boards.js';
import { generateProject } from '../../src/codegen/project.js';
import { manifests, modelPath } from '../helpers/shared.js';

/**
 * A patch-based stage runs each layer once per patch: the generated C holds one kernel copy per layer shape
 * (the patches of one shape call it) and each constant once. Outputs stay byte-identical (patch.test.ts,
 * models_qemu.test.ts run the same projects).
 */
test('patch-based C: one kernel copy per layer, shared by all its patches (edge patches too); equal constants stored once', () => {
  const m = manifests().find((x) => x.id === 'tflm_person_detect_int8')!;
  const g = loadModel(modelPath(m));
  const board = findBoard('mps2-an386');
  const patched = compileModel(g, { board, objective: 'memory' });
  const layerwise = compileModel(g, { board, patch: 'off' });
  assert.equal(patched.kind, 'patch-based');
  const p = generateProject(patched.graph, patched.plan, { board, target: 'cortex-m4' });
  const l = generateProject(layerwise.graph, layerwise.plan, { board, target: 'cortex-m4' });
  const modelC = p.files.find((f) => f.path === 'model.c')!.contents;
  const shared = [...modelC.matchAll(/^static TM_(?:SHARED|GENERIC) void (model_shared_\d+)\(/gm)].map((x) => x[1]);
  assert.ok(shared.length > 0, 'shared kernel functions');
  const invoke = modelC.slice(modelC.indexOf('void model_invoke(void) {'));
  for (const f of shared) assert.ok(invoke.split(`${f}(`).length - 1 >= 2, `${f} is called from at least two steps`);
  const direct = invoke.split('\n').filter((line) => /^ {2}tm_\w+\(/.test(line)).length;
  const steps = invoke.split('\n').filter((line) => /TM_STEP_DONE/.test(line)).length;
  assert.ok(direct + shared.length < 0.75 * steps, `${direct} inline kernel calls + ${shared.length} shared functions for ${steps} steps`);
  // Every patch of a layer (edge patches with their other heights, widths and paddings included) calls
  // the same one function: one kernel copy per layer and kernel variant (the planner puts a pointwise layer
  // in place only in the patches where that lowers the peak), specialised to all but the fields that differ.
  const origin = patched.patch!.origin;
  const copies = new Map<string, Set<string>>();
  for (const m of invoke.matchAll(/\/\* step \d+: node (\d+) [^\n]*\*\/\n {2}(\w+)\(/g)) {
    const o = origin[Number(m[1])];
    const key = `${o}${patched.plan.inPlaceNodes.has(Number(m[1])) ? ' in place' : ''}`;
    if (o >= 0) copies.set(key, (copies.get(key) ?? new Set()).add(m[2]));
  }
  assert.ok(copies.size >= 5, `${copies.size} stage layers`);
  for (const [o, fns] of copies) assert.deepEqual([...fns].length, 1, `layer ${o} runs through ${[...fns].join(', ')}`);
  const generic = [...modelC.matchAll(/^static TM_GENERIC void model_shared_\d+\([^)]*\) \{\n {2}(\w+) s0 = (\w+);\n((?: {2}.*\n)*?) {2}tm_/gm)];
  assert.ok(generic.length > 0, 'generic copies for the edge patches');
  for (const g of generic) assert.match(g[3], /s0\.\w+ = p0->\w+;|memcpy\(s0\./, 'a generic copy takes only the differing fields');
  // The patch copies' weights are the layer's own: the constants are no larger than the layer-wise build's.
  assert.ok(p.weightBytes <= l.weightBytes * 1.01, `${p.weightBytes} B of constants patch-based vs ${l.weightBytes} B layer-wise`);
  const arrays = [...p.files.find((f) => f.path === 'weights.c')!.contents.matchAll(/^const \S+ (\w+)\[\d+\][^=]*= \{\n([^}]*)\}/gm)].map((x) => x[2]);
  assert.ok(arrays.length > 20, `${arrays.length} arrays in weights.c`);
  assert.equal(new Set(arrays).size, arrays.length, 'no two constant arrays with the same contents');
});
