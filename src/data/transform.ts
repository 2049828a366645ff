import type { Dataset } from './dataset.js';
import { makeDataset, sampleSize } from './dataset.js';
import type { ImageShape } from './image_folder.js';
import { convertChannels, resizeBilinear } from './image.js';

/**
 * Every image resized (bilinear, half-pixel centres) and converted grey↔RGB to `shape`, e.g. Fashion-MNIST's
 * 28×28×1 to person_detect's 96×96×1. Returns `ds` itself when it already has that shape.
 */
export function fitDataset(ds: Dataset, shape: ImageShape): Dataset {
  if (ds.height === shape.height && ds.width === shape.width && ds.channels === shape.channels) return ds;
  if (ds.channels !== 1 && ds.channels !== 3) throw new RangeError(`fitDataset: ${ds.channels}-channel images cannot be converted`);
  const inSize = sampleSize(ds);
  const outSize = shape.height * shape.width * shape.channels;
  const pixels = new Uint8Array(ds.count * outSize);
  for (let i = 0; i < ds.count; i++) {
    const img = convertChannels({ width: ds.width, height: ds.height, channels: ds.channels, data: ds.pixels.subarray(i * inSize, (i + 1) * inSize) }, shape.channels);
    resizeBilinear(img.data, ds.height, ds.width, shape.channels, shape.height, shape.width, pixels.subarray(i * outSize, (i + 1) * outSize));
  }
  return makeDataset({ ...ds, ...shape, pixels });
}
