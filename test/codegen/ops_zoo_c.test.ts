import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/model.js';
import { compileModel } from '../../src/compiler/compile_model.js';
import { generateProject } from '../../src/codegen/project.js';
import { findBoard } from '../../src/boards/boards.js';
import { TinymlError, UnsupportedOpError } from '../../src/errors.js';
import { opManifests, modelPath, readBin } from '../helpers/shared.js';
import { compareOutput } from '../helpers/compare.js';
import { buildFor, manifestCases } from './harness.js';

/**
 * The op zoo through generated C on the host (-Wall -Werror, ASan/UBSan): every variant the interpreter
 * runs and the C library takes is built and run on its cases, and must equal TFLite Micro's outputs as the
 * interpreter does. Variants the C library does not take are refused by `compile` naming the node (an
 * UnsupportedOpError, never a wrong project); their count may only fall.
 */
/** Variants that compile and run exactly today: this may only grow. */
const MIN_COMPILED_VARIANTS = 75;

test('op zoo through generated C on the host: every variant that compiles is exact; the others are refused naming the node', () => {
  let compiled = 0;
  const refused: string[] = [];
  for (const m of opManifests()) {
    let g;
    try {
      g = loadModel(modelPath(m));
      compileModel(g);
    } catch (e) {
      if (e instanceof TinymlError) continue; // the interpreter refuses it too (test/ops_zoo.test.ts)
      throw e;
    }
    const c = compileModel(g);
    try {
      generateProject(c.graph, c.plan, { board: findBoard('mps2-an386'), target: 'host' });
    } catch (e) {
      assert.ok(e instanceof UnsupportedOpError, `${m.id}: ${(e as Error).message}`);
      assert.match(e.message, /unsupported op \S+ at node \d+/);
      refused.push(m.id);
      continue;
    }
    const built = buildFor(c.graph, c.plan, 'host', 'mps2-an386');
    try {
      const r = built.run(manifestCases(m), m.outputs.map((o) => o.bytes));
      m.cases.forEach((k, i) => k.outputs.forEach((f, j) => {
        assert.equal(compareOutput(m, m.outputs[j], r.outputs[i][j], readBin(m, f)), null, `${m.id}/${k.name} output ${j} (generated C, host)`);
      }));
      compiled++;
    } finally {
      built.cleanup();
    }
  }
  console.log(`op zoo through C on the host: ${compiled} variants exact; ${refused.length} refused by compile`);
  assert.ok(compiled >= MIN_COMPILED_VARIANTS, `only ${compiled} variants compiled`);
});
