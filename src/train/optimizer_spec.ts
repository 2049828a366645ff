/** How parameters move: the optimizer, and how an update lands on int8 weights. */

export type OptimizerSpec =
  | { kind: 'sgd'; lr: number; momentum?: number; weightDecay?: number }
  | { kind: 'adam'; lr: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number };

/**
 * How an int8 (or int32 bias) parameter takes a fractional update:
 * - `stochastic`: round up with probability equal to the fraction. Unbiased (the expected parameter
 *   follows the float trajectory), needs no extra memory: the default.
 * - `shadow`: keep a float32 copy of every trained element in SRAM (4 bytes each, counted) and round it
 *   to the stored integer after each update; exact SGD, 4x the memory of the int8 weights.
 * - `nearest`: round to nearest; updates under half a step are lost (shown for comparison).
 */
export type Rounding = 'stochastic' | 'shadow' | 'nearest';

/** Float32 state values per trained element. */
export function stateSlots(o: OptimizerSpec): number {
  if (o.kind === 'adam') return 2;
  return o.momentum ? 1 : 0;
}

export const DEFAULT_OPTIMIZER: OptimizerSpec = { kind: 'sgd', lr: 0.01, momentum: 0 };
