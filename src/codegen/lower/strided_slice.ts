import type { Node } from '../../graph/graph.js';
import { numElements } from '../../graph/graph.js';
import { DTYPE_BYTES } from '../../graph/dtype.js';
import { constInts, stridesOf } from '../../ops/data_move.js';
import { endForAxis, startForAxis } from '../../ops/strided_slice.js';
import { call, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';

/** One axis of the byte walk: visits, and bytes between them in the input. */
export interface SliceAxis {
  count: number;
  stride: number;
}

/** The walk tm_strided_slice takes: up to 4 axes (outer first), a start offset and a contiguous run. */
export interface SliceWalk {
  axes: SliceAxis[];
  base: number;
  runBytes: number;
}

/**
 * Fold a walk over element axes into the fewest byte axes: innermost axes whose visits lie back to back
 * become one run (memcpy), and neighbouring axes that step by exactly one inner sweep merge.
 */
export function foldWalk(axes: readonly SliceAxis[], base: number, elemBytes: number): SliceWalk {
  const rest = axes.map((a) => ({ ...a })).filter((a) => a.count !== 1);
  if (rest.some((a) => a.count === 0)) return { axes: [{ count: 0, stride: 0 }], base: 0, runBytes: elemBytes };
  let run = elemBytes;
  while (rest.length && rest[rest.length - 1].stride === run) run *= rest.pop()!.count;
  const merged: SliceAxis[] = [];
  for (const a of rest) {
    const prev = merged[merged.length - 1];
    if (prev && prev.stride === a.count * a.stride) merged[merged.length - 1] = { count: prev.count * a.count, stride: a.stride };
    else merged.push(a);
  }
  return { axes: merged, base, runBytes: run };
}

/**
 * STRIDED_SLICE with constant begin/end/strides -> tm_strided_slice. Start and stop of each axis come from
 * the TypeScript op's own StridedSliceStartForAxis / EndForAxis (masks, negative indices and strides,
 * clamping, `offset`); ellipsis and new-axis masks are refused.
 */
export function lowerStridedSlice(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node<'STRIDED_SLICE'>;
  const o = node.options;
  const input = ctx.input(0), output = ctx.output();
  if (input.data) throw ctx.unsupported('slice of a constant');
  if (o.ellipsisMask || o.newAxisMask) throw ctx.unsupported('ellipsis and new-axis masks are not generated');
  const [begin, end, strides] = ([[1, 'begin'], [2, 'end'], [3, 'strides']] as const).map(([i, w]) => constInts(node, ctx.graph, i, w));
  const shape = input.shape;
  const rank = shape.length;
  if (begin.length > rank) throw ctx.unsupported(`${begin.length} slice indices for a rank-${rank} input`);
  const bit = (mask: number, i: number): number => (mask & (1 << i) ? 1 << i : 0);
  const full = (i: number): number => (i < begin.length ? 0 : 1 << i);
  const p: Parameters<typeof startForAxis>[0] = {
    start: shape.map((_, i) => begin[i] ?? 0), stop: shape.map((_, i) => end[i] ?? 0), strides: shape.map((_, i) => strides[i] ?? 1),
    beginMask: shape.reduce((m, _, i) => m | bit(o.beginMask, i) | full(i), 0),
    endMask: shape.reduce((m, _, i) => m | bit(o.endMask, i) | full(i), 0),
    shrinkMask: shape.reduce((m, _, i) => m | bit(o.shrinkAxisMask, i), 0),
    offset: o.offset, shape: [...shape],
  };
  const elem = DTYPE_BYTES[input.dtype];
  const inStrides = stridesOf(shape);
  let base = 0;
  const axes = shape.map((_, i): SliceAxis => {
    const stride = p.strides[i];
    if (stride === 0) throw ctx.unsupported(`stride 0 on axis ${i}`);
    const start = startForAxis(p, i);
    const stop = endForAxis(p, i, start);
    const n = Math.max(0, stride > 0 ? Math.ceil((stop - start) / stride) : Math.ceil((start - stop) / -stride));
    if (n > 0) base += start * inStrides[i] * elem;
    return { count: n, stride: inStrides[i] * stride * elem };
  });
  const visited = axes.reduce((n, a) => n * a.count, 1);
  if (visited !== numElements(output.shape)) throw ctx.unsupported(`the slice visits ${visited} elements, the output holds ${numElements(output.shape)}`);
  const walk = foldWalk(axes, base, elem);
  if (walk.axes.length > 4) throw ctx.unsupported(`a walk over ${walk.axes.length} strided axes (the C kernel takes 4)`);
  const pad = 4 - walk.axes.length;
  const four = [...new Array<SliceAxis>(pad).fill({ count: 1, stride: 0 }), ...walk.axes];
  ctx.requireDisjoint(input, output, 'STRIDED_SLICE');
  const params = ctx.struct('tm_strided_slice_params', 'params', {
    counts: four.map((a) => a.count), strides: four.map((a) => a.stride), base: walk.base, run_bytes: walk.runBytes,
  });
  return {
    headers: ['tm_strided_slice.h'],
    definitions: [structDef(params)],
    weights: [],
    statements: [call('tm_strided_slice', structArg(params), ctx.ptr(input), ctx.ptr(output))],
  };
}
