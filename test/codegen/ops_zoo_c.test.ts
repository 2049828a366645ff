import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/model.js';
import type { CompiledModel } from '../../src/compiler/compile_model.js';
import { compileModel } from '../../src/compiler/compile_model.js';
import { generateProject } from '../../src/codegen/project.js';
import type { Target } from '../../src/codegen/target.js';
import { findBoard } from '../../src/boards/boards.js';
import { TinymlError, UnsupportedOpError } from '../../src/errors.js';
import type { Manifest } from '../helpers/shared.js';
import { invokesPerCase, opManifests, modelPath, readBin } from '../helpers/shared.js';
import { compareOutput } from '../helpers/compare.js';
import { requireTools, skipWithout } from '../helpers/tools.js';
import { cIdent } from '../../src/codegen/c_syntax.js';
import { buildBundleFor, manifestCases } from './harness.js';

/**
 * The op zoo through generated C: every variant the interpreter runs and the C library takes is built and
 * run on its cases (host with ASan/UBSan; the Cortex-M4 under QEMU) and must equal TFLite Micro's outputs
 * as the interpreter does, each case checked on its own. Many variants go into one program, each model
 * under its own symbol prefix, so CI builds a few programs instead of hundreds. Variants the C library
 * does not take are refused by `compile` naming the node (an UnsupportedOpError, never a wrong project).
 */

/** Variants that compile and run exactly today: this may only grow. */
const MIN_COMPILED_VARIANTS = 322;

/** The zoo variants the C library takes, compiled as every command compiles them; asserts the refusals. */
function compilable(): { m: Manifest; c: CompiledModel }[] {
  const out: { m: Manifest; c: CompiledModel }[] = [];
  for (const m of opManifests()) {
    let c: CompiledModel;
    try {
      c = compileModel(loadModel(modelPath(m)));
    } catch (e) {
      if (e instanceof TinymlError) continue; // the interpreter refuses it too (test/ops_zoo.test.ts)
      throw e;
    }
    try {
      generateProject(c.graph, c.plan, { board: findBoard('mps2-an386'), target: 'host' });
    } catch (e) {
      assert.ok(e instanceof UnsupportedOpError, `${m.id}: ${(e as Error).message}`);
      assert.match(e.message, /unsupported op \S+ at node \d+/);
      continue;
    }
    out.push({ m, c });
  }
  return out;
}

/**
 * Variants per program: one build of many models (each under its own prefix) instead of one per variant,
 * compiled as two translation units (one per core): a few compiler runs instead of two per variant.
 */
const BUNDLE_SIZE = 60;
const UNITS = 2;

function runAll(target: Target): number {
  const variants = compilable();
  for (let first = 0; first < variants.length; first += BUNDLE_SIZE) {
    const group = variants.slice(first, first + BUNDLE_SIZE);
    const built = buildBundleFor(group.map(({ m, c }) => ({ graph: c.graph, plan: c.plan, name: cIdent(m.id) })), target, 'mps2-an386', `zoo${first / BUNDLE_SIZE}`, UNITS);
    try {
      const results = built.run(group.map(({ m }) => ({ cases: manifestCases(m), outputBytes: m.outputs.map((o) => o.bytes), invokes: invokesPerCase(m) })));
      group.forEach(({ m }, v) => m.cases.forEach((k, i) => k.outputs.forEach((f, j) => {
        assert.equal(compareOutput(m, m.outputs[j], results[v].outputs[i][j], readBin(m, f)), null, `${m.id}/${k.name} output ${j} (generated C, ${target})`);
      })));
    } finally {
      built.cleanup();
    }
  }
  console.log(`op zoo through C on ${target}: ${variants.length} variants exact`);
  assert.ok(variants.length >= MIN_COMPILED_VARIANTS, `only ${variants.length} variants compiled`);
  return variants.length;
}

test('op zoo through generated C on the host (ASan/UBSan): every variant that compiles is exact; the others are refused naming the node', () => {
  runAll('host');
});

test('op zoo through generated C on the Cortex-M4 (QEMU mps2-an386): every variant that compiles is exact', { skip: skipWithout('arm', 'qemu') }, () => {
  requireTools('arm', 'qemu');
  runAll('cortex-m4');
});
