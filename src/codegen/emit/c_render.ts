import { cArrayDefinition, cComment, cConstStruct, cFloat, cInt } from '../c_syntax.js';
import type { CArg, Definition, Statement } from '../lower/kernel_call.js';
import { isCArray } from '../lower/kernel_call.js';

/** A lowered definition as model.c text. */
export function renderDefinition(d: Definition): string {
  if (d.kind === 'array') return cArrayDefinition(d.array);
  const fields = Object.fromEntries(Object.entries(d.struct.fields).map(([k, v]) => [k, isCArray(v) ? v.name : v]));
  return cConstStruct(d.struct.type, d.struct.name, fields);
}

export function renderArg(a: CArg): string {
  switch (a.kind) {
    case 'arena': return `ARENA(${a.offset}, ${a.type})`;
    case 'const': return a.cast ? `${a.cast}${a.array.name}` : a.array.name;
    case 'struct': return `&${a.struct.name}`;
    case 'int': return cInt(a.value);
    case 'float': return cFloat(a.value);
  }
}

/** A lowered statement as one line of model_invoke. */
export function renderStatement(s: Statement): string {
  return s.kind === 'comment' ? cComment(s.text) : `${s.fn}(${s.args.map(renderArg).join(', ')});`;
}
