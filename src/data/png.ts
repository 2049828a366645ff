import { PNG } from 'pngjs';
import type { Image } from './image.js';
import { DatasetError } from './errors.js';

/**
 * PNG via pngjs, which expands every colour type and bit depth to 8-bit RGBA. Greyscale files stay one
 * channel. Transparent pixels are composited over black: the alpha channel is not something a
 * classifier trained on opaque images has seen.
 */
export function decodePng(bytes: Uint8Array, path: string): Image {
  let png: ReturnType<typeof PNG.sync.read>;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new DatasetError(path, `unreadable PNG: ${(e as Error).message}`);
  }
  const { width, height, data } = png;
  const channels: 1 | 3 = png.color ? 3 : 1;
  const out = new Uint8Array(width * height * channels);
  for (let i = 0; i < width * height; i++) {
    const a = data[4 * i + 3];
    for (let c = 0; c < channels; c++) out[i * channels + c] = a === 255 ? data[4 * i + c] : Math.round((data[4 * i + c] * a) / 255);
  }
  return { width, height, channels, data: out };
}
