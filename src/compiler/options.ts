import type { Board } from '../boards/boards.js';
import type { ReuseOptions, StrategyName } from '../plan/memory_plan.js';
import type { IoChoice } from './int8_io.js';

/**
 * What a compile optimises when several plans are possible: `memory` takes the smallest peak (the fastest
 * among equal peaks), `speed` the fastest plan (standard kernels, layer by layer), `balanced` the least
 * peak x estimated time (a plan that is x times faster may take up to x times the memory).
 */
export type Objective = 'balanced' | 'memory' | 'speed';

/**
 * Patch-based inference: the planner's search, none, or one fixed split up to a node, given by its index or
 * by the name of the tensor it writes (as `tinyml plan` prints them): `cols` n, n x n tiles (halos
 * recomputed); `cols` 1, n full-width strips (rows cached per layer).
 */
export type PatchChoice = 'auto' | 'off' | { n: number; cols: number; lastNode: number | string };

/** Everything that decides how a model is run; every command takes these and nothing else. */
export interface CompileOptions {
  /** Fold each PAD into the convolution that reads it (explicit padding; no padded tensor). */
  fusePads?: boolean;
  patch?: PatchChoice;
  /** Cap on a patch plan's extra MACs, a fraction of the model's (0.2 = 20 %). */
  maxOverhead?: number;
  /**
   * Without a board the default is `balanced`. With a board and no objective: the fastest plan that fits
   * the board (the smallest when none fits).
   */
  objective?: Objective;
  board?: Board;
  /** SRAM the application needs beside the arena on `board` (the C project's stack): counted when fitting. */
  reservedSramBytes?: number;
  /** Reuse tricks to switch off (all on by default); none changes an output. */
  tricks?: Partial<ReuseOptions>;
  /** Packing strategies to try (default: all of the planner's). */
  strategies?: readonly StrategyName[];
  /**
   * The model's boundary: its own tensors ('model', default), or 'int8': boundary QUANTIZE/DEQUANTIZE ops
   * dropped so int8 data goes in and comes out directly (compiler/int8_io.ts).
   */
  io?: IoChoice;
  /** Give every tensor its own memory so every intermediate can be read after a run (debugging). */
  preserveAll?: boolean;
}

/** The defaults of every command, in one place. */
export const DEFAULT_COMPILE_OPTIONS = {
  fusePads: true,
  patch: 'auto',
  maxOverhead: 0.2,
} as const satisfies CompileOptions;
