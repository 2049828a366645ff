import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/shared.js';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string; bin: Record<string, string>; exports: Record<string, unknown>; scripts: Record<string, string>;
};

test('the npm tarball holds the built library, the CLI, the C kernels and the default model, and no tests, benchmarks or source maps', () => {
  // --ignore-scripts: `prepare` would rebuild dist/ under the other tests' feet.
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120000 });
  assert.equal(r.status, 0, r.stderr);
  const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
  assert.deepEqual(files.filter((p) => /(^|\/)(test|bench)\/|\.map$/.test(p)), []);
  for (const must of ['dist/src/cli/main.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'csrc/kernels/tm_conv2d.h', 'csrc/harness/tm_runner.c', 'models/tinyml-default-int8.tflite', 'package.json', 'README.md']) {
    assert.ok(files.includes(must), `${must} in the tarball`);
  }
  assert.equal(pkg.bin.tinyml, 'dist/src/cli/main.js');
  assert.ok(pkg.exports['.'], 'an exports map with the library entry');
  assert.match(pkg.scripts.prepare, /build/, 'a clone builds on npm install, so npx tinyml works at once');
});

test('tinyml --version prints the package version', () => {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js'), '--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.equal(r.stdout.trim(), pkg.version);
});

test('the public API loads through the package exports and offers load, compile, run, plan, codegen and train', async () => {
  const api = await import(join(REPO_ROOT, 'dist', 'src', 'index.js')) as Record<string, unknown>;
  for (const name of ['loadModel', 'compileModel', 'Interpreter', 'planMemory', 'planSummary', 'generateProject', 'writeProject', 'decodeTensor', 'dequantize', 'train', 'data']) {
    assert.ok(api[name] !== undefined, `${name} is exported`);
  }
});
