import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../src/model.js';
import { Interpreter } from '../src/runtime/interpreter.js';
import { UnsupportedOpError } from '../src/errors.js';
import type { Manifest } from './helpers/shared.js';
import { SHARED, invokesPerCase, opManifests, modelPath, readBin } from './helpers/shared.js';
import { compareOutput } from './helpers/compare.js';

/**
 * The op zoo (../shared/ops): every single-operator variant either runs and equals TFLite Micro's reference
 * outputs on every case, on both backends (int8/int16/int32/bool byte for byte, float within the manifest
 * tolerance), or is refused before running with an UnsupportedOpError naming the op and the node. Never a
 * wrong answer, never another kind of error.
 */
/** Variant -> op, from the zoo's README table ("| variant | op | ..."). */
function opOfVariant(): Map<string, string> {
  const text = readFileSync(join(SHARED, 'ops', 'README.md'), 'utf8');
  return new Map([...text.matchAll(/^\| ([a-z0-9_.]+) \| ([A-Za-z0-9_]+) \|/gm)].map((r) => [r[1], r[2]]));
}

const opOf = opOfVariant();
const ops = new Map<string, Manifest[]>();
for (const m of opManifests()) {
  const op = opOf.get(m.id) ?? m.id;
  ops.set(op, [...(ops.get(op) ?? []), m]);
}

const refused = new Map<string, string>();
const passed: string[] = [];


function runVariant(m: Manifest): void {
  let interps: Interpreter[];
  try {
    const g = loadModel(modelPath(m));
    interps = [new Interpreter(g, { backend: 'wasm' }), new Interpreter(g, { backend: 'js' })];
  } catch (e) {
    assert.ok(e instanceof UnsupportedOpError, `${m.id}: refused with ${(e as Error).constructor.name}: ${(e as Error).message}`);
    assert.match(e.message, /unsupported op \S+ at node \d+/, `${m.id}: the refusal names the op and the node`);
    refused.set(m.id, e.message);
    return;
  }
  for (const interp of interps) {
    for (const c of m.cases) {
      interp.resetState();
      c.inputs.forEach((f, i) => interp.setInput(i, readBin(m, f)));
      for (let k = 0; k < invokesPerCase(m); k++) interp.invoke(); // from zero state (reset per case)
      c.outputs.forEach((f, i) => {
        const diff = compareOutput(m, m.outputs[i], interp.output(i), readBin(m, f));
        assert.equal(diff, null, `${m.id}/${c.name} output ${i} (${interp.backend} backend): ${diff}`);
      });
    }
  }
  passed.push(m.id);
}

for (const [op, variants] of [...ops].sort(([a], [b]) => a.localeCompare(b))) {
  test(`op zoo: ${op} (${variants.length} variants): exact, or refused naming the op and node`, () => {
    for (const m of variants) runVariant(m);
  });
}

/** Coverage only grows: lower this as ops land. */
const MAX_REFUSED_VARIANTS = 0;

test('op zoo coverage', () => {
  const total = passed.length + refused.size;
  console.log(`op zoo: ${passed.length} of ${total} variants run exactly (${passed.length * 3} cases); ${refused.size} refused`);
  assert.ok(refused.size <= MAX_REFUSED_VARIANTS, `${refused.size} variants refused, more than the ${MAX_REFUSED_VARIANTS} allowed:\n${[...refused].map(([v, e]) => `${v}: ${e}`).join('\n')}`);
});
