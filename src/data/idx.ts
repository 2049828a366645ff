import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Dataset, DatasetSplit } from './dataset.js';
import { makeDataset } from './dataset.js';
import { DatasetError } from './errors.js';

/**
 * IDX files (LeCun's MNIST format, also Fashion-MNIST): magic 0x00 0x00 <type> <ndims>, then ndims
 * big-endian uint32 dimensions, then the data row-major. Only type 0x08 (unsigned byte) holds images
 * and labels in these datasets, so it is the only one we accept.
 */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const UBYTE = 0x08;
const TYPE_NAMES: Record<number, string> = { 0x08: 'ubyte', 0x09: 'sbyte', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' };

export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];
export const MNIST_CLASSES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** Parse IDX bytes (already gunzipped). `path` only names the file in errors. */
export function parseIdx(bytes: Uint8Array, path: string): IdxArray {
  if (bytes.length < 4) throw new DatasetError(path, `IDX file is ${bytes.length} bytes, too short for a header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DatasetError(path, `not an IDX file (magic starts 0x${hex(bytes[0])} 0x${hex(bytes[1])}, expected 0x00 0x00)`);
  }
  const type = bytes[2];
  const ndims = bytes[3];
  if (type !== UBYTE) {
    throw new DatasetError(path, `IDX element type 0x${hex(type)} (${TYPE_NAMES[type] ?? 'unknown'}) is not supported; images and labels must be ubyte (0x08)`);
  }
  if (ndims < 1 || ndims > 4) throw new DatasetError(path, `IDX header declares ${ndims} dimensions; expected 1 (labels) to 4 (images)`);
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) throw new DatasetError(path, `truncated IDX header (${bytes.length} bytes, need ${headerBytes})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const elements = dims.reduce((p, d) => p * d, 1);
  const have = bytes.length - headerBytes;
  if (have !== elements) {
    const what = have < elements ? 'truncated' : 'has trailing bytes';
    throw new DatasetError(path, `IDX data ${what}: header [${dims.join('×')}] needs ${elements} bytes, file has ${have}`);
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/** Read an IDX file, gunzipping it when it starts with the gzip magic (1f 8b) whatever its name. */
export function readIdxFile(path: string): IdxArray {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DatasetError(path, code === 'ENOENT' ? 'file not found' : `cannot read: ${(e as Error).message}`);
  }
  let bytes: Uint8Array = raw;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      bytes = gunzipSync(raw);
    } catch (e) {
      throw new DatasetError(path, `corrupt gzip stream: ${(e as Error).message}`);
    }
  }
  return parseIdx(bytes, path);
}

/** An images file ([N,H,W] or [N,H,W,C]) and its labels file ([N]) as one Dataset. */
export function loadIdxPair(imagesPath: string, labelsPath: string, classNames: readonly string[] = FASHION_MNIST_CLASSES): Dataset {
  const images = readIdxFile(imagesPath);
  const labels = readIdxFile(labelsPath);
  if (images.dims.length !== 3 && images.dims.length !== 4) {
    throw new DatasetError(imagesPath, `an images file must be [N,H,W] or [N,H,W,C]; this one is [${images.dims.join(',')}]`);
  }
  if (labels.dims.length !== 1) throw new DatasetError(labelsPath, `a labels file must be one-dimensional; this one is [${labels.dims.join(',')}]`);
  const [count, height, width, channels = 1] = images.dims;
  if (labels.dims[0] !== count) {
    throw new DatasetError(labelsPath, `${labels.dims[0]} labels for ${count} images in ${basename(imagesPath)}`);
  }
  const lab = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const l = labels.data[i];
    if (l >= classNames.length) throw new DatasetError(labelsPath, `label ${l} of sample ${i} is out of range 0..${classNames.length - 1}`);
    lab[i] = l;
  }
  return makeDataset({ source: imagesPath, count, height, width, channels, pixels: images.data, labels: lab, classNames });
}

/** The file for `stem` in `dir`, gzipped or not, under MNIST's two naming conventions. */
function findIdx(dir: string, stem: 'train-images' | 'train-labels' | 't10k-images' | 't10k-labels'): string | null {
  const kind = stem.endsWith('images') ? 'idx3' : 'idx1';
  for (const name of [`${stem}-${kind}-ubyte`, `${stem}.${kind}-ubyte`]) {
    for (const ext of ['.gz', '']) {
      const p = join(dir, name + ext);
      if (existsSync(p)) return p;
    }
  }
  return null;
}

/** True when `dir` holds the four MNIST-style IDX files. */
export function isIdxFolder(dir: string): boolean {
  return findIdx(dir, 'train-images') !== null || findIdx(dir, 't10k-images') !== null;
}

/**
 * A folder with MNIST-style train-/t10k- image and label files (Fashion-MNIST, MNIST). Class names are
 * Fashion-MNIST's unless the folder name says plain MNIST.
 */
export function loadIdxFolder(dir: string, classNames?: readonly string[]): DatasetSplit {
  const names = classNames ?? (/fashion/i.test(dir) || !/mnist/i.test(basename(dir)) ? FASHION_MNIST_CLASSES : MNIST_CLASSES);
  const need = (stem: Parameters<typeof findIdx>[1]) => {
    const p = findIdx(dir, stem);
    if (!p) throw new DatasetError(dir, `missing ${stem}-${stem.endsWith('images') ? 'idx3' : 'idx1'}-ubyte[.gz]`);
    return p;
  };
  const train = loadIdxPair(need('train-images'), need('train-labels'), names);
  const test = loadIdxPair(need('t10k-images'), need('t10k-labels'), names);
  if (train.height !== test.height || train.width !== test.width || train.channels !== test.channels) {
    throw new DatasetError(dir, `train images are ${train.height}×${train.width}×${train.channels} but test images are ${test.height}×${test.width}×${test.channels}`);
  }
  return { train, test };
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
