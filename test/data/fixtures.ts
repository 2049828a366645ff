import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { SHARED } from '../helpers/shared.js';

/** ../shared/datasets/fashion-mnist, or a clear failure when it is missing (never a vacuous pass). */
export function fashionMnistDir(): string {
  const dir = join(SHARED, 'datasets', 'fashion-mnist');
  if (!existsSync(join(dir, 't10k-labels-idx1-ubyte.gz'))) {
    throw new Error(`Fashion-MNIST not found at ${dir}: the real dataset lives in ../shared/ (set TINYML_SHARED to override)`);
  }
  return dir;
}

export function tempDir(prefix = 'tinyml-data-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** An IDX file: header for `dims` (ubyte), then `data`. */
export function idxBytes(dims: number[], data: ArrayLike<number>, type = 0x08): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  const view = new DataView(header.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(Uint8Array.from(data), header.length);
  return out;
}

export function writeFile(path: string, bytes: Uint8Array | string, gzip = false): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, gzip ? gzipSync(bytes) : bytes);
  return path;
}

/** A PNG of the given size whose pixels are `value(x, y)` (grey, or RGB when `rgb`). */
export function pngBytes(width: number, height: number, value: (x: number, y: number) => number, rgb = false): Uint8Array {
  const png = new PNG({ width, height, colorType: rgb ? 2 : 0, inputColorType: 6 });
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const v = value(x, y);
    const i = 4 * (y * width + x);
    png.data[i] = v;
    png.data[i + 1] = rgb ? 255 - v : v;
    png.data[i + 2] = v;
    png.data[i + 3] = 255;
  }
  return PNG.sync.write(png, { colorType: rgb ? 2 : 0, inputColorType: 6 });
}

/** Binary PGM (P5). */
export function pgmBytes(width: number, height: number, value: (x: number, y: number) => number): Uint8Array {
  const header = Buffer.from(`P5\n# test image\n${width} ${height}\n255\n`, 'ascii');
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = value(x, y);
  return Buffer.concat([header, data]);
}
