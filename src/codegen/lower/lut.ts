import { numElements } from '../../graph/graph.js';
import type { OpDef } from '../../ops/op.js';
import { OPS } from '../../ops/registry.js';
import type { CArray } from '../c_syntax.js';
import { call, constArg, intArg } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';

/** An op whose int8 kernel is a table (OpDef.int8Table) -> tm_lut_s8 with that table in Flash. */
export function lowerLut(ctx: LayerContext): LayerCode {
  const def = OPS[ctx.node.op] as OpDef;
  const table = def.int8Table?.(ctx.node as never, ctx.graph) ?? null;
  if (!table) throw ctx.unsupported(`${ctx.input(0).dtype} -> ${ctx.output().dtype} is not generated (int8 only)`);
  const input = ctx.input(0), output = ctx.output();
  if (ctx.overlap(input, output) === 'partial') throw ctx.unsupported('the memory plan overlays output and input at different offsets');
  const lut: CArray = { name: ctx.name('table'), type: 'int8_t', values: table, align: 4, linkage: 'extern', comment: `${ctx.node.op} of one int8 value, indexed by q + 128` };
  return {
    headers: ['tm_lut.h'], definitions: [], weights: [lut],
    statements: [call('tm_lut_s8', constArg(lut), intArg(numElements(output.shape)), ctx.ptr(input), ctx.ptr(output))],
  };
}
