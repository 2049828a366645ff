import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/model.js';
import { planMemory } from '../../src/plan/memory_plan.js';
import { findBoard } from '../../src/boards/boards.js';
import { generateBundle, generateProject } from '../../src/codegen/project.js';
import { InputError } from '../../src/errors.js';
import { manifests, modelPath, readBin } from '../helpers/shared.js';
import { buildBundleFor, buildFor, firstDifference, manifestCases } from './harness.js';

/**
 * Several models in one program: a symbol prefix renames everything a model exports, so two models link
 * together; a bundle runs them in turn, each exact. Two real int8 models with reference vectors.
 */
const picked = ['tflm_hello_world_int8', 'tflm_micro_speech_int8'].map((id) => {
  const m = manifests().find((x) => x.id === id);
  if (!m) throw new Error(`${id} not in ../shared/vectors`);
  return m;
});

test('a prefix renames the whole API (functions, macros, constants) and the host runner still runs the model exactly', () => {
  const m = picked[0];
  const g = loadModel(modelPath(m));
  const plan = planMemory(g);
  const project = generateProject(g, plan, { board: findBoard('mps2-an386'), target: 'host', prefix: 'kws_' });
  const header = project.files.find((f) => f.path === 'model.h')!.contents;
  assert.match(header, /void kws_model_init\(void\);/);
  assert.match(header, /#define KWS_MODEL_ARENA_BYTES \d+u/);
  assert.doesNotMatch(header, /\bmodel_init\b(?<!kws_model_init)/);
  const weights = project.files.find((f) => f.path === 'weights.h')!.contents;
  assert.ok(weights.split('\n').filter((l) => l.startsWith('extern')).every((l) => /\bkws_L\d+_/.test(l)), 'every constant array carries the prefix');
  assert.throws(() => generateProject(g, plan, { board: findBoard('mps2-an386'), target: 'host', prefix: '9x' }), InputError);
  const built = buildFor(g, plan, 'host', 'mps2-an386', { prefix: 'kws_' });
  try {
    const r = built.run(manifestCases(m), m.outputs.map((o) => o.bytes));
    m.cases.forEach((c, i) => assert.equal(firstDifference(r.outputs[i][0], readBin(m, c.outputs[0])), null, c.name));
  } finally {
    built.cleanup();
  }
});

test('a bundle links several models into one program (one or a few translation units) and runs each exactly', () => {
  const models = [...picked, picked[0]].map((m, i) => ({ m, graph: loadModel(modelPath(m)), name: `m${i}_${m.id}` }));
  for (const units of [undefined, 2]) {
    const built = buildBundleFor(models.map((x) => ({ graph: x.graph, plan: planMemory(x.graph), name: x.name })), 'host', 'mps2-an386', 'pair', units);
    try {
      const objs = /^OBJS = (.*)$/m.exec(built.bundle.files.find((f) => f.path === 'Makefile')!.contents)![1].split(' ').filter((o) => !o.startsWith('harness/'));
      assert.equal(objs.length, units ?? 2 * models.length, objs.join(' '));
      const results = built.run(models.map(({ m }) => ({ cases: manifestCases(m), outputBytes: m.outputs.map((o) => o.bytes) })));
      models.forEach(({ m }, k) => m.cases.forEach((c, i) => c.outputs.forEach((f, j) => {
        assert.equal(firstDifference(results[k].outputs[i][j], readBin(m, f)), null, `${m.id}/${c.name} output ${j} (model ${k}, units ${units})`);
      })));
    } finally {
      built.cleanup();
    }
  }
  assert.throws(() => generateBundle([], { board: findBoard('mps2-an386'), target: 'generic', name: 'lib' }), /a bundle is a program to run/);
});
