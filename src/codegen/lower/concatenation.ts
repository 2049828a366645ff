import type { Node, Tensor } from '../../graph/graph.js';
import type { Activation } from '../../graph/options.js';
import { tensorBytes } from '../../graph/graph.js';
import { DTYPE_BYTES, dtypeRange } from '../../graph/dtype.js';
import { outputActivationRange } from '../../quant/activation.js';
import { requantizer } from '../../ops/concatenation.js';
import type { CArray } from '../c_syntax.js';
import type { CArg, Statement } from './kernel_call.js';
import { call, comment, constArg, intArg } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';

/** Per input: a byte table mapping its int8/uint8 values to the output's (requantise, clamp), or null to copy. */
function requantTables(ctx: LayerContext, ins: readonly Tensor[], out: Tensor, act: Activation): (Uint8Array | null)[] {
  const eightBit = out.dtype === 'int8' || out.dtype === 'uint8';
  const quantised = eightBit || out.dtype === 'int16';
  if (!quantised || (out.quant === null && ins.every((t) => t.quant === null) && act === 'NONE')) {
    if (act !== 'NONE') throw ctx.unsupported(`fused activation ${act} on ${out.dtype}`);
    return ins.map(() => null);
  }
  const qp = (t: Tensor) => {
    if (!t.quant || t.quant.scale.length !== 1) throw ctx.unsupported(`${t.name} needs per-tensor quantisation`);
    return { scale: Math.fround(t.quant.scale[0]), zeroPoint: t.quant.zeroPoint[0] ?? 0 };
  };
  const outQ = qp(out);
  const [tlo, thi] = dtypeRange(out.dtype);
  const [lo, hi] = act === 'NONE' ? [tlo, thi] : outputActivationRange(act, out);
  const signed = out.dtype === 'int8';
  return ins.map((t) => {
    const inQ = qp(t);
    if (inQ.scale === outQ.scale && inQ.zeroPoint === outQ.zeroPoint && lo <= tlo && hi >= thi) return null;
    if (!eightBit) throw ctx.unsupported(`requantising ${out.dtype} inputs is not generated`);
    const map = requantizer(inQ, outQ, lo, hi);
    return Uint8Array.from({ length: 256 }, (_, b) => map(signed && b >= 128 ? b - 256 : b) & 0xff);
  });
}

/**
 * CONCATENATION along any axis -> one tm_concat_copy (or tm_concat_requant_s8, through a table) per input.
 * An input the plan already placed at its slot of the output (in-place concatenation, the patch plan's
 * rows of patches) needs no call.
 */
export function lowerConcatenation(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node<'CONCATENATION'>;
  const out = ctx.output();
  const ins = node.inputs.filter((id) => id >= 0).map((id) => ctx.tensor(id));
  if (ins.some((t) => t.dtype !== out.dtype)) throw ctx.unsupported('inputs of another type than the output');
  const rank = out.shape.length;
  if (rank === 0) throw ctx.unsupported('concatenation of scalars');
  const axis = node.options.axis < 0 ? node.options.axis + rank : node.options.axis;
  const elem = DTYPE_BYTES[out.dtype];
  const outer = out.shape.slice(0, axis).reduce((a, d) => a * d, 1);
  const inner = out.shape.slice(axis + 1).reduce((a, d) => a * d, 1) * elem;
  const rowBytes = out.shape[axis] * inner;
  const tables = requantTables(ctx, ins, out, node.options.activation);
  const weights: CArray[] = [];
  const statements: Statement[] = [];
  let slot = 0;
  ins.forEach((t, i) => {
    // Its bytes per outer index (a scalar input stacked along a new axis has no extent there).
    const block = tensorBytes(t) / outer;
    const at = slot;
    slot += block;
    if (tensorBytes(t) === 0) return;
    const table = tables[i];
    const src: CArg = t.data ? (() => { const a = ctx.constantArray(t, `input${i}`); weights.push(a); return constArg(a, table ? '(const int8_t *)' : undefined); })() : ctx.ptr(t);
    const dst: CArg = { kind: 'arena', offset: ctx.offset(out) + at, type: 'int8_t' };
    if (!t.data && !tables[i] && outer === 1 && ctx.offset(t) === ctx.offset(out) + at) {
      statements.push(comment(`${t.name} already sits at its place in ${out.name}`));
      return;
    }
    if (ctx.overlap(t, out) !== 'disjoint') throw ctx.unsupported(`the memory plan overlays ${out.name} on ${t.name} away from its slot`);
    if (table) {
      const map: CArray = { name: ctx.name(`requant${i}`), type: 'uint8_t', values: table, align: 4, linkage: 'extern', comment: `${t.name} requantised to ${out.name}` };
      weights.push(map);
      const from: CArg = src.kind === 'arena' ? { ...src, type: 'int8_t' } : src;
      statements.push(call('tm_concat_requant_s8', intArg(outer), intArg(block), intArg(rowBytes), constArg(map), from, dst));
    } else {
      statements.push(call('tm_concat_copy', intArg(outer), intArg(block), intArg(rowBytes), src, dst));
    }
  });
  return { headers: ['tm_concatenation.h'], definitions: [], weights, statements };
}
