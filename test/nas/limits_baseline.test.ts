import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../src/util/random.js';
import type { SpaceConfig } from '../../src/nas/space.js';
import { MBV2_CIFAR, archKey, maxDepth, sampleArch } from '../../src/nas/space.js';
import { budgetLimits, FAST_PACKERS, fitsWithoutPlan, judgeSubnet, measureSubnet, screenSubnet } from '../../src/nas/resources.js';
import { fittingSandwich } from '../../src/nas/search.js';
import { handScaledMobileNetV2, mobileNetV2Arch } from '../../src/nas/baseline.js';
import { Supernet } from '../../src/nas/supernet.js';
import { SupernetTrainer, sandwichArchs } from '../../src/nas/train_supernet.js';
import { TINY, colourSamples } from './helpers.js';
import { optimiseSpace } from '../../src/nas/space_opt.js';

test('a weights cap is a limit like the others: a subnet over it misses by the bytes it is over', () => {
  const a = sampleArch(MBV2_CIFAR, seededRandom(3), { width: 0.25, resolution: 32 });
  const free = screenSubnet(MBV2_CIFAR, a, budgetLimits(1 << 20, 1 << 21));
  assert.ok(free.fits);
  const capped = screenSubnet(MBV2_CIFAR, a, budgetLimits(1 << 20, 1 << 21, { maxWeightBytes: free.constantBytes - 100 }));
  assert.equal(capped.fits, false);
  assert.deepEqual(capped.misses, ['weights 100 B over the cap']);
  assert.ok(screenSubnet(MBV2_CIFAR, a, budgetLimits(1 << 20, 1 << 21, { maxWeightBytes: free.constantBytes })).fits);
});

test('judging a subnet: the layer-wise screen where it decides, the compile pipeline\'s plans where the screen rejects on SRAM alone', () => {
  // ResNet-8's arena: at 32x32 a full-resolution stage rarely fits layer-wise, often patch by patch.
  const limits = budgetLimits(49_152, 1 << 20, { maxMacs: 12_500_000 });
  const rand = seededRandom(1);
  let rescued = 0;
  let screened = 0;
  for (let i = 0; i < 40 && (rescued === 0 || screened === 0); i++) {
    const a = sampleArch(MBV2_CIFAR, rand, { width: 0.25, resolution: 32 });
    const screen = screenSubnet(MBV2_CIFAR, a, limits);
    const judged = judgeSubnet(MBV2_CIFAR, a, limits);
    if (screen.fits || screen.misses.some((m) => !m.startsWith('SRAM'))) {
      assert.deepEqual(judged, screen, 'decided by the screen');
      screened++;
      continue;
    }
    assert.deepEqual(judged, measureSubnet(MBV2_CIFAR, a, limits, undefined, FAST_PACKERS));
    // The fast packers bound the full pipeline's peak from above: a subnet judged to fit does fit.
    const exact = measureSubnet(MBV2_CIFAR, a, limits);
    assert.ok(judged.arenaBytes >= exact.arenaBytes && (!judged.fits || exact.fits), `${judged.arenaBytes} < ${exact.arenaBytes}`);
    if (judged.fits) {
      assert.equal(judged.plan, 'patch-based');
      rescued++;
    }
  }
  assert.ok(rescued > 0 && screened > 0, `${rescued} rescued by patch-based plans, ${screened} decided by the screen`);
});

test('the hand-scaled MobileNetV2: kernel 3, expand 6, full depth, at the fitting (w, r) with the most MACs', () => {
  const a = mobileNetV2Arch(MBV2_CIFAR, 0.35, 40);
  assert.deepEqual(a.depths, MBV2_CIFAR.stages.map((s) => Math.max(...s.depths)));
  assert.ok(a.kernels.every((k) => k === 3) && a.expands.every((e) => e === 6));
  assert.equal(a.kernels.length, MBV2_CIFAR.stages.length * maxDepth(MBV2_CIFAR));
  const space: SpaceConfig = { ...MBV2_CIFAR, widths: [0.25, 0.35, 0.5], resolutions: [32, 40] };
  const limits = budgetLimits(96 * 1024, 1 << 20, { maxMacs: 20_000_000 });
  const { arch, cost } = handScaledMobileNetV2(space, limits, space.widths);
  assert.ok(cost.fits);
  const exact = measureSubnet(space, arch, limits);
  assert.ok(exact.fits && exact.macs === cost.macs, 'fits by the compile pipeline\'s own plan');
  for (const w of space.widths) {
    for (const r of space.resolutions) {
      const other = measureSubnet(space, mobileNetV2Arch(space, w, r), limits);
      if (other.fits) assert.ok(other.macs <= cost.macs, `w${w}-r${r} fits with more MACs than ${archKey(space, arch)}`);
    }
  }
  assert.throws(() => handScaledMobileNetV2(space, budgetLimits(4096, 1 << 20), space.widths), /no width \(0.25-0.5\) and resolution of mbv2-cifar fits MobileNetV2/);
  // A finer width grid than the space's reaches limits its own grid cannot (ResNet-8's weights).
  const tight = budgetLimits(49_152, 1 << 20, { maxMacs: 12_500_000, maxWeightBytes: 78_752 });
  const hand = handScaledMobileNetV2(MBV2_CIFAR, tight, [0.1, 0.15]);
  assert.ok(hand.cost.fits && hand.space.widths.includes(hand.arch.width) && hand.cost.constantBytes <= 78_752);
});

test('training one fixed subnet with the supernet trainer: labels only, and a time-budgeted schedule anneals to zero', async () => {
  const { samples } = colourSamples(32, 8);
  const net = new Supernet(TINY, 1, 16, 1);
  const fixed = sampleArch(TINY, seededRandom(2), { width: 1, resolution: 16 });
  const trainer = new SupernetTrainer(net, samples, { totalSteps: 1000, batch: 16, lr: 3e-3, seed: 1, fixed });
  assert.equal(trainer.lrAt(0, 0), 3e-3);
  assert.ok(Math.abs(trainer.lrAt(10, 0.5) - 1.5e-3) < 1e-12, 'time progress beyond the step count sets the schedule');
  assert.equal(trainer.lrAt(10, 1), 0);
  const first = await trainer.step(0);
  assert.deepEqual(first.smallest, first.largest, 'one subnet a step');
  let last = first;
  for (let s = 1; s < 30; s++) last = await trainer.step(s);
  assert.ok(last.largest.loss < 0.6 * first.largest.loss, `${first.largest.loss} -> ${last.largest.loss}`);
});

test('stage 1 with rescue: SRAM-only rejects re-measured by the compile pipeline, a cell that rescues none in its first round keeps the screen\'s verdict', async () => {
  // ResNet-8's arena: at 32x32 patches rescue many subnets; at 80x80 none fits either way.
  const limits = budgetLimits(49_152, 1 << 20);
  const o = { samples: 16, seed: 3, widths: [0.25], resolutions: [32, 80], rescueRound: 4 };
  const screened = await optimiseSpace(MBV2_CIFAR, limits, o);
  const rescued = await optimiseSpace(MBV2_CIFAR, limits, { ...o, rescue: async (s, archs, l) => archs.map((a) => measureSubnet(s, a, l, undefined, FAST_PACKERS)) });
  const [small, large] = rescued.cells;
  assert.ok(small.rescued > 0 && small.unmeasured === 0, `w0.25-r32: ${small.rescued} rescued, ${small.unmeasured} unmeasured`);
  assert.equal(small.fitting, screened.cells[0].fitting + small.rescued);
  assert.equal(large.fitting, 0);
  assert.equal(large.rescued, 0);
  assert.equal(large.unmeasured, large.missedSram - o.rescueRound, 'one round measured, the rest as screened');
});

test('the fitting sandwich: random subnets within the limits a graph decides alone, the teacher the most MACs among them', () => {
  const limits = budgetLimits(49_152, 1 << 20, { maxMacs: 12_500_000, maxWeightBytes: 78_752 });
  const cell = { width: 0.25, resolution: 32 };
  // fitsWithoutPlan gives the screen's verdict on every limit but SRAM.
  const rand = seededRandom(4);
  let inside = 0;
  let outside = 0;
  for (let i = 0; i < 30; i++) {
    const a = sampleArch(MBV2_CIFAR, rand, cell);
    const quick = fitsWithoutPlan(MBV2_CIFAR, a, limits);
    const screen = screenSubnet(MBV2_CIFAR, a, limits);
    assert.equal(quick.macs, screen.macs);
    assert.equal(quick.fits, screen.misses.every((m) => m.startsWith('SRAM')), archKey(MBV2_CIFAR, a));
    if (quick.fits) inside++; else outside++;
  }
  assert.ok(inside > 0 && outside > 0, `both verdicts seen (${inside} in, ${outside} out)`);

  const s = fittingSandwich(MBV2_CIFAR, cell, limits, 1);
  assert.ok(s);
  const net = new Supernet(MBV2_CIFAR, cell.width, cell.resolution, 1);
  const steps = [0, 1, 2, 3].map((step) => sandwichArchs(net, step, 1, 2, s.ends));
  for (const archs of steps) {
    assert.equal(archs.length, 4);
    assert.equal(archKey(MBV2_CIFAR, archs[0]), archKey(MBV2_CIFAR, s.ends.teacher));
    assert.equal(archKey(MBV2_CIFAR, archs[1]), archKey(MBV2_CIFAR, net.smallest()));
    for (const a of archs.slice(2)) {
      const c = fitsWithoutPlan(MBV2_CIFAR, a, limits);
      assert.ok(c.fits, archKey(MBV2_CIFAR, a));
      assert.ok(c.macs <= s.teacherMacs);
    }
  }
  assert.equal(fitsWithoutPlan(MBV2_CIFAR, s.ends.teacher, limits).macs, s.teacherMacs);
  assert.ok(s.teacherMacs > 0.8 * 12_500_000, `the teacher is near the MACs cap: ${s.teacherMacs}`);
  // The same step draws the same subnets (workers and a resumed run agree); the whole cell's sandwich is unchanged.
  assert.deepEqual(sandwichArchs(net, 2, 1, 2, s.ends), steps[2]);
  assert.equal(archKey(MBV2_CIFAR, sandwichArchs(net, 0, 1, 2)[0]), archKey(MBV2_CIFAR, net.largest()));
  // Limits almost nothing in the cell meets: no fitting sandwich (the search falls back to the whole cell).
  assert.equal(fittingSandwich(MBV2_CIFAR, cell, budgetLimits(49_152, 1 << 20, { maxMacs: 1_000_000 }), 1), null);
});
