/**
 * The automatic sparse-update choice: maximise the summed contribution of the trained groups (biases
 * of the last N layers, weights of chosen layers at a channel ratio) subject to the training step's
 * planned peak memory fitting the budget. Memory is not additive (it is a peak over steps), so every
 * candidate is compiled and planned exactly; an evolutionary search (as in the paper) explores from
 * seeds found by bisection (the most bias layers that fit, the deepest last-k that fits).
 */
import type { Graph } from '../graph/graph.js';
import type { Samples } from '../data/samples.js';
import type { CompileOptions } from './program.js';
import { compileTraining } from './compile.js';
import { planTrainingMemory } from './memory.js';
import type { OptimizerSpec, Rounding } from './optimizer_spec.js';
import type { UpdateSpec, WeightUpdate } from './update.js';
import { formatUpdate } from './update.js';
import type { LayerContribution } from './contribution.js';
import { contributions, weightContribution } from './contribution.js';
import { layersOf } from './graph_prep.js';
import { seededRandom } from '../util/random.js';
import { TrainingBudgetError } from './errors.js';

export interface AutoOptions {
  budgetBytes: number;
  optimizer?: OptimizerSpec;
  rounding?: Rounding;
  qas?: boolean;
  compile?: Pick<CompileOptions, 'prune' | 'reorder' | 'compactSaves'>;
  /** Channel ratios a weight update may use. Default 1/8, 1/4, 1/2, 1. */
  ratios?: number[];
  /** Samples of the gradient probe. Default 32. */
  probeSamples?: number;
  /** Configurations planned by the evolutionary search (besides the seeds). Default 240. */
  evaluations?: number;
  seed?: number;
  /** Always update the classifier (the last layer) fully, as the paper does. Default true. */
  keepClassifier?: boolean;
  /** Precomputed contributions (skip the probe). */
  contributions?: LayerContribution[];
}

export interface AutoCandidate {
  spec: UpdateSpec;
  peakBytes: number;
  score: number;
}

export interface AutoResult extends AutoCandidate {
  /** Configurations compiled and planned. */
  evaluated: number;
  /** The cheapest configuration considered: the smallest budget any choice needs. */
  smallest: AutoCandidate;
  /** The best bias-only and last-k configurations under the budget, for comparison. */
  bestBiasOnly: AutoCandidate | null;
  bestLastK: AutoCandidate | null;
  contributions: LayerContribution[];
}

/** Genome: how many last layers train biases, and each trainable layer's weight ratio (0: frozen). */
interface Genome {
  nBias: number;
  ratios: number[];
}

export function chooseUpdate(graph: Graph, data: Samples, opts: AutoOptions): AutoResult {
  const contrib = opts.contributions ?? contributions(graph, data, { samples: opts.probeSamples, seed: opts.seed });
  const search = new Search(graph, contrib, opts);
  return search.run();
}

class Search {
  private readonly cache = new Map<string, AutoCandidate>();
  private readonly L: number;
  private readonly offset: number;
  private readonly ratios: number[];
  private readonly rand: () => number;
  /** Ratios each layer may take (a flattening FULLY_CONNECTED trains whole or not at all). */
  private readonly choices: number[][];

  constructor(private readonly g: Graph, private readonly contrib: LayerContribution[], private readonly o: AutoOptions) {
    this.L = contrib.length;
    this.offset = layersOf(g).length - this.L; // contrib[i] is graph layer offset + i
    this.ratios = [...(o.ratios ?? [1 / 8, 1 / 4, 1 / 2, 1])].sort((a, b) => a - b);
    this.rand = seededRandom(o.seed ?? 11);
    this.choices = contrib.map((c) => {
      const x = g.tensors[g.nodes[c.layer.node].inputs[0]];
      const flattening = c.layer.kind === 'fc' && x.shape[x.shape.length - 1] !== c.layer.inChannels;
      return flattening ? [0, 1] : [0, ...this.ratios];
    });
  }

  private spec(x: Genome): UpdateSpec {
    const weights: WeightUpdate[] = [];
    x.ratios.forEach((r, i) => { if (r > 0) weights.push({ layer: this.offset + i, ratio: r }); });
    return { kind: 'sparse', biasLayers: x.nBias, weights };
  }

  private score(x: Genome): number {
    let s = 0;
    for (let i = this.L - x.nBias; i < this.L; i++) s += this.contrib[i].bias;
    x.ratios.forEach((r, i) => { s += weightContribution(this.contrib[i], r); });
    return s;
  }

  evaluate(x: Genome): AutoCandidate {
    const spec = this.spec(x);
    const key = formatUpdate(spec);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const p = compileTraining(this.g, spec, { ...this.o.compile, batch: 1, optimizer: this.o.optimizer, rounding: this.o.rounding });
    const c = { spec, peakBytes: planTrainingMemory(p).peakBytes, score: this.score(x) };
    this.cache.set(key, c);
    return c;
  }

  private fits(c: AutoCandidate): boolean {
    return c.peakBytes <= this.o.budgetBytes;
  }

  /** Weights train only where biases do (the paper's constraint); the classifier as asked. */
  private repair(x: Genome): Genome {
    const ratios = x.ratios.map((r, i) => (i >= this.L - x.nBias ? r : 0));
    if (this.o.keepClassifier ?? true) ratios[this.L - 1] = 1;
    return { nBias: Math.max(1, Math.min(this.L, x.nBias)), ratios };
  }

  private genome(nBias: number, lastK = 0): Genome {
    return this.repair({ nBias, ratios: this.contrib.map((_, i) => (i >= this.L - lastK ? 1 : 0)) });
  }

  /** The largest n in [lo, hi] with make(n) fitting (memory grows with n), or null. */
  private bisect(lo: number, hi: number, make: (n: number) => Genome): AutoCandidate | null {
    let best: AutoCandidate | null = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = this.evaluate(make(mid));
      if (this.fits(c)) { best = c; lo = mid + 1; } else { hi = mid - 1; }
    }
    return best;
  }

  run(): AutoResult {
    const minimal = this.evaluate(this.genome(1));
    const bare = this.evaluate(this.repair({ nBias: 1, ratios: this.contrib.map(() => 0) }));
    const smallest = bare.peakBytes < minimal.peakBytes && !(this.o.keepClassifier ?? true) ? bare : minimal;
    if (!this.fits(minimal)) {
      throw new TrainingBudgetError(this.o.budgetBytes, minimal.peakBytes, formatUpdate(minimal.spec), 'no training configuration fits the budget');
    }
    const bestBiasOnly = this.bisect(1, this.L, (n) => this.genome(n));
    const bestLastK = this.bisect(1, this.L, (k) => this.genome(k, k));
    const population: { x: Genome; c: AutoCandidate }[] = [];
    const admit = (x: Genome) => {
      const r = this.repair(x);
      const c = this.evaluate(r);
      if (this.fits(c) && !population.some((p) => p.c === c)) population.push({ x: r, c });
    };
    admit(this.genome(1));
    if (bestBiasOnly) admit(this.genome(this.nBiasOf(bestBiasOnly.spec)));
    if (bestLastK) { const k = this.nBiasOf(bestLastK.spec); admit(this.genome(k, k)); }
    const budget = this.o.evaluations ?? 240;
    const size = 16;
    const start = this.cache.size;
    // Mutations that land on planned configurations cost nothing; cap the attempts, not only the plans.
    for (let attempt = 0; attempt < budget * 8 && this.cache.size - start < budget && population.length > 0; attempt++) {
      population.sort((a, b) => b.c.score - a.c.score);
      population.length = Math.min(population.length, size);
      const parent = population[Math.floor(this.rand() ** 2 * population.length)].x;
      const other = population[Math.floor(this.rand() * population.length)].x;
      admit(this.mutate(this.rand() < 0.3 ? this.crossover(parent, other) : parent));
    }
    population.sort((a, b) => b.c.score - a.c.score);
    const best = population[0].c;
    return { ...best, evaluated: this.cache.size, smallest, bestBiasOnly, bestLastK, contributions: this.contrib };
  }

  private nBiasOf(spec: UpdateSpec): number {
    return spec.kind === 'sparse' ? spec.biasLayers : 1;
  }

  private mutate(x: Genome): Genome {
    const y: Genome = { nBias: x.nBias, ratios: [...x.ratios] };
    const moves = 1 + Math.floor(this.rand() * 2);
    for (let m = 0; m < moves; m++) {
      if (this.rand() < 0.3) {
        y.nBias += this.rand() < 0.5 ? -1 - Math.floor(this.rand() * 3) : 1 + Math.floor(this.rand() * 3);
      } else {
        const lo = Math.max(0, this.L - Math.max(1, y.nBias));
        const i = lo + Math.floor(this.rand() * (this.L - lo));
        const choices = this.choices[i];
        const k = choices.indexOf(y.ratios[i]);
        const step = this.rand() < 0.5 ? -1 : 1;
        y.ratios[i] = choices[Math.max(0, Math.min(choices.length - 1, (k < 0 ? 0 : k) + step))];
      }
    }
    return y;
  }

  private crossover(a: Genome, b: Genome): Genome {
    return { nBias: this.rand() < 0.5 ? a.nBias : b.nBias, ratios: a.ratios.map((r, i) => (this.rand() < 0.5 ? r : b.ratios[i])) };
  }
}
