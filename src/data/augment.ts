/**
 * Training-time augmentation of images held as real values, channels last (H x W x C): a random shift of
 * up to `pad` pixels each way with the edge pixels repeated (the "pad and random crop" of CIFAR training,
 * without needing to know which value is black in the model's input range) and a random horizontal flip.
 * The draw of a sample depends only on (seed, step, row of the batch), so a batch split across workers
 * is augmented exactly as one process would do it, and a resumed run repeats it.
 */
import { seededRandom } from '../util/random.js';

export interface ImageAugment {
  height: number;
  width: number;
  channels: number;
  /** Largest shift in pixels, each way (0: none). CIFAR's usual 4 of 32 is an eighth of the side. */
  pad: number;
  flip: boolean;
}

/** The usual CIFAR recipe scaled to the resolution: shifts of up to an eighth of the side, and flips. */
export function cifarAugment(height: number, width: number, channels: number): ImageAugment {
  return { height, width, channels, pad: Math.round(Math.min(height, width) / 8), flip: true };
}

/** One sample's draw: its shift and whether it is mirrored. */
export function augmentDraw(a: ImageAugment, seed: number, step: number, row: number): { dy: number; dx: number; flip: boolean } {
  const rand = seededRandom((Math.imul(seed, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca6b) ^ Math.imul(row + 1, 0xc2b2ae35)) >>> 0);
  const shift = () => Math.min(a.pad, Math.floor(rand() * (2 * a.pad + 1)) - a.pad);
  const dy = shift(), dx = shift();
  return { dy, dx, flip: a.flip && rand() < 0.5 };
}

/**
 * Augment the image at `x[offset ..]` in place (`tmp` holds at least one image): output pixel (y, x) is
 * input pixel (y + dy, x + dx) clamped to the image, read mirrored when `flip`.
 */
export function augmentImage(a: ImageAugment, x: Float32Array, offset: number, tmp: Float32Array, draw: { dy: number; dx: number; flip: boolean }): void {
  const { height: h, width: w, channels: c } = a;
  if (draw.dy === 0 && draw.dx === 0 && !draw.flip) return;
  const n = h * w * c;
  tmp.set(x.subarray(offset, offset + n));
  for (let y = 0; y < h; y++) {
    const sy = Math.min(h - 1, Math.max(0, y + draw.dy));
    for (let xx = 0; xx < w; xx++) {
      const ox = draw.flip ? w - 1 - xx : xx;
      const sx = Math.min(w - 1, Math.max(0, ox + draw.dx));
      const src = (sy * w + sx) * c, dst = offset + (y * w + xx) * c;
      for (let k = 0; k < c; k++) x[dst + k] = tmp[src + k];
    }
  }
}
