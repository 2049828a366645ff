import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBoard } from '../../src/boards/boards.js';
import { generateProject } from '../../src/codegen/project.js';
import { writeProject } from '../../src/codegen/write_project.js';
import { buildProject, runProject } from '../../src/codegen/toolchain.js';
import { tensorBytes } from '../../src/graph/graph.js';
import { seededRandom } from '../../src/util/random.js';
import { LatencyTable } from '../../src/nas/latency.js';
import { boardLimits, deployedPlan, withLatency, screenSubnet } from '../../src/nas/resources.js';
import { MBV2_CIFAR, sampleArch } from '../../src/nas/space.js';
import { deployGraph } from '../../src/nas/subnet_graph.js';
import { requireTools, skipWithout } from '../helpers/tools.js';

test('latency table: per-layer Cortex-M4 counts measured under QEMU add up to the whole inference, are reused across subnets and kept on disk', { skip: skipWithout('arm', 'qemu') }, () => {
  requireTools('arm', 'qemu');
  const dir = mkdtempSync(join(tmpdir(), 'tinyml-latency-test-'));
  try {
    const file = join(dir, 'latency.json');
    const limits = boardLimits(findBoard('stm32f412'), { maxInstructions: 1_000_000 });
    const rand = seededRandom(21);
    const a = sampleArch(MBV2_CIFAR, rand, { width: 0.25, resolution: 32 });
    const cm = deployedPlan(deployGraph(MBV2_CIFAR, a), limits);
    const table = new LatencyTable(file);
    assert.equal(table.estimate(cm).missing, cm.plan.order.length);
    const estimated = table.instructions(cm);
    assert.equal(table.measurements, 1);
    // The same model built without profiling, run once: the whole inference's count.
    const pdir = join(dir, 'p');
    const project = generateProject(cm.graph, cm.plan, { board: findBoard('mps2-an386'), target: 'cortex-m4' });
    writeProject(pdir, project);
    buildProject(pdir);
    const r = runProject(pdir, project, [cm.graph.inputs.map((id) => new Uint8Array(tensorBytes(cm.graph.tensors[id])))], cm.graph.outputs.map((id) => tensorBytes(cm.graph.tensors[id])));
    const whole = r.counts[0];
    assert.ok(Math.abs(estimated - whole) < 0.01 * whole, `layers sum to ${estimated}, the whole inference ${whole}`);
    // Kept on disk: a new table answers without measuring.
    const again = new LatencyTable(file);
    assert.equal(again.instructions(cm), estimated);
    assert.equal(again.measurements, 0);
    assert.match(readFileSync(file, 'utf8'), /"target":"cortex-m4"/);
    // A cap below the measured count is a miss that says by how much.
    const c = withLatency(screenSubnet(MBV2_CIFAR, a, limits), estimated, limits);
    assert.equal(c.fits, false);
    assert.ok(c.misses.some((m) => m === `${estimated - 1_000_000} M4 instructions over the cap`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
