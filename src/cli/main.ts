#!/usr/bin/env node
import { Command } from 'commander';
import { TinymlError } from '../errors.js';
import { inspectCommand } from './inspect.js';
import { runCommand } from './run.js';

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

const program = new Command();
program.name('tinyml').description('Neural networks on microcontrollers: inspect, run, plan, compile and train int8 TFLite models.');

program.command('inspect')
  .description('per-layer table: shapes, MACs, weight and activation bytes, live memory; totals and board fit')
  .argument('<model>', '.tflite file')
  .option('--board <name>', 'check fit against a board profile (e.g. stm32f412, stm32h743)')
  .option('--json', 'machine-readable output')
  .action((model: string, opts) => guarded(() => inspectCommand(model, opts)));

program.command('run')
  .description('run the model once and print its outputs (raw, dequantised, top class) and the time taken')
  .argument('<model>', '.tflite file')
  .option('--input <file>', 'raw little-endian bytes for one model input (repeat per input, in order)', collect, [])
  .option('--random <seed>', 'seeded random inputs instead of files')
  .option('--output <file>', 'write one model output as raw bytes (repeat per output, in order)', collect, [])
  .option('--repeat <n>', 'invoke n times and report the median time')
  .option('--json', 'machine-readable output')
  .action((model: string, opts) => guarded(() => runCommand(model, opts)));

program.parse();
