import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../src/model.js';
import { compileModel } from '../../src/compiler/compile_model.js';
import { findBoard } from '../../src/boards/boards.js';
import { generateProject } from '../../src/codegen/project.js';
import { writeProject } from '../../src/codegen/write_project.js';
import type { ProjectLayout } from '../../src/codegen/layouts.js';
import { layoutProject, libraryName, parseLayout } from '../../src/codegen/layouts.js';
import { modelInputs, modelOutputs } from '../../src/codegen/emit/io.js';
import { emitLinkerScript } from '../../src/codegen/emit/build_files.js';
import { cpuFlags, defaultTarget, memoryOrigins } from '../../src/codegen/target.js';
import { buildProject, elfSize } from '../../src/codegen/toolchain.js';
import { csrcDir } from '../../src/codegen/kernels.js';
import { manifests, modelPath, readBin } from '../helpers/shared.js';
import { firstDifference, tempDir } from './harness.js';
import { requireTools, skipWithout } from '../helpers/tools.js';

const kws = () => manifests().find((m) => m.id === 'mlperf_kws_dscnn_int8')!;

/** The layout's files for KWS on `board`, written to a fresh folder. */
function laidOut(layout: ProjectLayout, board: string, prefix = '') {
  const g = loadModel(modelPath(kws()));
  const b = findBoard(board);
  const c = compileModel(g, { board: b });
  const p = generateProject(c.graph, c.plan, { board: b, target: defaultTarget(b), modelName: g.name, prefix });
  const files = layoutProject(p, layout, { prefix, inputs: modelInputs(c.graph, c.plan), outputs: modelOutputs(c.graph, c.plan) });
  const dir = tempDir(`layout-${layout}`);
  writeProject(dir, { ...p, files });
  return { dir, files: files.map((f) => f.path), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const RUNNER = `#include <stdio.h>
#include <string.h>
#include "model.h"
/* Every case of the input file in turn (inputs back to back), every output appended to the output file. */
int main(int argc, char **argv) {
  static unsigned char in[1 << 20];
  FILE *f = fopen(argv[1], "rb"), *o = fopen(argv[2], "wb");
  if (argc < 3 || !f || !o) return 2;
  size_t n = fread(in, 1, sizeof in, f);
  kws_model_init();
  for (size_t at = 0; at + kws_model_input_bytes(0) <= n; at += kws_model_input_bytes(0)) {
    memcpy(kws_model_input(0), in + at, kws_model_input_bytes(0));
    kws_model_invoke();
    fwrite(kws_model_output(0), 1, kws_model_output_bytes(0), o);
  }
  fclose(f);
  return fclose(o) != 0;
}
`;

test('--project cmake: an application adds the library with add_subdirectory and gets TFLite Micro\'s outputs', { skip: skipWithout('cmake') }, () => {
  requireTools('cmake');
  const m = kws();
  const lib = laidOut('cmake', 'stm32f746', 'kws_');
  const app = tempDir('cmake-app');
  try {
    assert.ok(!lib.files.includes('Makefile') && !lib.files.some((f) => f.startsWith('harness/')) && !lib.files.includes('board.ld'), 'a library, no runner');
    assert.match(readFileSync(join(lib.dir, 'README.md'), 'utf8'), /add_subdirectory\(path\/to\/this\/folder tinyml_kws_model\)/);
    writeFileSync(join(app, 'main.c'), RUNNER);
    writeFileSync(join(app, 'CMakeLists.txt'), `cmake_minimum_required(VERSION 3.13)\nproject(app C)\nadd_subdirectory(${lib.dir} model)\nadd_executable(app main.c)\ntarget_compile_options(app PRIVATE -Wall -Werror)\ntarget_link_libraries(app PRIVATE ${libraryName('kws_')})\n`);
    const build = join(app, 'build');
    execFileSync('cmake', ['-S', app, '-B', build, '-DCMAKE_BUILD_TYPE=Release', '-DCMAKE_C_FLAGS=-Wall -Wextra -Werror'], { stdio: 'pipe' });
    execFileSync('cmake', ['--build', build], { stdio: 'pipe' });
    writeFileSync(join(app, 'in.bin'), Buffer.concat(m.cases.map((c) => readBin(m, c.inputs[0]))));
    execFileSync(join(build, 'app'), [join(app, 'in.bin'), join(app, 'out.bin')]);
    const out = readFileSync(join(app, 'out.bin'));
    const size = m.outputs[0].bytes;
    m.cases.forEach((c, i) => assert.equal(firstDifference(out.subarray(i * size, (i + 1) * size), readBin(m, c.outputs[0])), null, c.name));
  } finally {
    lib.cleanup();
    rmSync(app, { recursive: true, force: true });
  }
});

/** Compile every C file of a library's flat src/ folder as Arduino and PlatformIO do (gnu11, src/ on the path). */
function compileFlatLibrary(dir: string, cpu: string, out: string): string[] {
  mkdirSync(out, { recursive: true });
  return readdirSync(join(dir, 'src')).filter((f) => f.endsWith('.c')).map((f) => {
    const o = join(out, f.replace(/\.c$/, '.o'));
    execFileSync('arm-none-eabi-gcc', [...cpu.split(' '), '-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror', '-ffunction-sections', '-fdata-sections', '-I', join(dir, 'src'), '-c', join(dir, 'src', f), '-o', o], { stdio: 'pipe' });
    return o;
  });
}

test('--project arduino / platformio: library manifests, sources that build for a Cortex-M7, an example that links for the STM32F746\'s memory map', { skip: skipWithout('arm') }, () => {
  requireTools('arm');
  const board = findBoard('stm32f746');
  const cpu = cpuFlags('cortex-m7');
  for (const layout of ['arduino', 'platformio'] as const) {
    const lib = laidOut(layout, 'stm32f746');
    const name = libraryName('');
    try {
      assert.ok(lib.files.includes(`src/${name}.h`) && lib.files.includes('src/tm_common.h') && !lib.files.some((f) => f.startsWith('kernels/')), 'one flat src/ folder');
      const objs = compileFlatLibrary(lib.dir, cpu, join(lib.dir, 'obj'));
      if (layout === 'arduino') {
        const props = Object.fromEntries(readFileSync(join(lib.dir, 'library.properties'), 'utf8').trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
        for (const k of ['name', 'version', 'author', 'maintainer', 'sentence', 'paragraph', 'category', 'url', 'architectures']) assert.ok(k in props, `library.properties lacks ${k}`);
        assert.equal(props.name, name);
        assert.equal(props.includes, `${name}.h`);
        // The sketch is C++: it must compile against the C library through model.h's extern "C" (Arduino.h stubbed).
        writeFileSync(join(lib.dir, 'Arduino.h'), 'struct S { void begin(long) {} void print(const char *) {} void print(unsigned long) {} void println(unsigned long) {} void println() {} };\nstatic S Serial;\nunsigned long micros(void);\nvoid delay(unsigned long);\n');
        const ino = join(lib.dir, 'examples', name, `${name}.ino`);
        execFileSync('arm-none-eabi-g++', [...cpu.split(' '), '-std=gnu++17', '-O2', '-Wall', '-Werror', '-x', 'c++', '-include', join(lib.dir, 'Arduino.h'), '-I', join(lib.dir, 'src'), '-c', ino, '-o', join(lib.dir, 'obj', 'sketch.o')], { stdio: 'pipe' });
      } else {
        const manifest = JSON.parse(readFileSync(join(lib.dir, 'library.json'), 'utf8'));
        assert.equal(manifest.name, name);
        assert.deepEqual(manifest.build.flags, ['-ffp-contract=off']);
        // The example as a firmware for the STM32F746: our start-up code, the part's Flash and SRAM.
        writeFileSync(join(lib.dir, 'board.ld'), emitLinkerScript({ modelName: name, target: 'cortex-m7', board, stackBytes: 8192, harnessSources: [] }));
        const harness = join(csrcDir(), 'harness');
        const elf = join(lib.dir, 'example.elf');
        // What a board support package gives the start-up code: a way out, a console, the tick.
        const bsp = join(lib.dir, 'bsp.c');
        writeFileSync(bsp, '#include "tm_platform.h"\nvoid tm_print(const char *t) { (void)t; }\nvoid tm_exit(int s) { (void)s; for (;;) {} }\nvoid tm_systick_handler(void);\nvoid tm_systick_handler(void) {}\n');
        execFileSync('arm-none-eabi-gcc', [...cpu.split(' '), '-std=gnu11', '-O2', '-Wall', '-Werror', '-I', harness, '-I', join(lib.dir, 'src'), join(lib.dir, 'examples', 'basic', 'main.c'), join(harness, 'tm_startup_cortexm.c'), bsp, ...objs,
          '-T', join(lib.dir, 'board.ld'), '-nostartfiles', '--specs=nano.specs', '-Wl,--gc-sections', '-lm', '-o', elf], { stdio: 'pipe' });
        const size = elfSize(elf);
        assert.ok(size.sram <= board.sramBytes && size.flash <= board.flashBytes, `${size.sram} B SRAM, ${size.flash} B Flash`);
        const head = execFileSync('arm-none-eabi-objdump', ['-h', elf], { encoding: 'utf8' });
        assert.match(head, new RegExp(`\\.text\\s+\\S+\\s+0*${memoryOrigins(board).flash.toString(16)}`), 'code at the part\'s Flash origin');
      }
    } finally {
      lib.cleanup();
    }
  }
});

test('--project make for real parts: the STM32F746 and nRF52840 builds link at their own memory maps and fit', { skip: skipWithout('arm') }, () => {
  requireTools('arm');
  for (const name of ['stm32f746', 'nrf52840']) {
    const board = findBoard(name);
    const lib = laidOut('make', name);
    try {
      assert.ok(lib.files.includes('README.md') && lib.files.includes('Makefile') && lib.files.includes('board.ld'));
      buildProject(lib.dir);
      const size = elfSize(join(lib.dir, 'model.elf'));
      assert.ok(size.sram <= board.sramBytes && size.flash <= board.flashBytes, `${name}: ${size.sram} B SRAM, ${size.flash} B Flash`);
      const head = execFileSync('arm-none-eabi-objdump', ['-h', join(lib.dir, 'model.elf')], { encoding: 'utf8' });
      const o = memoryOrigins(board);
      assert.match(head, new RegExp(`\\.text\\s+\\S+\\s+0*${o.flash.toString(16)}\\s`), `${name}: code at ${o.flash.toString(16)}`);
      assert.match(head, new RegExp(`\\.bss\\s+\\S+\\s+${(o.sram >>> 0).toString(16).slice(0, 4)}`), `${name}: data in SRAM at ${o.sram.toString(16)}`);
    } finally {
      lib.cleanup();
    }
  }
});

test('--project: make by default, the four layouts by name, anything else refused naming them', () => {
  assert.equal(parseLayout(undefined), 'make');
  for (const l of ['make', 'cmake', 'arduino', 'platformio']) assert.equal(parseLayout(l), l);
  assert.throws(() => parseLayout('zephyr'), /--project takes make, cmake, arduino, platformio, got "zephyr"/);
});
