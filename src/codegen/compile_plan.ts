import type { Graph } from '../graph/graph.js';
import { InputError } from '../errors.js';
import { OPS } from '../ops/registry.js';
import type { MemoryPlan } from '../plan/memory_plan.js';
import { planMemory } from '../plan/memory_plan.js';
import { withInPlaceVariants } from '../plan/inplace_rules.js';
import { searchPatchPlan } from '../plan/patch/search.js';
import { fusePads } from '../plan/fuse_pad.js';

/** Which plan a compile uses: the planner's patch search, none, or one fixed split (n x n up to node lastNode). */
export type PatchChoice = 'auto' | 'off' | { n: number; lastNode: number };

export interface CompilePlanOptions {
  patch?: PatchChoice;
  /** Cap on a patch plan's extra MACs, a fraction of the model's (default 0.2, as `tinyml plan`). */
  maxOverhead?: number;
  /** Plan with the C library's in-place DEPTHWISE_CONV_2D and PAD kernels. */
  inPlaceKernels?: boolean;
  /** Fold each PAD into the convolution that reads it before planning (default off for compile). */
  fusePads?: boolean;
}

/** The graph to generate (the model, or its patch rewrite) and the one plan over it. */
export interface CompilePlan {
  graph: Graph;
  plan: MemoryPlan;
  kind: 'layer-wise' | 'patch-based';
  /** Why a patch search ended layer-wise (empty otherwise). */
  note: string;
  /** PAD nodes folded into convolutions before planning (0 unless `fusePads`). */
  fusedPads: number;
}

/**
 * The plan `tinyml compile` generates from, chosen exactly as `tinyml plan` chooses it, so the arena the
 * plan reports is the MODEL_ARENA_BYTES of the generated C. A patch plan is generated from
 * `plan.patch.graph` (slices, pads and concatenations are ordinary ops to the code generator).
 */
export function planForCompile(model: Graph, opts: CompilePlanOptions = {}): CompilePlan {
  const { graph: g, fused: fusedPads } = opts.fusePads ? fusePads(model) : { graph: model, fused: 0 };
  const ops = opts.inPlaceKernels ? withInPlaceVariants(OPS) : OPS;
  const patch = opts.patch ?? 'off';
  if (patch === 'off') return { graph: g, plan: planMemory(g, { ops }), kind: 'layer-wise', note: '', fusedPads };
  if (patch !== 'auto' && !g.nodes[patch.lastNode]) throw new InputError(`--patch ${patch.n}x${patch.n}@${patch.lastNode}: the model has nodes 0..${g.nodes.length - 1}`);
  const search = searchPatchPlan(g, { ops, maxOverhead: opts.maxOverhead ?? 0.2, ...(patch === 'auto' ? {} : { fixed: patch }) });
  if (search.best) return { graph: search.best.patch.graph, plan: search.best, kind: 'patch-based', note: '', fusedPads };
  if (patch !== 'auto') throw new InputError(`--patch ${patch.n}x${patch.n}@${patch.lastNode}: no stage of the model can end at node ${patch.lastNode} with ${patch.n}x${patch.n} patches`);
  return { graph: g, plan: search.layerwise, kind: 'layer-wise', note: 'no patch-based plan beats layer-by-layer within the MACs cap', fusedPads };
}
