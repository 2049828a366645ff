import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBoard } from '../src/boards/boards.js';
import { tensorBytes } from '../src/graph/graph.js';
import { loadModel } from '../src/model.js';
import { OPS } from '../src/ops/registry.js';
import type { MemoryPlan } from '../src/plan/memory_plan.js';
import { planMemory } from '../src/plan/memory_plan.js';
import type { Graph } from '../src/graph/graph.js';
import type { CompiledModel } from '../src/compiler/compile_model.js';
import { compileModel } from '../src/compiler/compile_model.js';
import { randomTensorBytes } from '../src/runtime/tensor_io.js';
import { generateProject, writeProject } from '../src/codegen/project.js';
import { buildProject, elfSize, runProject } from '../src/codegen/toolchain.js';
import type { BenchManifest } from './shared.js';
import { SHARED, readCaseInput } from './shared.js';
import { int as fmt } from '../src/report/format.js';

/**
 * TFLite Micro on the same emulated Cortex-M4 (QEMU mps2-an386, instructions per Invoke, arm-none-eabi-gcc
 * 12.2): the table "Measured here" in ../shared/README.md.
 */
export const TFLM_M4_INSTRUCTIONS: Record<string, { cmsisNn: number; reference: number }> = {
  mlperf_vww_mobilenetv1_int8: { cmsisNn: 24_102_780, reference: 100_176_310 },
  mlperf_kws_dscnn_int8: { cmsisNn: 7_697_735, reference: 43_023_801 },
  mlperf_ic_resnet8_int8: { cmsisNn: 29_864_959, reference: 107_403_933 },
  tflm_person_detect_int8: { cmsisNn: 22_929_262, reference: 95_592_359 },
  mcunet_vww1_int8_floatio: { cmsisNn: 48_596_468, reference: 188_666_366 },
  mlperf_ad_autoencoder_int8: { cmsisNn: 583_245, reference: 1_952_477 },
};

/** TinyEngine's published mcunet-vww1 figures (STM32H743; ../shared/README.md), as published. */
export const TINYENGINE_MCUNET_VWW1 = { sram: '92 kB', flash: '521 kB', latency: '51 ms' };

export type CodegenPlanKind = 'layer-wise' | 'layer-wise, in-place kernels' | 'patch-based';

export interface CodegenRow {
  model: string;
  plan: CodegenPlanKind;
  /** Instructions of one model_invoke() on the Cortex-M4 (QEMU -icount shift=0, SysTick; +-40). */
  instructions: number;
  /** arm-none-eabi-size: Flash = text + data, SRAM = data + bss. */
  flashBytes: number;
  sramBytes: number;
  arenaBytes: number;
  tflmArenaBytes: number;
  tflmCmsisNn: number | null;
  tflmReference: number | null;
  /** Patch-based rows: n x n patches over original nodes first..last, and the MACs recomputed in halos. */
  patch?: { n: number; firstNode: number; lastNode: number; extraMacs: number };
}

const autoPatchPlans = new Map<string, CompiledModel>();

/** The plan `tinyml compile --patch auto` uses (searched once per model). */
function autoPatchPlan(m: BenchManifest, g: Graph): CompiledModel {
  if (!autoPatchPlans.has(m.id)) autoPatchPlans.set(m.id, compileModel(g, { patch: 'auto' }));
  return autoPatchPlans.get(m.id)!;
}

/** Whether the planner finds a patch-based plan smaller than layer-by-layer for the model. */
export function hasPatchPlan(m: BenchManifest): boolean {
  return autoPatchPlan(m, loadModel(join(SHARED, m.model))).kind === 'patch-based';
}

function planFor(m: BenchManifest, g: Graph, kind: CodegenPlanKind): { graph: Graph; plan: MemoryPlan } {
  if (kind === 'layer-wise') return { graph: g, plan: planMemory(g) };
  if (kind === 'layer-wise, in-place kernels') return { graph: g, plan: planMemory(g, { ops: OPS }) };
  const c = autoPatchPlan(m, g);
  if (c.kind !== 'patch-based') throw new Error(`no patch-based plan: ${c.patchNote}`);
  return c;
}

/** Models the C generator covers: the int8 ones (float edges allowed). */
export function codegenManifests(all: BenchManifest[]): BenchManifest[] {
  return all.filter((m) => !m.id.endsWith('_float'));
}

/** Generate, build for mps2-an386 and run one case under QEMU: the figures of one row. */
export function benchCodegenModel(m: BenchManifest, plan: CodegenPlanKind = 'layer-wise'): CodegenRow {
  const g = loadModel(join(SHARED, m.model));
  const { graph, plan: memoryPlan } = planFor(m, g, plan);
  const project = generateProject(graph, memoryPlan, { board: findBoard('mps2-an386'), target: 'cortex-m4', modelName: g.name });
  const dir = mkdtempSync(join(tmpdir(), `tinyml-bench-${m.id}-`));
  try {
    writeProject(dir, project);
    buildProject(dir);
    const c = m.cases[0];
    const inputs = g.inputs.map((id, i) => (c ? readCaseInput(m, c.inputs[i]) : randomTensorBytes(g.tensors[id], i)));
    const r = runProject(dir, project, [inputs], g.outputs.map((id) => tensorBytes(g.tensors[id])));
    const size = elfSize(join(dir, 'model.elf'));
    const tflm = TFLM_M4_INSTRUCTIONS[m.id];
    return {
      model: m.id, plan, instructions: r.counts[0], flashBytes: size.flash, sramBytes: size.sram, arenaBytes: project.arenaBytes,
      tflmArenaBytes: m.tflm_reference.arena_used_bytes, tflmCmsisNn: tflm?.cmsisNn ?? null, tflmReference: tflm?.reference ?? null,
      ...(memoryPlan.patch ? { patch: { n: memoryPlan.patch.n, firstNode: memoryPlan.patch.firstNode, lastNode: memoryPlan.patch.lastNode, extraMacs: memoryPlan.patch.extraMacs } } : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Every int8 model layer-wise and, where the planner finds one smaller, patch-based (`--patch auto`);
 * mcunet-vww1 also with the in-place kernels (TinyEngine's memory trick).
 */
export function benchCodegen(all: BenchManifest[], log: (line: string) => void = () => {}): CodegenRow[] {
  const rows: CodegenRow[] = [];
  for (const m of codegenManifests(all)) {
    const plans: CodegenPlanKind[] = m.id === 'mcunet_vww1_int8_floatio' ? ['layer-wise', 'layer-wise, in-place kernels'] : ['layer-wise'];
    try {
      if (hasPatchPlan(m)) plans.push('patch-based');
    } catch (e) {
      log(`${m.id} (patch search): FAILED — ${(e as Error).message.split('\n')[0]}`);
    }
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

function speedup(ref: number | null, ours: number): string {
  return ref ? `${(ref / ours).toFixed(2)}x` : '–';
}

/** Markdown: per model and plan, Cortex-M4 instructions beside TFLite Micro's, Flash and SRAM. */
export function codegenTable(rows: readonly CodegenRow[]): string {
  const lines = [
    '| model | plan | tinyml C, M4 instructions | TFLM + CMSIS-NN | speed-up | TFLM reference | Flash (bytes) | SRAM (bytes) | arena | TFLM arena |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of rows) {
    const plan = r.patch ? `${r.plan} (${r.patch.n}x${r.patch.n}, nodes ${r.patch.firstNode}..${r.patch.lastNode})` : r.plan;
    lines.push(`| ${r.model} | ${plan} | ${fmt(r.instructions)} | ${r.tflmCmsisNn ? fmt(r.tflmCmsisNn) : '–'} | ${speedup(r.tflmCmsisNn, r.instructions)} | ${r.tflmReference ? fmt(r.tflmReference) : '–'} | ${fmt(r.flashBytes)} | ${fmt(r.sramBytes)} | ${fmt(r.arenaBytes)} | ${fmt(r.tflmArenaBytes)} |`);
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
  const pairs = rows.filter((r) => r.plan === 'patch-based').map((p) => ({ p, l: rows.find((r) => r.model === p.model && r.plan === 'layer-wise') }))
    .filter((x): x is { p: CodegenRow; l: CodegenRow } => !!x.l);
  if (!pairs.length) return '';
  const lines = [
    '| model | patches | extra MACs | M4 instructions, layer-wise → patch-based | Flash (bytes) | SRAM (bytes) |',
    '|---|---|--:|--:|--:|--:|',
  ];
  for (const { p, l } of pairs) {
    const split = p.patch ? `${p.patch.n}x${p.patch.n}, nodes ${p.patch.firstNode}..${p.patch.lastNode}` : '–';
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
    `| TFLite Micro + CMSIS-NN (QEMU M4) | ${fmt(mine[0].tflmArenaBytes)} (arena) | – | ${fmt(TFLM_M4_INSTRUCTIONS.mcunet_vww1_int8_floatio.cmsisNn)} instructions |`,
  ];
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  for (const r of mine) {
    lines.push(`| tinyml-ts C, ${r.plan} (QEMU M4) | ${fmt(r.sramBytes)} = ${kb(r.sramBytes)} (data+bss; arena ${fmt(r.arenaBytes)}) | ${fmt(r.flashBytes)} = ${kb(r.flashBytes)} | ${fmt(r.instructions)} instructions |`);
  }
  return lines.join('\n');
}
