import { arraySamples } from '../../src/data/samples.js';
import type { Samples } from '../../src/data/samples.js';
import type { SpaceConfig } from '../../src/nas/space.js';
import { seededRandom } from '../../src/util/random.js';

/** A space small enough to train in a test: two stages at 16x16, four classes. */
export const TINY: SpaceConfig = {
  name: 'tiny-test', inputChannels: 3, classes: 4,
  stem: { channels: 8, stride: 1 }, first: { channels: 8 },
  stages: [{ channels: 8, stride: 2, depths: [1, 2] }, { channels: 16, stride: 2, depths: [1, 2] }],
  kernels: [3, 5, 7], expands: [3, 6], head: 0, widths: [1], resolutions: [16], divisor: 8,
};

/** Four classes told apart by which colour channel is bright (16x16x3): learnable in a few steps. */
export function colourSamples(n: number, seed: number): { x: Float32Array; labels: Int32Array; samples: Samples } {
  const rand = seededRandom(seed);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 4);
  const x = new Float32Array(n * 16 * 16 * 3);
  for (let i = 0; i < n; i++) for (let p = 0; p < 256; p++) for (let c = 0; c < 3; c++) x[(i * 256 + p) * 3 + c] = 0.2 * rand() + (labels[i] === c ? 0.8 : labels[i] === 3 ? 0.4 : 0);
  return { x, labels, samples: arraySamples(x, labels, 4) };
}
