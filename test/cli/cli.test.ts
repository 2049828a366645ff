import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, manifests, modelPath } from '../helpers/shared.js';

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
