/**
 * Choosing a learning rate as the paper did for every row of its table: train once per candidate rate
 * and keep the one that scores best on a validation split held out of the training images. The test
 * split never takes part, so the accuracy reported afterwards is not tuned on.
 */
import type { Dataset } from '../data/dataset.js';
import { DivergenceError, TrainingConfigError } from './errors.js';
import type { ProgressSink, TrainRequest } from './workflow.js';
import { runTraining } from './workflow.js';

export interface RateTrial {
  lr: number;
  /** Validation accuracy; null when training diverged at this rate. */
  accuracy: number | null;
  seconds: number;
}

export interface RateChoice {
  lr: number;
  accuracy: number;
  trials: RateTrial[];
}

export interface ValidationSplit {
  train: Dataset;
  validation: Dataset;
}

/**
 * Train `req` at each of `rates` on `split.train` and score on `split.validation`: a float model by its
 * float accuracy (what its training achieved, before any quantisation), an int8 model by its int8
 * accuracy. Ties go to the earlier rate. A diverging rate is recorded and skipped, not fatal.
 */
export function chooseLearningRate(req: TrainRequest, rates: readonly number[], split: ValidationSplit, progress?: (lr: number) => ProgressSink): RateChoice {
  if (rates.length === 0) throw new TrainingConfigError('learning-rate sweep: give at least one rate');
  const bad = rates.find((r) => !(r > 0 && Number.isFinite(r)));
  if (bad !== undefined) throw new TrainingConfigError(`learning-rate sweep: rate ${bad} is not a positive number`);
  if (split.train === split.validation) throw new TrainingConfigError('learning-rate sweep: the validation split must be held out of the training images');
  const trials: RateTrial[] = [];
  for (const lr of rates) {
    const t0 = performance.now();
    let accuracy: number | null = null;
    try {
      const o = runTraining({ ...req, lr, out: undefined, dataset: { train: split.train, test: split.validation } }, progress?.(lr));
      accuracy = o.floatAccuracy ?? o.after.accuracy;
    } catch (e) {
      if (!(e instanceof DivergenceError)) throw e;
    }
    trials.push({ lr, accuracy, seconds: (performance.now() - t0) / 1000 });
  }
  let best: RateTrial | null = null;
  for (const t of trials) if (t.accuracy !== null && (best === null || t.accuracy > best.accuracy!)) best = t;
  if (!best) throw new DivergenceError(0, NaN, `every learning rate of the sweep (${rates.join(', ')}) diverged`);
  return { lr: best.lr, accuracy: best.accuracy!, trials };
}
