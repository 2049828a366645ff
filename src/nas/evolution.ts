/**
 * TinyNAS stage 2's search: an evolutionary search over the chosen space under the board's limits.
 * A population of subnets that fit; each generation keeps the best `parents`, and fills the rest with
 * mutants and crossovers of them, every child re-drawn until it fits. Scores come from the caller
 * (validation accuracy with weights inherited from the supernet), cached by architecture.
 */
import { InputError } from '../errors.js';
import { seededRandom } from '../util/random.js';
import type { SubnetCost } from './resources.js';
import type { Arch, SpaceConfig } from './space.js';
import { archKey, crossoverArch, mutateArch, sampleArch } from './space.js';

export interface Candidate {
  arch: Arch;
  key: string;
  score: number;
  cost: SubnetCost;
}

export interface EvolutionOptions {
  population?: number;
  generations?: number;
  /** Fraction of the population kept as parents. */
  parentRatio?: number;
  /** Fraction of the children made by mutation (the rest by crossover). */
  mutateRatio?: number;
  /** Probability that a gene is re-drawn in a mutation. */
  mutationProb?: number;
  seed?: number;
  /** Tries to draw a child that fits before the generation gives up on that slot. */
  maxTries?: number;
}

export interface EvolutionHooks {
  /** Resources of a subnet (fits or not). */
  cost(archs: Arch[]): Promise<SubnetCost[]>;
  /** Higher is better (validation accuracy); a batch at a time, so it can run in parallel. */
  score(archs: Arch[]): Promise<number[]>;
  onGeneration?(generation: number, best: Candidate, population: readonly Candidate[]): void;
  /** Stop early (a time budget): checked between generations. */
  stop?(): boolean;
  /** A saved population to continue from (resume), and its generation. */
  resume?: { generation: number; population: Candidate[] };
}

export interface EvolutionResult {
  best: Candidate;
  /** Every scored candidate (for the report's accuracy-vs-resources chart). */
  history: Candidate[];
  generations: number;
}

export async function evolve(space: SpaceConfig, cell: { width: number; resolution: number }, hooks: EvolutionHooks, o: EvolutionOptions = {}): Promise<EvolutionResult> {
  const P = o.population ?? 100;
  const G = o.generations ?? 30;
  const parents = Math.max(1, Math.round(P * (o.parentRatio ?? 0.25)));
  const mutants = Math.round((P - parents) * (o.mutateRatio ?? 0.5));
  const pm = o.mutationProb ?? 0.1;
  const maxTries = o.maxTries ?? 200;
  const scored = new Map<string, Candidate>();
  const history: Candidate[] = [];

  /** Draw `n` fitting architectures from `make`, in batches so the cost can run in workers. */
  const drawFitting = async (n: number, make: () => Arch, seen: Set<string>): Promise<{ arch: Arch; cost: SubnetCost }[]> => {
    const out: { arch: Arch; cost: SubnetCost }[] = [];
    let tries = 0;
    while (out.length < n && tries < maxTries * n) {
      const batch: Arch[] = [];
      while (batch.length < Math.max(4, 2 * (n - out.length)) && tries < maxTries * n) {
        tries++;
        const a = make();
        const k = archKey(space, a);
        if (seen.has(k)) continue;
        seen.add(k);
        batch.push(a);
      }
      const costs = await hooks.cost(batch);
      batch.forEach((a, i) => { if (costs[i].fits && out.length < n) out.push({ arch: a, cost: costs[i] }); });
    }
    return out;
  };
  const scoreAll = async (items: { arch: Arch; cost: SubnetCost }[]): Promise<Candidate[]> => {
    const fresh = items.filter((it) => !scored.has(archKey(space, it.arch)));
    const scores = await hooks.score(fresh.map((it) => it.arch));
    fresh.forEach((it, i) => {
      const c = { arch: it.arch, key: archKey(space, it.arch), score: scores[i], cost: it.cost };
      scored.set(c.key, c);
      history.push(c);
    });
    return items.map((it) => scored.get(archKey(space, it.arch))!);
  };
  const byScore = (a: Candidate, b: Candidate) => b.score - a.score || a.cost.macs - b.cost.macs;

  let generation = 0;
  let population: Candidate[];
  if (hooks.resume) {
    generation = hooks.resume.generation;
    population = hooks.resume.population;
    for (const c of population) { scored.set(c.key, c); history.push(c); }
  } else {
    const rand = seededRandom(o.seed ?? 1);
    const first = await drawFitting(P, () => sampleArch(space, rand, cell), new Set());
    // The user's limits (or a cell they named) admit nothing: theirs to change, so a plain message, not a bug.
    if (first.length === 0) throw new InputError(`no subnet of ${space.name} at width ${cell.width}, resolution ${cell.resolution} fits the limits (up to ${maxTries * P} draws)`);
    population = (await scoreAll(first)).sort(byScore);
    hooks.onGeneration?.(0, population[0], population);
  }
  while (generation < G && !(hooks.stop?.() ?? false)) {
    generation++;
    const rand = seededRandom(((o.seed ?? 1) * 2_654_435_761 + generation) >>> 0);
    const top = population.slice(0, parents);
    const seen = new Set(population.map((c) => c.key));
    const pick = () => top[Math.floor(rand() * top.length)].arch;
    const kids = [
      ...(await drawFitting(mutants, () => mutateArch(space, pick(), rand, pm), seen)),
      ...(await drawFitting(P - parents - mutants, () => crossoverArch(pick(), pick(), rand), seen)),
    ];
    population = [...top, ...(await scoreAll(kids))].sort(byScore).slice(0, P);
    hooks.onGeneration?.(generation, population[0], population);
  }
  return { best: population[0], history, generations: generation };
}
