// One network of mbv2-cifar under ResNet-8's limits, trained from scratch on one thread for a wall-clock time
// with the search's trainer and recipe (trainFromScratch: Adam, cosine over the time, shifts and flips, PTQ),
// then its float and int8 test accuracy (after `npx tsc`). Run two at once, one per core, to compare
// architectures at equal time:
//   node prof/scratch_train.mjs KEY|hand [lr] [seconds] [seed]
// KEY: an arch key as `tinyml search` prints it; hand: the hand-scaled MobileNetV2 of the nas-search bench.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [key, lr = '2e-3', seconds = '1200', seed = '1'] = process.argv.slice(2);
if (!key) {
  console.error('usage: node prof/scratch_train.mjs KEY|hand [lr] [seconds] [seed]');
  process.exit(2);
}
const load = (p) => import(pathToFileURL(join(import.meta.dirname, '..', 'dist', 'src', p)).href);
const { loadDatasetFolder } = await load('data/load.js');
const { budgetLimits, constantBytes } = await load('nas/resources.js');
const { handScaledMobileNetV2, trainFromScratch } = await load('nas/baseline.js');
const { MBV2_CIFAR, parseArchKey } = await load('nas/space.js');
const { readTflite } = await load('tflite/reader.js');

const shared = join(import.meta.dirname, '..', '..', 'shared');
const data = loadDatasetFolder(join(shared, 'datasets', 'cifar10'));
// ResNet-8's limits as bench/nas.ts states them (its arena by our layer-wise plan, its int8 weights read from the
// model, its MACs).
const weightBytes = constantBytes(readTflite(readFileSync(join(shared, 'models', 'mlperf_ic_resnet8_int8.tflite'))));
const limits = budgetLimits(49_152, 1024 * 1024, { maxMacs: 12_500_000, maxWeightBytes: weightBytes });
const hand = handScaledMobileNetV2(MBV2_CIFAR, limits);
const arch = key === 'hand' ? hand.arch : parseArchKey(hand.space, key);
const t0 = performance.now();
const r = await trainFromScratch(hand.space, arch, data, { steps: 1_000_000, lr: Number(lr), batch: 32, seed: Number(seed), seconds: Number(seconds), validation: 1000 }, limits, {
  onFinetune: (s, _t, loss) => { if (s % 1000 === 0) console.log(`step ${s}: loss ${loss.toFixed(3)}, ${((performance.now() - t0) / 1000).toFixed(0)} s`); },
});
const epochs = (r.steps * 32) / (data.train.count - 1000);
console.log(`${key}: ${r.steps} steps (${epochs.toFixed(2)} epochs), float ${(100 * r.floatAccuracy).toFixed(2)} %, int8 ${(100 * r.int8Accuracy.accuracy).toFixed(2)} %, ${(r.cost.macs / 1e6).toFixed(1)} M MACs`);
