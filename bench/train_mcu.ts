/**
 * `npm run bench -- train-mcu`: the training step compiled to C (`tinyml compile --train`) on the Cortex-M4
 * under QEMU (mps2-an386, -icount shift=0): a few SGD steps on CIFAR-10 images (VWW) / Fashion-MNIST (the
 * default model), the trained tensors compared byte for byte with the Node trainer's, SRAM and Flash by
 * arm-none-eabi-size, the stack high-water mark the runner measures, and instructions per training step
 * beside one inference on the same build.
 */
import { join } from 'node:path';
import { loadModel } from '../src/model.js';
import { REPO_ROOT, SHARED } from './shared.js';
import type { Sample, TrainSetup } from '../src/codegen/train/device_run.js';
import { datasetSamples, trainInNode, trainOnDevice } from '../src/codegen/train/device_run.js';
import { planTraining } from '../src/train/workflow.js';
import { parseUpdateSpec } from '../src/train/update.js';
import { int } from '../src/report/format.js';

export interface TrainMcuRow {
  model: string;
  update: string;
  momentum: number;
  predicted: number;
  arena: number;
  /** The plan's parameter slots (trained elements, inside the arena). */
  trained: number;
  /** The trained layers' folded biases (.data, outside the plan). */
  folded: number;
  sram: number;
  stack: number;
  flash: number;
  stepInstructions: number;
  inferenceInstructions: number;
  identical: boolean;
  steps: number;
}

const STEPS = 3;

interface Case {
  model: string;
  path: string;
  update: string;
  momentum: number;
  samples: (s: TrainSetup) => Sample[];
}

function cases(): Case[] {
  const vww = join(SHARED, 'models', 'mlperf_vww_mobilenetv1_int8.tflite');
  const cifar = (s: TrainSetup) => datasetSamples(s.graph, join(SHARED, 'datasets', 'cifar10'), STEPS).map((x) => ({ ...x, label: x.label % 2 }));
  const fashion = (s: TrainSetup) => datasetSamples(s.graph, join(SHARED, 'datasets', 'fashion-mnist'), STEPS);
  return [
    { model: 'MLPerf VWW int8', path: vww, update: 'bias:8', momentum: 0, samples: cifar },
    { model: 'MLPerf VWW int8', path: vww, update: 'last-k:1', momentum: 0, samples: cifar },
    { model: 'MLPerf VWW int8', path: vww, update: 'sparse:8:-1@1,-2@0.25,-3@0.25', momentum: 0, samples: cifar },
    { model: 'MLPerf VWW int8', path: vww, update: 'sparse:8:-1@1,-2@0.25,-3@0.25', momentum: 0.9, samples: cifar },
    { model: 'default (fashion-cnn int8)', path: join(REPO_ROOT, 'models', 'tinyml-default-int8.tflite'), update: 'full', momentum: 0, samples: fashion },
  ];
}

export function benchTrainMcu(log: (line: string) => void = () => {}): TrainMcuRow[] {
  return cases().map((c) => {
    const graph = loadModel(c.path);
    const optimizer = { kind: 'sgd' as const, lr: 0.1, momentum: c.momentum };
    const s: TrainSetup = { graph, update: c.update, optimizer, qas: true, seed: 1 };
    const samples = c.samples(s);
    const want = trainInNode(s, samples);
    const run = trainOnDevice(s, samples, 'cortex-m4', 'mps2-an386');
    const identical = run.tensors.every((t, i) => t.length === want[i].length && t.every((v, k) => v === want[i][k]));
    const steps = [...run.stepCounts].sort((a, b) => a - b);
    const row: TrainMcuRow = {
      model: c.model, update: c.update, momentum: c.momentum, predicted: planTraining(graph, parseUpdateSpec(c.update), { optimizer }).peakBytes,
      arena: run.project.arenaBytes, trained: run.project.plannedParameterBytes, folded: run.project.foldedBiasBytes, sram: run.size!.sram, stack: run.stackBytes ?? 0, flash: run.size!.flash,
      stepInstructions: steps[steps.length >> 1], inferenceInstructions: run.predictCount, identical, steps: samples.length,
    };
    log(`train-mcu ${c.model} ${c.update} momentum ${c.momentum}: step ${row.stepInstructions} vs inference ${row.inferenceInstructions}, SRAM ${row.sram} + stack ${row.stack}, identical ${identical}`);
    return row;
  });
}

export function trainMcuTable(rows: TrainMcuRow[]): string {
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
  const lines = [
    '| model | update | momentum | `tinyml train` plan (device, batch 1) | MODEL_ARENA_BYTES | of which trained elements | folded biases (.data) | SRAM (data + bss) | stack high-water | SRAM + stack | over the plan | ≤ 256 KB | Flash (text + data) | M4 instructions per training step | per inference | step / inference | trained tensors == Node trainer |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|--:|--:|--:|--:|:-:|',
  ];
  for (const r of rows) {
    const total = r.sram + r.stack;
    lines.push(`| ${r.model} | \`${r.update}\` | ${r.momentum} | ${int(r.predicted)} | ${int(r.arena)} | ${int(r.trained)} | ${int(r.folded)} | ${int(r.sram)} | ${int(r.stack)} | ${int(total)} (${kb(total)}) | +${int(total - r.predicted)} | ${total <= 256 * 1024 ? 'yes' : 'no'} | ${int(r.flash)} (${kb(r.flash)}) | ${int(r.stepInstructions)} | ${int(r.inferenceInstructions)} | ${(r.stepInstructions / r.inferenceInstructions).toFixed(2)} | ${r.identical ? `yes (${r.steps} steps)` : '**no**'} |`);
  }
  lines.push('', `\`tinyml compile MODEL --train UPDATE --board mps2-an386\` (SGD lr 0.1, QAS on, stochastic rounding, seed 1), built with arm-none-eabi-gcc -O2 and run under qemu-system-arm -icount shift=0 on ${STEPS} samples (CIFAR-10 training images resized to 96×96 with labels mod 2 for VWW, Fashion-MNIST for the default model); instructions: the median step, and one model_predict after training. SRAM = the training plan's arena (equal to what \`tinyml train\` plans for the device; the trained elements live in its parameter slots, the frozen rest of a tensor trained on some input channels stays in Flash: a convolution's compact over its frozen input channels, other layers' with the trained ones zero) + the trained layers' folded biases in .data (what the inference kernels read, folded again after each step; not in the plan) + the runner's few bytes; "over the plan": SRAM + stack less the plan; the stack is measured (painted before the first step, scanned after the last), not the 8 KB board.ld reserves. "== Node trainer": every trained tensor byte-identical to TrainingSession's after the same steps.`);
  return lines.join('\n');
}
