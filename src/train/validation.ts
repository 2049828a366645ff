import type { Graph } from '../graph/graph.js';
import type { Evaluation } from '../data/evaluate.js';
import { evaluateSamples } from '../data/evaluate.js';
import type { Samples } from '../data/samples.js';
import { lossHead } from './graph_prep.js';

/** Accuracy and cross-entropy of a training graph on samples: the one evaluator, told where the logits are. */
export function evaluate(g: Graph, data: Samples, opts: { limit?: number } = {}): Evaluation {
  const head = lossHead(g);
  return evaluateSamples(g, data, { limit: opts.limit, head: { logits: head.logits, beta: head.beta } });
}
