/**
 * TinyNAS benchmarks, through the same code as `tinyml search`:
 *   nas-space   stage 1 for several boards: the chosen (width, resolution) cell of mbv2-cifar and the
 *               MACs its fitting subnets reach (1,000 samples a cell, worker threads);
 *   nas-search  one whole search on CIFAR-10 for the STM32F412 under a time budget (default 40 min, set
 *               TINYML_NAS_BUDGET in seconds), beside the MLPerf Tiny reference ResNet-8 evaluated by
 *               our interpreter on the same 10,000 test images.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findBoard } from '../src/boards/boards.js';
import { compileModel, modelMacs } from '../src/compiler/compile_model.js';
import { loadDatasetFolder } from '../src/data/load.js';
import { evaluateClassifier } from '../src/data/evaluate.js';
import { CostPool } from '../src/nas/pool.js';
import { boardLimits } from '../src/nas/resources.js';
import type { SearchOutcome } from '../src/nas/search.js';
import { runSearch } from '../src/nas/search.js';
import { MBV2_CIFAR } from '../src/nas/space.js';
import { optimiseSpace } from '../src/nas/space_opt.js';
import { int } from '../src/report/format.js';
import { reservedSramBytes } from '../src/codegen/target.js';
import { readTflite } from '../src/tflite/reader.js';
import { SHARED } from './shared.js';

const CIFAR = join(SHARED, 'datasets', 'cifar10');
const RESNET8 = join(SHARED, 'models', 'mlperf_ic_resnet8_int8.tflite');
const mmacs = (m: number) => `${(m / 1e6).toFixed(1)} M`;
const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

export async function nasSpaceTable(log: (l: string) => void): Promise<string> {
  const rows = ['| board | SRAM / Flash | chosen cell | samples that fit | mean MACs (fitting) | median | max | time |', '|---|--:|---|--:|--:|--:|--:|--:|'];
  const pool = new CostPool();
  try {
    for (const name of ['nrf52832', 'stm32f412', 'stm32f746', 'stm32h743']) {
      const board = findBoard(name);
      const t0 = performance.now();
      const r = await optimiseSpace(MBV2_CIFAR, boardLimits(board), { samples: 1000, evaluate: (s, a, l) => pool.costs('screen', s, a, l) });
      const secs = (performance.now() - t0) / 1000;
      const b = r.best;
      log(`${board.name}: ${b ? `w${b.width}-r${b.resolution}` : 'none'} in ${secs.toFixed(0)} s`);
      rows.push(b
        ? `| ${board.name} | ${int(board.sramBytes / 1024)} KB / ${int(board.flashBytes / 1024)} KB | w${b.width}-r${b.resolution} | ${(100 * b.fitting / b.sampled).toFixed(0)} % | ${mmacs(b.meanMacs)} | ${mmacs(b.macs[b.macs.length >> 1])} | ${mmacs(b.macs[b.macs.length - 1])} | ${secs.toFixed(0)} s |`
        : `| ${board.name} | ${int(board.sramBytes / 1024)} KB / ${int(board.flashBytes / 1024)} KB | none fits | – | – | – | – | ${secs.toFixed(0)} s |`);
    }
  } finally {
    await pool.close();
  }
  return [...rows, '', `\`tinyml search --board NAME --space-only\` on ${MBV2_CIFAR.name} (${MBV2_CIFAR.widths.length} widths x ${MBV2_CIFAR.resolutions.length} resolutions, 1,000 subnets a cell, seed 1, one worker per core). SRAM: arena by our layer-wise plan (greedy packing) + the 8 KB stack; Flash: int8 weights + biases + 1.7 KB code a node.`].join('\n');
}

export async function nasSearchTable(log: (l: string) => void): Promise<string> {
  if (!existsSync(CIFAR) || !existsSync(RESNET8)) throw new Error(`../shared/ not found at ${SHARED}: the search benchmark needs CIFAR-10 and ResNet-8`);
  const budget = Number(process.env.TINYML_NAS_BUDGET ?? 2400);
  const board = findBoard('stm32f412');
  const data = loadDatasetFolder(CIFAR);
  const resnet = readTflite(readFileSync(RESNET8));
  const rc = compileModel(resnet, { board, reservedSramBytes: reservedSramBytes(board) });
  const rAcc = evaluateClassifier(resnet, data.test).accuracy;
  const pool = new CostPool();
  let o: SearchOutcome;
  const t0 = performance.now();
  try {
    o = await runSearch({
      space: MBV2_CIFAR, limits: boardLimits(board, 12_500_000), supernetSteps: 100_000, batch: 32,
      evolution: { population: 16, generations: 100 }, validation: 1000, finetuneSteps: 1500, timeBudget: budget, seed: 1,
      spaceOptions: { samples: 300 },
    }, data, {
      costs: (s, a, l) => pool.costs('screen', s, a, l),
      scoring: { attach: (net, v) => pool.attachScoring(net, v), scores: (archs) => pool.scores(archs) },
      training: { attach: (net, d, range, opts) => pool.attachTraining(net, d, range, opts) },
      onSupernetStep: (r) => { if ((r.step + 1) % 25 === 0) log(`supernet step ${r.step + 1}: largest ${r.largest.loss.toFixed(3)}, smallest ${r.smallest.loss.toFixed(3)}, ${r.seconds.toFixed(1)} s/step`); },
      onGeneration: (g, s, k) => log(`generation ${g}: ${pct(s)} ${k}`),
      log,
    });
  } finally {
    await pool.close();
  }
  const minutes = (performance.now() - t0) / 60000;
  const w = o.winner;
  return [
    '| model | test accuracy (int8, 10,000 images) | MACs | int8 weights | peak SRAM (arena) | search time |',
    '|---|--:|--:|--:|--:|--:|',
    `| MLPerf Tiny ResNet-8 (reference) | ${pct(rAcc)} | ${mmacs(modelMacs(resnet))} | ${int(resnet.tensors.reduce((s, t) => s + (t.data ? t.data.byteLength : 0), 0))} B | ${int(rc.plan.arenaBytes)} B | – |`,
    `| TinyNAS winner \`${w.key.replace(/\|/g, '\\|')}\` | ${pct(w.int8Accuracy.accuracy)} | ${mmacs(w.cost.macs)} | ${int(w.cost.constantBytes)} B | ${int(w.cost.arenaBytes)} B (${w.cost.plan}) | ${minutes.toFixed(0)} min |`,
    '',
    `Search for the STM32F412 (256 KB SRAM, 1 MB Flash) with at most 12.5 M MACs (ResNet-8's budget), a ${Math.round(budget / 60)}-minute budget on this 2-core machine: stage 1 with 300 samples a cell chose w${o.cell.width}-r${o.cell.resolution}; the supernet trained ${int(o.supernetSteps)} sandwich steps of 32 images (${(o.supernetSteps * 32 / (data.train.count - 1000)).toFixed(2)} epochs of the training images left after a 1,000-image validation hold-out) in ${(o.supernetSeconds / 60).toFixed(0)} min; evolution ran ${o.evolution.generations} generations (${o.evolution.history.length} subnets, population 16); the winner scored ${pct(w.inheritedAccuracy)} on validation with inherited weights, and ${pct(w.floatAccuracy)} in float after ${int(o.finetuneSteps)} fine-tuning steps. Float training runs on the WebAssembly training kernels, and still a budget this size buys a fraction of an epoch: the winner is far from trained to convergence.`,
  ].join('\n');
}
