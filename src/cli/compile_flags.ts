import { findBoard } from '../boards/boards.js';
import type { Board } from '../boards/boards.js';
import type { CompileOptions, Objective, PatchChoice } from '../compiler/options.js';
import { DEFAULT_COMPILE_OPTIONS } from '../compiler/options.js';
import type { IoChoice } from '../compiler/int8_io.js';
import { InputError } from '../errors.js';
import { reservedSramBytes } from '../codegen/target.js';

/** The flags every command that compiles a model shares (inspect, run, plan, compile). */
export interface CompileFlags {
  board?: string;
  /** 'auto', 'off' or 'NxN@LAYER' (LAYER: a node index or the name of the tensor it writes). */
  patch?: string;
  /** Cap on extra MACs of patch-based plans, percent of the model's MACs. */
  maxOverhead?: string;
  /** 'on' or 'off': fold each PAD into the convolution that reads it. */
  fusePad?: string;
  objective?: string;
  /** 'model' or 'int8': keep the model's float boundary or drop it (int8 data in and out). */
  io?: string;
}

export function parseIo(spec: string | undefined): IoChoice | undefined {
  if (spec === undefined || spec === 'model') return undefined;
  if (spec === 'int8') return spec;
  throw new InputError(`--io takes model or int8, got "${spec}"`);
}

export function parseFusePad(spec: string | undefined): boolean {
  if (spec === undefined) return DEFAULT_COMPILE_OPTIONS.fusePads;
  if (spec === 'on') return true;
  if (spec === 'off') return false;
  throw new InputError(`--fuse-pad takes on or off, got "${spec}"`);
}

export function parsePatch(spec: string | undefined): PatchChoice {
  if (spec === undefined) return DEFAULT_COMPILE_OPTIONS.patch;
  if (spec === 'auto' || spec === 'off') return spec;
  const m = /^(\d+)x(\d+)@(.+)$/.exec(spec);
  if (!m || (m[1] !== m[2] && m[2] !== '1') || Number(m[1]) < 1) {
    throw new InputError(`--patch takes auto, off, NxN@LAYER (square tiles) or Nx1@LAYER (full-width strips with row caches); LAYER a node index or tensor name, e.g. 4x4@7 or 12x1@7; got "${spec}"`);
  }
  return { n: Number(m[1]), cols: Number(m[2]), lastNode: /^\d+$/.test(m[3]) ? Number(m[3]) : m[3] };
}

export function parseOverhead(spec: string | undefined): number {
  if (spec === undefined) return DEFAULT_COMPILE_OPTIONS.maxOverhead;
  const v = Number(String(spec).replace(/%$/, ''));
  if (String(spec).trim() === '' || !Number.isFinite(v) || v < 0) throw new InputError(`--max-overhead takes a non-negative percentage, got "${spec}"`);
  return v / 100;
}

export function parseObjective(spec: string | undefined): Objective | undefined {
  if (spec === undefined) return undefined;
  if (spec === 'balanced' || spec === 'memory' || spec === 'speed') return spec;
  throw new InputError(`--objective takes balanced, memory or speed, got "${spec}"`);
}

/** A board flag that was given must name a board: an empty value is an error, not "no board". */
export function parseBoard(spec: string | undefined): Board | undefined {
  if (spec === undefined) return undefined;
  return findBoard(spec);
}

/** Every shared flag checked before any work: a typo never costs a planning run. */
export function compileOptionsFrom(flags: CompileFlags): CompileOptions {
  const board = parseBoard(flags.board);
  const objective = parseObjective(flags.objective);
  const io = parseIo(flags.io);
  return {
    ...(io ? { io } : {}),
    fusePads: parseFusePad(flags.fusePad),
    patch: parsePatch(flags.patch),
    maxOverhead: parseOverhead(flags.maxOverhead),
    ...(objective ? { objective } : {}),
    ...(board ? { board, reservedSramBytes: reservedSramBytes(board) } : {}),
  };
}
