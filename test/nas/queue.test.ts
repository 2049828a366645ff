import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, SHARED } from '../helpers/shared.js';
import { requireTools, skipWithout } from '../helpers/tools.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

/** Asynchronous, so this process keeps reading the worker's output while a search runs. */
function tinyml(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), 300000);
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, out, err }); });
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves when the process prints a line matching `re` (stdout), rejects when it exits first. */
function waitFor(p: ChildProcess, re: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what}: no "${re}" in 20 s; saw: ${seen}`)), 20000);
    p.stdout!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (re.test(seen)) { clearTimeout(timer); resolve(); }
    });
    p.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${what} exited with ${code}: ${seen}`)); });
  });
}

test('distributed search: candidates evaluated by tinyml search-worker processes through a BullMQ queue on a local redis-server', { skip: skipWithout('redis') }, async () => {
  requireTools('redis');
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'tinyml-queue-'));
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let worker: ChildProcess | null = null;
  try {
    await waitFor(redis, /Ready to accept connections/, 'redis-server');
    // No worker yet: the search stops with an error instead of waiting for ever.
    const none = await tinyml('search', '--sram', '64KB', '--flash', '1MB', '--space-only', '--space-samples', '4', '--widths', '0.25', '--resolutions', '32', '--queue', url);
    assert.equal(none.code, 1, none.out + none.err);
    assert.match(none.err, /no tinyml search-worker is connected to redis:\/\/127\.0\.0\.1:\d+: start one with `tinyml search-worker --queue/);
    worker = spawn(process.execPath, [CLI, 'search-worker', '--queue', url], { stdio: ['ignore', 'pipe', 'pipe'] });
    await waitFor(worker, /taking jobs/, 'search-worker');
    const jobsDone = () => new Promise<number>((resolve) => {
      worker!.once('exit', () => resolve(Number(/stopped after (\d+) jobs/.exec(log)?.[1] ?? -1)));
      worker!.kill('SIGTERM');
    });
    let log = '';
    worker.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
    // Stage 1 through the queue equals stage 1 in local threads, cell for cell.
    const args = ['search', '--sram', '64KB', '--flash', '1MB', '--space-only', '--space-samples', '12', '--widths', '0.25,0.35', '--resolutions', '32,40', '--json'];
    const viaQueue = await tinyml(...args, '--queue', url);
    assert.equal(viaQueue.code, 0, viaQueue.err);
    const local = await tinyml(...args, '--workers', '2');
    assert.deepEqual(JSON.parse(viaQueue.out).cells, JSON.parse(local.out).cells);
    // The whole search with scoring on the queue's worker (training stays local).
    const full = await tinyml('search', '--board', 'stm32f412', '--data', join(SHARED, 'datasets', 'cifar10'), '--width', '0.25', '--resolution', '32', '--train-limit', '100',
      '--test-limit', '50', '--supernet-steps', '1', '--population', '3', '--generations', '1', '--validation', '20', '--finetune-steps', '1', '--batch', '8', '--queue', url, '--json');
    assert.equal(full.code, 0, full.err);
    assert.ok(JSON.parse(full.out).scored.length >= 3);
    assert.match(log, /\(score\) done/);
    const n = await jobsDone();
    worker = null;
    assert.ok(n >= 6, `the worker did ${n} jobs`);
  } finally {
    worker?.kill('SIGKILL');
    redis.kill('SIGKILL');
  }
  const unreachable = await tinyml('search', '--sram', '64KB', '--flash', '1MB', '--space-only', '--queue', url);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.err, /cannot reach Redis at redis:\/\/127\.0\.0\.1/);
});
