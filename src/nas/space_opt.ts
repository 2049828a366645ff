/**
 * TinyNAS stage 1, search-space optimisation: for every (width multiplier, resolution) cell, sample
 * subnets, keep those that fit the board, and pick the cell whose fitting subnets have the most MACs
 * (the paper's heuristic: with the memory fixed, a space that holds more computation holds more accurate
 * models). The CDF of fitting subnets' MACs per cell is the evidence, printed and charted.
 */
import { seededRandom } from '../util/random.js';
import type { Limits, SubnetCost } from './resources.js';
import { screenSubnet } from './resources.js';
import type { Arch, SpaceConfig } from './space.js';
import { sampleArch } from './space.js';

export interface SpaceCell {
  width: number;
  resolution: number;
  sampled: number;
  fitting: number;
  /** MACs of the fitting subnets, ascending (the CDF's support). */
  macs: number[];
  /** Mean MACs of the fitting subnets (0 when none fit): the score. */
  meanMacs: number;
  /** Least arena among the samples, and why the rest missed (counts per limit). */
  minSramBytes: number;
  missedSram: number;
  missedFlash: number;
  missedMacs: number;
  /** Subnets the screen rejected on SRAM alone that the compile pipeline's plans showed to fit. */
  rescued: number;
  /** SRAM-only rejects left as the screen judged them (the cell's first round of exact plans rescued none). */
  unmeasured: number;
}

export interface SpaceOptions {
  /** Subnets sampled per cell (the paper: 1,000). */
  samples?: number;
  seed?: number;
  widths?: readonly number[];
  resolutions?: readonly number[];
  /** A cell needs at least this fraction of its samples to fit to be chosen (evolution needs room). */
  minFitFraction?: number;
  /** Costs of a batch of subnets (default: screened here, one at a time; the CLI passes a worker pool). */
  evaluate?: (space: SpaceConfig, archs: Arch[], limits: Limits) => Promise<SubnetCost[]>;
  /**
   * Exact costs (the compile pipeline's plans, patch-based included) of subnets `evaluate` rejected on SRAM
   * alone, for limits so tight that only patch-based plans fit. Measured a round at a time; a cell whose
   * first round rescues none keeps the screen's verdict for the rest (an exact plan costs ~50x a screen,
   * and cells where patches rescue nothing are the many too large for the board).
   */
  rescue?: (space: SpaceConfig, archs: Arch[], limits: Limits) => Promise<SubnetCost[]>;
  /** Subnets per round of `rescue` (default 32). */
  rescueRound?: number;
  onCell?: (done: number, total: number, cell: SpaceCell) => void;
}

export interface SpaceResult {
  space: string;
  limits: Limits;
  samples: number;
  seed: number;
  cells: SpaceCell[];
  /** The chosen cell (null when no cell has enough fitting subnets). */
  best: SpaceCell | null;
  minFitFraction: number;
}

/** The samples of one cell: a seed of their own, so a cell's result does not depend on the others'. */
export function cellSamples(space: SpaceConfig, width: number, resolution: number, n: number, seed: number): Arch[] {
  const rand = seededRandom((seed * 1_000_003) ^ Math.round(width * 1000) * 7919 ^ resolution * 104_729);
  return Array.from({ length: n }, () => sampleArch(space, rand, { width, resolution }));
}

export function summariseCell(width: number, resolution: number, costs: readonly SubnetCost[], rescued = 0, unmeasured = 0): SpaceCell {
  const fit = costs.filter((c) => c.fits);
  const macs = fit.map((c) => c.macs).sort((a, b) => a - b);
  const count = (re: RegExp) => costs.filter((c) => c.misses.some((m) => re.test(m))).length;
  return {
    width, resolution, sampled: costs.length, fitting: fit.length, macs,
    meanMacs: macs.length ? macs.reduce((s, m) => s + m, 0) / macs.length : 0,
    minSramBytes: Math.min(...costs.map((c) => c.sramBytes)),
    missedSram: count(/^SRAM/), missedFlash: count(/^Flash/), missedMacs: count(/MACs/),
    rescued, unmeasured,
  };
}

const sramOnly = (c: SubnetCost) => !c.fits && c.misses.every((m) => m.startsWith('SRAM'));

/** The cell's costs with SRAM-only rejects re-measured by `rescue` (see SpaceOptions.rescue). */
async function rescueCell(space: SpaceConfig, archs: Arch[], costs: SubnetCost[], limits: Limits, rescue: NonNullable<SpaceOptions['rescue']>, round: number) {
  const out = [...costs];
  const todo = archs.map((_, i) => i).filter((i) => sramOnly(costs[i]));
  let rescued = 0;
  let done = 0;
  while (done < todo.length && (done === 0 || rescued > 0)) {
    const ids = todo.slice(done, done + round);
    const exact = await rescue(space, ids.map((i) => archs[i]), limits);
    ids.forEach((i, k) => { out[i] = exact[k]; if (exact[k].fits) rescued++; });
    done += ids.length;
  }
  return { costs: out, rescued, unmeasured: todo.length - done };
}

const screenAll = async (space: SpaceConfig, archs: Arch[], limits: Limits) => archs.map((a) => screenSubnet(space, a, limits));

export async function optimiseSpace(space: SpaceConfig, limits: Limits, o: SpaceOptions = {}): Promise<SpaceResult> {
  const samples = o.samples ?? 1000;
  const seed = o.seed ?? 1;
  const minFitFraction = o.minFitFraction ?? 0.05;
  const widths = o.widths ?? space.widths;
  const resolutions = o.resolutions ?? space.resolutions;
  const evaluate = o.evaluate ?? screenAll;
  const grid = widths.flatMap((w) => resolutions.map((r) => [w, r] as const));
  const cells: SpaceCell[] = [];
  for (const [w, r] of grid) {
    const archs = cellSamples(space, w, r, samples, seed);
    const screened = await evaluate(space, archs, limits);
    const { costs, rescued, unmeasured } = o.rescue ? await rescueCell(space, archs, screened, limits, o.rescue, o.rescueRound ?? 32) : { costs: screened, rescued: 0, unmeasured: 0 };
    const cell = summariseCell(w, r, costs, rescued, unmeasured);
    cells.push(cell);
    o.onCell?.(cells.length, grid.length, cell);
  }
  const eligible = cells.filter((c) => c.fitting >= Math.max(1, minFitFraction * c.sampled));
  const best = eligible.reduce<SpaceCell | null>((b, c) => (!b || c.meanMacs > b.meanMacs ? c : b), null);
  return { space: space.name, limits, samples, seed, cells, best, minFitFraction };
}

/** Fraction of a cell's fitting subnets with at most `macs` MACs: the CDF the paper plots (0 when none fit). */
export function cdfAt(cell: SpaceCell, macs: number): number {
  let lo = 0, hi = cell.macs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cell.macs[mid] <= macs) lo = mid + 1; else hi = mid;
  }
  return cell.macs.length ? lo / cell.macs.length : 0;
}
