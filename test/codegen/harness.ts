import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Board } from '../../src/boards/boards.js';
import { findBoard } from '../../src/boards/boards.js';
import type { Graph } from '../../src/graph/graph.js';
import type { MemoryPlan } from '../../src/plan/memory_plan.js';
import type { BundledModel, GeneratedBundle, GeneratedProject, GenerateOptions } from '../../src/codegen/project.js';
import { generateBundle, generateProject } from '../../src/codegen/project.js';
import { writeProject } from '../../src/codegen/write_project.js';
import type { Target } from '../../src/codegen/target.js';
import type { BundleCases, RunResult } from '../../src/codegen/toolchain.js';
import { buildProject, runBundle, runProject } from '../../src/codegen/toolchain.js';
import type { Manifest } from '../helpers/shared.js';
import { readBin } from '../helpers/shared.js';

/** Sanitizers for the host build; -O1 keeps the (large, specialised) model.c quick to compile. */
export const HOST_SANITIZE = { extraCflags: '-fsanitize=address,undefined -fno-sanitize-recover=all', opt: '-O1' };

/** Bytes the Cortex-M harness adds to .bss beside the arena: the semihosting command line and the SysTick wrap count. */
export const HARNESS_BSS_BYTES = 516;

/** The QEMU board of each Cortex-M target. */
export const QEMU_BOARDS: readonly { target: Target; board: string }[] = [
  { target: 'cortex-m4', board: 'mps2-an386' },
  { target: 'cortex-m7', board: 'mps2-an500' },
];

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `tinyml-codegen-${tag}-`));
}

export interface BuiltProject {
  dir: string;
  project: GeneratedProject;
  run(cases: readonly (readonly Uint8Array[])[], outputBytes: readonly number[]): RunResult;
  cleanup(): void;
}

/** Generate, write and build a project in a fresh temporary directory. */
export function buildFor(g: Graph, plan: MemoryPlan, target: Target, board: Board | string, extra: Partial<GenerateOptions> = {}): BuiltProject {
  const b = typeof board === 'string' ? findBoard(board) : board;
  const project = generateProject(g, plan, { board: b, target, ...extra });
  const dir = tempDir(`${g.name}-${target}`);
  writeProject(dir, project);
  buildProject(dir, target === 'host' ? HOST_SANITIZE : {});
  return {
    dir,
    project,
    run: (cases, outputBytes) => runProject(dir, project, cases, outputBytes),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface BuiltBundle {
  dir: string;
  bundle: GeneratedBundle;
  run(models: readonly BundleCases[]): RunResult[];
  cleanup(): void;
}

/** Several models built into one program (each under its own symbol prefix), in a fresh temporary directory. */
export function buildBundleFor(models: readonly BundledModel[], target: Target, board: Board | string, name: string, units?: number): BuiltBundle {
  const b = typeof board === 'string' ? findBoard(board) : board;
  const bundle = generateBundle(models, { board: b, target, name, units });
  const dir = tempDir(`${name}-${target}`);
  writeProject(dir, bundle);
  try {
    buildProject(dir, target === 'host' ? HOST_SANITIZE : {});
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    dir,
    bundle,
    run: (cases) => runBundle(dir, bundle, cases),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function manifestCases(m: Manifest): Uint8Array[][] {
  return m.cases.map((c) => c.inputs.map((f) => readBin(m, f)));
}

/** Byte-for-byte equality; the first difference as a message. */
export function firstDifference(got: Uint8Array, want: Uint8Array): string | null {
  if (got.byteLength !== want.byteLength) return `size ${got.byteLength} != ${want.byteLength}`;
  for (let i = 0; i < got.length; i++) if (got[i] !== want[i]) return `byte ${i}: got ${got[i]}, want ${want[i]}`;
  return null;
}
