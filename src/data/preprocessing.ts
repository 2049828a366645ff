/**
 * How a classifier wants its images, recorded in the .tflite itself (Model.metadata entry
 * `tinyml.preprocessing`, UTF-8 JSON) so anyone can feed it correctly without our code: resize to the
 * input's height x width (bilinear, half-pixel centres), convert grey/RGB to its channels, map pixels
 * 0..255 linearly onto `range`, then quantise with the input tensor's parameters when it is int8.
 */
import type { Graph } from '../graph/graph.js';
import { ModelFormatError } from '../errors.js';
import type { InputEncoding } from './encode.js';
import { inputEncodingFor } from './encode.js';

export const PREPROCESSING_KEY = 'tinyml.preprocessing';

export interface Preprocessing {
  /** Input height and width. */
  resolution: [number, number];
  channels: number;
  resize: 'bilinear';
  /** Real interval pixels 0..255 map onto (before the input's quantisation). */
  range: [number, number];
  /** Where the record came from: the model's metadata, or defaults derived from its input tensor. */
  source: 'metadata' | 'default';
}

function inputShape(g: Graph): [number, number, number] {
  const t = g.tensors[g.inputs[0]];
  if (t.shape.length !== 4) throw new ModelFormatError(`input ${t.name}`, `is [${t.shape.join(',')}]; an image classifier takes [1, height, width, channels]`);
  return [t.shape[1], t.shape[2], t.shape[3]];
}

/**
 * The model's preprocessing: its metadata record when present (checked against its input), otherwise the
 * defaults (int8 inputs span their whole range, pixel p -> p - 128 at scale 1/255's usual parameters;
 * float inputs take [0, 1]).
 */
export function preprocessingOf(g: Graph): Preprocessing {
  const [h, w, c] = inputShape(g);
  const raw = g.metadata?.[PREPROCESSING_KEY];
  if (!raw) return { resolution: [h, w], channels: c, resize: 'bilinear', range: inputEncodingFor(g.tensors[g.inputs[0]]).range, source: 'default' };
  const where = `metadata ${PREPROCESSING_KEY}`;
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw)) as Record<string, unknown>;
  } catch (e) {
    throw new ModelFormatError(where, `is not UTF-8 JSON: ${(e as Error).message}`);
  }
  const pair = (v: unknown): v is [number, number] => Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!pair(j.resolution) || j.resolution[0] !== h || j.resolution[1] !== w) throw new ModelFormatError(where, `resolution ${JSON.stringify(j.resolution)} does not match the input [${h}, ${w}]`);
  if (j.channels !== c) throw new ModelFormatError(where, `channels ${JSON.stringify(j.channels)} does not match the input's ${c}`);
  if (j.resize !== 'bilinear') throw new ModelFormatError(where, `resize ${JSON.stringify(j.resize)} is not one we know (bilinear)`);
  if (!pair(j.range) || !(j.range[0] < j.range[1])) throw new ModelFormatError(where, `range ${JSON.stringify(j.range)} is not [low, high]`);
  return { resolution: [h, w], channels: c, resize: 'bilinear', range: j.range, source: 'metadata' };
}

/** The model with its preprocessing recorded (replacing any earlier record). */
export function withPreprocessing(g: Graph, range: [number, number]): Graph {
  const [h, w, c] = inputShape(g);
  const record = { resolution: [h, w], channels: c, resize: 'bilinear', range, layout: 'NHWC', note: 'pixels 0..255 -> range linearly, then the input tensor\'s quantisation' };
  return { ...g, metadata: { ...(g.metadata ?? {}), [PREPROCESSING_KEY]: new TextEncoder().encode(JSON.stringify(record)) } };
}

export function encodingOf(g: Graph, p: Preprocessing): InputEncoding {
  return inputEncodingFor(g.tensors[g.inputs[0]], p.range);
}
