import { readFileSync } from 'node:fs';
import { loadModel } from '../model.js';
import { compileModel } from '../compiler/compile_model.js';
import type { Backend } from '../runtime/interpreter.js';
import { Interpreter, defaultBackend } from '../runtime/interpreter.js';
import { InputError } from '../errors.js';
import { checkFileOutput, writeFileAtomic } from '../util/output.js';
import type { CompileFlags } from './compile_flags.js';
import { compileOptionsFrom } from './compile_flags.js';
import type { Tensor } from '../graph/graph.js';
import { tensorBytes } from '../graph/graph.js';
import { randomTensorBytes } from '../runtime/tensor_io.js';
import type { OutputSummary } from '../runtime/measure.js';
import { summariseOutput, timeRuns } from '../runtime/measure.js';

export interface RunOptions extends CompileFlags {
  input: string[];
  random?: string;
  output: string[];
  json?: boolean;
  repeat?: string;
  backend?: string;
}

export interface RunResult {
  outputs: OutputSummary[];
  /** Median time of one run (inputs written, then invoked). */
  milliseconds: number;
  runs: number;
  warmUpRuns: number;
  kind: string;
  arenaBytes: number;
  backend: Backend;
  /** Nodes the wasm backend ran on TypeScript kernels (the C library lacks them), as "OP (node N)". */
  jsNodes: string[];
}

function parseBackend(spec: string | undefined): Backend {
  if (spec === undefined) return defaultBackend();
  if (spec !== 'wasm' && spec !== 'js') throw new InputError(`--backend takes wasm or js, got "${spec}"`);
  return spec;
}

function readInput(file: string, t: Tensor, i: number): Uint8Array {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new InputError(`cannot read input file ${file}: ${(e as Error).message}`);
  }
  if (buf.byteLength !== tensorBytes(t)) {
    throw new InputError(`input ${i} from ${file} has ${buf.byteLength} bytes; ${t.name} needs ${tensorBytes(t)} (${t.dtype}[${t.shape.join(',')}])`);
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function parseSeed(spec: string): number {
  const seed = Number(spec);
  if (spec.trim() === '' || !Number.isInteger(seed)) throw new InputError(`--random takes an integer seed, got "${spec}"`);
  return seed;
}

export function runModel(modelFile: string, opts: RunOptions): RunResult {
  const loaded = loadModel(modelFile);
  if (opts.input.length > 0 && opts.random !== undefined) throw new InputError('give either --input files or --random SEED, not both');
  if (opts.input.length === 0 && opts.random === undefined) throw new InputError('run needs the model\'s inputs: --input FILE (one per model input) or --random SEED');
  const seed = opts.random !== undefined ? parseSeed(opts.random) : 0;
  const repeat = opts.repeat !== undefined ? Number(opts.repeat) : 1;
  if (!Number.isInteger(repeat) || repeat < 1) throw new InputError(`--repeat takes a positive integer, got "${opts.repeat}"`);
  for (const f of opts.output) checkFileOutput(f);
  const options = compileOptionsFrom(opts);
  const backend = parseBackend(opts.backend);
  const compiled = compileModel(loaded, options);
  // Inputs and outputs as the model runs (`--io int8` drops its float boundary).
  const g = compiled.model;
  if (opts.input.length > 0 && opts.input.length !== g.inputs.length) {
    throw new InputError(`the model has ${g.inputs.length} input(s); got ${opts.input.length} --input file(s)`);
  }
  if (opts.output.length > 0 && opts.output.length !== g.outputs.length) {
    throw new InputError(`the model has ${g.outputs.length} output(s); got ${opts.output.length} --output file(s)`);
  }
  const inputs = g.inputs.map((id, i) => {
    const t = g.tensors[id];
    return opts.input.length > 0 ? readInput(opts.input[i], t, i) : randomTensorBytes(t, seed + i);
  });
  const interp = new Interpreter(compiled, { backend });
  const timing = timeRuns(interp, inputs, repeat);
  const outputs = g.outputs.map((id, i) => {
    const bytes = interp.output(i);
    if (opts.output[i]) writeFileAtomic(opts.output[i], bytes);
    return summariseOutput(g.tensors[id], bytes);
  });
  return { outputs, ...timing, kind: interp.compiled?.kind ?? 'layer-wise', arenaBytes: interp.plan.arenaBytes,
    backend, jsNodes: interp.jsFallbacks.map((f) => `${f.op} (node ${f.node})`),
  };
}

function preview(values: number[], digits?: number): string {
  const shown = values.slice(0, 16).map((v) => (digits === undefined ? String(v) : v.toFixed(digits)));
  return `[${shown.join(', ')}${values.length > 16 ? `, … (${values.length} values)` : ''}]`;
}

export function runCommand(modelFile: string, opts: RunOptions): number {
  const res = runModel(modelFile, opts);
  if (opts.json) {
    console.log(JSON.stringify(res, null, 2));
    return 0;
  }
  res.outputs.forEach((o, i) => {
    console.log(`output ${i} ${o.name} ${o.dtype}[${o.shape.join(',')}]`);
    console.log(`  values       ${preview(o.values)}`);
    if (o.dequantized) console.log(`  dequantized  ${preview(o.dequantized, 5)}`);
    if (o.topClass !== null) console.log(`  top class    ${o.topClass}`);
    if (opts.output[i]) console.log(`  written to   ${opts.output[i]}`);
  });
  const fallback = res.jsNodes.length ? `, ${res.jsNodes.length} node(s) on TypeScript kernels: ${res.jsNodes.slice(0, 4).join(', ')}${res.jsNodes.length > 4 ? ', …' : ''}` : '';
  console.log(`backend ${res.backend}${fallback}`);
  console.log(`time ${res.milliseconds.toFixed(3)} ms ${res.runs > 1 ? `(median of ${res.runs} runs after ${res.warmUpRuns} warm-up runs)` : '(one cold run, includes JIT warm-up; --repeat N for a steady figure)'}; ${res.kind} plan, arena ${res.arenaBytes.toLocaleString('en-US')} bytes`);
  return 0;
}
