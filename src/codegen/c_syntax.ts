/**
 * Small, typed builders for the C constructs the generator emits: literals, identifiers, arrays, struct
 * initialisers, comments. Every emitter goes through these, so quoting, number formatting and line
 * wrapping are decided once.
 */

export type CScalarType = 'int8_t' | 'uint8_t' | 'int16_t' | 'int32_t' | 'uint32_t' | 'int64_t' | 'float';

/** Bytes of one value of a C scalar type. */
export function cTypeBytes(type: CScalarType): number {
  return type === 'int8_t' || type === 'uint8_t' ? 1 : type === 'int16_t' ? 2 : type === 'int64_t' ? 8 : 4;
}

/** A C identifier from arbitrary text (tensor names such as "model/conv2d/Conv2D;bias"). */
export function cIdent(text: string): string {
  const s = text.replace(/[^A-Za-z0-9_]/g, '_').replace(/_+/g, '_');
  return /^[A-Za-z_]/.test(s) ? s : `_${s}`;
}

/** An int32 literal; INT32_MIN cannot be written directly in C. */
export function cInt(n: number): string {
  if (!Number.isInteger(n)) throw new Error(`cInt: ${n} is not an integer`);
  if (n === -2147483648) return '(-2147483647 - 1)';
  return String(n);
}

/** A float32 constant, exact: nine significant digits round-trip any float32. */
export function cFloat(x: number): string {
  const f = Math.fround(x);
  if (!Number.isFinite(f)) throw new Error(`cFloat: ${x} is not finite`);
  if (Number.isInteger(f) && Math.abs(f) < 1e9) return `${f}.0f`;
  return `${f.toPrecision(9)}f`;
}

/** Text for a comment that cannot close itself early. */
export function cCommentText(text: string): string {
  return text.replace(/\*\//g, '* /');
}

export function cComment(text: string, indent = ''): string {
  const lines = cCommentText(text).split('\n');
  if (lines.length === 1) return `${indent}/* ${lines[0]} */`;
  return [`${indent}/*`, ...lines.map((l) => `${indent} * ${l}`.trimEnd()), `${indent} */`].join('\n');
}

/** Comma-separated values wrapped to lines of at most `width` characters. */
export function cValueList(values: readonly string[], indent = '  ', width = 110): string {
  const lines: string[] = [];
  let line = '';
  for (const v of values) {
    const piece = line ? `${line}, ${v}` : v;
    if (piece.length + indent.length > width && line) {
      lines.push(`${indent}${line},`);
      line = v;
    } else {
      line = piece;
    }
  }
  if (line) lines.push(`${indent}${line}`);
  return lines.join('\n');
}

export interface CArray {
  name: string;
  type: CScalarType;
  values: ArrayLike<number>;
  /** Byte alignment (TM_ALIGN); weights use 4 or more so word loads are aligned where possible. */
  align?: number;
  comment?: string;
  /** `static` in its file, or visible to other files (declared in weights.h). */
  linkage: 'static' | 'extern';
  /** Written at run time (a parameter a compiled training step updates): no `const`, so it lives in SRAM. */
  mutable?: boolean;
}

function formatValue(type: CScalarType, v: number): string {
  if (type === 'int64_t') return `INT64_C(${v})`;
  return type === 'float' ? cFloat(v) : cInt(v);
}

/** `const T name[n] TM_ALIGN(a) = { ... };` */
export function cArrayDefinition(a: CArray): string {
  const vals = Array.from(a.values, (v) => formatValue(a.type, v));
  const constness = a.mutable ? '' : ' const';
  const storage = a.linkage === 'static' ? `static${constness}` : constness.trim();
  const align = a.align ? ` TM_ALIGN(${a.align})` : '';
  const head = `${storage ? `${storage} ` : ''}${a.type} ${a.name}[${Math.max(vals.length, 1)}]${align} = {`;
  const body = vals.length ? cValueList(vals) : '  0';
  const comment = a.comment ? `${cComment(a.comment)}\n` : '';
  return `${comment}${head}\n${body}\n};`;
}

export function cArrayDeclaration(a: CArray): string {
  return `extern${a.mutable ? '' : ' const'} ${a.type} ${a.name}[${Math.max(a.values.length, 1)}];`;
}

/** A struct field's number: an integer literal, or a float constant for a float field's fraction. */
function cNumber(n: number): string {
  return Number.isInteger(n) ? cInt(n) : cFloat(n);
}

/** A designated struct initialiser: `{ .a = 1, .b = 2 }` from ordered fields. */
export type CFieldValue = string | number | readonly (string | number)[];

export function cStructInit(fields: Readonly<Record<string, CFieldValue>>): string {
  const parts = Object.entries(fields).map(([k, v]) => {
    const text = Array.isArray(v) ? `{${v.map((x) => (typeof x === 'number' ? cNumber(x) : x)).join(', ')}}` : typeof v === 'number' ? cNumber(v) : v;
    return `.${k} = ${text}`;
  });
  return `{\n${cValueList(parts, '  ', 110)}\n}`;
}

/** `static const T name = { ... };` */
export function cConstStruct(type: string, name: string, fields: Readonly<Record<string, CFieldValue>>): string {
  return `static const ${type} ${name} = ${cStructInit(fields)};`;
}

/** `name(arg, arg, ...);` */
export function cCall(fn: string, args: readonly string[]): string {
  return `${fn}(${args.join(', ')});`;
}
