/** Typed errors of the training engine; each names what is at fault and, where it can, the way out. */
import { DoesNotFitError, TinymlError } from '../errors.js';

/**
 * No training configuration fits the memory budget. `smallestBytes` is the least any configuration
 * allowed by the request needs (`smallestConfig` describes it): the budget that would have worked.
 */
export class TrainingBudgetError extends DoesNotFitError {
  constructor(readonly budgetBytes: number, readonly smallestBytes: number, readonly smallestConfig: string, what: string) {
    super('SRAM', smallestBytes, budgetBytes, `${what}; the smallest budget that fits is ${smallestBytes} bytes (${(smallestBytes / 1024).toFixed(1)} KB, ${smallestConfig})`, 'the budget is');
  }
}

/** The loss or an update became NaN/infinite (or exploded): training stopped, no model is returned. */
export class DivergenceError extends TinymlError {
  constructor(readonly step: number, readonly loss: number, detail: string) {
    super(`training diverged at step ${step} (loss ${loss}): ${detail}; lower the learning rate`);
  }
}

/** The training request itself is inconsistent (bad update spec, batch the graph cannot take...). */
export class TrainingConfigError extends TinymlError {}
