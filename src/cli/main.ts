#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { TinymlError } from '../errors.js';
import { inspectCommand } from './inspect.js';
import { runCommand } from './run.js';
import { planCommand } from './plan.js';
import { compileCommand } from './compile.js';
import { trainCommand } from './train.js';

const collect = (v: string, prev: string[]) => [...prev, v];

/** Print a typed error as one line; anything else is a bug in tinyml and says so. */
function guarded(fn: () => number): void {
  try {
    process.exitCode = fn();
  } catch (e) {
    if (e instanceof TinymlError) {
      console.error(`error: ${e.message}`);
      process.exitCode = 1;
    } else {
      console.error(`internal error (a bug in tinyml-ts, please report): ${(e as Error)?.message ?? e}`);
      if (process.env.TINYML_DEBUG) console.error((e as Error)?.stack);
      process.exitCode = 2;
    }
  }
}

/** The installed package's version: package.json sits two levels above dist/src/cli. */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const program = new Command();
program.name('tinyml').version(packageVersion(), '-V, --version', 'print the tinyml-ts version')
  .description('Neural networks on microcontrollers: inspect, run, plan, compile and train int8 TFLite models.');

program.command('inspect')
  .description('per-layer table: shapes, MACs, weight and activation bytes, live memory; totals and board fit')
  .argument('<model>', '.tflite file')
  .option('--board <name>', 'check fit against a board profile (e.g. stm32f412, stm32h743)')
  .option('--patch <mode>', 'patch-based inference: auto (default), off, or NxN@LAYER (LAYER: node index or tensor name)')
  .option('--max-overhead <pct>', 'cap on extra MACs of patch-based plans, percent (default 20)')
  .option('--fuse-pad <on|off>', 'fold each PAD into the convolution that reads it (default on)')
  .option('--objective <memory|speed>', 'memory: smallest peak (default without --board); speed: fastest kernels. With --board: the fastest plan that fits')
  .option('--json', 'machine-readable output')
  .action((model: string, opts) => guarded(() => inspectCommand(model, opts)));

program.command('run')
  .description('run the model once and print its outputs (raw, dequantised, top class) and the time taken')
  .argument('<model>', '.tflite file')
  .option('--input <file>', 'raw little-endian bytes for one model input (repeat per input, in order)', collect, [])
  .option('--random <seed>', 'seeded random inputs instead of files')
  .option('--output <file>', 'write one model output as raw bytes (repeat per output, in order)', collect, [])
  .option('--repeat <n>', 'invoke n times and report the median time')
  .option('--board <name>', 'plan for a board (the fastest plan that fits it)')
  .option('--patch <mode>', 'patch-based inference: auto (default), off, or NxN@LAYER (LAYER: node index or tensor name)')
  .option('--max-overhead <pct>', 'cap on extra MACs of patch-based plans, percent (default 20)')
  .option('--fuse-pad <on|off>', 'fold each PAD into the convolution that reads it (default on)')
  .option('--objective <memory|speed>', 'memory: smallest peak (default without --board); speed: fastest kernels. With --board: the fastest plan that fits')
  .option('--backend <wasm|js>', 'wasm: the C kernel library in WebAssembly SIMD (default where available); js: the TypeScript kernels. Same bytes either way')
  .option('--json', 'machine-readable output')
  .action((model: string, opts) => guarded(() => runCommand(model, opts)));

program.command('plan')
  .description('memory plan: peak SRAM per packing strategy and patch-based plan, lower bound, TFLM figure, memory over steps')
  .argument('<model>', '.tflite file')
  .option('--board <name>', 'check the chosen plan fits; if not, name the peak step and the bytes missing (exit 3)')
  .option('--patch <mode>', 'patch-based inference: auto (default), off, or NxN@LAYER (LAYER: node index or tensor name)')
  .option('--max-overhead <pct>', 'cap on extra MACs of patch-based plans, percent (default 20)')
  .option('--fuse-pad <on|off>', 'fold each PAD into the convolution that reads it (default on)')
  .option('--objective <memory|speed>', 'memory: smallest peak (default without --board); speed: fastest kernels. With --board: the fastest plan that fits')
  .option('--reference-arena <bytes>', 'an arena to compare with (e.g. TFLite Micro\'s for this model)')
  .option('--json', 'machine-readable output (top-level peakBytes)')
  .option('--html <file>', 'write a self-contained HTML report')
  .action((model: string, opts) => guarded(() => planCommand(model, opts)));

program.command('compile')
  .description('write a self-contained C99 project: model.h/.c, weights.c, the kernels it needs, Makefile, CMakeLists.txt')
  .argument('<model>', '.tflite file')
  .option('--board <name>', 'board: SRAM/Flash limits and default target (mps2-an386 / mps2-an500 run under QEMU)')
  .option('-o, --output <dir>', 'directory to write the project into')
  .option('--target <target>', "host | cortex-m4 | cortex-m7 | generic (default: the board's core)")
  .option('--no-specialize', 'one shared copy of each kernel instead of one per layer (less code, slower)')
  .option('--patch <mode>', 'patch-based inference: auto (default), off, or NxN@LAYER (LAYER: node index or tensor name)')
  .option('--max-overhead <pct>', 'cap on extra MACs of patch-based plans, percent (default 20)')
  .option('--fuse-pad <on|off>', 'fold each PAD into the convolution that reads it (default on)')
  .option('--objective <memory|speed>', 'memory: smallest peak (default without --board); speed: fastest kernels. With --board: the fastest plan that fits')
  .option('--json', 'machine-readable summary')
  .action((model: string, opts) => guarded(() => compileCommand(model, opts)));

program.command('train')
  .description('train under a memory budget: fashion-cnn from scratch (float, then int8), or fine-tune a .tflite (int8: QAS, sparse update)')
  .argument('<model>', '.tflite file to fine-tune, or the keyword fashion-cnn to train from scratch')
  .requiredOption('--data <dir>', 'MNIST-style IDX files, or one sub-folder of PNG/PGM/PPM images per class (optionally under train/ and test/)')
  .option('--budget <size>', 'device SRAM budget for training (e.g. 256KB)', '256KB')
  .option('--update <what>', 'auto | full | bias[:N] | last | last-k | last-K | sparse:N[:L@r,...]', 'auto')
  .option('--qas <on|off>', 'quantisation-aware scaling for int8 training', 'on')
  .option('--epochs <n>', 'passes over the training data', '3')
  .option('--out <file>', 'trained int8 .tflite (written only if training succeeds)')
  .option('--batch <n>', 'host batch size (default 32 float, 8 int8)')
  .option('--lr <rate>', 'learning rate (default Adam 1e-3 float, SGD 0.05 int8)')
  .option('--seed <n>', 'seed for initialisation and shuffling', '1')
  .option('--limit <n>', 'train on a balanced subset of at most n images')
  .option('--test-limit <n>', 'evaluate on a balanced subset of at most n test images')
  .option('--backend <wasm|js>', 'float32 layer kernels: wasm, the C library in WebAssembly SIMD (default where available); js, the TypeScript kernels')
  .option('--no-progress', 'no progress bar')
  .action((model: string, opts) => guarded(() => trainCommand(model, opts)));

program.parse();
