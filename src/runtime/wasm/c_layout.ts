import { KERNEL_HEADERS, readCsrc } from '../../codegen/kernels.js';

/**
 * The memory layout of the kernel library's parameter structs on wasm32 (ILP32: 4-byte pointers, natural
 * alignment), read from the typedefs in csrc/kernels itself so the layout can never drift from the C.
 */
export type CFieldType = 'int8_t' | 'uint8_t' | 'int16_t' | 'int32_t' | 'uint32_t' | 'float' | 'ptr';

export interface CField {
  name: string;
  type: CFieldType;
  /** Elements: 1, or the length of a fixed array field. */
  count: number;
  offset: number;
}

export interface CStructLayout {
  name: string;
  size: number;
  align: number;
  fields: ReadonlyMap<string, CField>;
}

const SIZES: Readonly<Record<CFieldType, number>> = { int8_t: 1, uint8_t: 1, int16_t: 2, int32_t: 4, uint32_t: 4, float: 4, ptr: 4 };

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/**
 * Every `typedef struct { ... } name;` in a header's text, as a layout, or as the reason it has none (a
 * kernel's internal struct of SIMD vectors is never a parameter, so only asking for it is an error).
 */
export function parseStructs(source: string): (CStructLayout | { name: string; problem: string })[] {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const out: (CStructLayout | { name: string; problem: string })[] = [];
  for (const m of text.matchAll(/typedef\s+struct\s*\{([^}]*)\}\s*(\w+)\s*;/g)) {
    try {
      out.push(layoutOf(m[2], m[1]));
    } catch (e) {
      out.push({ name: m[2], problem: (e as Error).message });
    }
  }
  return out;
}

function layoutOf(name: string, body: string): CStructLayout {
  const fields = new Map<string, CField>();
  let offset = 0, align = 1;
  for (const decl of body.split(';').map((d) => d.trim()).filter(Boolean)) {
    const head = /^(?:const\s+)?(\w+)\s+(.+)$/.exec(decl);
    if (!head) throw new Error(`struct ${name}: cannot read field declaration "${decl}"`);
    for (const declarator of head[2].split(',').map((d) => d.trim())) {
      const d = /^(\*?)\s*(\w+)\s*(?:\[(\d+)\])?$/.exec(declarator);
      if (!d) throw new Error(`struct ${name}: cannot read declarator "${declarator}"`);
      const type: CFieldType = d[1] ? 'ptr' : (head[1] as CFieldType);
      if (!(type in SIZES)) throw new Error(`struct ${name}: field type ${head[1]} is not one the layout knows`);
      const size = SIZES[type];
      offset = alignUp(offset, size);
      const count = d[3] ? Number(d[3]) : 1;
      fields.set(d[2], { name: d[2], type, count, offset });
      offset += size * count;
      align = Math.max(align, size);
    }
  }
  return { name, size: alignUp(offset, align), align, fields };
}

let cache: Map<string, CStructLayout | { name: string; problem: string }> | null = null;

/** The layout of a parameter struct of the kernel library, by its typedef name. */
export function structLayout(name: string): CStructLayout {
  if (!cache) {
    cache = new Map();
    for (const h of KERNEL_HEADERS) for (const s of parseStructs(readCsrc(`kernels/${h}`))) cache.set(s.name, s);
  }
  const s = cache.get(name);
  if (!s) throw new Error(`no struct ${name} in the C kernel library`);
  if ('problem' in s) throw new Error(s.problem);
  return s;
}
