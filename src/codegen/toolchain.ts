import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Board } from '../boards/boards.js';
import type { GeneratedBundle, GeneratedProject } from './project.js';
import type { Target } from './target.js';
import { isCortexM, qemuMachine } from './target.js';

/**
 * Building and running a generated project: `make` in its directory, then the host runner or QEMU.
 * Used by the tests and the benchmark; the CLI only writes projects.
 */

export class ToolchainError extends Error {}

/** What building for a Cortex-M and counting its instructions under QEMU takes, and its Debian packages. */
export const MEASURE_TOOLS = ['arm-none-eabi-gcc', 'qemu-system-arm', 'make'] as const;
export const MEASURE_TOOLS_PACKAGES = 'gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm make';

/** The tools of `tools` not on PATH. */
export function missingTools(tools: readonly string[] = MEASURE_TOOLS): string[] {
  return tools.filter((t) => {
    try {
      execFileSync(t, ['--version'], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
}

export interface BuildOptions {
  /** Extra compiler flags (e.g. sanitizers for the host build). */
  extraCflags?: string;
  extraLdflags?: string;
  opt?: string;
  jobs?: number;
}

function run(cmd: string, args: string[], cwd: string, timeoutMs: number): { stdout: string; stderr: string; status: number } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new ToolchainError(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status ?? -1 };
}

/** Run `make` in the project directory; throws with the compiler's output on failure. */
export function buildProject(dir: string, o: BuildOptions = {}): string {
  const args = [`-j${o.jobs ?? 2}`, '--no-print-directory'];
  if (o.extraCflags) args.push(`EXTRA_CFLAGS=${o.extraCflags}`);
  if (o.extraLdflags) args.push(`EXTRA_LDFLAGS=${o.extraLdflags}`);
  if (o.opt) args.push(`OPT=${o.opt}`);
  const r = run('make', args, dir, 600_000);
  if (r.status !== 0) throw new ToolchainError(`make failed in ${dir}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout + r.stderr;
}

export interface RunResult {
  /** Per case, per model output: the raw bytes. */
  outputs: Uint8Array[][];
  /** Per case: the count the runner printed (instructions under QEMU; 0 on the host). */
  counts: number[];
  log: string;
}

/** Cases' inputs back to back, as the runner reads them. */
export function packCases(cases: readonly (readonly Uint8Array[])[]): Uint8Array {
  const total = cases.reduce((n, c) => n + c.reduce((m, b) => m + b.byteLength, 0), 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of cases) for (const b of c) { out.set(b, o); o += b.byteLength; }
  return out;
}

function splitOutputs(bytes: Uint8Array, nCases: number, outputBytes: readonly number[]): Uint8Array[][] {
  const per = outputBytes.reduce((a, b) => a + b, 0);
  if (bytes.byteLength !== per * nCases) throw new ToolchainError(`runner wrote ${bytes.byteLength} bytes, expected ${per * nCases}`);
  const out: Uint8Array[][] = [];
  let o = 0;
  for (let c = 0; c < nCases; c++) {
    out.push(outputBytes.map((n) => { const s = bytes.slice(o, o + n); o += n; return s; }));
  }
  return out;
}

function parseCounts(log: string): number[] {
  return [...log.matchAll(/^tinyml: case (\d+)(?: \w+ (\d+)| done)$/gm)].map((m) => Number(m[2] ?? 0));
}

/** Run the built program of a project once over an inputs file; the log and the outputs file's bytes. */
function runProgram(dir: string, target: Target, board: Board, input: Uint8Array, timeoutMs: number): { log: string; output: Uint8Array } {
  const inPath = join(dir, 'cases.in.bin');
  const outPath = join(dir, 'cases.out.bin');
  writeFileSync(inPath, input);
  writeFileSync(outPath, new Uint8Array(0));
  let r: { stdout: string; stderr: string; status: number };
  if (target === 'host') {
    r = run(join(dir, 'model_runner'), [inPath, outPath], dir, timeoutMs);
  } else if (isCortexM(target)) {
    const machine = qemuMachine(board);
    if (!machine) throw new ToolchainError(`board ${board.name} has no QEMU machine to run on`);
    r = run('qemu-system-arm', [
      '-M', machine, '-nographic', '-monitor', 'none', '-serial', 'none', '-icount', 'shift=0',
      '-semihosting-config', `enable=on,target=native,arg=model.elf,arg=${inPath},arg=${outPath}`,
      '-kernel', join(dir, 'model.elf'),
    ], dir, timeoutMs);
  } else {
    throw new ToolchainError(`target ${target} builds a library, nothing to run`);
  }
  const log = r.stdout + r.stderr;
  if (r.status !== 0) throw new ToolchainError(`runner exited with ${r.status}:\n${log}`);
  return { log, output: new Uint8Array(readFileSync(outPath)) };
}

/**
 * Run every case in one process: the host runner, or QEMU for an mps2 board (semihosting for files and
 * exit status, `-icount shift=0` so the count is instructions).
 */
export function runProject(dir: string, project: GeneratedProject, cases: readonly (readonly Uint8Array[])[], outputBytes: readonly number[], timeoutMs = 600_000): RunResult {
  const { log, output } = runProgram(dir, project.target, project.board, packCases(cases), timeoutMs);
  return { outputs: splitOutputs(output, cases.length, outputBytes), counts: parseCounts(log), log };
}

/** One model's cases and output sizes, for a bundle run. */
export interface BundleCases {
  cases: readonly (readonly Uint8Array[])[];
  outputBytes: readonly number[];
  /** model_invoke calls per case, each case from the starting state (a stateful model's reference may follow several; default 1). */
  invokes?: number;
}

/** Run a bundle's models in turn, each over its own cases, in one process; one RunResult per model. */
export function runBundle(dir: string, bundle: GeneratedBundle, models: readonly BundleCases[], timeoutMs = 600_000): RunResult[] {
  if (models.length !== bundle.models.length) throw new ToolchainError(`${models.length} case sets for a bundle of ${bundle.models.length} models`);
  const parts = models.flatMap((m) => [new Uint8Array(Uint32Array.of(m.cases.length, m.invokes ?? 1).buffer), packCases(m.cases)]);
  const input = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  parts.reduce((o, p) => { input.set(p, o); return o + p.byteLength; }, 0);
  const { log, output } = runProgram(dir, bundle.target, bundle.board, input, timeoutMs);
  const counts = parseCounts(log);
  let o = 0, c = 0;
  return models.map((m) => {
    const bytes = m.cases.length * m.outputBytes.reduce((a, b) => a + b, 0);
    const r = { outputs: splitOutputs(output.subarray(o, o + bytes), m.cases.length, m.outputBytes), counts: counts.slice(c, c + m.cases.length), log };
    o += bytes;
    c += m.cases.length;
    return r;
  });
}

/** arm-none-eabi-size (Berkeley): Flash = text + data, SRAM = data + bss. */
export interface ElfSize {
  text: number;
  data: number;
  bss: number;
  flash: number;
  sram: number;
}

export function elfSize(elf: string): ElfSize {
  const out = execFileSync('arm-none-eabi-size', [elf], { encoding: 'utf8' });
  const row = out.trim().split('\n')[1]?.trim().split(/\s+/).map(Number);
  if (!row || row.length < 3 || row.slice(0, 3).some((n) => !Number.isFinite(n))) throw new ToolchainError(`cannot parse arm-none-eabi-size output:\n${out}`);
  const [text, data, bss] = row;
  return { text, data, bss, flash: text + data, sram: data + bss };
}
