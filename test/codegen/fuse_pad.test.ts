import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/model.js';
import { compileModel } from '../../src/compiler/compile_model.js';
import { manifests, modelPath, readBin } from '../helpers/shared.js';
import { buildFor, firstDifference, manifestCases } from './harness.js';

/**
 * PAD fused into the next convolution (explicit padding) through the C code generator: the generated
 * project for mcunet-vww1, layer-wise and patch-based, is byte-identical to TFLite Micro's vectors on the
 * host under ASan/UBSan.
 */
const ID = 'mcunet_vww1_int8_floatio';
for (const patch of ['off', 'auto'] as const) {
  test(`codegen with fused PADs: ${ID}, patch ${patch}, host, byte-identical under ASan/UBSan`, () => {
    const m = manifests().find((x) => x.id === ID)!;
    const g = loadModel(modelPath(m));
    const c = compileModel(g, { patch, fusePads: true });
    assert.ok(c.graph.nodes.filter((n) => n.op === 'PAD').length < g.nodes.filter((n) => n.op === 'PAD').length || c.kind === 'patch-based');
    const built = buildFor(c.graph, c.plan, 'host', 'mps2-an386', { modelName: m.id });
    try {
      const r = built.run(manifestCases(m), m.outputs.map((o) => o.bytes));
      m.cases.forEach((cs, i) => cs.outputs.forEach((f, j) => {
        const diff = firstDifference(r.outputs[i][j], readBin(m, f));
        assert.equal(diff, null, `${m.id}/${cs.name} output ${j} (${c.kind}): ${diff}`);
      }));
    } finally {
      built.cleanup();
    }
  });
}
