/**
 * Seeded mutations of real .tflite files for the fuzz test. Random flips mostly land in weights, which
 * only changes numbers; to reach the parser, mutations aim at the flatbuffer's structure: vector length
 * fields, tensor shapes, tensor indices, quantisation vectors, and bytes outside constant data.
 */
import type { Table } from '../../src/tflite/checked_buffer.js';
import { CheckedBuffer } from '../../src/tflite/checked_buffer.js';
import * as S from '../../src/tflite/schema.js';

export type Rng = () => number;

/** mulberry32: tiny, fast, good enough to pick mutations reproducibly. */
export function rngFor(seed: number, index: number): Rng {
  let a = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (rng: Rng, n: number): number => Math.floor(rng() * n);
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[int(rng, xs.length)];

/** Byte positions worth mutating in one model. */
export interface Targets {
  vectorLengths: number[];
  shapeDims: number[];
  tensorRefs: number[];
  scales: number[];
  zeroPoints: number[];
  /** 1 where a byte is constant tensor data. */
  dataMask: Uint8Array;
}

/** Walk a valid model with the reader's own checked tables, noting where its fields live. */
export function findTargets(bytes: Uint8Array): Targets {
  const t: Targets = { vectorLengths: [], shapeDims: [], tensorRefs: [], scales: [], zeroPoints: [], dataMask: new Uint8Array(bytes.length) };
  const buf = new CheckedBuffer(bytes);
  const vec = (tab: Table, slot: number, size: number, into?: number[], stride = size): void => {
    const v = tab.vector(slot, size, 'v');
    if (!v) return;
    t.vectorLengths.push(v.start - 4);
    for (let k = 0; into && k < v.length; k++) into.push(v.start + stride * k);
  };
  const model = buf.table(buf.deref(0, 4, 'm', 'root'), 'm');
  for (const slot of [S.Model.operatorCodes, S.Model.subgraphs, S.Model.buffers]) vec(model, slot, 4);
  vec(model, S.Model.description, 1);
  const buffers = model.tables(S.Model.buffers, 'b');
  for (let i = 0; buffers && i < buffers.length; i++) {
    const b = buffers.get(i, 'b');
    vec(b, S.Buffer.data, 1);
    const data = b.bytes(S.Buffer.data, 'd');
    if (data && data.length > 0) t.dataMask.fill(1, data.byteOffset - bytes.byteOffset, data.byteOffset - bytes.byteOffset + data.length);
  }
  const sg = model.tables(S.Model.subgraphs, 's')!.get(0, 's');
  for (const slot of [S.SubGraph.tensors, S.SubGraph.operators]) vec(sg, slot, 4);
  vec(sg, S.SubGraph.name, 1);
  vec(sg, S.SubGraph.inputs, 4, t.tensorRefs);
  vec(sg, S.SubGraph.outputs, 4, t.tensorRefs);
  const tensors = sg.tables(S.SubGraph.tensors, 't');
  for (let i = 0; tensors && i < tensors.length; i++) {
    const tensor = tensors.get(i, 't');
    vec(tensor, S.Tensor.shape, 4, t.shapeDims);
    vec(tensor, S.Tensor.name, 1);
    const q = tensor.table(S.Tensor.quantization, 'q');
    if (q) {
      vec(q, S.QuantizationParameters.scale, 4, t.scales);
      vec(q, S.QuantizationParameters.zeroPoint, 8, t.zeroPoints);
    }
  }
  const ops = sg.tables(S.SubGraph.operators, 'o');
  for (let i = 0; ops && i < ops.length; i++) {
    const op = ops.get(i, 'o');
    vec(op, S.Operator.inputs, 4, t.tensorRefs);
    vec(op, S.Operator.outputs, 4, t.tensorRefs);
  }
  return t;
}

function writeU32(b: Uint8Array, pos: number, v: number): void {
  if (pos < 0 || pos + 4 > b.length) return;
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(pos, v >>> 0, true);
}

function readU32(b: Uint8Array, pos: number): number {
  return pos + 4 <= b.length ? new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(pos, true) : 0;
}

/** A byte outside constant data (bounded retries: weights may fill most of the file). */
function structurePos(rng: Rng, t: Targets): number {
  for (let k = 0; k < 64; k++) {
    const p = int(rng, t.dataMask.length);
    if (!t.dataMask[p]) return p;
  }
  return int(rng, t.dataMask.length);
}

const HUGE = [0xffffffff, 0x7fffffff, 0x80000000, 0x40000000, 0x10000000, 0x00ffffff, 0x10000];
const DIMS = [0, 1, 2, 3, -1, -2, 7, 255, 65536, 0x7fffffff, 0x40000000];

type Mutation = (b: Uint8Array, rng: Rng, t: Targets) => void;

/** Each mutation, by name; the fuzz report counts outcomes per name. */
export const MUTATIONS: Readonly<Record<string, Mutation>> = {
  flipStructure: (b, rng, t) => {
    for (let k = 1 + int(rng, 4); k > 0; k--) {
      const p = structurePos(rng, t);
      b[p] = rng() < 0.5 ? b[p] ^ (1 << int(rng, 8)) : int(rng, 256);
    }
  },
  flipAnywhere: (b, rng) => {
    for (let k = 1 + int(rng, 8); k > 0; k--) b[int(rng, b.length)] = int(rng, 256);
  },
  hugeVectorLength: (b, rng, t) => {
    const p = pick(rng, t.vectorLengths);
    const old = readU32(b, p);
    writeU32(b, p, pick(rng, [...HUGE, old + 1, old * 2 + 7, Math.max(0, old - 1)]));
  },
  badOffset: (b, rng, t) => {
    const p = structurePos(rng, t) & ~3;
    const old = readU32(b, p);
    writeU32(b, p, rng() < 0.7 ? old + pick(rng, [-8, -4, -2, -1, 1, 2, 4, 8, 12, 64, -64]) : pick(rng, HUGE));
  },
  zeroRegion: (b, rng, t) => {
    const p = rng() < 0.7 ? structurePos(rng, t) : int(rng, b.length);
    b.fill(0, p, Math.min(b.length, p + 1 + int(rng, rng() < 0.8 ? 64 : 4096)));
  },
  shapeDim: (b, rng, t) => {
    const p = pick(rng, t.shapeDims);
    writeU32(b, p, rng() < 0.5 ? pick(rng, DIMS) : readU32(b, p) + pick(rng, [1, -1, 2]));
  },
  tensorRef: (b, rng, t) => {
    const p = pick(rng, t.tensorRefs);
    writeU32(b, p, rng() < 0.7 ? readU32(b, p) + pick(rng, [1, -1, 2, -2, 5]) : pick(rng, [-1, -2, 0, 0x7fffffff, 100000]));
  },
  quantParam: (b, rng, t) => {
    if (rng() < 0.6 && t.scales.length > 0) {
      const p = pick(rng, t.scales);
      new DataView(b.buffer, b.byteOffset, b.byteLength).setFloat32(p, pick(rng, [0, -1, NaN, Infinity, 1e-30, 1e30, 1]), true);
    } else if (t.zeroPoints.length > 0) {
      const p = pick(rng, t.zeroPoints);
      new DataView(b.buffer, b.byteOffset, b.byteLength).setBigInt64(p, BigInt(pick(rng, [128, -129, 127, -128, 70000, -1])), true);
    }
  },
  flipData: (b, rng, t) => {
    for (let k = 1 + int(rng, 16); k > 0; k--) {
      const p = int(rng, b.length);
      if (t.dataMask[p]) b[p] = int(rng, 256);
    }
  },
};

const NAMES = Object.keys(MUTATIONS);

/**
 * Mutant `index`: a copy of one source, then a truncation or one to three mutations. Everything derives
 * from (seed, index), so a failure is reproduced from its index alone.
 */
export function makeMutant(
  sources: readonly { bytes: Uint8Array; targets: Targets }[], seed: number, index: number,
): { source: number; kinds: string[]; bytes: Uint8Array } {
  const rng = rngFor(seed, index);
  const source = int(rng, sources.length);
  const { bytes: orig, targets } = sources[source];
  if (rng() < 0.12) {
    // Truncation: most cuts land in weights; aim half of them at the structure.
    const cut = rng() < 0.5 ? structurePos(rng, targets) : int(rng, orig.length);
    return { source, kinds: ['truncate'], bytes: orig.slice(0, cut) };
  }
  const bytes = orig.slice();
  const kinds: string[] = [];
  for (let k = rng() < 0.8 ? 1 : 2 + int(rng, 2); k > 0; k--) {
    const name = pick(rng, NAMES);
    MUTATIONS[name](bytes, rng, targets);
    kinds.push(name);
  }
  return { source, kinds, bytes };
}
