import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/model.js';
import { planMemory } from '../../src/plan/memory_plan.js';
import { elfSize } from '../../src/codegen/toolchain.js';
import { join } from 'node:path';
import { manifests, modelPath, readBin } from '../helpers/shared.js';
import { HARNESS_BSS_BYTES, QEMU_BOARDS, buildFor, firstDifference, manifestCases } from './harness.js';
import { requireTools, skipWithout } from '../helpers/tools.js';

export { HARNESS_BSS_BYTES };

const models = manifests().filter((m) => !m.id.endsWith('_float'));

/**
 * Every int8 model, built with arm-none-eabi-gcc for the Cortex-M4 (mps2-an386) and Cortex-M7
 * (mps2-an500) and run under qemu-system-arm with semihosting: all cases in one QEMU run, outputs
 * byte-identical to TFLite Micro's; SRAM (data + bss) is the plan's arena plus the harness's fixed bytes.
 */
for (const { target, board } of QEMU_BOARDS) {
  for (const m of models) {
    test(`codegen ${target} (${board}, QEMU): ${m.id} byte-identical, SRAM = arena + ${HARNESS_BSS_BYTES}`, { skip: skipWithout('arm', 'qemu') }, () => {
      requireTools('arm', 'qemu');
      const g = loadModel(modelPath(m));
      const plan = planMemory(g);
      const built = buildFor(g, plan, target, board);
      try {
        const r = built.run(manifestCases(m), m.outputs.map((o) => o.bytes));
        m.cases.forEach((c, i) => c.outputs.forEach((f, j) => {
          const diff = firstDifference(r.outputs[i][j], readBin(m, f));
          assert.equal(diff, null, `${m.id}/${c.name} output ${j} on ${target}: ${diff}`);
        }));
        assert.equal(r.counts.length, m.cases.length);
        assert.ok(r.counts.every((n) => n > 0), `instruction counts ${r.counts.join(',')}`);
        const size = elfSize(join(built.dir, 'model.elf'));
        assert.equal(size.sram, plan.arenaBytes + HARNESS_BSS_BYTES, `SRAM ${size.sram} vs arena ${plan.arenaBytes}`);
        assert.ok(size.flash > built.project.weightBytes, `Flash ${size.flash} holds ${built.project.weightBytes} bytes of constants`);
      } finally {
        built.cleanup();
      }
    });
  }
}

test('kernel specialisation can be switched off: same outputs, more instructions (Cortex-M4)', { skip: skipWithout('arm', 'qemu') }, () => {
  requireTools('arm', 'qemu');
  const m = models.find((x) => x.id === 'mlperf_kws_dscnn_int8')!;
  const g = loadModel(modelPath(m));
  const plan = planMemory(g);
  const results = [true, false].map((specialize) => {
    const built = buildFor(g, plan, 'cortex-m4', 'mps2-an386', { specialize });
    try {
      const r = built.run(manifestCases(m), m.outputs.map((o) => o.bytes));
      return { r, size: elfSize(join(built.dir, 'model.elf')) };
    } finally {
      built.cleanup();
    }
  });
  const [on, off] = results;
  m.cases.forEach((c, i) => {
    assert.equal(firstDifference(on.r.outputs[i][0], readBin(m, c.outputs[0])), null, c.name);
    assert.equal(firstDifference(off.r.outputs[i][0], on.r.outputs[i][0]), null, c.name);
  });
  assert.ok(on.r.counts[0] < off.r.counts[0], `specialised ${on.r.counts[0]} vs shared ${off.r.counts[0]} instructions`);
  assert.equal(on.size.sram, off.size.sram);
});
