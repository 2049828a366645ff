import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/model.js';
import { planMemory } from '../../src/plan/memory_plan.js';
import { manifests, modelPath, readBin } from '../helpers/shared.js';
import { compareOutput } from '../helpers/compare.js';
import { requireTools, skipWithout } from '../helpers/tools.js';
import { QEMU_BOARDS, buildFor, firstDifference, manifestCases } from './harness.js';

const floatModels = manifests().filter((m) => m.id.endsWith('_float'));

/**
 * Float models compile to the float C kernels: on the host (x86-64, -ffp-contract=off, glibc's expf, as
 * TFLite Micro's vectors were made) the outputs are the reference's floats bit for bit, under ASan/UBSan.
 */
for (const m of floatModels) {
  test(`codegen host: float model ${m.id} gives TFLite Micro's floats bit for bit (ASan/UBSan)`, () => {
    const g = loadModel(modelPath(m));
    const built = buildFor(g, planMemory(g), 'host', 'mps2-an386');
    try {
      const kernels = built.project.layers.flatMap((l) => l.kernels);
      assert.ok(kernels.some((k) => k.endsWith('_f32')), kernels.join(' '));
      const r = built.run(manifestCases(m), m.outputs.map((o) => o.bytes));
      m.cases.forEach((c, i) => c.outputs.forEach((f, j) => {
        assert.equal(firstDifference(r.outputs[i][j], readBin(m, f)), null, `${m.id}/${c.name} output ${j}`);
      }));
    } finally {
      built.cleanup();
    }
  });
}

/** On the Cortex-M4F and M7 (single-precision FPU, newlib's expf) within the manifest's float tolerance. */
for (const { target, board } of QEMU_BOARDS) {
  for (const m of floatModels) {
    test(`codegen ${target} (${board}, QEMU): float model ${m.id} within the manifest tolerance`, { skip: skipWithout('arm', 'qemu') }, () => {
      requireTools('arm', 'qemu');
      const g = loadModel(modelPath(m));
      const built = buildFor(g, planMemory(g), target, board);
      try {
        const r = built.run(manifestCases(m), m.outputs.map((o) => o.bytes));
        m.cases.forEach((c, i) => c.outputs.forEach((f, j) => {
          assert.equal(compareOutput(m, m.outputs[j], r.outputs[i][j], readBin(m, f)), null, `${m.id}/${c.name} output ${j} on ${target}`);
        }));
      } finally {
        built.cleanup();
      }
    });
  }
}
