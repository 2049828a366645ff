// Supernet sandwich steps/s as the nas-search bench trains them (after `npx tsc`):
//   node prof/supernet_step.mjs [width] [resolution] [steps] [workers] [mode] [dist]
// mode: 'sandwich' (default) or 'fixed' (the largest subnet alone: the fine-tune / hand-scaled baseline trainer).
// dist: another build's dist/ (a paired A/B against a copy of the old build; its csrc/ must lie beside it).
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [width = 0.25, resolution = 32, steps = 20, workers = 1] = process.argv.slice(2, 6).map(Number);
const mode = process.argv[6] ?? 'sandwich';
const dist = resolve(process.argv[7] ?? join(import.meta.dirname, '..', 'dist'));
const load = (p) => import(pathToFileURL(join(dist, 'src', p)).href);
const { loadDatasetFolder } = await load('data/load.js');
const { searchData, SEARCH_RANGE } = await load('nas/search.js');
const { MBV2_CIFAR } = await load('nas/space.js');
const { Supernet } = await load('nas/supernet.js');
const { SupernetTrainer } = await load('nas/train_supernet.js');
const { CostPool } = await load('nas/pool.js');

const data = loadDatasetFolder(join(import.meta.dirname, '..', '..', 'shared', 'datasets', 'cifar10'));
const d = searchData(data, resolution, 1000, 1);
const net = new Supernet(MBV2_CIFAR, width, resolution, 1);
const options = { batch: 32, lr: 2e-3, totalSteps: 100_000, seed: 1, ...(mode === 'fixed' ? { fixed: net.largest() } : {}) };
const trainer = new SupernetTrainer(net, d.train, options);
const pool = workers > 1 ? new CostPool(workers) : null;
const executor = pool ? await pool.attachTraining(net, d.trainImages, SEARCH_RANGE, options) : null;
const warm = 3;
let t0 = 0, last;
for (let s = 0; s < warm + steps; s++) {
  if (s === warm) t0 = performance.now();
  last = await trainer.step(s, executor ?? undefined);
}
const secs = (performance.now() - t0) / 1000;
console.log(`${dist} w${width} r${resolution} ${mode} workers=${workers}: ${(steps / secs).toFixed(3)} steps/s (${(1000 * secs / steps).toFixed(0)} ms/step), last largest loss ${last.largest.loss.toFixed(5)} smallest ${last.smallest.loss.toFixed(5)}`);
await pool?.close();
