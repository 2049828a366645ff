import Table from 'cli-table3';
import { loadModel } from '../model.js';
import { InputError } from '../errors.js';
import { checkFileOutput, writeFileAtomic } from '../util/output.js';
import { compileModel } from '../compiler/compile_model.js';
import type { PlanSummary, StepRow } from '../report/plan_summary.js';
import { summarise } from '../report/plan_summary.js';
import { planHtml } from '../report/plan_html.js';
import { int, kb } from '../report/format.js';
import type { CompileFlags } from './compile_flags.js';
import { compileOptionsFrom } from './compile_flags.js';
import { memoryChart } from './plan_chart.js';

export interface PlanCommandOptions extends CompileFlags {
  json?: boolean;
  html?: string;
  /** An arena to compare against, in bytes (e.g. TFLite Micro's figure for the same model). */
  referenceArena?: string;
}

function parseReference(spec: string | undefined): number | null {
  if (spec === undefined) return null;
  const v = Number(spec);
  if (!Number.isInteger(v) || v <= 0) throw new InputError(`--reference-arena takes a positive number of bytes, got "${spec}"`);
  return v;
}

/** The plan summary `tinyml plan` prints (and writes as JSON / HTML): the compiled model's plan. */
export function planModel(modelFile: string, opts: PlanCommandOptions = {}): PlanSummary {
  const options = compileOptionsFrom(opts);
  const reference = parseReference(opts.referenceArena);
  return summarise(compileModel(loadModel(modelFile), options), reference);
}

/** A step as the user knows the model: its layer, and whether that layer runs patch by patch. */
function describeStep(s: PlanSummary, step: StepRow | undefined): string {
  if (!step) return '';
  const patched = s.strategy.startsWith('patch') && s.patch;
  if (!patched) return `node ${step.node} ${step.op}`;
  if (step.layer === null) return `${step.op} slicing or joining patches`;
  const inStage = step.layer >= s.patch!.firstNode && step.layer <= s.patch!.lastNode;
  return `model layer ${step.layer} ${step.op}${inStage ? ', run patch by patch' : ''}`;
}

function ratio(a: number, b: number | null): string {
  return b ? `${(a / b).toFixed(2)}x` : '–';
}

function printText(s: PlanSummary): void {
  const table = new Table({
    head: ['plan', 'peak SRAM', 'lower bound', 'gap', 'vs reference', 'extra MACs', ''],
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'left'],
    style: { head: [], border: [] },
  });
  for (const r of s.rows) {
    const gap = r.lowerBound > 0 ? `${(((r.arenaBytes - r.lowerBound) / r.lowerBound) * 100).toFixed(1)}%` : '–';
    table.push([
      `${r.chosen ? '* ' : '  '}${r.name}`, int(r.arenaBytes), r.lowerBound ? int(r.lowerBound) : '–', gap,
      ratio(r.arenaBytes, s.referenceArenaBytes), int(r.extraMacs), r.provenOptimal ? 'optimal' : r.note,
    ]);
  }
  const peak = s.steps[s.peakStep];
  console.log(`${s.model}: ${s.steps.length} steps, ${int(s.totalMacs)} MACs; chosen by ${s.objective === 'fit-board' ? 'the fastest plan that fits the board' : `objective ${s.objective}`} (*)`);
  console.log(table.toString());
  console.log(`peak SRAM   ${int(s.peakBytes)} bytes (${kb(s.peakBytes)})${s.referenceArenaBytes ? `, ${ratio(s.peakBytes, s.referenceArenaBytes)} the reference ${int(s.referenceArenaBytes)}` : ''}; greedy by size without reuse tricks: ${int(s.baselineBytes)}`);
  if (s.patch) {
    const p = s.patch;
    const chosen = s.strategy.startsWith('patch');
    const unit = p.cols === 1 ? 'strip' : 'patch';
    console.log(`patch       ${p.name} of '${p.splitTensor}', nodes ${p.firstNode}..${p.lastNode} ${unit} by ${unit}: ${int(p.arenaBytes)} bytes, ${int(p.extraMacs)} extra MACs (${((p.extraMacs / s.totalMacs) * 100).toFixed(1)} %)${chosen ? '' : ` — not chosen: ${s.patchNote}`}`);
  } else {
    console.log(`patch       none: ${s.patchNote || 'patch-based search off'}`);
  }
  const inPlaceDw = s.kernels.filter((k) => k.variant === 'in-place depthwise');
  const four = inPlaceDw.filter((k) => k.fourChannels).length;
  const dw = inPlaceDw.length === 0 ? '' : ` (${inPlaceDw.length} with the in-place depthwise kernel${four ? `, ${four} of them four channels at a time` : ''})`;
  console.log(`reuse       ${s.inPlaceNodes} node(s) in place${dw}, ${s.aliases} alias(es), ${s.fusedPads} PAD(s) fused into convolutions`);
  console.log(`            live peak at step ${s.peakStep} of ${s.steps.length} (${describeStep(s, peak)}), ${int(peak?.liveBytes ?? 0)} bytes`);
  console.log('');
  console.log('memory over execution steps (live bytes; dashes: the arena)');
  for (const line of memoryChart(s.steps.map((r) => r.liveBytes), s.peakBytes)) console.log(line);
}

export function planCommand(modelFile: string, opts: PlanCommandOptions = {}): number {
  if (opts.html !== undefined) checkFileOutput(opts.html);
  const s = planModel(modelFile, opts);
  const { board, reservedSramBytes: reserved = 0 } = compileOptionsFrom(opts);
  const short = board ? s.peakBytes + reserved - board.sramBytes : 0;
  if (opts.html) writeFileAtomic(opts.html, planHtml(s));
  if (opts.json) {
    const fit = board ? { board: board.name, sramBytes: board.sramBytes, reservedBytes: reserved, fits: short <= 0, shortBytes: short, peakStep: s.peakStep, peakNode: s.steps[s.peakStep]?.node } : undefined;
    console.log(JSON.stringify({ ...s, board: fit }, null, 2));
  } else {
    printText(s);
    if (opts.html) console.log(`\nwritten     ${opts.html}`);
    if (board) {
      const peak = s.steps[s.peakStep];
      if (short <= 0) console.log(`board       ${board.name}: fits (${int(-short)} bytes of SRAM to spare)`);
      else console.log(`board       ${board.name}: DOES NOT FIT — SRAM short by ${int(short)} bytes (needs ${int(s.peakBytes + reserved)}${reserved ? ` = arena + ${int(reserved)} stack` : ''}, has ${int(board.sramBytes)}); the peak is step ${s.peakStep}, ${describeStep(s, peak)}`);
    }
  }
  return short > 0 ? 3 : 0;
}
