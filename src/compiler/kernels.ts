import type { AnyNode, Graph } from '../graph/graph.js';
import type { OpDef } from '../ops/op.js';
import type { MemoryPlan } from '../plan/memory_plan.js';
import { int } from '../report/format.js';
import { slowdownOf } from './lean.js';
import { hasWiderScratch } from '../plan/widen_scratch.js';

/** Which kernel variant runs a node, and why: what the reports print per layer. */
export interface KernelChoice {
  node: number;
  op: string;
  variant: 'standard' | 'alias' | 'in-place elementwise' | 'in-place over graph input' | 'in-place concatenation' | 'in-place depthwise' | 'in-place pad' | 'in-place pointwise';
  why: string;
  /** In-place depthwise whose planned scratch holds four channel planes: the Cortex-M kernel's faster form. */
  fourChannels?: boolean;
}

/** Why the pipeline kept a variant-capable node on its standard kernel (set by compileModel). */
export type StandardReason = 'no-gain' | 'objective-speed' | 'fits-board';

export interface ChoiceContext {
  /** Slower in-place nodes kept: node -> arena without it. */
  needed: ReadonlyMap<number, number>;
  /** Variant-capable nodes on the standard kernel by the pipeline's choice. */
  standard: ReadonlyMap<number, StandardReason>;
  boardName?: string;
}

const VARIANT = {
  elementwise: 'in-place elementwise', 'edge-quantize': 'in-place over graph input', concat: 'in-place concatenation',
  depthwise: 'in-place depthwise', pad: 'in-place pad', pointwise: 'in-place pointwise',
} as const;

function standardWhy(node: AnyNode, g: Graph, plan: MemoryPlan, ctx: ChoiceContext): string {
  const reason = ctx.standard.get(node.index);
  if (reason === 'no-gain') return 'in place would not lower the peak, and is slower';
  if (reason === 'objective-speed') return 'objective speed: the faster kernel';
  if (reason === 'fits-board') return `the faster plan fits ${ctx.boardName ?? 'the board'}`;
  const def = plan.options.ops[node.op] as unknown as OpDef;
  if (!def.inPlaceVariant) return '';
  const variant = def.inPlaceVariant(node as never, g);
  if (!variant) return 'no in-place variant for this shape';
  if (!plan.options[variant.trick]) return `${variant.trick} switched off`;
  if (variant.peakOnly && !plan.options.peakOnlyAt?.has(node.index)) return 'in place would not lower the peak';
  return 'its input is still read later';
}

/** One row per node of the plan's graph, in execution order. */
export function kernelChoices(g: Graph, plan: MemoryPlan, ctx: ChoiceContext): KernelChoice[] {
  return plan.order.map((i) => {
    const node = g.nodes[i] as AnyNode;
    const base = { node: i, op: node.op };
    if (node.outputs.some((o) => plan.aliases.has(o))) return { ...base, variant: 'alias', why: 'the output is the input\'s bytes: no copy' };
    const d = plan.inPlaceNodes.get(i);
    if (!d) return { ...base, variant: 'standard', why: standardWhy(node, g, plan, ctx) };
    const variant = VARIANT[d.kind];
    if (d.kind === 'concat') return { ...base, variant, why: 'inputs are produced where the output holds them' };
    if (d.kind === 'elementwise' || d.kind === 'edge-quantize') return { ...base, variant, why: 'writes over an input that dies here, at no cost' };
    if (slowdownOf(g, plan, i) <= 1) return { ...base, variant, why: 'writes over its input at no cost' };
    const without = ctx.needed.get(i);
    const why = without !== undefined
      ? `lowers the peak (${int(without)} B without it; ${int(plan.arenaBytes)} B with it)`
      : 'lowers the peak';
    // Where the packed arena had room for the wider scratch, the Cortex-M kernel takes four channels at a time.
    if (!hasWiderScratch(g, plan, i)) return { ...base, variant, why };
    return { ...base, variant, why: `${why}; four channels at a time (scratch widened within the arena)`, fourChannels: true };
  });
}
