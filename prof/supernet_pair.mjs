// Paired A/B of supernet training steps in one process: two builds (dist/ directories, each with its csrc/
// beside it) train the same supernet from the same seed, one step each in turn, so both see the same load
// on a shared machine (after `npx tsc`):
//   node prof/supernet_pair.mjs OLD_DIST [NEW_DIST] [width] [resolution] [steps] [mode]
// mode: 'sandwich' (default) or 'fixed'. Prints the median of the per-step NEW / OLD time ratios, each
// build's median step, and both builds' losses (equal up to float rounding growing over the steps).
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [oldDist, newDist = join(import.meta.dirname, '..', 'dist')] = process.argv.slice(2, 4).map((p) => resolve(p));
const [width = 0.25, resolution = 40, steps = 12] = process.argv.slice(4, 7).map(Number);
const mode = process.argv[7] ?? 'sandwich';

async function trainer(dist) {
  const load = (p) => import(pathToFileURL(join(dist, 'src', p)).href);
  const { loadDatasetFolder } = await load('data/load.js');
  const { searchData } = await load('nas/search.js');
  const { MBV2_CIFAR } = await load('nas/space.js');
  const { Supernet } = await load('nas/supernet.js');
  const { SupernetTrainer } = await load('nas/train_supernet.js');
  const data = loadDatasetFolder(join(import.meta.dirname, '..', '..', 'shared', 'datasets', 'cifar10'));
  const d = searchData(data, resolution, 1000, 1);
  const net = new Supernet(MBV2_CIFAR, width, resolution, 1);
  const options = { batch: 32, lr: 2e-3, totalSteps: 100_000, seed: 1, ...(mode === 'fixed' ? { fixed: net.largest() } : {}) };
  return new SupernetTrainer(net, d.train, options);
}

const builds = [await trainer(oldDist), await trainer(newDist)];
const times = [[], []];
const losses = [[], []];
const warm = 2;
for (let s = 0; s < warm + steps; s++) {
  // Alternate which build goes first, so neither always follows the other's garbage.
  for (const i of s % 2 ? [1, 0] : [0, 1]) {
    const t0 = performance.now();
    const r = await builds[i].step(s);
    if (s >= warm) times[i].push(performance.now() - t0);
    losses[i].push(r.largest.loss);
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const ratios = times[1].map((t, i) => t / times[0][i]);
console.log(`${mode} w${width} r${resolution}, ${steps} paired steps: NEW / OLD x${median(ratios).toFixed(3)} (per-step ratios ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}); median step OLD ${median(times[0]).toFixed(0)} ms, NEW ${median(times[1]).toFixed(0)} ms`);
console.log(`largest-subnet loss by step, OLD: ${losses[0].map((l) => l.toFixed(6)).join(' ')}`);
console.log(`largest-subnet loss by step, NEW: ${losses[1].map((l) => l.toFixed(6)).join(' ')}`);
