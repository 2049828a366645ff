import type { PackingStrategy } from './strategy.js';
import { greedyBySize } from './greedy_size.js';
import { greedyByBreadth } from './greedy_breadth.js';
import { localSearch } from './local_search.js';
import { exact } from './exact.js';
import { noReuse } from './no_reuse.js';

export type StrategyName = 'greedy-size' | 'greedy-breadth' | 'local-search' | 'exact' | 'no-reuse';

export const STRATEGIES: Readonly<Record<StrategyName, PackingStrategy>> = {
  'greedy-size': greedyBySize,
  'greedy-breadth': greedyByBreadth,
  'local-search': localSearch,
  exact,
  'no-reuse': noReuse,
};

/** The strategies `planMemory` tries by default; the smallest arena wins. */
export const DEFAULT_STRATEGIES: readonly StrategyName[] = ['greedy-size', 'greedy-breadth', 'local-search', 'exact'];

export function isStrategyName(s: string): s is StrategyName {
  return Object.prototype.hasOwnProperty.call(STRATEGIES, s);
}
