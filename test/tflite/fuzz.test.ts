/**
 * Robustness: thousands of seeded mutants of the shared models must each load or end in a TinymlError;
 * mutants that load must also prepare and (budget permitting) run in the Interpreter without any other
 * exception or a hang. Workers do the work so a hang can be caught: the main thread kills a worker that
 * stops reporting and names the mutant it was on.
 *
 * Reproduce one mutant: FUZZ_ONLY=<index> node --test dist/test/tflite/fuzz.test.js
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Graph } from '../../src/graph/graph.js';
import { tensorBytes } from '../../src/graph/graph.js';
import { TinymlError } from '../../src/errors.js';
import { loadModelBytes } from '../../src/model.js';
import type { OpDef } from '../../src/ops/op.js';
import { OPS } from '../../src/ops/registry.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { SHARED, requireShared } from '../helpers/shared.js';
import { findTargets, makeMutant, rngFor } from './mutations.js';

/** How many mutants one run tries (cited in the README). */
export const FUZZ_MUTATIONS = Number(process.env.FUZZ_COUNT ?? 8000);
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20240611);
const WORKERS = 2;
/**
 * A mutant that takes longer than this (load + prepare + invoke) is a hang. Most take < 0.5 s, but a mutant
 * that keeps a whole model valid runs the full compile pipeline (patch search included): ~5.5 s for mutant
 * 4160 alone, and 30 s was seen on a machine running five other jobs. A real hang never ends, so the margin
 * costs nothing.
 */
const HANG_MS = 120_000;
/** Run only mutants whose whole graph is at most this many MACs, and every 5th bigger one (time budget). */
const INVOKE_MACS_SMALL = 3_000_000;
const INVOKE_MACS_MAX = 50_000_000;
/** Arenas above this are legitimate but not worth allocating in a test. */
const MAX_ACTIVATION_BYTES = 64 << 20;

type Stage = 'load' | 'cost' | 'prepare' | 'invoke';

interface Outcome {
  index: number;
  model: string;
  kinds: string[];
  result: 'loaded' | 'refused' | 'crash';
  /** For refused: the TinymlError class; for crash: the exception. */
  error?: string;
  /** Where it was refused or crashed. */
  stage?: Stage;
  stack?: string;
  invoked?: boolean;
}

function loadSources(): { name: string; bytes: Uint8Array; targets: ReturnType<typeof findTargets> }[] {
  const dir = join(SHARED, 'models');
  return readdirSync(dir).filter((f) => f.endsWith('.tflite')).sort().map((name) => {
    const b = readFileSync(join(dir, name));
    const bytes = new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    return { name, bytes, targets: findTargets(bytes) };
  });
}

function macsOf(g: Graph): number {
  return g.nodes.reduce((s, n) => s + (OPS[n.op] as OpDef).macs(n as never, g), 0);
}

function activationBytes(g: Graph): number {
  return g.tensors.reduce((s, t) => s + (t.data ? 0 : tensorBytes(t)), 0);
}

/** Load, then prepare and run one mutant; every exception that is not a TinymlError is a crash. */
function runMutant(sources: ReturnType<typeof loadSources>, index: number): Outcome {
  const m = makeMutant(sources, FUZZ_SEED, index);
  const base = { index, model: sources[m.source].name, kinds: m.kinds };
  let stage: Stage = 'load';
  try {
    const g = loadModelBytes(m.bytes, 'mutant');
    stage = 'cost';
    const macs = macsOf(g);
    if (activationBytes(g) > MAX_ACTIVATION_BYTES || macs > INVOKE_MACS_MAX) return { ...base, result: 'loaded', invoked: false };
    stage = 'prepare';
    // Every 20th mutant goes through the whole default pipeline (patch search included); the rest plan layer by layer.
    const it = new Interpreter(g, { patch: index % 20 === 0 ? 'auto' : 'off' });
    const invoke = macs <= INVOKE_MACS_SMALL || index % 5 === 0;
    if (invoke) {
      stage = 'invoke';
      const rng = rngFor(FUZZ_SEED, ~index);
      for (let i = 0; i < it.inputCount; i++) {
        const input = it.tensor(g.inputs[i]);
        for (let k = 0; k < input.length; k++) input[k] = Math.floor(rng() * 256);
      }
      it.invoke();
    }
    return { ...base, result: 'loaded', invoked: invoke };
  } catch (e) {
    if (e instanceof TinymlError) return { ...base, result: 'refused', stage, error: e.constructor.name };
    const err = e instanceof Error ? e : new Error(String(e));
    return { ...base, result: 'crash', stage, error: `${err.name}: ${err.message}`, stack: err.stack?.split('\n').slice(1, 6).map((l) => l.trim()).join(' <- ') };
  }
}

/** Worker: mutants start, start + step, ...; reports each before and after so a hang is attributable. */
function workerMain(): void {
  const { start, step, count } = workerData as { start: number; step: number; count: number };
  const sources = loadSources();
  for (let i = start; i < count; i += step) {
    parentPort!.postMessage({ started: i });
    parentPort!.postMessage({ outcome: runMutant(sources, i) });
  }
  parentPort!.postMessage({ finished: true });
}

interface Report {
  outcomes: Outcome[];
  /** Mutants during which a worker stopped reporting (hang) or died (e.g. out of memory). */
  hangs: number[];
  died: { index: number; error: string }[];
}

/**
 * Run worker `w` over its share of the mutants. A worker that goes quiet for HANG_MS or dies is
 * abandoned, its mutant recorded, and a fresh worker carries on after that mutant.
 */
function runWorker(w: number, count: number, report: Report): Promise<void> {
  return new Promise((resolve, reject) => {
    const spawn = (start: number): void => {
      const worker = new Worker(new URL(import.meta.url), { workerData: { start, step: WORKERS, count } });
      let current = -1;
      let over = false;
      let timer: NodeJS.Timeout | undefined;
      const abandon = (): void => {
        over = true;
        clearTimeout(timer);
        void worker.terminate();
        if (current + WORKERS < count) spawn(current + WORKERS); else resolve();
      };
      const arm = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => { report.hangs.push(current); abandon(); }, HANG_MS);
      };
      worker.on('message', (msg: { started?: number; outcome?: Outcome; finished?: boolean }) => {
        if (msg.started !== undefined) { current = msg.started; arm(); }
        if (msg.outcome) report.outcomes.push(msg.outcome);
        if (msg.finished) { over = true; clearTimeout(timer); resolve(); }
      });
      worker.on('error', (e) => {
        if (over) return;
        // Dying before the first mutant is a broken harness (e.g. ../shared unreadable), not a finding.
        if (current < 0) { over = true; reject(e); return; }
        report.died.push({ index: current, error: String(e) });
        abandon();
      });
    };
    spawn(w);
  });
}

function summarise(report: Report): string {
  const by = new Map<string, number>();
  const bump = (k: string): void => { by.set(k, (by.get(k) ?? 0) + 1); };
  for (const o of report.outcomes) {
    bump(o.result === 'refused' ? `refused@${o.stage}:${o.error}` : o.result);
    if (o.invoked) bump('invoked');
  }
  const parts = [...by.entries()].sort().map(([k, v]) => `${k}=${v}`);
  return `fuzz: ${FUZZ_MUTATIONS} mutants (seed ${FUZZ_SEED}): ${parts.join(' ')} hangs=${report.hangs.length} died=${report.died.length}`;
}

if (isMainThread) {
  test(`fuzz: ${FUZZ_MUTATIONS} mutants of the shared models end in a load or a TinymlError`, { timeout: 1_200_000 }, async (t) => {
    requireShared();
    const only = process.env.FUZZ_ONLY;
    if (only !== undefined) {
      const o = runMutant(loadSources(), Number(only));
      t.diagnostic(JSON.stringify(o, null, 1));
      assert.notEqual(o.result, 'crash', o.stack);
      return;
    }
    const report: Report = { outcomes: [], hangs: [], died: [] };
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => runWorker(w, FUZZ_MUTATIONS, report)));
    console.log(summarise(report));
    const crashes = report.outcomes.filter((o) => o.result === 'crash').sort((a, b) => a.index - b.index);
    for (const c of crashes.slice(0, 20)) {
      t.diagnostic(`crash: mutant ${c.index} of ${c.model} [${c.kinds.join('+')}] at ${c.stage}: ${c.error} | ${c.stack}`);
    }
    assert.deepEqual(report.hangs, [], 'mutants that hung (reproduce with FUZZ_ONLY=<index>)');
    assert.deepEqual(report.died, [], 'mutants that killed their worker');
    assert.equal(crashes.length, 0, `${crashes.length} mutants crashed with non-Tinyml errors (see diagnostics)`);
    assert.equal(report.outcomes.length, FUZZ_MUTATIONS);
  });
} else {
  workerMain();
}
