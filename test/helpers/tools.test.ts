import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './shared.js';

const TOOLS = join(REPO_ROOT, 'dist', 'test', 'helpers', 'tools.js');

/** What skipWithout / requireTools say in a process whose PATH has none of the tools. */
function withoutTools(ci: boolean): { skip: unknown; error: string } {
  const script = `import('${TOOLS}').then((t) => { let error = ''; try { t.requireTools('arm', 'qemu'); } catch (e) { error = e.message; } console.log(JSON.stringify({ skip: t.skipWithout('arm', 'qemu'), error })); });`;
  const env: NodeJS.ProcessEnv = { PATH: '/nonexistent' };
  if (ci) env.CI = 'true';
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('a missing Arm toolchain or QEMU skips with one line naming the Debian packages, except under CI=true', () => {
  const local = withoutTools(false);
  assert.equal(typeof local.skip, 'string');
  assert.match(local.skip as string, /^needs the Debian packages gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm \(apt-get install .*\)$/);
  assert.doesNotMatch(local.skip as string, /\n/);
  const ci = withoutTools(true);
  assert.equal(ci.skip, false, 'CI runs the test, which then fails');
  assert.match(ci.error, /missing arm-none-eabi-gcc, qemu-system-arm: apt-get install/);
});
