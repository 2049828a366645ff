// Cortex-M instructions per inference under QEMU (-icount), per step, checked against every vector case:
// node prof/m4.mjs MODEL [m4|m7] [--steps] [--all] [--memory] [--patch SPEC]   (after npx tsc; reads ../shared)
// --patch SPEC forces a split as `tinyml compile --patch` does (e.g. 4x4@7 tiles, 24x1@7 strips).
// --memory compiles with objective memory (the patch plan where there is one), as `tinyml compile --objective memory`.
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../dist/src/model.js';
import { findBoard } from '../dist/src/boards/boards.js';
import { compileModel } from '../dist/src/compiler/compile_model.js';
import { parsePatch } from '../dist/src/cli/compile_flags.js';
import { tensorBytes } from '../dist/src/graph/graph.js';
import { generateProject } from '../dist/src/codegen/project.js';
import { writeProject } from '../dist/src/codegen/write_project.js';
import { buildProject, elfSize, runProject } from '../dist/src/codegen/toolchain.js';

const name = process.argv[2] ?? 'mlperf_kws_dscnn_int8';
const core = process.argv[3] ?? 'm4';
const steps = process.argv.includes('--steps');
const vdir = join('..', 'shared', 'vectors', name);
const man = JSON.parse(readFileSync(join(vdir, 'manifest.json'), 'utf8'));
const g = loadModel(join('..', 'shared', man.model));
const memory = process.argv.includes('--memory');
const patchAt = process.argv.indexOf('--patch');
const patch = patchAt > 0 ? { patch: parsePatch(process.argv[patchAt + 1]) } : {};
const compiled = compileModel(g, { board: findBoard('mps2-an386'), ...(memory ? { objective: 'memory' } : {}), ...patch });
if (compiled.model.inputs.some((t, i) => t !== g.inputs[i])) throw new Error('io changed: not handled here');
const target = core === 'm7' ? 'cortex-m7' : 'cortex-m4';
const project = generateProject(compiled.graph, compiled.plan, { board: findBoard(core === 'm7' ? 'mps2-an500' : 'mps2-an386'), target, modelName: g.name });
const dir = mkdtempSync(join(tmpdir(), `m4dw-${name}-`));
try {
  writeProject(dir, project);
  buildProject(dir, steps ? { extraCflags: `-DTM_PROFILE -DTM_PROFILE_MAX_STEPS=${compiled.plan.order.length}` } : {});
  const rd = (f) => new Uint8Array(readFileSync(join(vdir, f)));
  const cases = man.cases.map((c) => c.inputs.map(rd));
  const r = runProject(dir, project, cases, compiled.model.outputs.map((id) => tensorBytes(compiled.model.tensors[id])));
  let bad = 0;
  man.cases.forEach((c, i) => c.outputs.forEach((f, j) => { const e = rd(f); const o = r.outputs[i][j]; if (e.length !== o.length || e.some((v, k) => v !== o[k])) bad++; }));
  const size = elfSize(join(dir, 'model.elf'));
  console.log(`${name} ${core}${memory ? ' memory' : ''}: arena ${compiled.plan.arenaBytes} B, ${r.counts[0]} instructions (case 0); cases ${man.cases.length}, mismatching outputs ${bad}; Flash ${size.flash} SRAM ${size.sram}`);
  if (steps) {
    const gr = compiled.graph;
    const byOp = new Map();
    for (const m of r.log.matchAll(/^tinyml: step (\d+) (\d+)$/gm)) {
      const s = Number(m[1]), n = Number(m[2]);
      const node = gr.nodes[compiled.plan.order[s]];
      const shp = (id) => id < 0 || id === undefined ? '-' : gr.tensors[id].shape.join('x');
      if (node.op === 'DEPTHWISE_CONV_2D' || process.argv.includes('--all')) console.log(`${String(s).padStart(3)} ${node.op.padEnd(18)} ${String(n).padStart(9)}  in ${shp(node.inputs[0])} w ${shp(node.inputs[1])} out ${shp(node.outputs[0])} s${node.options.strideH ?? ''}`);
      byOp.set(node.op, (byOp.get(node.op) ?? 0) + n);
    }
    for (const [k, n] of byOp) console.log(`${k.padEnd(20)} ${n}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
