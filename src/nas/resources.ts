/**
 * What a subnet costs on a board: MACs, parameters, peak SRAM from our planner, Flash from its int8
 * constants plus code. Two fidelities: `screen` (the layer-wise plan of one greedy packing: an upper bound
 * of the pipeline's peak, ~20 ms) for sampling thousands of subnets, and `full` (the compile pipeline
 * itself, patch-based plans included) for the candidates a search keeps.
 */
import type { Board } from '../boards/boards.js';
import { reservedSramBytes } from '../codegen/target.js';
import type { CompiledModel } from '../compiler/compile_model.js';
import { compileModel, modelMacs } from '../compiler/compile_model.js';
import type { Graph } from '../graph/graph.js';
import { InputError } from '../errors.js';
import type { StrategyName } from '../plan/memory_plan.js';
import { planMemory } from '../plan/memory_plan.js';
import type { Arch, SpaceConfig } from './space.js';
import { archKey } from './space.js';
import { deployGraph } from './subnet_graph.js';

/** What a subnet must fit. */
export interface Limits {
  /** Board or budget name, for messages. */
  name: string;
  sramBytes: number;
  flashBytes: number;
  /** SRAM the application takes beside the arena (the generated project's stack on Cortex-M). */
  reservedSramBytes: number;
  maxMacs?: number;
  /** Cortex-M4 instructions per inference (measured kernels, latency.ts); checked during evolution. */
  maxInstructions?: number;
  /** int8 weights plus int32 biases (the model's constants), e.g. to match a reference model's size. */
  maxWeightBytes?: number;
  /** The board, when the limits are one's: its plan choice (the fastest that fits) is what runs. */
  board?: Board;
}

/** The caps a search may add to a board's or a budget's memory. */
export type ExtraLimits = Pick<Limits, 'maxMacs' | 'maxInstructions' | 'maxWeightBytes'>;

export function boardLimits(board: Board, extra: ExtraLimits = {}): Limits {
  return { name: board.name, sramBytes: board.sramBytes, flashBytes: board.flashBytes, reservedSramBytes: reservedSramBytes(board), ...extra, board };
}

/** Bare byte budgets: SRAM is the arena alone (no stack reserved), as a planner's peak is quoted. */
export function budgetLimits(sramBytes: number, flashBytes: number, extra: ExtraLimits = {}): Limits {
  if (!(sramBytes > 0) || !(flashBytes > 0)) throw new InputError('--sram and --flash must both be positive byte counts');
  return { name: `${sramBytes} B SRAM / ${flashBytes} B Flash`, sramBytes, flashBytes, reservedSramBytes: 0, ...extra };
}

/** The plan a subnet's int8 model deploys with: `compile`'s default for the board (else the least memory). */
export function deployedPlan(graph: Graph, limits: Limits): CompiledModel {
  return compileModel(graph, limits.board ? { board: limits.board, reservedSramBytes: limits.reservedSramBytes } : { objective: 'memory' });
}

/** Adds the measured latency to a cost, and a miss when it exceeds `maxInstructions`. */
export function withLatency(cost: SubnetCost, instructions: number, limits: Limits): SubnetCost {
  const misses = [...cost.misses];
  if (limits.maxInstructions !== undefined && instructions > limits.maxInstructions) misses.push(`${instructions - limits.maxInstructions} M4 instructions over the cap`);
  return { ...cost, instructions, misses, fits: misses.length === 0 };
}

/**
 * Code and per-layer tables of a generated project per graph node: the most any shared model's build
 * needs (1.0–1.65 KB a node by arm-none-eabi-size, `npm run bench -- codegen`), rounded up, so a subnet
 * the search accepts is not refused by `compile` for Flash.
 */
export const CODE_BYTES_PER_NODE = 1700;

export interface SubnetCost {
  key: string;
  macs: number;
  /** Parameters (weights and biases). */
  params: number;
  /** int8 weights and int32 biases, as the generated C stores them. */
  constantBytes: number;
  /** constantBytes + code (estimated per node). */
  flashBytes: number;
  /** Arena of the plan the fidelity weighs (the least peak it finds). */
  arenaBytes: number;
  /** Arena plus the reserved SRAM: what must fit. */
  sramBytes: number;
  plan: 'layer-wise' | 'patch-based';
  fidelity: 'screen' | 'full';
  /** Cortex-M4 instructions per inference, when measured (latency.ts). */
  instructions?: number;
  fits: boolean;
  /** Each limit missed, with by how much. */
  misses: string[];
}

/** Bytes of every constant tensor (int8 weights, int32 biases): what a model adds to Flash besides code. */
export function constantBytes(g: Graph): number {
  return g.tensors.reduce((s, t) => s + (t.data ? t.data.byteLength : 0), 0);
}

/** Weights and biases: the constant operands of the layers (not shape tensors). */
function paramCount(g: Graph): number {
  const params = new Set<number>();
  for (const n of g.nodes) {
    if (n.op === 'CONV_2D' || n.op === 'DEPTHWISE_CONV_2D' || n.op === 'FULLY_CONNECTED') for (const i of n.inputs.slice(1)) if (i >= 0) params.add(i);
  }
  return [...params].reduce((s, i) => s + g.tensors[i].shape.reduce((a, d) => a * d, 1), 0);
}

/** `model`: the subnet's graph; `run`: the graph as the plan runs it (a patch stage's copies included). */
function judge(key: string, model: Graph, run: Graph, arenaBytes: number, plan: SubnetCost['plan'], fidelity: SubnetCost['fidelity'], limits: Limits): SubnetCost {
  const macs = modelMacs(model);
  const consts = constantBytes(run);
  const flashBytes = consts + CODE_BYTES_PER_NODE * run.nodes.length;
  const sramBytes = arenaBytes + limits.reservedSramBytes;
  const misses: string[] = [];
  if (sramBytes > limits.sramBytes) misses.push(`SRAM short by ${sramBytes - limits.sramBytes} B`);
  misses.push(...planFreeMisses(macs, consts, flashBytes, limits));
  return { key, macs, params: paramCount(model), constantBytes: consts, flashBytes, arenaBytes, sramBytes, plan, fidelity, fits: misses.length === 0, misses };
}

/** The limits a graph decides without a plan (Flash, MACs, weights), each missed with by how much. */
function planFreeMisses(macs: number, consts: number, flashBytes: number, limits: Limits): string[] {
  const misses: string[] = [];
  if (flashBytes > limits.flashBytes) misses.push(`Flash short by ${flashBytes - limits.flashBytes} B`);
  if (limits.maxMacs !== undefined && macs > limits.maxMacs) misses.push(`${macs - limits.maxMacs} MACs over the cap`);
  if (limits.maxWeightBytes !== undefined && consts > limits.maxWeightBytes) misses.push(`weights ${consts - limits.maxWeightBytes} B over the cap`);
  return misses;
}

/**
 * The limits a subnet's graph decides alone: MACs, weights and Flash (constants plus code), without a plan.
 * SRAM needs one (~20 ms screened, ~50x that exact); this is what supernet training can afford per sample
 * to keep its subnets where the search will look (search.ts, fittingSandwich).
 */
export function fitsWithoutPlan(space: SpaceConfig, arch: Arch, limits: Limits): { macs: number; fits: boolean } {
  const g = deployGraph(space, arch);
  const macs = modelMacs(g);
  const consts = constantBytes(g);
  return { macs, fits: planFreeMisses(macs, consts, consts + CODE_BYTES_PER_NODE * g.nodes.length, limits).length === 0 };
}

/** The fast estimate: one layer-wise plan (greedy by size, model order). Never below the pipeline's peak. */
export function screenSubnet(space: SpaceConfig, arch: Arch, limits: Limits): SubnetCost {
  const g = deployGraph(space, arch);
  const plan = planMemory(g, { strategies: ['greedy-size'], reorder: false });
  return judge(archKey(space, arch), g, g, plan.arenaBytes, 'layer-wise', 'screen', limits);
}

/**
 * Exact where it matters, fast elsewhere: the screen, and the compile pipeline's plans (patch-based
 * included) for a subnet the screen rejects on SRAM alone, since its bound is the only objection. The
 * pipeline runs with its fast packers here: their peak is never below the full pipeline's (it tries them
 * too and keeps the least), so a subnet judged to fit does fit, at half the time of `measureSubnet`.
 */
export function judgeSubnet(space: SpaceConfig, arch: Arch, limits: Limits): SubnetCost {
  const quick = screenSubnet(space, arch, limits);
  const sramOnly = !quick.fits && quick.misses.every((m) => m.startsWith('SRAM'));
  return sramOnly ? measureSubnet(space, arch, limits, undefined, FAST_PACKERS) : quick;
}

/** How closely a cost is measured: see screenSubnet, measureSubnet, judgeSubnet, COST_FUNCTIONS.rescue. */
export type CostFidelity = 'screen' | 'measure' | 'auto' | 'rescue';

export const COST_FUNCTIONS: Readonly<Record<CostFidelity, (space: SpaceConfig, arch: Arch, limits: Limits) => SubnetCost>> = {
  screen: (s, a, l) => screenSubnet(s, a, l),
  measure: (s, a, l) => measureSubnet(s, a, l),
  auto: judgeSubnet,
  // Stage 1's second look at a screen's SRAM-only rejects (space_opt.ts): the fast packers' bound, as judgeSubnet.
  rescue: (s, a, l) => measureSubnet(s, a, l, undefined, FAST_PACKERS),
};

/** The planner's quick packing strategies (the patch search ranks its splits with these too). */
export const FAST_PACKERS: readonly StrategyName[] = ['greedy-size', 'greedy-breadth'];

/**
 * The compile pipeline's own answer. The plan of least peak is judged first; when it misses a limit and
 * is patch-based, the least layer-wise plan too (a patch stage's kernel copies cost Flash, so a model may
 * fit layer by layer and not patch by patch): a subnet fits when a plan the pipeline weighs fits.
 */
export function measureSubnet(space: SpaceConfig, arch: Arch, limits: Limits, graph: Graph = deployGraph(space, arch), strategies?: readonly StrategyName[]): SubnetCost {
  const cm = compileModel(graph, { objective: 'memory', patch: 'auto', ...(strategies ? { strategies } : {}) });
  const key = archKey(space, arch);
  const least = judge(key, cm.model, cm.graph, cm.plan.arenaBytes, cm.kind, 'full', limits);
  if (least.fits || cm.kind === 'layer-wise') return least;
  const layerwise = judge(key, cm.model, cm.prepared, cm.layerwise.arenaBytes, 'layer-wise', 'full', limits);
  return layerwise.fits ? layerwise : least;
}
