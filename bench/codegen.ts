import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBoard } from '../src/boards/boards.js';
import { tensorBytes } from '../src/graph/graph.js';
import { loadModel } from '../src/model.js';
import type { Graph } from '../src/graph/graph.js';
import type { CompiledModel } from '../src/compiler/compile_model.js';
import { compileModel } from '../src/compiler/compile_model.js';
import { randomTensorBytes } from '../src/runtime/tensor_io.js';
import { Interpreter } from '../src/runtime/interpreter.js';
import { generateProject } from '../src/codegen/project.js';
import { writeProject } from '../src/codegen/write_project.js';
import { buildProject, elfSize, runProject } from '../src/codegen/toolchain.js';
import type { BenchManifest } from './shared.js';
import { SHARED, readCaseInput } from './shared.js';
import { tflmM4Figures } from './references.js';
import { int as fmt } from '../src/report/format.js';

/** TinyEngine's published mcunet-vww1 figures (STM32H743; ../shared/README.md), as published. */
export const TINYENGINE_MCUNET_VWW1 = { sram: '92 kB', flash: '521 kB', latency: '51 ms' };

/**
 * How the bench compiles: as `tinyml compile --board mps2-an386` does by default, with `--objective memory`,
 * and, for a model with a float boundary, with `--io int8 --objective memory` (int8 data straight in and out);
 * 'int8 weights' is the default plan with `--flash-budget 0` (no weights split into 16-bit SMLAD pairs);
 * 'memory capped' is `--objective memory --max-overhead 15`: the smallest peak among the plans that
 * recompute at most 15 % of the model's MACs (so strips, which recompute none, over tiles that recompute more).
 */
export type CodegenPlanKind = 'default' | 'objective memory' | 'memory capped' | 'io int8' | 'int8 weights';

/** The cap on a patch plan's extra MACs in the 'memory capped' rows (`--max-overhead 15`). */
const CAPPED_OVERHEAD = 0.15;

export interface CodegenRow {
  model: string;
  plan: CodegenPlanKind;
  /** layer-wise or patch-based, and how many layers use the in-place depthwise kernel. */
  kind: string;
  slowInPlace: number;
  /** Of those, the layers whose planned scratch lets the Cortex-M kernel take four channels at a time. */
  fourChannelInPlace: number;
  /** Instructions of one model_invoke() on the Cortex-M4 (QEMU -icount shift=0, SysTick; +-40). */
  instructions: number;
  /** arm-none-eabi-size: Flash = text + data, SRAM = data + bss. */
  flashBytes: number;
  sramBytes: number;
  arenaBytes: number;
  tflmArenaBytes: number;
  tflmCmsisNn: number | null;
  tflmReference: number | null;
  /** The same plan built for the Cortex-M7 (QEMU mps2-an500), default rows only; and TFLM + CMSIS-NN's M7 count. */
  m7Instructions: number | null;
  tflmCmsisNnM7: number | null;
  /** Patch-based rows: n x n patches over original nodes first..last, and the MACs recomputed in halos. */
  patch?: { n: number; cols: number; firstNode: number; lastNode: number; extraMacs: number };
}

/** The compiled model `tinyml compile MODEL --board mps2-an386 [--objective memory]` generates. */
function compiledFor(g: Graph, kind: CodegenPlanKind): CompiledModel {
  const board = findBoard('mps2-an386');
  if (kind === 'default' || kind === 'int8 weights') return compileModel(g, { board });
  if (kind === 'objective memory') return compileModel(g, { board, objective: 'memory' });
  if (kind === 'memory capped') return compileModel(g, { board, objective: 'memory', maxOverhead: CAPPED_OVERHEAD });
  return compileModel(g, { board, objective: 'memory', io: 'int8' });
}

/** Whether `--io int8` changes the model: a float input or output beside a QUANTIZE / DEQUANTIZE. */
function hasFloatBoundary(g: Graph): boolean {
  return [...g.inputs, ...g.outputs].some((t) => g.tensors[t].dtype === 'float32');
}

/** A case's inputs as the compiled model takes them: with `--io int8`, what the dropped QUANTIZE would write. */
function compiledInputs(g: Graph, compiled: CompiledModel, inputs: Uint8Array[]): Uint8Array[] {
  if (compiled.model.inputs.every((t, i) => t === g.inputs[i])) return inputs;
  const original = new Interpreter(g, { preserveAll: true, backend: 'js' });
  inputs.forEach((b, i) => original.setInput(i, b));
  original.invoke();
  return compiled.model.inputs.map((t) => original.tensor(t).slice());
}

/** Models the C generator covers: the int8 ones (float edges allowed). */
export function codegenManifests(all: BenchManifest[]): BenchManifest[] {
  return all.filter((m) => !m.id.endsWith('_float'));
}

/** Generate, build for mps2-an386 and run one case under QEMU: the figures of one row. */
/** Build the compiled model for one QEMU Cortex-M board, run one case: instructions per inference and sizes. */
function measureOn(m: BenchManifest, g: Graph, compiled: CompiledModel, target: 'cortex-m4' | 'cortex-m7', flashBudget?: number) {
  const project = generateProject(compiled.graph, compiled.plan, { board: findBoard(target === 'cortex-m4' ? 'mps2-an386' : 'mps2-an500'), target, modelName: g.name, flashBudget });
  const dir = mkdtempSync(join(tmpdir(), `tinyml-bench-${m.id}-`));
  try {
    writeProject(dir, project);
    buildProject(dir);
    const c = m.cases[0];
    const inputs = compiledInputs(g, compiled, g.inputs.map((id, i) => (c ? readCaseInput(m, c.inputs[i]) : randomTensorBytes(g.tensors[id], i))));
    const r = runProject(dir, project, [inputs], compiled.model.outputs.map((id) => tensorBytes(compiled.model.tensors[id])));
    return { instructions: r.counts[0], size: elfSize(join(dir, 'model.elf')), arenaBytes: project.arenaBytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function benchCodegenModel(m: BenchManifest, plan: CodegenPlanKind = 'default'): CodegenRow {
  const g = loadModel(join(SHARED, m.model));
  const compiled = compiledFor(g, plan);
  const m4 = measureOn(m, g, compiled, 'cortex-m4', plan === 'int8 weights' ? 0 : undefined);
  const m7 = plan === 'default' ? measureOn(m, g, compiled, 'cortex-m7') : null;
  const tflm = tflmM4Figures().get(m.id);
  const p = compiled.plan.patch;
  return {
    model: m.id, plan, kind: compiled.kind, slowInPlace: compiled.kernels.filter((k) => k.variant === 'in-place depthwise').length,
    fourChannelInPlace: compiled.kernels.filter((k) => k.fourChannels).length,
    instructions: m4.instructions, flashBytes: m4.size.flash, sramBytes: m4.size.sram, arenaBytes: m4.arenaBytes,
    tflmArenaBytes: tflm?.arenaBytes ?? m.tflm_reference.arena_used_bytes, tflmCmsisNn: tflm?.cmsisNnM4 ?? null, tflmReference: tflm?.referenceM4 ?? null,
    m7Instructions: m7?.instructions ?? null, tflmCmsisNnM7: tflm?.cmsisNnM7 ?? null,
    ...(p ? { patch: { n: p.n, cols: p.cols, firstNode: p.firstNode, lastNode: p.lastNode, extraMacs: p.extraMacs } } : {}),
  };
}

/**
 * Every int8 model as `tinyml compile --board mps2-an386` builds it by default (the fastest plan that fits
 * the board) and, where its arena differs, with `--objective memory` (the smallest peak).
 */
export function benchCodegen(all: BenchManifest[], log: (line: string) => void = () => {}): CodegenRow[] {
  const rows: CodegenRow[] = [];
  for (const m of codegenManifests(all)) {
    const g = loadModel(join(SHARED, m.model));
    const plans: CodegenPlanKind[] = ['default', 'int8 weights'];
    const memory = compiledFor(g, 'objective memory'), capped = compiledFor(g, 'memory capped');
    if (memory.plan.arenaBytes !== compiledFor(g, 'default').plan.arenaBytes) plans.push('objective memory');
    if (capped.plan.arenaBytes !== memory.plan.arenaBytes) plans.push('memory capped');
    if (hasFloatBoundary(g)) plans.push('io int8');
    for (const plan of plans) {
      try {
        const row = benchCodegenModel(m, plan);
        rows.push(row);
        log(`${m.id} (${plan}): ${row.instructions.toLocaleString('en-US')} instructions`);
      } catch (e) {
        log(`${m.id} (${plan}): FAILED — ${(e as Error).message.split('\n')[0]}`);
      }
    }
  }
  return rows;
}

const PLAN_LABEL: Readonly<Record<CodegenPlanKind, string>> = {
  default: 'default', 'int8 weights': '`--flash-budget 0` (int8 weights)', 'objective memory': '`--objective memory`', 'memory capped': '`--objective memory --max-overhead 15`', 'io int8': '`--io int8 --objective memory`',
};

/** n x n tiles or n full-width strips. */
function splitName(p: { n: number; cols: number }): string {
  return p.cols === 1 ? `${p.n}x1 strips` : `${p.n}x${p.cols}`;
}

function speedup(ref: number | null, ours: number): string {
  return ref ? `${(ref / ours).toFixed(2)}x` : '–';
}

/** Markdown: per model and plan, Cortex-M4 instructions beside TFLite Micro's, Flash and SRAM. */
export function codegenTable(rows: readonly CodegenRow[]): string {
  const lines = [
    '| model | plan | tinyml C, M4 instructions | TFLM + CMSIS-NN | speed-up | TFLM reference | M7 instructions | TFLM + CMSIS-NN, M7 | M7 speed-up | Flash (bytes) | SRAM (bytes) | arena | TFLM arena |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of rows) {
    const how = r.patch ? `${r.kind} ${splitName(r.patch)}, nodes ${r.patch.firstNode}..${r.patch.lastNode}` : r.kind;
    const plan = `${PLAN_LABEL[r.plan]}: ${how}${r.slowInPlace ? `, ${r.slowInPlace} in-place DW${r.fourChannelInPlace ? ` (${r.fourChannelInPlace} four channels at a time)` : ''}` : ''}`;
    lines.push(`| ${r.model} | ${plan} | ${fmt(r.instructions)} | ${r.tflmCmsisNn ? fmt(r.tflmCmsisNn) : '–'} | ${speedup(r.tflmCmsisNn, r.instructions)} | ${r.tflmReference ? fmt(r.tflmReference) : '–'} | ${r.m7Instructions ? fmt(r.m7Instructions) : '–'} | ${r.tflmCmsisNnM7 ? fmt(r.tflmCmsisNnM7) : '–'} | ${r.m7Instructions ? speedup(r.tflmCmsisNnM7, r.m7Instructions) : '–'} | ${fmt(r.flashBytes)} | ${fmt(r.sramBytes)} | ${fmt(r.arenaBytes)} | ${fmt(r.tflmArenaBytes)} |`);
  }
  const beside = patchComparison(rows);
  return beside ? `${lines.join('\n')}\n\n${beside}` : lines.join('\n');
}

function delta(after: number, before: number): string {
  const pct = ((after - before) / before) * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)} %`;
}

/** Per model with a patch-based build: its M4 instructions, Flash and SRAM beside the layer-wise build's. */
export function patchComparison(rows: readonly CodegenRow[]): string {
  const same = (r: CodegenRow) => r.plan === 'default' || r.plan === 'objective memory' || r.plan === 'memory capped';
  const pairs = rows.filter((r) => r.kind === 'patch-based' && same(r)).map((p) => ({ p, l: rows.find((r) => r.model === p.model && r.kind === 'layer-wise' && same(r)) }))
    .filter((x): x is { p: CodegenRow; l: CodegenRow } => !!x.l);
  if (!pairs.length) return '';
  const lines = [
    '| model | patches | extra MACs | M4 instructions, layer-wise → patch-based | Flash (bytes) | SRAM (bytes) |',
    '|---|---|--:|--:|--:|--:|',
  ];
  for (const { p, l } of pairs) {
    const split = p.patch ? `${splitName(p.patch)}, nodes ${p.patch.firstNode}..${p.patch.lastNode}` : '–';
    lines.push(`| ${p.model} | ${split} | ${p.patch ? fmt(Math.round(p.patch.extraMacs)) : '–'} | ${fmt(l.instructions)} → ${fmt(p.instructions)} (${delta(p.instructions, l.instructions)}) | ${fmt(l.flashBytes)} → ${fmt(p.flashBytes)} (${delta(p.flashBytes, l.flashBytes)}) | ${fmt(l.sramBytes)} → ${fmt(p.sramBytes)} (${delta(p.sramBytes, l.sramBytes)}) |`);
  }
  return lines.join('\n');
}

/** mcunet-vww1 beside TinyEngine's published figures and TFLite Micro's arena. */
export function mcunetComparison(rows: readonly CodegenRow[]): string {
  const mine = rows.filter((r) => r.model === 'mcunet_vww1_int8_floatio');
  if (!mine.length) return '';
  const lines = [
    '| mcunet-vww1 | SRAM | Flash | speed |',
    '|---|--:|--:|--:|',
    `| TinyEngine (published, STM32H743) | ${TINYENGINE_MCUNET_VWW1.sram} (peak) | ${TINYENGINE_MCUNET_VWW1.flash} | ${TINYENGINE_MCUNET_VWW1.latency} |`,
    `| TFLite Micro + CMSIS-NN (QEMU M4) | ${fmt(mine[0].tflmArenaBytes)} (arena) | – | ${mine[0].tflmCmsisNn ? fmt(mine[0].tflmCmsisNn) : '–'} instructions |`,
  ];
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  for (const r of mine) {
    lines.push(`| tinyml-ts C, ${PLAN_LABEL[r.plan].replace(/`/g, '')}: ${r.kind} (QEMU M4) | ${fmt(r.sramBytes)} = ${kb(r.sramBytes)} (data+bss; arena ${fmt(r.arenaBytes)}) | ${fmt(r.flashBytes)} = ${kb(r.flashBytes)} | ${fmt(r.instructions)} instructions |`);
  }
  return lines.join('\n');
}
