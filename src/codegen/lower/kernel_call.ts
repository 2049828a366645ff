import type { CArray, CScalarType } from '../c_syntax.js';

/**
 * A lowered layer as data: the constant structs and arrays its kernels read and the calls they make, with
 * every pointer still symbolic (an arena offset, a constant array, a struct). The C emitter prints it as
 * model.c; the WebAssembly backend lays the same objects out in its memory and makes the same calls, so
 * the MCU and the host run one kernel library with one set of parameters.
 */

/** A field of a constant struct: a number, a fixed-size array, or a pointer to a constant array. */
export type CStructField = number | readonly number[] | CArray;

/** `static const <type> <name> = {...}`: fields named and ordered as the header's typedef declares them. */
export interface CStruct {
  type: string;
  name: string;
  fields: Readonly<Record<string, CStructField>>;
}

/** One argument of a kernel call. */
export type CArg =
  | { kind: 'arena'; offset: number; type: CScalarType }
  | { kind: 'const'; array: CArray; cast?: string }
  | { kind: 'struct'; struct: CStruct }
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number };

export type Statement =
  | { kind: 'call'; fn: string; args: readonly CArg[] }
  | { kind: 'comment'; text: string };

/** A definition of model.c: a constant struct, or a small constant array (multipliers, shifts). */
export type Definition = { kind: 'struct'; struct: CStruct } | { kind: 'array'; array: CArray };

export function isCArray(v: CStructField): v is CArray {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'values' in v;
}

export const call = (fn: string, ...args: CArg[]): Statement => ({ kind: 'call', fn, args });
export const comment = (text: string): Statement => ({ kind: 'comment', text });
export const intArg = (value: number): CArg => ({ kind: 'int', value });
export const floatArg = (value: number): CArg => ({ kind: 'float', value });
export const structArg = (struct: CStruct): CArg => ({ kind: 'struct', struct });
export const constArg = (array: CArray, cast?: string): CArg => ({ kind: 'const', array, cast });
export const structDef = (struct: CStruct): Definition => ({ kind: 'struct', struct });
export const arrayDef = (array: CArray): Definition => ({ kind: 'array', array });

/** The kernel functions a layer calls, in order (reports and the project's layer list). */
export function calledKernels(statements: readonly Statement[]): string[] {
  return statements.flatMap((s) => (s.kind === 'call' ? [s.fn] : []));
}
