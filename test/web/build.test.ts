import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWeb } from '../../web/build.js';

test('web build: offline, the library for the browser (browser twins, no Node-only module), the C library and the wasm module beside it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tinyml-webbuild-'));
  try {
    const b = await buildWeb(dir);
    assert.deepEqual(b.files, ['app.js', 'app.js.map', 'index.html', 'tm_kernels.wasm']);
    assert.ok(b.inputs.includes('src/codegen/csrc_source.browser.ts'));
    for (const nodeOnly of ['src/codegen/csrc_source.ts', 'src/model.ts', 'src/codegen/write_project.ts', 'src/util/output.ts']) assert.ok(!b.inputs.includes(nodeOnly), `${nodeOnly} is not in the bundle`);
    const outside = b.inputs.filter((p) => !/^(src|web\/src)\//.test(p) && !/^node_modules\/(fflate|flatbuffers)\//.test(p) && p !== 'tinyml-csrc:csrc');
    assert.deepEqual(outside, [], 'only the library, the page, flatbuffers (the .tflite reader) and fflate (the zip)');
    const app = readFileSync(join(dir, 'app.js'), 'utf8');
    assert.doesNotMatch(app, /from\s*"node:|require\(/);
    assert.match(app, /tm_gemm\.h/, 'the kernel headers travel in the bundle');
    assert.ok(b.bundleBytes < 2_000_000, `app.js is ${b.bundleBytes} bytes`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
