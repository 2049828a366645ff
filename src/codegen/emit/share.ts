/**
 * One copy of each kernel per layer shape. A patch-based stage runs every layer once per patch; lowered as
 * is, each patch's copy gets its own weights, its own parameter structs and its own specialised kernel
 * (the kernels inline into their call sites), so Flash grows with the patch count. Here identical constant
 * arrays and structs become one, and calls that differ only in their arena pointers become calls of one
 * `noinline` function that holds the kernel specialised once: one kernel per layer shape, shared by every
 * patch of that shape. The edge patches of a stage differ from the interior only in some fields of their
 * shape structs (heights, widths, paddings); a specialised copy each would make Flash grow with the patch
 * count again, so calls that differ only in arena pointers and struct values share one function that
 * starts from one call's struct and takes just the fields that differ from a parameter: the kernel stays
 * specialised to everything else (channels, kernel size, stride, requantisation), which is what its inner
 * loops depend on. Other models gain too wherever two layers are the same (rare: their weights differ).
 */
import type { CArray, CScalarType } from '../c_syntax.js';
import { cComment } from '../c_syntax.js';
import type { CArg, CStruct, CStructField, Definition, Statement } from '../lower/kernel_call.js';
import { isCArray } from '../lower/kernel_call.js';
import { renderArg } from './c_render.js';

export interface SharingLayer {
  definitions: Definition[];
  statements: Statement[];
}

/** An argument of a shared function's kernel call: a constant as lowered, or its `index`-th pointer parameter. */
export type SharedArg = CArg | { kind: 'param'; index: number };

/** A pointer parameter of a shared function: into the arena, or to a constant struct (generic functions). */
export type SharedParam =
  | { kind: 'arena'; type: CScalarType }
  /** A struct whose `varying` fields differ between the call sites: the copy starts from `template` (so every other field stays a constant it is specialised to) and takes those fields from the parameter. */
  | { kind: 'struct'; type: string; template: CStruct; varying: string[] };

/** A function several call sites share: its kernel call with the arena pointers (and for a generic one, the structs) as parameters. */
export interface SharedFunction {
  name: string;
  /** Its pointer parameters, in order. */
  params: SharedParam[];
  /** The kernel call, arena arguments replaced by the parameters. */
  call: { fn: string; args: readonly SharedArg[] };
  uses: number;
}

export interface Shared<L extends SharingLayer> {
  layers: L[];
  weights: CArray[];
  functions: SharedFunction[];
}

/** FNV-1a over an array's values: a quick key; equal keys are compared value by value. */
function hashValues(v: ArrayLike<number>): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < v.length; i++) {
    let x = v[i] | 0;
    if (x !== v[i]) x = Math.round(v[i] * 1e6) | 0; // float values: any stable fold will do, equality is checked after
    h = Math.imul(h ^ (x & 0xff), 16777619);
    h = Math.imul(h ^ ((x >>> 8) & 0xffffff), 16777619);
  }
  return h >>> 0;
}

function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** Arrays by content: the first of each set of equal arrays stands for the others. */
class ArrayPool {
  private readonly byKey = new Map<string, CArray[]>();
  private readonly canonical = new Map<string, CArray>();

  /** The array that stands for `a` (itself when it is the first of its content), and whether it is new. */
  add(a: CArray): { array: CArray; fresh: boolean } {
    const seen = this.canonical.get(a.name);
    if (seen) return { array: seen, fresh: false };
    const key = `${a.linkage}:${a.type}:${a.align ?? 0}:${a.values.length}:${hashValues(a.values)}`;
    const list = this.byKey.get(key) ?? [];
    const same = list.find((b) => sameValues(a.values, b.values));
    if (same) {
      this.canonical.set(a.name, same);
      return { array: same, fresh: false };
    }
    list.push(a);
    this.byKey.set(key, list);
    this.canonical.set(a.name, a);
    return { array: a, fresh: true };
  }
}

function fieldKey(v: CStructField): string {
  return isCArray(v) ? `&${v.name}` : Array.isArray(v) ? `[${v.join(',')}]` : String(v);
}

/** Structs by content (arrays already canonical): the first of each set stands for the others. */
class StructPool {
  private readonly byKey = new Map<string, CStruct>();
  private readonly canonical = new Map<string, CStruct>();

  add(s: CStruct, pool: ArrayPool): { struct: CStruct; fresh: boolean } {
    const seen = this.canonical.get(s.name);
    if (seen) return { struct: seen, fresh: false };
    const fields = Object.fromEntries(Object.entries(s.fields).map(([k, v]) => [k, isCArray(v) ? pool.add(v).array : v]));
    const key = `${s.type}{${Object.entries(fields).map(([k, v]) => `${k}=${fieldKey(v)}`).join(';')}}`;
    const same = this.byKey.get(key);
    if (same) {
      this.canonical.set(s.name, same);
      return { struct: same, fresh: false };
    }
    const own = { ...s, fields };
    this.byKey.set(key, own);
    this.canonical.set(s.name, own);
    return { struct: own, fresh: true };
  }
}

function canonicalArg(a: CArg, arrays: ArrayPool, structs: StructPool): CArg {
  if (a.kind === 'const') return { ...a, array: arrays.add(a.array).array };
  if (a.kind === 'struct') return { ...a, struct: structs.add(a.struct, arrays).struct };
  return a;
}

/**
 * Equal constant arrays and structs as one object across layers, for a consumer that places each object
 * once (the WebAssembly runtime: the patches of a stage then share one copy of their weights and
 * parameters, as weights.c does, instead of one copy per patch).
 */
export class ConstantPool {
  private readonly arrays = new ArrayPool();
  private readonly structs = new StructPool();

  statements(list: readonly Statement[]): Statement[] {
    return list.map((s) => (s.kind === 'call' ? { ...s, args: s.args.map((a) => canonicalArg(a, this.arrays, this.structs)) } : s));
  }
}

/** What makes two calls the same code: everything but the arena offsets. */
function callKey(fn: string, args: readonly CArg[]): string {
  return `${fn}(${args.map((a) => (a.kind === 'arena' ? `@${a.type}` : renderArg(a))).join(',')})`;
}

/** What makes two calls the same generic code: everything but the arena offsets and the structs' values. */
function genericKey(fn: string, args: readonly CArg[]): string {
  return `${fn}(${args.map((a) => (a.kind === 'arena' ? `@${a.type}` : a.kind === 'struct' ? `#${a.struct.type}` : renderArg(a))).join(',')})`;
}

/**
 * The specialised keys whose calls go through a generic copy: those of every generic key reached by two or
 * more of them (the patches of one layer, edge and interior). The interior keeps no copy of its own: one
 * copy per layer costs about 1 % more instructions than two and saves a copy of every stage kernel.
 */
function genericPlan(calls: readonly { fn: string; args: readonly CArg[] }[]): Set<string> {
  const byGeneric = new Map<string, Set<string>>();
  for (const c of calls) {
    if (!c.args.some((a) => a.kind === 'struct')) continue;
    const g = genericKey(c.fn, c.args);
    byGeneric.set(g, (byGeneric.get(g) ?? new Set()).add(callKey(c.fn, c.args)));
  }
  return new Set([...byGeneric.values()].filter((keys) => keys.size >= 2).flatMap((keys) => [...keys]));
}

/**
 * The layers with equal constants merged and repeated calls routed through shared functions named
 * `${namePrefix}model_shared_<n>`; `weights` (the extern arrays of weights.c) without duplicates.
 */
export function shareIdentical<L extends SharingLayer>(layers: readonly L[], weights: readonly CArray[], namePrefix: string): Shared<L> {
  const arrays = new ArrayPool();
  const structs = new StructPool();
  const keptWeights = weights.filter((w) => arrays.add(w).fresh);
  const merged = layers.map((l) => {
    const definitions: Definition[] = [];
    for (const d of l.definitions) {
      if (d.kind === 'array') {
        if (arrays.add(d.array).fresh) definitions.push(d);
      } else {
        const r = structs.add(d.struct, arrays);
        if (r.fresh) definitions.push({ kind: 'struct', struct: r.struct });
      }
    }
    const statements = l.statements.map((s) => (s.kind === 'call' ? { ...s, args: s.args.map((a) => canonicalArg(a, arrays, structs)) } : s));
    return { layer: l, definitions, statements };
  });

  // Calls seen more than once share one function.
  const counts = new Map<string, number>();
  for (const m of merged) {
    for (const s of m.statements) {
      if (s.kind !== 'call') continue;
      const key = callKey(s.fn, s.args);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  const calls = merged.flatMap((m) => m.statements.flatMap((s) => (s.kind === 'call' ? [s] : [])));
  const routed = genericPlan(calls);
  const functions = new Map<string, SharedFunction>();
  // Per generic function, each struct argument's values over its call sites: which fields vary.
  const variants = new Map<string, CStruct[][]>();
  for (const c of calls) {
    if (!routed.has(callKey(c.fn, c.args))) continue;
    const g = genericKey(c.fn, c.args);
    const structsOf = c.args.flatMap((a) => (a.kind === 'struct' ? [a.struct] : []));
    const lists = variants.get(g) ?? structsOf.map(() => []);
    structsOf.forEach((st, k) => lists[k].push(st));
    variants.set(g, lists);
  }
  const shared = (key: string, s: { fn: string; args: readonly CArg[] }, generic: boolean): SharedFunction => {
    let f = functions.get(key);
    if (!f) {
      const seen = generic ? variants.get(genericKey(s.fn, s.args))! : [];
      let k = 0;
      const params: SharedParam[] = [];
      const args = s.args.map((a): SharedArg => {
        if (a.kind === 'arena') {
          params.push({ kind: 'arena', type: a.type });
          return { kind: 'param', index: params.length - 1 };
        }
        if (generic && a.kind === 'struct') {
          const all = seen[k++];
          const varying = Object.keys(a.struct.fields).filter((name) => all.some((v) => fieldKey(v.fields[name]) !== fieldKey(a.struct.fields[name])));
          if (varying.length === 0) return a;
          params.push({ kind: 'struct', type: a.struct.type, template: a.struct, varying });
          return { kind: 'param', index: params.length - 1 };
        }
        return a;
      });
      f = { name: `${namePrefix}model_shared_${functions.size}`, params, call: { fn: s.fn, args }, uses: 0 };
      functions.set(key, f);
    }
    f.uses++;
    return f;
  };
  const out = merged.map(({ layer, definitions, statements }) => ({
    ...layer,
    definitions,
    statements: statements.map((s): Statement => {
      if (s.kind !== 'call') return s;
      const key = callKey(s.fn, s.args);
      if (routed.has(key)) {
        const f = shared(`generic:${genericKey(s.fn, s.args)}`, s, true);
        const varies = new Set(f.params.flatMap((p) => (p.kind === 'struct' ? [p.type] : [])));
        return { kind: 'call', fn: f.name, args: s.args.filter((a) => a.kind === 'arena' || (a.kind === 'struct' && varies.has(a.struct.type))) };
      }
      if ((counts.get(key) ?? 0) < 2) return s;
      const f = shared(key, s, false);
      return { kind: 'call', fn: f.name, args: s.args.filter((a) => a.kind === 'arena') };
    }),
  }));
  return { layers: out, weights: keptWeights, functions: [...functions.values()] };
}

/** A shared function's definition in model.c. */
export function renderSharedFunction(f: SharedFunction): string {
  const params = f.params.map((t, i) => (t.kind === 'arena' ? `${t.type} *p${i}` : `const ${t.type} *p${i}`)).join(', ');
  const args = f.call.args.map((a) => (a.kind === 'param' ? (f.params[a.index].kind === 'struct' ? `&s${a.index}` : `p${a.index}`) : renderArg(a))).join(', ');
  const locals = f.params.flatMap((t, i) => (t.kind !== 'struct' ? [] : [
    `  ${t.type} s${i} = ${t.template.name};`,
    ...t.varying.map((name) => (Array.isArray(t.template.fields[name])
      ? `  memcpy(s${i}.${name}, p${i}->${name}, sizeof s${i}.${name});`
      : `  s${i}.${name} = p${i}->${name};`)),
  ]));
  // Generic: it takes the fields its call sites' structs differ in.
  const generic = f.params.some((p) => p.kind === 'struct');
  const what = generic ? `one copy for ${f.uses} call sites whose shapes differ in ${[...new Set(f.params.flatMap((p) => (p.kind === 'struct' ? p.varying : [])))].join(', ')} (the rest stays constant)` : `one copy for ${f.uses} call sites of the same shape`;
  return `${cComment(`${f.call.fn}, ${what}`)}\nstatic ${generic ? 'TM_GENERIC' : 'TM_SHARED'} void ${f.name}(${params}) {\n${locals.map((l) => `${l}\n`).join('')}  ${f.call.fn}(${args});\n}`;
}
