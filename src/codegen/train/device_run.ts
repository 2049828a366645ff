/**
 * Running a compiled training step for real (Node only, as toolchain.ts): build the project, stream samples
 * to the runner (host, or QEMU for an mps2 board), read back the trained tensors, the per-step counts and
 * the stack high-water mark; and the same steps in the Node trainer, to compare. Used by the tests and
 * the train-mcu bench.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { loadDatasetFolder, trainingView, UNIT_RANGE } from '../../data/index.js';
import { affineQuantizeValue } from '../../ops/quantize.js';
import { join } from 'node:path';
import type { Graph } from '../../graph/graph.js';
import { numElements } from '../../graph/graph.js';
import { findBoard } from '../../boards/boards.js';
import { compileTraining } from '../../train/compile.js';
import { parseUpdateSpec } from '../../train/update.js';
import { TrainingSession } from '../../train/session.js';
import type { OptimizerSpec } from '../../train/optimizer_spec.js';
import type { Target } from '../target.js';
import { isCortexM, qemuMachine } from '../target.js';
import type { GeneratedTrainingProject } from './train_project.js';
import { generateTrainingProject } from './train_project.js';
import { writeProject } from '../write_project.js';
import { buildProject, elfSize } from '../toolchain.js';
import type { ElfSize } from '../toolchain.js';
import { spawnSync } from 'node:child_process';

/** Sanitizers for the host build (as the inference tests build theirs). */
const HOST_SANITIZE = { extraCflags: '-fsanitize=address,undefined -fno-sanitize-recover=all', opt: '-O1' };

/** Samples as the device runner reads them: int8 input then an int32 label. */
export interface Sample {
  input: Int8Array;
  label: number;
}

export interface TrainSetup {
  graph: Graph;
  update: string;
  optimizer: OptimizerSpec;
  qas: boolean;
  seed: number;
}

/** The Node trainer's trained tensors (whole, raw bytes) after one step per sample. */
export function trainInNode(s: TrainSetup, samples: readonly Sample[]): Uint8Array[] {
  const program = compileTraining(s.graph, parseUpdateSpec(s.update), { optimizer: s.optimizer });
  const session = new TrainingSession(program, { qas: s.qas, seed: s.seed, backend: 'wasm' });
  const g = program.graph;
  const inT = g.tensors[g.inputs[0]];
  const scale = inT.quant!.scale[0], zp = inT.quant!.zeroPoint[0];
  for (const x of samples) {
    // Floats that quantise back to exactly these codes.
    session.step(Float32Array.from(x.input, (q) => scale * (q - zp)), [x.label]);
  }
  return program.update.params.map((p) => {
    const t = g.tensors[p.tensor];
    return new Uint8Array(t.data!.buffer, t.data!.byteOffset, t.data!.byteLength).slice();
  });
}

export interface DeviceRun {
  project: GeneratedTrainingProject;
  tensors: Uint8Array[];
  stepCounts: number[];
  predictCount: number;
  stackBytes: number | null;
  size: ElfSize | null;
  log: string;
}

/** Generate, build and run the training project on the host (sanitizers) or under QEMU. */
export function trainOnDevice(s: TrainSetup, samples: readonly Sample[], target: Target, board: string, sanitize = target === 'host'): DeviceRun {
  const program = compileTraining(s.graph, parseUpdateSpec(s.update), { optimizer: s.optimizer });
  const b = findBoard(board);
  const project = generateTrainingProject(program, s.optimizer, { board: b, target, qas: s.qas, seed: s.seed });
  const dir = mkdtempSync(join(tmpdir(), `tinyml-train-${target}-`));
  try {
    writeProject(dir, project);
    buildProject(dir, sanitize ? HOST_SANITIZE : {});
    const record = project.inputBytes + 4;
    const bytes = new Uint8Array(samples.length * record);
    samples.forEach((x, i) => {
      bytes.set(new Uint8Array(x.input.buffer, x.input.byteOffset, x.input.byteLength), i * record);
      new DataView(bytes.buffer).setInt32(i * record + project.inputBytes, x.label, true);
    });
    const inPath = join(dir, 'samples.bin'), outPath = join(dir, 'trained.bin');
    writeFileSync(inPath, bytes);
    writeFileSync(outPath, new Uint8Array(0));
    const r = target === 'host'
      ? spawnSync(join(dir, 'model_runner'), [inPath, outPath], { cwd: dir, encoding: 'utf8', timeout: 600_000 })
      : spawnSync('qemu-system-arm', ['-M', qemuMachine(b)!, '-nographic', '-monitor', 'none', '-serial', 'none', '-icount', 'shift=0',
        '-semihosting-config', `enable=on,target=native,arg=model.elf,arg=${inPath},arg=${outPath}`, '-kernel', join(dir, 'model.elf')], { cwd: dir, encoding: 'utf8', timeout: 600_000 });
    const log = (r.stdout ?? '') + (r.stderr ?? '');
    if (r.status !== 0) throw new Error(`training runner exited with ${r.status}:\n${log}`);
    const out = new Uint8Array(readFileSync(outPath));
    let o = 0;
    const tensors = project.exports.map((e) => { const t = out.slice(o, o + e.bytes); o += e.bytes; return t; });
    const counts = [...log.matchAll(/^tinyml: step \d+ -> -?\d+(?: \w+ (\d+))?$/gm)].map((m) => Number(m[1] ?? 0));
    const predict = /^tinyml: predict 0 -> \d+(?: \w+ (\d+))?$/m.exec(log);
    const stack = /^tinyml: stack bytes (\d+)$/m.exec(log);
    return {
      project, tensors, stepCounts: counts, predictCount: Number(predict?.[1] ?? 0), stackBytes: stack ? Number(stack[1]) : null,
      size: isCortexM(target) ? elfSize(join(dir, 'model.elf')) : null, log,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `count` samples of random int8 codes and labels from a seed (Mulberry32). */
export function randomSamples(g: Graph, classes: number, count: number, seed: number): Sample[] {
  let a = seed >>> 0;
  const next = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0); };
  const n = numElements(g.tensors[g.inputs[0]].shape);
  return Array.from({ length: count }, () => ({ input: Int8Array.from({ length: n }, () => (next() & 255) - 128), label: next() % classes }));
}

/**
 * `count` images of a dataset folder under ../shared, resized to the model's input (loadDatasetFolder),
 * as the int8 codes the model's input takes (its own scale and zero point, pixels in [0, 1]).
 */
export function datasetSamples(g: Graph, folder: string, count: number): Sample[] {
  if (!existsSync(folder)) throw new Error(`${folder} not found: the device-training tests read samples from ../shared/datasets (set TINYML_SHARED to where shared/ is)`);
  const t = g.tensors[g.inputs[0]];
  const [, height, width, channels] = t.shape;
  const data = loadDatasetFolder(folder, { shape: { height, width, channels: channels as 1 | 3 }, trainLimit: count, testLimit: 1, seed: 1 });
  const view = trainingView(data.train, { range: UNIT_RANGE });
  const scale = t.quant!.scale[0], zp = t.quant!.zeroPoint[0];
  const x = new Float32Array(view.sampleSize);
  return Array.from({ length: count }, (_, k) => {
    const label = view.read(k, x, 0);
    return { input: Int8Array.from(x, (v) => affineQuantizeValue(v, scale, zp, -128, 127)), label };
  });
}
