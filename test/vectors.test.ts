import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../src/model.js';
import { Interpreter } from '../src/runtime/interpreter.js';
import { decodeTensor } from '../src/runtime/tensor_io.js';
import { manifests, modelPath, readBin } from './helpers/shared.js';
import { argmax, compareOutput, expectedClass } from './helpers/compare.js';

/** Every case of every manifest in ../shared/vectors, against TFLite Micro's reference outputs, on both backends. */
for (const m of manifests()) for (const backend of ['wasm', 'js'] as const) {
  test(`vectors (${backend}): ${m.id} (${m.cases.length} cases, ${m.compare})`, () => {
    const g = loadModel(modelPath(m));
    const interp = new Interpreter(g, { backend });
    assert.equal(interp.backend, backend);
    for (const c of m.cases) {
      c.inputs.forEach((f, i) => interp.setInput(i, readBin(m, f)));
      interp.invoke();
      c.outputs.forEach((f, i) => {
        const got = interp.output(i);
        const diff = compareOutput(m, m.outputs[i], got, readBin(m, f));
        assert.equal(diff, null, `${m.id}/${c.name} output ${i}: ${diff}`);
      });
      const cls = expectedClass(c.source);
      if (cls !== null) {
        const out = decodeTensor(g.tensors[g.outputs[0]], interp.output(0));
        assert.equal(argmax(out), cls, `${m.id}/${c.name}: expected class ${cls}`);
      }
    }
  });
}
