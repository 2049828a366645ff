import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/model.js';
import { planMemory } from '../../src/plan/memory_plan.js';
import { OPS } from '../../src/ops/registry.js';
import type { Manifest } from '../helpers/shared.js';
import { manifests, modelPath, readBin } from '../helpers/shared.js';
import { buildFor, firstDifference, manifestCases } from './harness.js';

/** Models whose arithmetic is int8 (mcunet has float edges, QUANTIZE/DEQUANTIZE, int8 inside). */
export function int8Manifests(): Manifest[] {
  return manifests().filter((m) => !m.id.endsWith('_float'));
}

/**
 * Every int8 model with reference vectors: the generated C, built for the host with
 * -Wall -Wextra -Werror -fsanitize=address,undefined, runs every case in one process and gives outputs
 * byte-identical to TFLite Micro's.
 */
for (const m of int8Manifests()) {
  test(`codegen host: ${m.id} (${m.cases.length} cases) byte-identical under ASan/UBSan`, () => {
    const g = loadModel(modelPath(m));
    const built = buildFor(g, planMemory(g), 'host', 'mps2-an386');
    try {
      const r = built.run(manifestCases(m), m.outputs.map((o) => o.bytes));
      m.cases.forEach((c, i) => c.outputs.forEach((f, j) => {
        const diff = firstDifference(r.outputs[i][j], readBin(m, f));
        assert.equal(diff, null, `${m.id}/${c.name} output ${j}: ${diff}`);
      }));
    } finally {
      built.cleanup();
    }
  });
}

test('codegen host: mcunet-vww1 with in-place depthwise and pad kernels (TinyEngine arena) is byte-identical', () => {
  const m = int8Manifests().find((x) => x.id === 'mcunet_vww1_int8_floatio')!;
  const g = loadModel(modelPath(m));
  const plain = planMemory(g);
  const plan = planMemory(g, { ops: OPS });
  assert.ok(plan.arenaBytes < plain.arenaBytes * 0.7, `in-place arena ${plan.arenaBytes} vs ${plain.arenaBytes}`);
  const built = buildFor(g, plan, 'host', 'mps2-an386');
  try {
    const kernels = built.project.layers.flatMap((l) => l.kernels);
    assert.ok(kernels.includes('tm_depthwise_conv2d_inplace_s8') && kernels.includes('tm_pad_inplace'), kernels.join(' '));
    const r = built.run(manifestCases(m), m.outputs.map((o) => o.bytes));
    m.cases.forEach((c, i) => assert.equal(firstDifference(r.outputs[i][0], readBin(m, c.outputs[0])), null, c.name));
  } finally {
    built.cleanup();
  }
});
