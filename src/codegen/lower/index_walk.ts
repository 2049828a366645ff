import type { Node, Tensor } from '../../graph/graph.js';
import { numElements, tensorBytes } from '../../graph/graph.js';
import { DTYPE_BYTES } from '../../graph/dtype.js';
import type { OpDef } from '../../ops/op.js';
import type { IndexMap } from '../../ops/index_map.js';
import { OPS } from '../../ops/registry.js';
import { splitPieces } from '../../ops/split.js';
import type { CArray } from '../c_syntax.js';
import type { CArg, Statement } from './kernel_call.js';
import { call, constArg, intArg, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';
import type { SliceAxis } from './strided_slice.js';
import { foldWalk } from './strided_slice.js';
import { operandArg } from './broadcast_binary.js';

/**
 * Axes (outer first, element strides) of one arithmetic run: seq[k] = sum of axis index * stride, found by
 * peeling the longest evenly spaced inner run that tiles the sequence; null when there is none.
 */
function decompose(seq: readonly number[]): SliceAxis[] | null {
  const n = seq.length;
  if (n === 1) return [];
  const s = seq[1];
  let run = 2;
  while (run < n && seq[run] === run * s) run++;
  if (run === n) return [{ count: n, stride: s }];
  for (let p = run; p >= 2; p--) {
    if (n % p) continue;
    let tiles = true;
    for (let k = 0; k < n && tiles; k++) tiles = seq[k] === seq[k - (k % p)] + (k % p) * s;
    if (!tiles) continue;
    const outer = decompose(Array.from({ length: n / p }, (_, m) => seq[m * p]));
    if (outer) return [...outer, { count: p, stride: s }];
  }
  return null;
}

/**
 * The strided walk (element strides, outer first, and the first element) that visits `index` in output
 * order, or null when the map is not one: each output axis split into the fewest sub-axes along which
 * the source index moves evenly (DEPTH_TO_SPACE's y becomes y / block and y % block), then every element
 * checked against the walk.
 */
export function affineWalk(shape: readonly number[], index: Int32Array): { axes: SliceAxis[]; base: number } | null {
  if (index.length === 0) return { axes: [{ count: 0, stride: 0 }], base: 0 };
  if (index.some((v) => v < 0)) return null;
  const base = index[0];
  const axes: SliceAxis[] = [];
  let unit = index.length;
  for (const extent of shape) {
    unit /= extent;
    const sub = decompose(Array.from({ length: extent }, (_, k) => index[k * unit] - base));
    if (!sub) return null;
    axes.push(...sub);
  }
  const at = new Array<number>(axes.length).fill(0);
  let offset = base;
  for (let i = 0; i < index.length; i++) {
    if (index[i] !== offset) return null;
    for (let d = axes.length - 1; d >= 0; d--) {
      offset += axes[d].stride;
      if (++at[d] < axes[d].count) break;
      offset -= axes[d].stride * axes[d].count;
      at[d] = 0;
    }
  }
  return { axes, base };
}

/** One tm_strided_slice call copying `axes` (byte strides) of `src` from `base` to the contiguous `dst`. */
function sliceCall(ctx: LayerContext, axes: readonly SliceAxis[], base: number, elemBytes: number, src: CArg, dst: CArg, what: string): { def: ReturnType<typeof structDef>; stmt: Statement } {
  const walk = foldWalk(axes, base, elemBytes);
  if (walk.axes.length > 4) throw ctx.unsupported(`a walk over ${walk.axes.length} strided axes (the C kernel takes 4)`);
  const four = [...new Array<SliceAxis>(4 - walk.axes.length).fill({ count: 1, stride: 0 }), ...walk.axes];
  const params = ctx.struct('tm_strided_slice_params', what, {
    counts: four.map((a) => a.count), strides: four.map((a) => a.stride), base: walk.base, run_bytes: walk.runBytes,
  });
  return { def: structDef(params), stmt: call('tm_strided_slice', structArg(params), src, dst) };
}

/**
 * An op whose output is an index map (OpDef.indexMap: REVERSE_V2, SLICE, SPACE_TO_DEPTH, DEPTH_TO_SPACE,
 * BATCH_TO_SPACE_ND, SPACE_TO_BATCH_ND, BROADCAST_TO, PACK) -> tm_strided_slice when the map is a strided
 * walk of one input, tm_concat_copy per input for PACK, else (MIRROR_PAD, padding, crops) tm_copy_runs.
 */
export function lowerIndexMap(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node;
  const def = OPS[node.op] as OpDef;
  const map = def.indexMap?.(node as never, ctx.graph);
  if (!map) throw ctx.unsupported('no index map');
  const out = ctx.output();
  for (const s of map.sources) {
    if (s.dtype !== out.dtype) throw ctx.unsupported('inputs of another type than the output');
    ctx.requireDisjoint(s, out, node.op);
  }
  if (map.sources.length > 1) return lowerPack(ctx, map, out);
  const walk = affineWalk(map.shape, map.index);
  if (!walk) return lowerRuns(ctx, map, out);
  const eb = DTYPE_BYTES[out.dtype];
  const weights: CArray[] = [];
  const src = operandArg(ctx, weights, map.sources[0], 'input');
  const axes = walk.axes.map((a) => ({ count: a.count, stride: a.stride * eb }));
  const { def: d, stmt } = sliceCall(ctx, axes, walk.base * eb, eb, src, ctx.ptr(out), 'params');
  return { headers: ['tm_strided_slice.h'], definitions: [d], weights, statements: [stmt] };
}

/** Most runs a map may take as a table in Flash (8 bytes each) before it is refused. */
const MAX_RUNS = 4096;

/** A map that is no walk -> tm_copy_runs over its runs of consecutive source elements (and of fill). */
function lowerRuns(ctx: LayerContext, map: IndexMap, out: Tensor): LayerCode {
  const runs: number[] = [];
  for (let i = 0; i < map.index.length; i++) {
    const v = map.index[i];
    const last = runs.length - 2;
    const extends_ = last >= 0 && (v < 0 ? runs[last] < 0 : runs[last] >= 0 && runs[last] + runs[last + 1] === v);
    if (extends_) runs[last + 1]++;
    else runs.push(v < 0 ? -1 : v, 1);
  }
  if (runs.length / 2 > MAX_RUNS) throw ctx.unsupported(`the map is no strided walk and takes ${runs.length / 2} runs (at most ${MAX_RUNS} are generated)`);
  const eb = DTYPE_BYTES[out.dtype];
  const table: CArray = { name: ctx.name('runs'), type: 'int32_t', values: Int32Array.from(runs), align: 4, linkage: 'extern', comment: `${ctx.node.op}: (source element, count) per run, -1 = fill` };
  const fill: CArray = { name: ctx.name('fill'), type: 'uint8_t', values: map.fill ?? new Uint8Array(eb), align: 4, linkage: 'extern' };
  const weights: CArray[] = [table, fill];
  const src = operandArg(ctx, weights, map.sources[0], 'input');
  return {
    headers: ['tm_gather.h'], definitions: [], weights,
    statements: [call('tm_copy_runs', intArg(runs.length / 2), constArg(table), intArg(eb), constArg(fill), src, ctx.ptr(out))],
  };
}

/** PACK: input i is the i-th block of every row along the new axis -> tm_concat_copy per input. */
function lowerPack(ctx: LayerContext, map: IndexMap, out: Tensor): LayerCode {
  const node = ctx.node as Node<'PACK'>;
  if (node.op !== 'PACK') throw ctx.unsupported('an index map over several inputs');
  const rank = map.shape.length;
  const axis = node.options.axis < 0 ? node.options.axis + rank : node.options.axis;
  const outer = map.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const block = tensorBytes(map.sources[0]) / outer;
  const weights: CArray[] = [];
  const statements = map.sources.map((t, i) => {
    const dst: CArg = { kind: 'arena', offset: ctx.offset(out) + i * block, type: 'int8_t' };
    return call('tm_concat_copy', intArg(outer), intArg(block), intArg(block * map.sources.length), operandArg(ctx, weights, t, `input${i}`), dst);
  });
  return { headers: ['tm_concatenation.h'], definitions: [], weights, statements };
}

/** SPLIT, SPLIT_V, UNPACK: output k is the k-th block of every row along the axis -> one tm_strided_slice each. */
export function lowerSplit(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node<'SPLIT'> | Node<'SPLIT_V'> | Node<'UNPACK'>;
  const { input, axis, extents } = splitPieces(node, ctx.graph);
  if (input.data) throw ctx.unsupported('split of a constant');
  const eb = DTYPE_BYTES[input.dtype];
  const outer = input.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = (numElements(input.shape) / outer / input.shape[axis]) * eb;
  const row = input.shape[axis] * inner;
  const definitions: ReturnType<typeof structDef>[] = [];
  const statements: Statement[] = [];
  let start = 0;
  extents.forEach((e, k) => {
    const out = ctx.output(k);
    ctx.requireDisjoint(input, out, node.op);
    const { def: d, stmt } = sliceCall(ctx, [{ count: outer, stride: row }, { count: e * inner, stride: 1 }], start * inner, 1, ctx.ptr(input), ctx.ptr(out), `output${k}`);
    definitions.push(d);
    statements.push(stmt);
    start += e;
  });
  return { headers: ['tm_strided_slice.h'], definitions, weights: [], statements };
}
