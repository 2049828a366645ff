/**
 * Latency of a subnet as Cortex-M4 instructions per inference, from a table of our generated C kernels
 * measured under QEMU (`-icount`, the runner's per-step counts), not from a formula. A layer is keyed by
 * everything its specialised kernel depends on: op, shapes, options and the kernel variant the plan chose.
 * A subnet whose layers are all in the table costs a lookup; one with new layers is built once for the
 * Cortex-M4, run under QEMU, and its layers join the table (saved as JSON, so the cost is paid once).
 */
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findBoard } from '../boards/boards.js';
import type { CompiledModel } from '../compiler/compile_model.js';
import { generateProject } from '../codegen/project.js';
import { writeProject } from '../codegen/write_project.js';
import { buildProject, runProject } from '../codegen/toolchain.js';
import { isConstant, tensorBytes } from '../graph/graph.js';
import type { AnyNode } from '../graph/graph.js';
import { TinymlError } from '../errors.js';

export interface LatencyEstimate {
  /** Sum over the layers (null when a layer is not in the table). */
  instructions: number | null;
  missing: number;
}

/** The key of one plan step: what its kernel's instruction count depends on. */
export function layerSignature(c: CompiledModel, step: number): string {
  const g = c.graph;
  const n = g.nodes[c.plan.order[step]] as AnyNode;
  const ins = n.inputs.filter((i) => i >= 0).map((i) => g.tensors[i]);
  return JSON.stringify({
    op: n.op,
    in: ins.filter((t) => !isConstant(t)).map((t) => [t.dtype, ...t.shape]),
    consts: ins.filter(isConstant).map((t) => [t.dtype, ...t.shape]),
    out: n.outputs.map((o) => [g.tensors[o].dtype, ...g.tensors[o].shape]),
    options: n.options,
    variant: c.kernels[step]?.variant ?? 'standard',
  });
}

export class LatencyTable {
  private readonly entries = new Map<string, number>();
  /** QEMU runs made (to report what the table cost). */
  measurements = 0;

  constructor(readonly file: string | null = null) {
    if (file && existsSync(file)) {
      const j = JSON.parse(readFileSync(file, 'utf8')) as { target: string; entries: Record<string, number> };
      if (j.target !== 'cortex-m4') throw new TinymlError(`${file} is a latency table for ${j.target}, not cortex-m4`);
      for (const [k, v] of Object.entries(j.entries)) this.entries.set(k, v);
    }
  }

  get size(): number { return this.entries.size; }

  estimate(c: CompiledModel): LatencyEstimate {
    let total = 0;
    let missing = 0;
    for (let s = 0; s < c.plan.order.length; s++) {
      const v = this.entries.get(layerSignature(c, s));
      if (v === undefined) missing++;
      else total += v;
    }
    return { instructions: missing ? null : total, missing };
  }

  /** Instructions per inference: from the table, measuring the model first when a layer is new. */
  instructions(c: CompiledModel): number {
    const e = this.estimate(c);
    if (e.instructions !== null) return e.instructions;
    this.measure(c);
    const again = this.estimate(c);
    if (again.instructions === null) throw new TinymlError(`latency: ${again.missing} layer(s) still unmeasured after a QEMU run`);
    return again.instructions;
  }

  /** Build the model for the Cortex-M4 (QEMU mps2-an386), run it once, record each step's count. */
  measure(c: CompiledModel): void {
    const dir = mkdtempSync(join(tmpdir(), 'tinyml-latency-'));
    try {
      const board = findBoard('mps2-an386');
      const project = generateProject(c.graph, c.plan, { board, target: 'cortex-m4', modelName: 'latency_probe' });
      writeProject(dir, project);
      buildProject(dir, { extraCflags: `-DTM_PROFILE -DTM_PROFILE_MAX_STEPS=${c.plan.order.length}` });
      const inputs = c.graph.inputs.map((id) => new Uint8Array(tensorBytes(c.graph.tensors[id])));
      const outputs = c.graph.outputs.map((id) => tensorBytes(c.graph.tensors[id]));
      const r = runProject(dir, project, [inputs], outputs);
      const steps = [...r.log.matchAll(/^tinyml: step (\d+) (\d+)$/gm)].map((m) => [Number(m[1]), Number(m[2])] as const);
      if (steps.length !== c.plan.order.length) throw new TinymlError(`latency: the runner reported ${steps.length} steps for ${c.plan.order.length}`);
      for (const [s, count] of steps) this.entries.set(layerSignature(c, s), count);
      this.measurements++;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    this.save();
  }

  private save(): void {
    if (!this.file) return;
    const tmp = join(dirname(this.file), `.latency.${process.pid}.tmp`);
    writeFileSync(tmp, JSON.stringify({ target: 'cortex-m4', note: 'tinyml-ts: Cortex-M4 instructions per layer, QEMU -icount', entries: Object.fromEntries(this.entries) }));
    renameSync(tmp, this.file);
  }
}
