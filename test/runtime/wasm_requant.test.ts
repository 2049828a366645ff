import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/shared.js';
import { skipWithout } from '../helpers/tools.js';

/**
 * The shortcuts the WebAssembly kernels take in requantisation (one rounding instead of two, 32-bit lanes for
 * ADD's input rescale, per-lane shifts as a multiply, saturated inputs) give TFLite's integers: compiled
 * with the module's flags beside the scalar reference, run on random multipliers, shifts and values.
 */
test('the WebAssembly requantisation shortcuts equal the scalar MultiplyByQuantizedMultiplier (random, ties, saturation)', { skip: skipWithout('clang') }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-rq-'));
  try {
    const out = join(dir, 'check.wasm');
    const r = spawnSync(process.env.CLANG ?? 'clang', [
      '--target=wasm32', '-msimd128', '-mbulk-memory', '-mnontrapping-fptoint', '-msign-ext', '-O3', '-std=c99', '-nostdlib',
      '-fvisibility=hidden', '-ffp-contract=off', `-I${join(REPO_ROOT, 'csrc', 'wasm', 'include')}`, `-I${join(REPO_ROOT, 'csrc', 'kernels')}`,
      '-Wl,--no-entry', '-Wl,--export-dynamic', '-o', out, join(REPO_ROOT, 'test', 'runtime', 'wasm_requant_check.c'),
    ], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const checks = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(out))).exports as Record<string, (n: number) => number>;
    assert.equal(checks.check_add_rescale(3000), 0, 'ADD input rescale');
    assert.equal(checks.check_wide(20000), 0, 'one multiplier and shift for four lanes');
    assert.equal(checks.check_wide_in(20000), 0, 'one multiplier and shift for four bounded lanes, no clamps (the tile\'s LEAN form)');
    assert.equal(checks.check_narrow(20000), 0, 'per-lane multipliers and shifts');
    assert.equal(checks.check_narrow_lean(20000), 0, 'per-lane multipliers and shifts, bounded accumulators (the depthwise shortcuts)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
