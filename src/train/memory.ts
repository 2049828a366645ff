/**
 * The training step's memory plan, with the project's packing: every buffer of the compiled program
 * gets a lifetime over the steps (parameters and optimizer state: the whole step) and the packer gives
 * each an arena offset. The peak is the arena; the breakdown says what fills it at the busiest step.
 */
import type { Graph } from '../graph/graph.js';
import { tensorBytes } from '../graph/graph.js';
import type { BufferRequest } from '../plan/lifetimes.js';
import { liveBytesPerStep, scratchId } from '../plan/lifetimes.js';
import type { Placement } from '../plan/memory_plan.js';
import { packGreedyBySize, packNoReuse } from '../plan/memory_plan.js';
import { compileModel } from '../compiler/compile_model.js';
import { alignUp } from '../plan/align.js';
import type { BufferCategory, TrainingProgram } from './program.js';

export type MemoryCategory = BufferCategory | 'scratch';

export const MEMORY_CATEGORIES: readonly MemoryCategory[] = ['activation', 'saved', 'gradient', 'parameter', 'optimizer', 'shadow', 'scratch'];

export type Breakdown = Record<MemoryCategory, number>;

export interface TrainingMemoryReport {
  /** Arena bytes of one training step (packed): the SRAM training needs. */
  peakBytes: number;
  /** Max over steps of the bytes live: no packing can do better. */
  lowerBound: number;
  /** The step where live bytes peak, and what is live there, by category. */
  peakStep: number;
  peakStepLabel: string;
  atPeak: Breakdown;
  /** Sum of each category's buffers (persistent ones are live throughout). */
  totals: Breakdown;
  /** Forward activations kept past their last forward use for backward, plus saved masks/channels (bytes). */
  keptForBackwardBytes: number;
  /** The inference arena of the same graph (activations only, same batch), for comparison. */
  inferenceBytes: number;
  /** Whether that graph runs in float32 or int8 (a float training graph's arena is not its int8 model's). */
  inferenceDtype: 'int8' | 'float32';
  /** The model's constants (in Flash; trained slices are also copied to SRAM: the `parameter` category). */
  flashBytes: number;
  trainedParamElements: number;
  batch: number;
  steps: number;
  /** Packed placements: id >= 0 are program buffers, negative ids scratch (see `scratchId`). */
  placements: Map<number, Placement>;
  requests: BufferRequest[];
  strategy: 'greedy-size' | 'no-reuse';
}

export interface MemoryOptions {
  /** 'greedy-size' (default): TFLite Micro / TinyEngine first fit; 'no-reuse': every buffer its own place. */
  strategy?: 'greedy-size' | 'no-reuse';
}

/** Lifetimes of every buffer and scratch over the program's steps. */
export function trainingRequests(p: TrainingProgram): BufferRequest[] {
  const n = p.steps.length;
  const first = new Array<number>(p.buffers.length).fill(Infinity);
  const last = new Array<number>(p.buffers.length).fill(-1);
  const touch = (b: number, s: number) => {
    first[b] = Math.min(first[b], s);
    last[b] = Math.max(last[b], s);
  };
  for (const id of p.graph.inputs) touch(p.activation.get(id)!, 0);
  p.steps.forEach((s, k) => {
    for (const b of s.reads) touch(b, k);
    for (const b of s.writes) touch(b, k);
  });
  const requests: BufferRequest[] = [];
  for (const b of p.buffers) {
    if (b.persistent) {
      requests.push({ id: b.id, bytes: b.bytes, first: 0, last: n - 1, label: b.label });
    } else if (last[b.id] >= 0) {
      requests.push({ id: b.id, bytes: b.bytes, first: first[b.id], last: last[b.id], label: b.label });
    }
  }
  p.steps.forEach((s, k) => {
    if (s.scratchBytes > 0) requests.push({ id: scratchId(k), bytes: s.scratchBytes, first: k, last: k, label: `scratch of ${s.label}` });
  });
  return requests;
}

function emptyBreakdown(): Breakdown {
  return { activation: 0, saved: 0, gradient: 0, parameter: 0, optimizer: 0, shadow: 0, scratch: 0 };
}

export function planTrainingMemory(p: TrainingProgram, opts: MemoryOptions = {}): TrainingMemoryReport {
  const strategy = opts.strategy ?? 'greedy-size';
  const requests = trainingRequests(p);
  const placements = strategy === 'no-reuse' ? packNoReuse(requests) : packGreedyBySize(requests);
  let peakBytes = 0;
  for (const pl of placements.values()) peakBytes = Math.max(peakBytes, pl.offset + pl.bytes);
  peakBytes = alignUp(peakBytes);

  const live = liveBytesPerStep(requests, p.steps.length);
  let peakStep = 0;
  live.forEach((v, s) => { if (v > live[peakStep]) peakStep = s; });
  const categoryOf = (id: number): MemoryCategory => (id < 0 ? 'scratch' : p.buffers[id].category);
  const atPeak = emptyBreakdown();
  const totals = emptyBreakdown();
  for (const r of requests) {
    totals[categoryOf(r.id)] += r.bytes;
    if (r.first <= peakStep && peakStep <= r.last) atPeak[categoryOf(r.id)] += r.bytes;
  }
  const lastForward = p.steps.findIndex((s) => s.kind === 'loss');
  let kept = 0;
  for (const r of requests) {
    if (r.id < 0) continue;
    const b = p.buffers[r.id];
    if (b.category === 'saved' || (b.category === 'activation' && r.last > lastForward)) kept += r.bytes;
  }
  return {
    peakBytes, lowerBound: Math.max(0, ...live), peakStep, peakStepLabel: p.steps[peakStep]?.label ?? '', atPeak, totals,
    keptForBackwardBytes: kept,
    // Computed when read: the automatic search plans hundreds of configurations and never asks.
    get inferenceBytes() { return inferenceArena(p.graph); },
    inferenceDtype: p.graph.tensors[p.graph.inputs[0]]?.dtype === 'float32' ? 'float32' : 'int8', flashBytes: flashBytes(p), trainedParamElements: p.update.params.reduce((s, q) => s + q.elements, 0),
    batch: p.batch, steps: p.steps.length, placements, requests, strategy,
  };
}

const arenas = new WeakMap<Graph, number>();

/** The arena every command reports for this graph (the compile pipeline's defaults), once per graph. */
function inferenceArena(g: Graph): number {
  if (!arenas.has(g)) {
    let bytes = 0;
    try {
      bytes = compileModel(g).plan.arenaBytes;
    } catch {
      // A training graph the inference pipeline cannot take (an op it does not run) reports none.
    }
    arenas.set(g, bytes);
  }
  return arenas.get(g)!;
}

function flashBytes(p: TrainingProgram): number {
  const g = p.graph;
  const used = new Set<number>();
  for (const n of g.nodes) for (const id of n.inputs) if (id >= 0 && g.tensors[id].data) used.add(id);
  let total = 0;
  for (const id of used) total += tensorBytes(g.tensors[id]);
  return total;
}

/** One line per category: bytes at the peak step and in total. */
export function formatBreakdown(r: TrainingMemoryReport): string {
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
  const lines = [`peak ${kb(r.peakBytes)} (${r.peakBytes} bytes; lower bound ${r.lowerBound}), at step ${r.peakStep}: ${r.peakStepLabel}`];
  for (const c of MEMORY_CATEGORIES) {
    if (r.totals[c] === 0) continue;
    lines.push(`  ${c.padEnd(10)} ${kb(r.atPeak[c]).padStart(10)} at peak, ${kb(r.totals[c]).padStart(10)} in all`);
  }
  lines.push(`  kept for backward ${kb(r.keptForBackwardBytes)}; inference arena of this ${r.inferenceDtype} graph ${kb(r.inferenceBytes)}`);
  return lines.join('\n');
}
