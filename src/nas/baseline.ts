/**
 * The baseline a search must beat besides a reference model: MobileNetV2 scaled by hand, as its authors
 * scale it (one width multiplier and one input resolution, every block kernel 3 and expand ratio 6, every
 * stage at full depth), to the largest (w, r) of the space that fits the same limits, trained from scratch
 * with the search's own recipe (trainer, optimiser, schedule, PTQ) for a given time.
 */
import type { DatasetSplit } from '../data/dataset.js';
import { InputError } from '../errors.js';
import type { Limits, SubnetCost } from './resources.js';
import { judgeSubnet } from './resources.js';
import type { Arch, SpaceConfig } from './space.js';
import { maxDepth } from './space.js';
import type { Deployed, SearchHooks, TrainPhase } from './search.js';
import { searchData, trainAndDeploy } from './search.js';
import { Supernet } from './supernet.js';

/** MobileNetV2's own block choices over the space's backbone at (width, resolution). */
export function mobileNetV2Arch(space: SpaceConfig, width: number, resolution: number): Arch {
  const slots = space.stages.length * maxDepth(space);
  const kernel = space.kernels.includes(3) ? 3 : Math.min(...space.kernels);
  const expand = space.expands.includes(6) ? 6 : Math.max(...space.expands);
  return {
    width, resolution,
    depths: space.stages.map((s) => Math.max(...s.depths)),
    kernels: new Array<number>(slots).fill(kernel),
    expands: new Array<number>(slots).fill(expand),
    ...(space.se ? { se: new Array<number>(slots).fill(0) } : {}),
  };
}

/** Width multipliers a hand scaling tries: 0.1 to 1.0 in steps of 0.05, finer than a search space's grid. */
export const HAND_WIDTHS: readonly number[] = Array.from({ length: 19 }, (_, i) => Math.round((0.1 + 0.05 * i) * 100) / 100);

/**
 * The (w, r) whose MobileNetV2 fits `limits` (SRAM by the compile pipeline's plans) with the most MACs,
 * w from `widths` and r from the space's resolutions; `space` comes back with that width among its choices.
 */
export function handScaledMobileNetV2(space: SpaceConfig, limits: Limits, widths: readonly number[] = HAND_WIDTHS): { space: SpaceConfig; arch: Arch; cost: SubnetCost } {
  const scaled: SpaceConfig = { ...space, widths: [...new Set([...space.widths, ...widths])].sort((a, b) => a - b) };
  let best: { space: SpaceConfig; arch: Arch; cost: SubnetCost } | null = null;
  for (const w of widths) {
    for (const r of space.resolutions) {
      const arch = mobileNetV2Arch(scaled, w, r);
      const cost = judgeSubnet(scaled, arch, limits);
      if (cost.fits && (!best || cost.macs > best.cost.macs)) best = { space: scaled, arch, cost };
    }
  }
  if (!best) throw new InputError(`no width (${widths[0]}-${widths[widths.length - 1]}) and resolution of ${space.name} fits MobileNetV2 within the limits (${limits.name})`);
  return best;
}

/** Train `arch` from scratch (seeded He initialisation) for `phase`, then quantise and measure it. */
export async function trainFromScratch(space: SpaceConfig, arch: Arch, data: DatasetSplit, phase: TrainPhase & { validation: number }, limits: Limits, hooks: Pick<SearchHooks, 'training' | 'onFinetune'>): Promise<Deployed> {
  // The same training images as the search (its validation split held out and unused here).
  const d = searchData(data, arch.resolution, phase.validation, phase.seed);
  const net = new Supernet(space, arch.width, arch.resolution, phase.seed);
  return trainAndDeploy(net, arch, d, phase, limits, hooks);
}
