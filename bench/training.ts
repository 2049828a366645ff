import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildFashionCnn, FASHION_CNN } from '../src/models/fashion_cnn.js';
import { loadDatasetFolder, trainingView, UNIT_RANGE } from '../src/data/index.js';
import type { Samples } from '../src/data/index.js';
import type { TrainingBackend } from '../src/train/index.js';
import { trainFloat } from '../src/train/index.js';
import { int } from '../src/report/format.js';
import { SHARED } from './shared.js';

/**
 * Training throughput: fashion-cnn trained in float32 as `tinyml train fashion-cnn` trains it (batch 32,
 * Adam, the trainer's loop), on the TypeScript kernels and then on the WebAssembly kernels, over the
 * same Fashion-MNIST samples in one process. Each backend first takes a few warm-up steps (JIT, caches).
 */
const FASHION = join(SHARED, 'datasets', 'fashion-mnist');
const BATCH = 32;

export interface ThroughputRow {
  backend: TrainingBackend;
  samples: number;
  seconds: number;
  samplesPerSecond: number;
  loss: number;
}

function run(data: Samples, backend: TrainingBackend, steps: number): ThroughputRow {
  const graph = buildFashionCnn(FASHION_CNN);
  const r = trainFloat(graph, data, { batchSize: BATCH, epochs: 1, maxSteps: steps, backend, optimizer: { kind: 'adam', lr: 1e-3 } });
  const e = r.history[0];
  return { backend, samples: r.steps * BATCH, seconds: e.seconds, samplesPerSecond: e.samplesPerSecond, loss: e.loss };
}

export function benchTrainingSpeed(samples = 2000): ThroughputRow[] {
  if (!existsSync(FASHION)) {
    console.error(`Fashion-MNIST not found at ${FASHION}: the training benchmark reads ../shared/datasets/fashion-mnist (set TINYML_SHARED)`);
    process.exit(1);
  }
  const shape = { height: FASHION_CNN.inputSize, width: FASHION_CNN.inputSize, channels: 1 as const };
  const data = trainingView(loadDatasetFolder(FASHION, { shape, trainLimit: samples, testLimit: 10, seed: 1 }).train, { range: UNIT_RANGE });
  const steps = Math.floor(data.size / BATCH);
  const rows: ThroughputRow[] = [];
  for (const backend of ['js', 'wasm'] as const) {
    run(data, backend, 3);
    const row = run(data, backend, steps);
    console.error(`training on ${backend}: ${row.samplesPerSecond.toFixed(0)} samples/s`);
    rows.push(row);
  }
  return rows;
}

export function trainingSpeedTable(rows: ThroughputRow[]): string {
  const js = rows.find((r) => r.backend === 'js');
  const lines = [
    '| fashion-cnn training kernels | samples | time | samples/s | vs js | mean loss |',
    '|---|--:|--:|--:|--:|--:|',
  ];
  for (const r of [...rows].reverse()) {
    const ratio = js ? `${(r.samplesPerSecond / js.samplesPerSecond).toFixed(1)}×` : '–';
    lines.push(`| ${r.backend === 'wasm' ? 'wasm: the C library in WebAssembly SIMD' : 'js: TypeScript'} | ${int(r.samples)} | ${r.seconds.toFixed(2)} s | ${int(Math.round(r.samplesPerSecond))} | ${ratio} | ${r.loss.toFixed(4)} |`);
  }
  lines.push('', `float32, batch ${BATCH}, Adam 1e-3, one thread, the trainer's loop (data reading included) after 3 warm-up steps; the same samples in the same order on both backends. \`tinyml train --backend wasm|js\` picks the kernels (wasm by default where WebAssembly SIMD runs).`);
  return lines.join('\n');
}
