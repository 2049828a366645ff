import type { Graph, Tensor } from '../../src/graph/graph.js';
import { tensorBytes } from '../../src/graph/graph.js';
import { InputError } from '../../src/errors.js';
import { makeDataset } from '../../src/data/dataset.js';
import { encodeSamples } from '../../src/data/encode.js';
import type { Image } from '../../src/data/image.js';
import { fitImage } from '../../src/data/image.js';
import { encodingOf, preprocessingOf } from '../../src/data/preprocessing.js';
import { randomTensorBytes } from '../../src/runtime/tensor_io.js';

/**
 * The model's inputs from what the user gives the page: seeded random bytes (as `tinyml run --random`),
 * raw tensor files (as `--input`), or an image prepared as `tinyml evaluate` prepares one.
 */

export function randomInputs(g: Graph, seed: number): Uint8Array[] {
  return g.inputs.map((id, i) => randomTensorBytes(g.tensors[id], seed + i));
}

/** One raw little-endian file per model input, in the model's order. */
export function rawInputs(g: Graph, files: readonly { name: string; bytes: Uint8Array }[]): Uint8Array[] {
  if (files.length !== g.inputs.length) throw new InputError(`the model has ${g.inputs.length} input(s); got ${files.length} raw file(s)`);
  return g.inputs.map((id, i) => {
    const t: Tensor = g.tensors[id];
    const f = files[i];
    if (f.bytes.byteLength !== tensorBytes(t)) {
      throw new InputError(`input ${i} from ${f.name} has ${f.bytes.byteLength} bytes; ${t.name} needs ${tensorBytes(t)} (${t.dtype}[${t.shape.join(',')}])`);
    }
    return f.bytes;
  });
}

/**
 * An RGB image (8-bit, row-major) as the model's one input: resized bilinearly to the input's height and
 * width, converted to its channels, mapped and quantised as the model's preprocessing says (its metadata,
 * or the input tensor's defaults).
 */
export function imageInput(g: Graph, img: Image): Uint8Array[] {
  if (g.inputs.length !== 1) throw new InputError(`an image feeds a model with one input; this one has ${g.inputs.length}`);
  const p = preprocessingOf(g);
  if (p.channels !== 1 && p.channels !== 3) throw new InputError(`the input has ${p.channels} channels; an image gives 1 (grey) or 3 (RGB)`);
  let enc;
  try {
    enc = encodingOf(g, p);
  } catch (e) {
    throw new InputError(`cannot feed an image to this model: ${(e as Error).message}`);
  }
  const [h, w] = p.resolution;
  const fitted = fitImage(img, h, w, p.channels);
  const ds = makeDataset({ source: 'image', count: 1, height: h, width: w, channels: p.channels, pixels: fitted.data, labels: new Int32Array(1), classNames: ['image'] });
  const values = encodeSamples(ds, [0], enc);
  return [new Uint8Array(values.buffer, values.byteOffset, values.byteLength)];
}

/** Decode an image file with the browser's decoders into RGB bytes. */
export async function decodeImage(file: Blob): Promise<Image> {
  const bitmap = await createImageBitmap(file);
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new InputError('this browser gives no 2D canvas to decode images');
  ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  const n = bitmap.width * bitmap.height;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    rgb[3 * i] = rgba[4 * i];
    rgb[3 * i + 1] = rgba[4 * i + 1];
    rgb[3 * i + 2] = rgba[4 * i + 2];
  }
  return { width: bitmap.width, height: bitmap.height, channels: 3, data: rgb };
}
