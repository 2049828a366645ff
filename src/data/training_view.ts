import type { Samples } from './samples.js';
import type { Dataset } from './dataset.js';
import { sampleSize } from './dataset.js';
import type { InputEncoding } from './encode.js';

/**
 * A Dataset as the trainer reads it: real input values, one sample at a time. Pixels map onto the
 * encoding's real range; the trainer quantises them itself for int8 models, so with an int8 input's
 * default range (its whole representable span) the model sees exactly q = pixel - 128, as at inference.
 */
export function trainingView(ds: Dataset, enc: Pick<InputEncoding, 'range'>): Samples {
  const [lo, hi] = enc.range;
  const lut = Float32Array.from({ length: 256 }, (_, p) => lo + (p * (hi - lo)) / 255);
  const size = sampleSize(ds);
  const { pixels, labels } = ds;
  return {
    size: ds.count,
    classes: ds.classNames.length,
    sampleSize: size,
    read(i: number, out: Float32Array, offset: number): number {
      const base = i * size;
      for (let j = 0; j < size; j++) out[offset + j] = lut[pixels[base + j]];
      return labels[i];
    },
  };
}
