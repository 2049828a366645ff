/**
 * A searched model as a user deploys it: the plan `compile` picks for the limits, the generated C built for
 * the Cortex-M4 (QEMU mps2-an386), its size by arm-none-eabi-size against the limits, and its outputs on
 * real test images equal to the interpreter's, byte for byte, with the instructions per inference.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBoard } from '../src/boards/boards.js';
import { patchName } from '../src/plan/memory_plan.js';
import { generateProject } from '../src/codegen/project.js';
import { writeProject } from '../src/codegen/write_project.js';
import { buildProject, elfSize, runProject } from '../src/codegen/toolchain.js';
import type { Dataset } from '../src/data/dataset.js';
import { encodeSamples } from '../src/data/encode.js';
import { encodingOf, preprocessingOf } from '../src/data/preprocessing.js';
import type { Graph } from '../src/graph/graph.js';
import { tensorBytes } from '../src/graph/graph.js';
import type { Limits } from '../src/nas/resources.js';
import { deployedPlan } from '../src/nas/resources.js';
import { Interpreter } from '../src/runtime/interpreter.js';

export interface DeployCheck {
  plan: string;
  arenaBytes: number;
  /** arm-none-eabi-size: text + data, data + bss. */
  flashBytes: number;
  sramBytes: number;
  fits: boolean;
  /** Cortex-M4 instructions per inference (QEMU -icount), the first image's. */
  instructions: number;
  images: number;
  identical: boolean;
}

export function deployCheck(model: Graph, limits: Limits, test: Dataset, images = 4): DeployCheck {
  const compiled = deployedPlan(model, limits);
  const project = generateProject(compiled.graph, compiled.plan, { board: findBoard('mps2-an386'), target: 'cortex-m4', modelName: 'searched' });
  const enc = encodingOf(model, preprocessingOf(model));
  const cases = Array.from({ length: images }, (_, i) => {
    const x = encodeSamples(test, [i], enc);
    return [new Uint8Array(x.buffer, x.byteOffset, x.byteLength).slice()];
  });
  const interp = new Interpreter(compiled.graph, { plan: compiled.plan });
  const expected = cases.map((c) => {
    interp.setInput(0, c[0]);
    interp.invoke();
    return interp.output(0).slice();
  });
  const dir = mkdtempSync(join(tmpdir(), 'tinyml-nas-deploy-'));
  try {
    writeProject(dir, project);
    buildProject(dir);
    const r = runProject(dir, project, cases, [tensorBytes(model.tensors[model.outputs[0]])]);
    const size = elfSize(join(dir, 'model.elf'));
    // A board's SRAM holds the statics and the stack; a bare budget is the planner's arena, as quoted.
    const sramOk = limits.board ? size.sram + limits.reservedSramBytes <= limits.sramBytes : project.arenaBytes <= limits.sramBytes;
    return {
      plan: compiled.kind === 'patch-based' ? `patch-based ${patchName(compiled.plan.patch!)}` : 'layer-wise',
      arenaBytes: project.arenaBytes, flashBytes: size.flash, sramBytes: size.sram,
      fits: sramOk && size.flash <= limits.flashBytes,
      instructions: r.counts[0], images,
      identical: r.outputs.every((o, i) => Buffer.from(o[0]).equals(Buffer.from(expected[i]))),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
