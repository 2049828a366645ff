import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Table from 'cli-table3';
import { loadModel } from '../model.js';
import { InputError } from '../errors.js';
import { findBoard } from '../boards/boards.js';
import { OPS } from '../ops/registry.js';
import { planMemory } from '../plan/memory_plan.js';
import { withInPlaceVariants } from '../plan/inplace_rules.js';
import type { PlanSummary } from '../plan/summary.js';
import { summarise } from '../plan/summary.js';
import { searchPatchPlan } from '../plan/patch/search.js';
import { fusePads } from '../plan/fuse_pad.js';
import { planHtml } from '../report/plan_html.js';
import { int, kb } from '../report/format.js';
import { memoryChart } from './plan_chart.js';

export interface PlanCommandOptions {
  board?: string;
  /** 'auto' (search), 'off' (layer-wise only) or 'NxN@LAYER' (n×n patches up to node LAYER). */
  patch?: string;
  /** Cap on extra MACs of patch-based plans, percent of the model's MACs (default 20). */
  maxOverhead?: string;
  json?: boolean;
  html?: string;
  /** Plan as if DEPTHWISE_CONV_2D and PAD had in-place kernel variants (a projection, not runnable). */
  assumeKernelVariants?: boolean;
  /** 'on' (default): fold each PAD into the convolution that reads it before planning; 'off': plan the model as stored. */
  fusePad?: string;
}

export function parseFusePad(spec: string | undefined): boolean {
  if (spec === undefined || spec === 'on') return true;
  if (spec === 'off') return false;
  throw new InputError(`--fuse-pad takes on or off, got "${spec}"`);
}

export interface PatchRequest {
  mode: 'auto' | 'off' | 'fixed';
  n?: number;
  splitNode?: number;
}

export function parsePatch(spec: string | undefined): PatchRequest {
  if (spec === undefined || spec === 'auto') return { mode: 'auto' };
  if (spec === 'off') return { mode: 'off' };
  const m = /^(\d+)x(\d+)@(\d+)$/.exec(spec);
  if (!m || m[1] !== m[2]) throw new InputError(`--patch takes auto, off or NxN@LAYER (e.g. 4x4@7, square patches), got "${spec}"`);
  return { mode: 'fixed', n: Number(m[1]), splitNode: Number(m[3]) };
}

export function parseOverhead(spec: string | undefined): number {
  if (spec === undefined) return 0.2;
  const v = Number(String(spec).replace(/%$/, ''));
  if (!Number.isFinite(v) || v < 0) throw new InputError(`--max-overhead takes a non-negative percentage, got "${spec}"`);
  return v / 100;
}

/**
 * TFLite Micro's arena for a model that has a reference manifest: ../vectors/<dir>/manifest.json beside
 * the models directory naming the same file (the layout of ../shared/). Null when there is none.
 */
export function tflmArenaFor(modelFile: string): number | null {
  const vectors = resolve(dirname(modelFile), '..', 'vectors');
  if (!existsSync(vectors)) return null;
  for (const d of readdirSync(vectors)) {
    const f = join(vectors, d, 'manifest.json');
    if (!existsSync(f)) continue;
    try {
      const m = JSON.parse(readFileSync(f, 'utf8')) as { model?: string; tflm_reference?: { arena_used_bytes?: number } };
      if (m.model && basename(m.model) === basename(modelFile) && typeof m.tflm_reference?.arena_used_bytes === 'number') {
        return m.tflm_reference.arena_used_bytes;
      }
    } catch {
      // A manifest we cannot read just gives no reference figure.
    }
  }
  return null;
}

/** The plan summary `tinyml plan` prints (and writes as JSON / HTML). */
export function planModel(modelFile: string, opts: PlanCommandOptions = {}): PlanSummary {
  const patch = parsePatch(opts.patch);
  const maxOverhead = parseOverhead(opts.maxOverhead);
  const model = loadModel(modelFile);
  const { graph: g, fused } = parseFusePad(opts.fusePad) ? fusePads(model) : { graph: model, fused: 0 };
  const ops = opts.assumeKernelVariants ? withInPlaceVariants(OPS) : OPS;
  const tflm = tflmArenaFor(modelFile);
  if (patch.mode === 'off') return { ...summarise(g, planMemory(g, { ops }), null, tflm, 'patch-based search off', model), fusedPads: fused };
  if (patch.mode === 'fixed' && !g.nodes[patch.splitNode!]) {
    throw new InputError(`--patch ${opts.patch}: the model has nodes 0..${g.nodes.length - 1}`);
  }
  const search = searchPatchPlan(g, {
    ops, maxOverhead, ...(patch.mode === 'fixed' ? { fixed: { n: patch.n!, lastNode: patch.splitNode! } } : {}),
  });
  let note = '';
  if (patch.mode === 'fixed' && !search.best) note = `--patch ${opts.patch}: no stage of the model can end at node ${patch.splitNode} with ${patch.n}x${patch.n} patches`;
  return { ...summarise(g, search.layerwise, search, tflm, note, model), fusedPads: fused };
}

function ratio(a: number, b: number | null): string {
  return b ? `${(a / b).toFixed(2)}x` : '–';
}

function printText(s: PlanSummary): void {
  const table = new Table({
    head: ['strategy', 'peak SRAM', 'lower bound', 'gap', 'TFLM arena', 'vs TFLM', 'extra MACs', ''],
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
    style: { head: [], border: [] },
  });
  for (const r of s.rows) {
    const gap = r.lowerBound > 0 ? `${(((r.arenaBytes - r.lowerBound) / r.lowerBound) * 100).toFixed(1)}%` : '–';
    table.push([
      `${r.chosen ? '* ' : '  '}${r.name}`, int(r.arenaBytes), int(r.lowerBound), gap,
      s.tflmArenaBytes ? int(s.tflmArenaBytes) : '–', ratio(r.arenaBytes, s.tflmArenaBytes), int(r.extraMacs),
      r.provenOptimal ? 'optimal' : r.note,
    ]);
  }
  const peak = s.steps[s.peakStep];
  console.log(`${s.model}: ${s.steps.length} steps, ${int(s.totalMacs)} MACs`);
  console.log(table.toString());
  console.log(`peak SRAM   ${int(s.peakBytes)} bytes (${kb(s.peakBytes)})${s.tflmArenaBytes ? `, ${ratio(s.peakBytes, s.tflmArenaBytes)} TFLite Micro's ${int(s.tflmArenaBytes)}` : ''}; greedy by size without reuse tricks: ${int(s.baselineBytes)}`);
  if (s.patch) {
    const p = s.patch;
    console.log(`patch       ${p.n}x${p.n} patches of '${p.splitTensor}', nodes ${p.firstNode}..${p.lastNode} patch by patch: ${int(p.arenaBytes)} bytes, ${int(p.extraMacs)} extra MACs (${((p.extraMacs / s.totalMacs) * 100).toFixed(1)} %)${s.strategy.startsWith('patch') ? '' : ' — not chosen, layer-wise is smaller'}`);
  } else {
    console.log(`patch       none: ${s.patchNote}`);
  }
  console.log(`reuse       ${s.inPlaceNodes} node(s) in place, ${s.aliases} alias(es), ${s.fusedPads ?? 0} PAD(s) fused into convolutions; live peak at step ${s.peakStep} (node ${peak?.node} ${peak?.op}), ${int(peak?.liveBytes ?? 0)} bytes`);
  console.log('');
  console.log('memory over execution steps (live bytes; dashes: the arena)');
  for (const line of memoryChart(s.steps.map((r) => r.liveBytes), s.peakBytes)) console.log(line);
}

export function planCommand(modelFile: string, opts: PlanCommandOptions = {}): number {
  const board = opts.board ? findBoard(opts.board) : undefined;
  const s = planModel(modelFile, opts);
  const short = board ? s.peakBytes - board.sramBytes : 0;
  if (opts.html) writeFileSync(opts.html, planHtml(s));
  if (opts.json) {
    const fit = board ? { board: board.name, sramBytes: board.sramBytes, fits: short <= 0, shortBytes: short, peakStep: s.peakStep, peakNode: s.steps[s.peakStep]?.node } : undefined;
    console.log(JSON.stringify({ ...s, board: fit }, null, 2));
  } else {
    printText(s);
    if (opts.html) console.log(`\nwritten     ${opts.html}`);
    if (board) {
      const peak = s.steps[s.peakStep];
      if (short <= 0) console.log(`board       ${board.name}: fits (${int(-short)} bytes of SRAM to spare)`);
      else console.log(`board       ${board.name}: DOES NOT FIT — SRAM short by ${int(short)} bytes (needs ${int(s.peakBytes)}, has ${int(board.sramBytes)}); the peak is step ${s.peakStep}, node ${peak?.node} ${peak?.op}`);
    }
  }
  return short > 0 ? 3 : 0;
}
