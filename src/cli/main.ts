#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { TinymlError } from '../errors.js';
import { inspectCommand } from './inspect.js';
import { runCommand } from './run.js';
import { planCommand } from './plan.js';
import { compileCommand } from './compile.js';
import { compileTrainCommand } from './compile_train.js';
import { trainCommand } from './train.js';
import { formatBudgetSplit, searchCommand, searchWorkerCommand } from './search.js';
import { evaluateCommand } from './evaluate.js';

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

/** guarded for async commands (the search runs worker threads). */
function guardedAsync(fn: () => Promise<number>): Promise<void> {
  return fn().then((code) => { process.exitCode = code; }, (e) => guarded(() => { throw e; }));
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
  .option('--patch <mode>', 'patch-based inference: auto (default), off, NxN@LAYER (tiles) or Nx1@LAYER (strips with row caches; LAYER: node index or tensor name)')
  .option('--max-overhead <pct>', 'cap on extra MACs of patch-based plans, percent (default 20)')
  .option('--fuse-pad <on|off>', 'fold each PAD into the convolution that reads it (default on)')
  .option('--objective <balanced|memory|speed>', 'balanced: least peak x estimated time (default without --board); memory: smallest peak; speed: fastest kernels. With --board: the fastest plan that fits')
  .option('--io <model|int8>', 'model: the model\'s own inputs/outputs (default); int8: drop boundary QUANTIZE/DEQUANTIZE so int8 data goes in and out directly')
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
  .option('--patch <mode>', 'patch-based inference: auto (default), off, NxN@LAYER (tiles) or Nx1@LAYER (strips with row caches; LAYER: node index or tensor name)')
  .option('--max-overhead <pct>', 'cap on extra MACs of patch-based plans, percent (default 20)')
  .option('--fuse-pad <on|off>', 'fold each PAD into the convolution that reads it (default on)')
  .option('--objective <balanced|memory|speed>', 'balanced: least peak x estimated time (default without --board); memory: smallest peak; speed: fastest kernels. With --board: the fastest plan that fits')
  .option('--io <model|int8>', 'model: the model\'s own inputs/outputs (default); int8: drop boundary QUANTIZE/DEQUANTIZE so int8 data goes in and out directly')
  .option('--backend <wasm|js>', 'wasm: the C kernel library in WebAssembly SIMD (default where available); js: the TypeScript kernels. Same bytes either way')
  .option('--json', 'machine-readable output')
  .action((model: string, opts) => guarded(() => runCommand(model, opts)));

program.command('plan')
  .description('memory plan: peak SRAM per packing strategy and patch-based plan, lower bound, TFLM figure, memory over steps')
  .argument('<model>', '.tflite file')
  .option('--board <name>', 'check the chosen plan fits; if not, name the peak step and the bytes missing (exit 3)')
  .option('--patch <mode>', 'patch-based inference: auto (default), off, NxN@LAYER (tiles) or Nx1@LAYER (strips with row caches; LAYER: node index or tensor name)')
  .option('--max-overhead <pct>', 'cap on extra MACs of patch-based plans, percent (default 20)')
  .option('--fuse-pad <on|off>', 'fold each PAD into the convolution that reads it (default on)')
  .option('--objective <balanced|memory|speed>', 'balanced: least peak x estimated time (default without --board); memory: smallest peak; speed: fastest kernels. With --board: the fastest plan that fits')
  .option('--io <model|int8>', 'model: the model\'s own inputs/outputs (default); int8: drop boundary QUANTIZE/DEQUANTIZE so int8 data goes in and out directly')
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
  .option('--flash-budget <bytes>', 'Flash the constants may take when weights are stored as 16-bit SMLAD pairs for speed (Cortex-M DSP; 0: int8 weights only; default half the board\'s Flash)')
  .option('--autotune', 'measure each layer\'s kernel variants under QEMU (Cortex-M4/M7 instructions) and split weights where that saves the most within --flash-budget; counts cached in the project (tinyml-tune.json)')
  .option('--project <layout>', 'make (default: Makefile, CMakeLists.txt and a runner) | cmake (a library for add_subdirectory) | arduino (library.properties, src/, an example) | platformio (library.json, src/, an example)')
  .option('--prefix <ident>', 'start every exported name with this C identifier (kws_model_init, KWS_MODEL_ARENA_BYTES) to link several models into one program')
  .option('--patch <mode>', 'patch-based inference: auto (default), off, NxN@LAYER (tiles) or Nx1@LAYER (strips with row caches; LAYER: node index or tensor name)')
  .option('--max-overhead <pct>', 'cap on extra MACs of patch-based plans, percent (default 20)')
  .option('--fuse-pad <on|off>', 'fold each PAD into the convolution that reads it (default on)')
  .option('--objective <balanced|memory|speed>', 'balanced: least peak x estimated time (default without --board); memory: smallest peak; speed: fastest kernels. With --board: the fastest plan that fits')
  .option('--io <model|int8>', 'model: the model\'s own inputs/outputs (default); int8: drop boundary QUANTIZE/DEQUANTIZE so int8 data goes in and out directly')
  .option('--train <update>', 'a project that trains on the device: auto | bias[:N] | last | last-K | full | sparse:N[:L@r,...] (as train --update; int8 models; auto chooses under the board\'s SRAM from --data)')
  .option('--data <dir>', 'with --train auto: the dataset whose gradient probe chooses the update')
  .option('--lr <rate>', 'with --train: SGD learning rate (default 0.1)')
  .option('--momentum <m>', 'with --train: SGD momentum (default 0)')
  .option('--qas <on|off>', 'with --train: quantisation-aware scaling (default on)')
  .option('--seed <n>', 'with --train: seed of the stochastic rounding (default 1)')
  .option('--json', 'machine-readable summary')
  .action((model: string, opts) => guarded(() => (opts.train !== undefined ? compileTrainCommand(model, opts) : compileCommand(model, opts))));

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
  .option('--lr <rate>', 'learning rate (default Adam 1e-3 float, SGD 0.1 int8)')
  .option('--optimizer <sgd|adam>', 'fine-tuning optimiser (default SGD for int8 models, Adam for float ones); SGD on a float model trains as the int8 device does')
  .option('--seed <n>', 'seed for initialisation and shuffling', '1')
  .option('--limit <n>', 'train on a balanced subset of at most n images')
  .option('--test-limit <n>', 'evaluate on a balanced subset of at most n test images')
  .option('--backend <wasm|js>', 'float32 layer kernels: wasm, the C library in WebAssembly SIMD (default where available); js, the TypeScript kernels')
  .option('--no-progress', 'no progress bar')
  .action((model: string, opts) => guarded(() => trainCommand(model, opts)));

program.command('evaluate')
  .description('test accuracy of an image classifier, its input prepared as the model records (or by its input tensor\'s defaults)')
  .argument('<model>', '.tflite file')
  .requiredOption('--data <dir>', 'CIFAR-10 binary batches, MNIST-style IDX files, or image folders (train/ and test/)')
  .option('--limit <n>', 'a balanced subset of at most n test images')
  .option('--json', 'machine-readable output')
  .action((model: string, opts) => guarded(() => evaluateCommand(model, opts)));

program.command('search')
  .description('TinyNAS: find the most accurate int8 model that fits a board (space optimisation, supernet, evolution, int8 winner)')
  .option('--board <name>', 'the board whose SRAM and Flash bound the search')
  .option('--sram <size>', 'SRAM budget instead of a board (e.g. 256KB)')
  .option('--flash <size>', 'Flash budget instead of a board (e.g. 1MB)')
  .option('--max-macs <n>', 'cap on MACs per inference (e.g. 15M)')
  .option('--max-weights <size>', 'cap on int8 weights plus biases (e.g. 78KB)')
  .option('--max-latency <n>', 'cap on Cortex-M4 instructions per inference (e.g. 20M), from our kernels measured under QEMU (evolution only)')
  .option('--latency-table <file>', 'where measured layer costs are kept (default: in the --resume directory)')
  .option('--space <name>', 'search space: mbv2-cifar (default, 32x32 data), mbv2se-cifar (with squeeze-and-excitation choices) or mbv2-imagenet')
  .option('--space-fidelity <f>', "stage 1's SRAM: screen (layer-wise bound, fast; default) or auto (patch-based plans measured where the screen alone rejects: for tight SRAM)")
  .option('--space-samples <n>', 'subnets sampled per (width, resolution) cell', '1000')
  .option('--widths <list>', 'width multipliers to try (comma list; default: all of the space)')
  .option('--resolutions <list>', 'input resolutions to try (comma list; default: all of the space)')
  .option('--workers <n>', 'worker threads (default: one per core)')
  .option('--seed <n>', 'seed of the sampling', '1')
  .option('--space-only', 'run stage 1 only: choose the (width, resolution) space')
  .option('--data <dir>', 'training data (CIFAR-10 binary batches, IDX or image folders); validation is held out of its training split')
  .option('--width <w>', 'fix the width multiplier (with --resolution: skips stage 1)')
  .option('--resolution <r>', 'fix the input resolution (with --width)')
  .option('--time-budget <t>', 'whole-run budget, e.g. 2h, 90m: stage 1 first, the rest shared by supernet, evolution and fine-tuning as --budget-split says')
  .option('--budget-split <s,e,f>', `percent of what stage 1 leaves of --time-budget for supernet, evolution and fine-tuning (default ${formatBudgetSplit()})`)
  .option('--supernet-steps <n>', 'sandwich steps of supernet training (default 600)')
  .option('--population <n>', 'evolution population (default 16)')
  .option('--generations <n>', 'evolution generations (default 8)')
  .option('--validation <n>', 'validation images held out of the training data (default 500)')
  .option('--finetune-steps <n>', 'fine-tuning steps of the winner (default 300)')
  .option('--sandwich <s>', 'supernet sandwich: fitting (default: random subnets and the teacher within the MACs, weights and Flash limits) or full (the whole width/resolution cell, its largest network the teacher)')
  .option('--no-augment', 'train on the images as they are (default: random shifts of up to an eighth of the side, edges repeated, and horizontal flips)')
  .option('--batch <n>', 'training batch (default 32)')
  .option('--train-limit <n>', 'train on a balanced subset of at most n images')
  .option('--test-limit <n>', 'report test accuracy on a balanced subset of at most n test images')
  .option('--out <file>', 'write the int8 winner as .tflite (preprocessing in its metadata)')
  .option('--resume <dir>', 'checkpoint directory: saved as the search runs, resumed when it holds this search')
  .option('--queue <url>', 'evaluate candidates on a BullMQ queue in Redis (redis://HOST:PORT), taken by `tinyml search-worker` processes')
  .option('--report <file>', 'write a self-contained HTML report')
  .option('--json', 'machine-readable output')
  .option('--no-progress', 'no progress bar')
  .action((opts) => guardedAsync(() => searchCommand(opts)));

program.command('search-worker')
  .description('take TinyNAS evaluation jobs from a Redis queue until stopped (Ctrl-C)')
  .requiredOption('--queue <url>', 'the Redis the search uses, e.g. redis://127.0.0.1:6379')
  .option('--concurrency <n>', 'jobs at once (default 1; start one worker per core)')
  .action((opts) => guardedAsync(() => searchWorkerCommand(opts)));

program.parse();
