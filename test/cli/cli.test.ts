import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, SHARED, manifests, modelPath } from '../helpers/shared.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

function tinyml(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const personDetect = () => manifests().find((m) => m.id === 'tflm_person_detect_int8')!;

test('inspect prints a per-layer table and totals for a real model', () => {
  const r = tinyml('inspect', modelPath('tflm_person_detect_int8.tflite'));
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /DEPTHWISE_CONV_2D/);
  assert.match(r.out, /\[1,96,96,1\]/);
  assert.match(r.out, /MACs\s+[\d,]+/);
  assert.match(r.out, /peak SRAM\s+[\d,]+ bytes/);
  assert.match(r.out, /Flash\s+[\d,]+ bytes/);
});

test('inspect --json reports the plan arena as peak SRAM and per-layer rows', () => {
  const r = tinyml('inspect', modelPath('mlperf_kws_dscnn_int8.tflite'), '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.ok(j.layers.length > 5);
  assert.ok(j.peakSramBytes > 0 && j.peakSramBytes >= j.lowerBound);
  assert.ok(j.totalMacs > 1_000_000);
});

test('inspect --board says by how much a model misses', () => {
  const r = tinyml('inspect', modelPath('mlperf_vww_mobilenetv1_float.tflite'), '--board', 'nrf52832');
  assert.equal(r.code, 3, r.out + r.err);
  assert.match(r.out, /DOES NOT FIT/);
  assert.match(r.out, /SRAM by [\d,]+ bytes .*peak at node \d+/);
  assert.match(r.out, /Flash by [\d,]+ bytes/);
  const ok = tinyml('inspect', modelPath('tflm_person_detect_int8.tflite'), '--board', 'stm32h743');
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /fits/);
});

test('run with --input/--output reproduces the reference output bytes', () => {
  const m = personDetect();
  const dir = mkdtempSync(join(tmpdir(), 'tinyml-cli-'));
  const out = join(dir, 'out0.bin');
  const c = m.cases.find((k) => k.name === 'person')!;
  const r = tinyml('run', modelPath(m), '--input', join(m.dir, c.inputs[0]), '--output', out);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(readFileSync(out), readFileSync(join(m.dir, c.outputs[0])));
  assert.match(r.out, /top class\s+1/);
  assert.match(r.out, /time [\d.]+ ms/);
});

test('errors are one clear line with a non-zero exit, never a stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tinyml-cli-'));
  const vela = tinyml('run', modelPath('tflm_person_detect_vela_customop.tflite'), '--random', '1');
  assert.equal(vela.code, 1);
  assert.match(vela.err, /CUSTOM/);
  assert.match(vela.err, /ethos-u/);

  const truncated = join(dir, 'truncated.tflite');
  writeFileSync(truncated, readFileSync(modelPath('tflm_person_detect_int8.tflite')).subarray(0, 5000));
  const t = tinyml('inspect', truncated);
  assert.equal(t.code, 1);
  assert.match(t.err, /^error: /);
  assert.doesNotMatch(t.err, /\n\s+at /);

  const missing = tinyml('run', join(dir, 'nope.tflite'));
  assert.equal(missing.code, 1);
  assert.match(missing.err, /nope\.tflite/);

  const wrongSize = join(dir, 'small.bin');
  writeFileSync(wrongSize, new Uint8Array(10));
  const w = tinyml('run', modelPath('tflm_person_detect_int8.tflite'), '--input', wrongSize);
  assert.equal(w.code, 1);
  assert.match(w.err, /9216/);

  const board = tinyml('inspect', modelPath('tflm_person_detect_int8.tflite'), '--board', 'nosuchboard');
  assert.equal(board.code, 1);
  assert.match(board.err, /stm32f412/i);
});

test('run --repeat N gives the same outputs as one run on every shared model, after untimed warm-up runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tinyml-cli-'));
  for (const file of readdirSync(join(SHARED, 'models')).filter((f) => f.endsWith('.tflite') && !f.includes('vela'))) {
    const once = tinyml('run', modelPath(file), '--random', '7', '--json');
    assert.equal(once.code, 0, `${file}: ${once.err}`);
    const out = join(dir, `${file}.bin`);
    const many = tinyml('run', modelPath(file), '--random', '7', '--repeat', '4', '--json', ...(JSON.parse(once.out).outputs.length === 1 ? ['--output', out] : []));
    assert.equal(many.code, 0, `${file}: ${many.err}`);
    const a = JSON.parse(once.out);
    const b = JSON.parse(many.out);
    assert.deepEqual(b.outputs.map((o: { values: number[] }) => o.values), a.outputs.map((o: { values: number[] }) => o.values), file);
    assert.equal(b.runs, 4);
    assert.equal(b.warmUpRuns, 3);
  }
  const m = personDetect();
  const c = m.cases.find((k) => k.name === 'person')!;
  const out = join(dir, 'person.bin');
  const r = tinyml('run', modelPath(m), '--input', join(m.dir, c.inputs[0]), '--output', out, '--repeat', '3');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(readFileSync(out), readFileSync(join(m.dir, c.outputs[0])), 'the file written after repeated runs is the reference');
  assert.match(r.out, /median of 3 runs after 3 warm-up runs/);
});

test('unwritable outputs and conflicting flags are one-line errors (exit 1) and nothing is written', () => {
  const model = modelPath('tflm_hello_world_int8.tflite');
  const cases: [string[], RegExp][] = [
    [['run', model, '--random', '1', '--output', '/nonexistent/o.bin'], /cannot write \/nonexistent\/o\.bin: the directory \/nonexistent does not exist/],
    [['plan', model, '--html', '/nonexistent/x.html'], /cannot write \/nonexistent\/x\.html/],
    [['compile', model, '--board', 'mps2-an386', '-o', '/proc/x'], /cannot write the project to \/proc\/x/],
    [['compile', model, '--board', 'mps2-an386', '-o', join(REPO_ROOT, 'package.json')], /it is a file/],
    [['compile', model, '--board', 'mps2-an386', '-o', join(REPO_ROOT, 'src')], /non-empty folder that tinyml did not generate/],
    [['run', model], /--input FILE .* or --random SEED/],
    [['run', model, '--random', '1', '--input', model], /either --input files or --random SEED, not both/],
    [['run', model, '--random', 'x'], /--random takes an integer seed/],
    [['run', model, '--random', '1', '--repeat', '0'], /--repeat takes a positive integer/],
    [['inspect', model, '--board', ''], /unknown board ''/],
    [['plan', model, '--objective', 'fast'], /--objective takes balanced, memory or speed/],
  ];
  for (const [args, want] of cases) {
    const started = Date.now();
    const r = tinyml(...args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.out}${r.err}`);
    assert.match(r.err, want, args.join(' '));
    assert.doesNotMatch(r.err, /internal error|\n\s+at /, args.join(' '));
    assert.ok(Date.now() - started < 30000, `${args.join(' ')} ends promptly`);
  }
});

test('compile replaces its own earlier project whole (no stale files) and never a folder it did not write', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tinyml-cli-'));
  const out = join(dir, 'proj');
  const first = tinyml('compile', modelPath('mlperf_kws_dscnn_int8.tflite'), '--board', 'mps2-an386', '-o', out);
  assert.equal(first.code, 0, first.err);
  assert.ok(existsSync(join(out, 'kernels', 'tm_depthwise_conv2d.h')));
  writeFileSync(join(out, 'stale.c'), 'int stale;');
  const second = tinyml('compile', modelPath('tflm_hello_world_int8.tflite'), '--board', 'mps2-an386', '-o', out);
  assert.equal(second.code, 0, second.err);
  assert.ok(!existsSync(join(out, 'stale.c')), 'stale files of the old project are gone');
  assert.ok(!existsSync(join(out, 'kernels', 'tm_depthwise_conv2d.h')), 'kernels the new model does not use are gone');
  assert.match(readFileSync(join(out, 'model.h'), 'utf8'), /hello_world|MODEL_ARENA_BYTES/);
  assert.deepEqual(readdirSync(dir), ['proj'], 'no temporary folders left beside it');
  const theirs = join(dir, 'theirs');
  mkdirSync(theirs);
  writeFileSync(join(theirs, 'notes.txt'), 'mine');
  const refused = tinyml('compile', modelPath('tflm_hello_world_int8.tflite'), '--board', 'mps2-an386', '-o', theirs);
  assert.equal(refused.code, 1);
  assert.equal(readFileSync(join(theirs, 'notes.txt'), 'utf8'), 'mine');
  const tooBig = tinyml('compile', modelPath('mcunet_vww1_int8_floatio.tflite'), '--board', 'nrf52832', '-o', out);
  assert.equal(tooBig.code, 1, 'does not fit');
  assert.match(readFileSync(join(out, 'model.h'), 'utf8'), /MODEL_ARENA_BYTES/, 'a failed compile leaves the previous project as it was');
});
