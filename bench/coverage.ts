/**
 * The operator coverage table, from the registry itself: every op we run, whether the C library
 * (`compile`, and the WebAssembly backend) has a kernel for it, whether training has its gradient rule,
 * and how many op-zoo variants (../shared/ops) run exactly, by dtype.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { OPS } from '../src/ops/registry.js';
import type { OpName } from '../src/graph/options.js';
import { OP_NAMES } from '../src/graph/options.js';
import { loweringFor } from '../src/codegen/lower/registry.js';
import { GRADIENT_RULES } from '../src/train/gradients.js';
import { loadModel } from '../src/model.js';
import { Interpreter } from '../src/runtime/interpreter.js';
import { SHARED } from './shared.js';

interface ZooCount { exact: number; total: number; dtypes: Set<string> }

function compareCase(dir: string, m: { outputs: { type: string }[]; compare: string }, out: Uint8Array, file: string): boolean {
  const want = readFileSync(join(dir, file));
  if (m.compare === 'exact') return Buffer.compare(Buffer.from(out), want) === 0;
  const tol = Number(/<=\s*([0-9.eE+-]+)/.exec(m.compare)?.[1] ?? '0');
  const a = new Float32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
  const b = new Float32Array(want.buffer.slice(want.byteOffset, want.byteOffset + want.byteLength));
  return a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) <= tol * Math.max(1, Math.abs(b[i])));
}

/** Per op: zoo variants that run and match (every case), out of those it has. */
export function zooCoverage(): Map<string, ZooCount> {
  const root = join(SHARED, 'ops');
  const counts = new Map<string, ZooCount>();
  if (!existsSync(join(root, 'vectors'))) return counts;
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const rows = [...readme.matchAll(/^\| ([a-z0-9_.]+) \| ([A-Za-z0-9_]+) \| ([a-z0-9/]+) \|/gm)];
  for (const [, variant, op, dtypes] of rows) {
    if (variant === 'variant') continue; // the table's header
    const c = counts.get(op) ?? { exact: 0, total: 0, dtypes: new Set<string>() };
    counts.set(op, c);
    c.total++;
    const dir = join(root, 'vectors', variant);
    if (!existsSync(join(dir, 'manifest.json'))) continue;
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    try {
      const interp = new Interpreter(loadModel(join(SHARED, m.model)));
      const stateful = /svdf|lstm/.test(variant) ? 3 : 1;
      const ok = m.cases.every((k: { inputs: string[]; outputs: string[] }) => {
        interp.resetState();
        k.inputs.forEach((f, i) => interp.setInput(i, new Uint8Array(readFileSync(join(dir, f)))));
        for (let r = 0; r < stateful; r++) interp.invoke();
        return k.outputs.every((f, i) => compareCase(dir, m, interp.output(i), f));
      });
      if (ok) { c.exact++; dtypes.split('/').forEach((d) => c.dtypes.add(d)); }
    } catch {
      // refused (the test suite checks refusals name the op and node)
    }
  }
  return counts;
}

export function coverageTable(): string {
  const zoo = zooCoverage();
  const names = [...new Set<string>([...OP_NAMES, ...zoo.keys()])].sort();
  const lines = ['| op | interpreter | C kernel | gradient | op zoo variants exact | dtypes exact |', '|---|:-:|:-:|:-:|--:|---|'];
  let exact = 0, total = 0;
  for (const op of names) {
    const ours = (OP_NAMES as readonly string[]).includes(op);
    const z = zoo.get(op);
    exact += z?.exact ?? 0;
    total += z?.total ?? 0;
    const lowered = ours && loweringFor(op as OpName) ? 'yes' : '–';
    const grad = ours && GRADIENT_RULES[op as OpName] ? 'yes' : '–';
    lines.push(`| ${op} | ${ours ? 'yes' : '–'} | ${lowered} | ${grad} | ${z ? `${z.exact} / ${z.total}` : '–'} | ${z ? [...z.dtypes].sort().join(', ') : ''} |`);
  }
  lines.push('', `${Object.keys(OPS).length} ops in the registry; ${exact} of ${total} op-zoo variants exact through the interpreter (3 cases each). "C kernel": \`compile\` emits it (test/codegen/ops_zoo_c.test.ts runs every zoo variant it takes, on the host and the Cortex-M4); a node of a dtype its lowering does not take is refused naming the node. The wasm backend runs a node in WebAssembly when the module holds the kernel its lowering calls (the layers, int8 ADD/MUL, pools, MEAN, SOFTMAX, table activations, PAD, TRANSPOSE, slices, concatenations, index-map copies), else on its TypeScript kernel.`);
  return lines.join('\n');
}
