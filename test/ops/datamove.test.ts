import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DType } from '../../src/graph/dtype.js';
import { DTYPE_BYTES } from '../../src/graph/dtype.js';
import type { Graph, QuantParams, TensorId } from '../../src/graph/graph.js';
import { numElements } from '../../src/graph/graph.js';
import { GraphBuilder, perTensor } from '../../src/graph/builder.js';
import { ModelFormatError, UnsupportedOpError } from '../../src/errors.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import type { MemoryPlan } from '../../src/plan/memory_plan.js';
import { planMemory } from '../../src/plan/memory_plan.js';
import { OPS } from '../../src/ops/registry.js';
import { nearestIndex } from '../../src/ops/resize_nearest_neighbor.js';
import { loadModel } from '../../src/model.js';
import { layerTensors, manifests, modelPath } from '../helpers/shared.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * Each data-movement op against a straightforward reference written here from the op's definition
 * (per-output-element index arithmetic, numpy slicing rules), plus TFLite's own test vectors where the
 * semantics are subtle (strided-slice masks and offset, resize align_corners / half_pixel_centers).
 */

// ---------- helpers ----------

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}
const rand = rng(20240611);
const randInt = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Element i of a raw tensor as a number (int64 as a safe integer). */
function readElement(b: Uint8Array, dtype: DType, i: number): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (dtype) {
    case 'int8': return dv.getInt8(i);
    case 'uint8': case 'bool': return dv.getUint8(i);
    case 'int16': return dv.getInt16(2 * i, true);
    case 'int32': return dv.getInt32(4 * i, true);
    case 'int64': return Number(dv.getBigInt64(8 * i, true));
    case 'float32': return dv.getFloat32(4 * i, true);
  }
}

function tensorData(dtype: DType, values: readonly number[]): Uint8Array {
  const b = new Uint8Array(values.length * DTYPE_BYTES[dtype]);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => {
    switch (dtype) {
      case 'int8': dv.setInt8(i, v); break;
      case 'uint8': case 'bool': dv.setUint8(i, v); break;
      case 'int16': dv.setInt16(2 * i, v, true); break;
      case 'int32': dv.setInt32(4 * i, v, true); break;
      case 'int64': dv.setBigInt64(8 * i, BigInt(v), true); break;
      case 'float32': dv.setFloat32(4 * i, v, true); break;
    }
  });
  return b;
}

function randomValues(dtype: DType, n: number): number[] {
  return Array.from({ length: n }, () => {
    switch (dtype) {
      case 'int8': return randInt(-128, 127);
      case 'uint8': return randInt(0, 255);
      case 'int16': return randInt(-32768, 32767);
      case 'int32': return randInt(-2147483648, 2147483647);
      case 'int64': return randInt(-(2 ** 40), 2 ** 40);
      case 'float32': return Math.fround((rand() - 0.5) * 100);
      default: return randInt(0, 1);
    }
  });
}

function constI32(b: GraphBuilder, name: string, values: number[], shape = [values.length]): TensorId {
  return b.constant(name, shape, 'int32', Int32Array.from(values));
}

function run(g: Graph, inputs: Uint8Array[], plan?: MemoryPlan): { bytes: Uint8Array; shape: number[] } {
  const it = new Interpreter(g, plan ? { plan } : {});
  inputs.forEach((b, i) => it.setInput(i, b));
  it.invoke();
  return { bytes: it.output(0), shape: g.tensors[g.outputs[0]].shape };
}

/** Builds a one-node graph; `out` shape comes from the op's own shape rule unless given. */
function single<K extends Parameters<GraphBuilder['node']>[0]>(
  b: GraphBuilder, op: K, inputs: TensorId[], dtype: DType, options: Parameters<GraphBuilder['node']>[3] & object,
  quant: QuantParams | null = null, outShape?: number[],
): Graph {
  const out = b.tensor('out', outShape ?? [0], dtype, quant);
  const node = b.node(op, inputs, [out], options as never);
  const g = b.build();
  if (!outShape) g.tensors[out].shape = (OPS[op].inferShapes as (n: never, g: Graph) => number[][])(node as never, g)[0];
  b.output(out);
  return g;
}

function stridesOf(shape: readonly number[]): number[] {
  const s: number[] = [];
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}

function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let k = shape.length - 1; k >= 0; k--) { idx[k] = i % shape[k]; i = Math.floor(i / shape[k]); }
  return idx;
}

const ravel = (idx: readonly number[], strides: readonly number[]): number => idx.reduce((a, v, k) => a + v * strides[k], 0);

const DTYPES: DType[] = ['int8', 'uint8', 'int16', 'int32', 'int64', 'float32'];

// ---------- RESHAPE / SQUEEZE ----------

test('RESHAPE: shape tensor with -1, options, legacy [0] scalar; bytes unchanged', () => {
  const b = new GraphBuilder('reshape');
  const x = b.tensor('x', [1, 2, 3, 4], 'int8');
  b.input(x);
  const shape = constI32(b, 'shape', [4, -1]);
  const g = single(b, 'RESHAPE', [x, shape], 'int8', { newShape: [99] });
  assert.deepEqual(g.tensors[g.outputs[0]].shape, [4, 6]);
  const data = tensorData('int8', randomValues('int8', 24));
  assert.deepEqual(run(g, [data]).bytes, data);

  const b2 = new GraphBuilder('reshape-options');
  const x2 = b2.tensor('x', [2, 3], 'float32');
  b2.input(x2);
  const g2 = single(b2, 'RESHAPE', [x2], 'float32', { newShape: [-1] });
  assert.deepEqual(g2.tensors[g2.outputs[0]].shape, [6]);

  const b3 = new GraphBuilder('reshape-scalar');
  const x3 = b3.tensor('x', [1, 1], 'int32');
  b3.input(x3);
  const g3 = single(b3, 'RESHAPE', [x3], 'int32', { newShape: [0] });
  assert.deepEqual(g3.tensors[g3.outputs[0]].shape, []);
  assert.equal(OPS.RESHAPE.macs(g3.nodes[0] as never, g3), 0);
  assert.equal(OPS.RESHAPE.role, 'alias');
});

test('RESHAPE: two -1 or a wrong element count are model-format errors', () => {
  const b = new GraphBuilder('bad');
  const x = b.tensor('x', [2, 3], 'int8');
  b.input(x);
  const out = b.tensor('out', [6], 'int8');
  const node = b.node('RESHAPE', [x, constI32(b, 's', [-1, -1])], [out], { newShape: null });
  assert.throws(() => OPS.RESHAPE.inferShapes(node, b.build()), ModelFormatError);
  node.inputs[1] = constI32(b, 's2', [4, 2]);
  assert.throws(() => OPS.RESHAPE.inferShapes(node, b.build()), ModelFormatError);
});

test('RESHAPE: when the planner aliases output onto input the kernel moves nothing and the data survives', () => {
  const b = new GraphBuilder('alias');
  const x = b.tensor('x', [2, 8], 'int16');
  b.input(x);
  const g = single(b, 'RESHAPE', [x, constI32(b, 's', [16])], 'int16', { newShape: null });
  const base = planMemory(g, 'no-reuse');
  const px = base.placements.get(x)!;
  const placements = new Map(base.placements);
  placements.set(g.outputs[0], { ...placements.get(g.outputs[0])!, offset: px.offset });
  const data = tensorData('int16', randomValues('int16', 16));
  assert.deepEqual(run(g, [data], { ...base, placements }).bytes, data);
});

test('SQUEEZE: listed axes (negative too), or every size-1 axis; a non-1 axis is refused', () => {
  const cases: [number[], number[], number[]][] = [
    [[1, 3, 1, 2], [], [3, 2]],
    [[1, 3, 1, 2], [0], [3, 1, 2]],
    [[1, 3, 1, 2], [-2], [1, 3, 2]],
    [[1, 1], [0, 1], []],
  ];
  for (const [shape, dims, want] of cases) {
    const b = new GraphBuilder('squeeze');
    const x = b.tensor('x', shape, 'float32');
    b.input(x);
    const g = single(b, 'SQUEEZE', [x], 'float32', { squeezeDims: dims });
    assert.deepEqual(g.tensors[g.outputs[0]].shape, want);
    const data = tensorData('float32', randomValues('float32', numElements(shape)));
    assert.deepEqual(run(g, [data]).bytes, data);
  }
  const b = new GraphBuilder('squeeze-bad');
  const x = b.tensor('x', [1, 3], 'int8');
  const node = b.node('SQUEEZE', [x], [b.tensor('o', [1], 'int8')], { squeezeDims: [1] });
  assert.throws(() => OPS.SQUEEZE.inferShapes(node, b.build()), ModelFormatError);
});

// ---------- PAD / PADV2 ----------

function padReference(shape: number[], pads: number[][], data: number[], value: number): number[] {
  const outShape = shape.map((d, k) => d + pads[k][0] + pads[k][1]);
  const inStrides = stridesOf(shape);
  return Array.from({ length: numElements(outShape) }, (_, i) => {
    const o = unravel(i, outShape);
    const src = o.map((v, k) => v - pads[k][0]);
    return src.every((v, k) => v >= 0 && v < shape[k]) ? data[ravel(src, inStrides)] : value;
  });
}

test('PAD: random ranks 1-5 and dtypes against the per-element reference; int8 pads with the output zero point', () => {
  for (let t = 0; t < 60; t++) {
    const dtype = DTYPES[t % DTYPES.length];
    const rank = 1 + (t % 5);
    const shape = Array.from({ length: rank }, () => randInt(1, 4));
    const pads = shape.map(() => [randInt(0, 2), randInt(0, 2)]);
    const zp = dtype === 'int8' ? randInt(-128, 127) : dtype === 'uint8' ? randInt(0, 255) : 0;
    const quant = dtype === 'int8' || dtype === 'uint8' || dtype === 'int16' ? perTensor(0.1, zp) : null;
    const b = new GraphBuilder('pad');
    const x = b.tensor('x', shape, dtype, quant);
    b.input(x);
    // int64 paddings on every other case (TFLite accepts both).
    const p = t % 2 === 0
      ? constI32(b, 'paddings', pads.flat(), [rank, 2])
      : b.constant('paddings', [rank, 2], 'int64', Int32Array.from(pads.flat().flatMap((v) => [v, 0])));
    const g = single(b, 'PAD', [x, p], dtype, {}, quant);
    const values = randomValues(dtype, numElements(shape));
    const got = run(g, [tensorData(dtype, values)]);
    const want = padReference(shape, pads, values, zp);
    assert.deepEqual(got.shape, shape.map((d, k) => d + pads[k][0] + pads[k][1]));
    assert.deepEqual(Array.from({ length: want.length }, (_, i) => readElement(got.bytes, dtype, i)), want, `${dtype} ${shape} ${JSON.stringify(pads)}`);
  }
});

test('PAD: negative or mis-shaped paddings are model-format errors', () => {
  const b = new GraphBuilder('pad-bad');
  const x = b.tensor('x', [2, 2], 'float32');
  const out = b.tensor('o', [2, 2], 'float32');
  const node = b.node('PAD', [x, constI32(b, 'p', [0, 0, -1, 0], [2, 2])], [out], {});
  assert.throws(() => OPS.PAD.inferShapes(node, b.build()), ModelFormatError);
  node.inputs[1] = constI32(b, 'p2', [0, 0, 1, 1], [4]);
  assert.throws(() => OPS.PAD.inferShapes(node, b.build()), ModelFormatError);
});

test('PADV2: constant pad value (float, int8 with matching quantisation) and a pad value fed at run time', () => {
  const b = new GraphBuilder('padv2');
  const x = b.tensor('x', [1, 2, 2, 1], 'float32');
  b.input(x);
  const g = single(b, 'PADV2', [x, constI32(b, 'p', [0, 0, 1, 1, 0, 1, 0, 0], [4, 2]), b.constant('v', [], 'float32', Float32Array.of(-2.5))], 'float32', {});
  const got = run(g, [tensorData('float32', [1, 2, 3, 4])]);
  const want = padReference([1, 2, 2, 1], [[0, 0], [1, 1], [0, 1], [0, 0]], [1, 2, 3, 4], -2.5);
  assert.deepEqual(Array.from({ length: want.length }, (_, i) => readElement(got.bytes, 'float32', i)), want);

  const q = perTensor(0.5, 3);
  const b2 = new GraphBuilder('padv2-int8');
  const x2 = b2.tensor('x', [3], 'int8', q);
  b2.input(x2);
  const g2 = single(b2, 'PADV2', [x2, constI32(b2, 'p', [2, 1], [1, 2]), b2.constant('v', [1], 'int8', Int8Array.of(-7), q)], 'int8', {}, q);
  assert.deepEqual([...new Int8Array(run(g2, [tensorData('int8', [5, 6, 7])]).bytes.buffer)], [-7, -7, 5, 6, 7, -7]);

  const b3 = new GraphBuilder('padv2-bad-quant');
  const x3 = b3.tensor('x', [3], 'int8', q);
  b3.input(x3);
  const g3 = single(b3, 'PADV2', [x3, constI32(b3, 'p', [1, 1], [1, 2]), b3.constant('v', [1], 'int8', Int8Array.of(0), perTensor(0.25, 3))], 'int8', {}, q);
  assert.throws(() => new Interpreter(g3), UnsupportedOpError);

  const b4 = new GraphBuilder('padv2-dynamic-value');
  const x4 = b4.tensor('x', [2], 'int16');
  const v4 = b4.tensor('v', [], 'int16');
  b4.input(x4).input(v4);
  const g4 = single(b4, 'PADV2', [x4, constI32(b4, 'p', [1, 2], [1, 2]), v4], 'int16', {});
  const it = new Interpreter(g4);
  it.setInput(0, tensorData('int16', [10, 20]));
  for (const v of [-300, 77]) {
    it.setInput(1, tensorData('int16', [v]));
    it.invoke();
    assert.deepEqual([...new Int16Array(it.output(0).buffer)], [v, 10, 20, v, v]);
  }
});

// ---------- TRANSPOSE ----------

function transposeReference(shape: number[], perm: number[], data: number[]): number[] {
  const outShape = perm.map((p) => shape[p]);
  const inStrides = stridesOf(shape);
  return Array.from({ length: numElements(outShape) }, (_, i) => {
    const o = unravel(i, outShape);
    const src = new Array<number>(shape.length);
    perm.forEach((p, k) => { src[p] = o[k]; });
    return data[ravel(src, inStrides)];
  });
}

function randomPerm(n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) { const j = randInt(0, i); [p[i], p[j]] = [p[j], p[i]]; }
  return p;
}

test('TRANSPOSE: random permutations of ranks 1-6, every dtype, against the index-arithmetic reference', () => {
  for (let t = 0; t < 120; t++) {
    const dtype = DTYPES[t % DTYPES.length];
    const rank = 1 + (t % 6);
    const shape = Array.from({ length: rank }, () => randInt(1, rank > 4 ? 3 : 5));
    const perm = randomPerm(rank);
    const b = new GraphBuilder('transpose');
    const x = b.tensor('x', shape, dtype);
    b.input(x);
    const g = single(b, 'TRANSPOSE', [x, constI32(b, 'perm', perm)], dtype, {});
    const values = randomValues(dtype, numElements(shape));
    const got = run(g, [tensorData(dtype, values)]);
    assert.deepEqual(got.shape, perm.map((p) => shape[p]));
    const want = transposeReference(shape, perm, values);
    assert.deepEqual(Array.from({ length: want.length }, (_, i) => readElement(got.bytes, dtype, i)), want, `${dtype} ${shape} perm ${perm}`);
  }
});

test('TRANSPOSE: NHWC -> NCHW of a 1x80x80x3 image and back', () => {
  const shape = [1, 80, 80, 3];
  const values = randomValues('int8', numElements(shape));
  const b = new GraphBuilder('nchw');
  const x = b.tensor('x', shape, 'int8');
  b.input(x);
  const g = single(b, 'TRANSPOSE', [x, constI32(b, 'perm', [0, 3, 1, 2])], 'int8', {});
  const nchw = run(g, [tensorData('int8', values)]);
  assert.deepEqual([...new Int8Array(nchw.bytes.buffer)], transposeReference(shape, [0, 3, 1, 2], values));
  const b2 = new GraphBuilder('nhwc');
  const y = b2.tensor('y', [1, 3, 80, 80], 'int8');
  b2.input(y);
  const g2 = single(b2, 'TRANSPOSE', [y, constI32(b2, 'perm', [0, 2, 3, 1])], 'int8', {});
  assert.deepEqual(run(g2, [nchw.bytes]).bytes, tensorData('int8', values));
});

test('TRANSPOSE: a misaligned constant input falls back to byte lanes and is still right', () => {
  const values = randomValues('int16', 12);
  const b = new GraphBuilder('misaligned');
  const c = b.constant('c', [3, 4], 'int16', Int16Array.from(values));
  const g = single(b, 'TRANSPOSE', [c, constI32(b, 'perm', [1, 0])], 'int16', {});
  const shifted = new Uint8Array(25);
  shifted.set(g.tensors[c].data!, 1);
  g.tensors[c].data = shifted.subarray(1);
  const got = run(g, []);
  assert.deepEqual([...new Int16Array(got.bytes.buffer)], transposeReference([3, 4], [1, 0], values));
});

test('TRANSPOSE: a perm that is not a permutation is a model-format error', () => {
  for (const perm of [[0, 0], [0, 2], [1]]) {
    const b = new GraphBuilder('bad');
    const x = b.tensor('x', [2, 3], 'int8');
    const node = b.node('TRANSPOSE', [x, constI32(b, 'perm', perm)], [b.tensor('o', [3, 2], 'int8')], {});
    assert.throws(() => OPS.TRANSPOSE.inferShapes(node, b.build()), ModelFormatError, `perm ${perm}`);
  }
});

// ---------- CONCATENATION ----------

function concatReference(shapes: number[][], datas: number[][], axis: number): number[] {
  const out: number[] = [];
  const outer = shapes[0].slice(0, axis).reduce((a, d) => a * d, 1);
  for (let k = 0; k < outer; k++) {
    shapes.forEach((s, i) => {
      const n = s.slice(axis).reduce((a, d) => a * d, 1);
      out.push(...datas[i].slice(k * n, (k + 1) * n));
    });
  }
  return out;
}

test('CONCATENATION: any axis (negative too), 1-4 inputs, every dtype, against the block reference', () => {
  for (let t = 0; t < 60; t++) {
    const dtype = DTYPES[t % DTYPES.length];
    const rank = 1 + (t % 4);
    const base = Array.from({ length: rank }, () => randInt(1, 4));
    const axis = randInt(0, rank - 1);
    const shapes = Array.from({ length: randInt(1, 4) }, () => base.map((d, k) => (k === axis ? randInt(1, 3) : d)));
    const quant = dtype === 'int8' || dtype === 'uint8' || dtype === 'int16' ? perTensor(0.05, dtype === 'int16' ? 0 : 4) : null;
    const b = new GraphBuilder('concat');
    const ids = shapes.map((s, i) => b.tensor(`x${i}`, s, dtype, quant));
    ids.forEach((id) => b.input(id));
    const g = single(b, 'CONCATENATION', ids, dtype, { axis: t % 2 ? axis - rank : axis, activation: 'NONE' }, quant);
    const datas = shapes.map((s) => randomValues(dtype, numElements(s)));
    const got = run(g, datas.map((d) => tensorData(dtype, d)));
    const want = concatReference(shapes, datas, axis);
    assert.deepEqual(Array.from({ length: want.length }, (_, i) => readElement(got.bytes, dtype, i)), want, `${dtype} axis ${axis} ${JSON.stringify(shapes)}`);
  }
});

/** ConcatenationWithScaling, transliterated with Float32Array temporaries (float32 at every step). */
function requantReference(q: number, inS: number, inZp: number, outS: number, outZp: number, lo: number, hi: number): number {
  const f = new Float32Array(4);
  f[0] = 1 / outS;          // inverse_output_scale
  f[1] = inS * f[0];        // scale
  f[2] = -inZp * f[1];      // bias
  f[3] = q * f[1];
  f[3] = f[3] + f[2];
  const r = f[3] < 0 ? -Math.round(-f[3]) : Math.round(f[3]); // std::round: halves away from zero
  return Math.min(hi, Math.max(lo, r + outZp));
}

test('CONCATENATION: int8 inputs with other scales / zero points are requantised as TFLite does', () => {
  // Hand-checked: scale 0.5 -> 1.0 halves the value, ties away from zero (3 -> 1.5 -> 2, -3 -> -1.5 -> -2).
  const b = new GraphBuilder('concat-requant');
  const x0 = b.tensor('x0', [1, 4], 'int8', perTensor(0.5, 0));
  const x1 = b.tensor('x1', [1, 2], 'int8', perTensor(1, 0));
  b.input(x0).input(x1);
  const g = single(b, 'CONCATENATION', [x0, x1], 'int8', { axis: 1, activation: 'NONE' }, perTensor(1, 0));
  const got = run(g, [tensorData('int8', [3, -3, 1, 127]), tensorData('int8', [-128, 9])]);
  assert.deepEqual([...new Int8Array(got.bytes.buffer)], [2, -2, 1, 64, -128, 9]);

  // Random parameters against the Float32Array transliteration, every int8 value, with a RELU6 clamp.
  for (let t = 0; t < 20; t++) {
    const [s0, z0, s1, z1, so, zo] = [rand() * 0.2 + 0.001, randInt(-128, 127), rand() * 0.2 + 0.001, randInt(-128, 127), rand() * 0.2 + 0.001, randInt(-128, 127)];
    const act = t % 2 ? 'RELU6' : 'NONE';
    const fr = Math.fround;
    const bq = new GraphBuilder('concat-requant-random');
    const a = bq.tensor('a', [256], 'int8', perTensor(fr(s0), z0));
    const c = bq.tensor('c', [256], 'int8', perTensor(fr(s1), z1));
    bq.input(a).input(c);
    const gq = single(bq, 'CONCATENATION', [a, c], 'int8', { axis: 0, activation: act }, perTensor(fr(so), zo));
    const all = Array.from({ length: 256 }, (_, i) => i - 128);
    const out = new Int8Array(run(gq, [tensorData('int8', all), tensorData('int8', all)]).bytes.buffer);
    const [lo, hi] = act === 'RELU6'
      ? [Math.max(-128, zo + Math.round(0 / fr(so))), Math.min(127, zo + Math.round(Math.fround(6 / fr(so))))]
      : [-128, 127];
    all.forEach((q, i) => {
      assert.equal(out[i], requantReference(q, fr(s0), z0, fr(so), zo, lo, hi), `a q=${q}`);
      assert.equal(out[256 + i], requantReference(q, fr(s1), z1, fr(so), zo, lo, hi), `c q=${q}`);
    });
  }
});

test('CONCATENATION: uint8 and int16 requantise; float RELU6 clamps; scalars stack; TANH is refused', () => {
  const b = new GraphBuilder('u8');
  const x0 = b.tensor('x0', [2], 'uint8', perTensor(0.25, 128));
  const x1 = b.tensor('x1', [1], 'uint8', perTensor(0.5, 128));
  b.input(x0).input(x1);
  const g = single(b, 'CONCATENATION', [x0, x1], 'uint8', { axis: 0, activation: 'NONE' }, perTensor(0.5, 128));
  // (q - 128) * 0.25 / 0.5 + 128: 140 -> 134, 0 -> 64 ; second input copied unchanged.
  assert.deepEqual([...run(g, [tensorData('uint8', [140, 0]), tensorData('uint8', [77])]).bytes], [134, 64, 77]);

  const b16 = new GraphBuilder('i16');
  const y0 = b16.tensor('y0', [3], 'int16', perTensor(1 / 1024, 0));
  b16.input(y0);
  const g16 = single(b16, 'CONCATENATION', [y0], 'int16', { axis: 0, activation: 'NONE' }, perTensor(1 / 512, 0));
  assert.deepEqual([...new Int16Array(run(g16, [tensorData('int16', [1000, -3, 32767])]).bytes.buffer)], [500, -2, 16384]);

  const bf = new GraphBuilder('f32-relu6');
  const f0 = bf.tensor('f0', [2], 'float32');
  const f1 = bf.tensor('f1', [2], 'float32');
  bf.input(f0).input(f1);
  const gf = single(bf, 'CONCATENATION', [f0, f1], 'float32', { axis: -1, activation: 'RELU6' });
  assert.deepEqual([...new Float32Array(run(gf, [tensorData('float32', [-1, 2.5]), tensorData('float32', [7, 6])]).bytes.buffer)], [0, 2.5, 6, 6]);

  const bs = new GraphBuilder('scalars');
  const s0 = bs.tensor('s0', [], 'int32');
  const s1 = bs.tensor('s1', [], 'int32');
  bs.input(s0).input(s1);
  const gs = single(bs, 'CONCATENATION', [s0, s1], 'int32', { axis: 0, activation: 'NONE' });
  assert.deepEqual(gs.tensors[gs.outputs[0]].shape, [2]);
  assert.deepEqual([...new Int32Array(run(gs, [tensorData('int32', [5]), tensorData('int32', [-6])]).bytes.buffer)], [5, -6]);

  const bt = new GraphBuilder('tanh');
  const t0 = bt.tensor('t0', [2], 'float32');
  bt.input(t0);
  const gt = single(bt, 'CONCATENATION', [t0], 'float32', { axis: 0, activation: 'TANH' });
  assert.throws(() => new Interpreter(gt), UnsupportedOpError);
});

test('CONCATENATION: inputs that disagree off the axis are a model-format error', () => {
  const b = new GraphBuilder('bad');
  const a = b.tensor('a', [2, 3], 'float32');
  const c = b.tensor('c', [3, 3], 'float32');
  const node = b.node('CONCATENATION', [a, c], [b.tensor('o', [2, 6], 'float32')], { axis: 1, activation: 'NONE' });
  assert.throws(() => OPS.CONCATENATION.inferShapes(node, b.build()), ModelFormatError);
});

// ---------- RESIZE_NEAREST_NEIGHBOR ----------

/** GetNearestNeighbor transliterated with Float32Array temporaries. */
function nearestReference(x: number, inSize: number, outSize: number, align: boolean, half: boolean): number {
  const f = new Float32Array(3);
  f[0] = align && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
  f[1] = x + (half ? 0.5 : 0);
  f[2] = f[1] * f[0];
  const v = align ? (f[2] < 0 ? -Math.round(-f[2]) : Math.round(f[2])) : Math.floor(f[2]);
  const c = Math.min(v, inSize - 1);
  return half ? Math.max(0, c) : c;
}

function resizeReference(shape: number[], data: number[], outH: number, outW: number, align: boolean, half: boolean): number[] {
  const [n, h, w, c] = shape;
  const out: number[] = [];
  for (let b = 0; b < n; b++) for (let y = 0; y < outH; y++) for (let x = 0; x < outW; x++) for (let d = 0; d < c; d++) {
    const sy = nearestReference(y, h, outH, align, half);
    const sx = nearestReference(x, w, outW, align, half);
    out.push(data[((b * h + sy) * w + sx) * c + d]);
  }
  return out;
}

function resizeGraph(shape: number[], size: number[], dtype: DType, alignCorners: boolean, halfPixelCenters: boolean): Graph {
  const b = new GraphBuilder('resize');
  const x = b.tensor('x', shape, dtype);
  b.input(x);
  return single(b, 'RESIZE_NEAREST_NEIGHBOR', [x, constI32(b, 'size', size)], dtype, { alignCorners, halfPixelCenters });
}

test('RESIZE_NEAREST_NEIGHBOR: TFLite test vectors (plain, align_corners, half_pixel_centers)', () => {
  const input = [3, 4, 6, 10, 10, 12, 14, 16];
  const cases: [boolean, boolean, number[]][] = [
    [false, false, [3, 4, 3, 4, 6, 10, 3, 4, 3, 4, 6, 10, 10, 12, 10, 12, 14, 16]],
    [true, false, [3, 4, 6, 10, 6, 10, 10, 12, 14, 16, 14, 16, 10, 12, 14, 16, 14, 16]],
    [false, true, [3, 4, 6, 10, 6, 10, 10, 12, 14, 16, 14, 16, 10, 12, 14, 16, 14, 16]],
  ];
  for (const [align, half, want] of cases) {
    const g = resizeGraph([1, 2, 2, 2], [3, 3], 'uint8', align, half);
    assert.deepEqual([...run(g, [tensorData('uint8', input)]).bytes], want, `align ${align} half ${half}`);
  }
  const g = resizeGraph([2, 2, 2, 1], [3, 3], 'int8', false, false);
  assert.deepEqual([...new Int8Array(run(g, [tensorData('int8', [3, 6, 9, -12, -4, 10, 12, 16])]).bytes.buffer)],
    [3, 3, 6, 3, 3, 6, 9, 9, -12, -4, -4, 10, -4, -4, 10, 12, 12, 16]);
});

test('RESIZE_NEAREST_NEIGHBOR: random up/down sizes and all flag combinations against the float32 reference', () => {
  for (let t = 0; t < 80; t++) {
    const dtype = DTYPES[t % DTYPES.length];
    const shape = [randInt(1, 2), randInt(1, 7), randInt(1, 7), randInt(1, 3)];
    const [outH, outW] = [randInt(1, 13), randInt(1, 13)];
    const align = t % 4 === 1 || t % 4 === 3;
    const half = t % 4 >= 2;
    const values = randomValues(dtype, numElements(shape));
    const got = run(resizeGraph(shape, [outH, outW], dtype, align, half), [tensorData(dtype, values)]);
    const want = resizeReference(shape, values, outH, outW, align, half);
    assert.deepEqual(Array.from({ length: want.length }, (_, i) => readElement(got.bytes, dtype, i)), want, `${shape} -> ${outH}x${outW} align ${align} half ${half}`);
  }
  // The float32 source index differs from exact arithmetic; the reference and the op agree everywhere.
  for (let inS = 1; inS <= 40; inS++) for (let outS = 1; outS <= 40; outS++) for (const [a, h] of [[false, false], [true, false], [false, true], [true, true]]) {
    for (let x = 0; x < outS; x++) assert.equal(nearestIndex(x, inS, outS, a, h), nearestReference(x, inS, outS, a, h));
  }
});

// ---------- STRIDED_SLICE ----------

interface SliceCase {
  shape: number[]; begin: number[]; end: number[]; strides: number[];
  masks: [number, number, number, number, number]; offset?: boolean;
  wantShape: number[]; want?: number[];
}

function sliceGraph(c: { shape: number[]; begin: number[]; end: number[]; strides: number[]; masks: number[]; offset?: boolean }, dtype: DType): Graph {
  const b = new GraphBuilder('strided_slice');
  const x = b.tensor('x', c.shape, dtype);
  b.input(x);
  const [beginMask, endMask, ellipsisMask, newAxisMask, shrinkAxisMask] = c.masks;
  return single(b, 'STRIDED_SLICE', [x, constI32(b, 'begin', c.begin), constI32(b, 'end', c.end), constI32(b, 'strides', c.strides)], dtype,
    { beginMask, endMask, ellipsisMask, newAxisMask, shrinkAxisMask, offset: c.offset ?? false });
}

const iota = (n: number, from = 1): number[] => Array.from({ length: n }, (_, i) => i + from);

/** Cases from TFLite's strided_slice_test.cc (input 1..N unless noted; masks: begin, end, ellipsis, new-axis, shrink). */
const TFLITE_SLICE_CASES: SliceCase[] = [
  { shape: [4], begin: [1], end: [3], strides: [1], masks: [0, 0, 0, 0, 0], wantShape: [2], want: [2, 3] },
  { shape: [4], begin: [10], end: [3], strides: [1], masks: [0, 0, 0, 0, 0], wantShape: [0], want: [] },
  { shape: [4], begin: [-3], end: [3], strides: [1], masks: [0, 0, 0, 0, 0], wantShape: [2], want: [2, 3] },
  { shape: [4], begin: [-5], end: [3], strides: [1], masks: [0, 0, 0, 0, 0], wantShape: [3], want: [1, 2, 3] },
  { shape: [4], begin: [1], end: [-2], strides: [1], masks: [0, 0, 0, 0, 0], wantShape: [1], want: [2] },
  { shape: [4], begin: [-3], end: [5], strides: [1], masks: [0, 0, 0, 0, 0], wantShape: [3], want: [2, 3, 4] },
  { shape: [4], begin: [1], end: [3], strides: [1], masks: [1, 0, 0, 0, 0], wantShape: [3], want: [1, 2, 3] },
  { shape: [4], begin: [-2], end: [-3], strides: [-1], masks: [0, 0, 0, 0, 0], wantShape: [1], want: [3] },
  { shape: [4], begin: [5], end: [2], strides: [-1], masks: [0, 0, 0, 0, 0], wantShape: [1], want: [4] },
  { shape: [4], begin: [2], end: [-4], strides: [-1], masks: [0, 0, 0, 0, 0], wantShape: [2], want: [3, 2] },
  { shape: [4], begin: [-3], end: [-5], strides: [-1], masks: [0, 0, 0, 0, 0], wantShape: [2], want: [2, 1] },
  { shape: [4], begin: [1], end: [3], strides: [1], masks: [0, 1, 0, 0, 0], wantShape: [3], want: [2, 3, 4] },
  { shape: [3], begin: [-1], end: [-4], strides: [-1], masks: [0, 0, 0, 0, 0], wantShape: [3], want: [3, 2, 1] },
  { shape: [3], begin: [0], end: [3], strides: [2], masks: [0, 0, 0, 0, 0], wantShape: [2], want: [1, 3] },
  { shape: [2, 3], begin: [1, -1], end: [2, -4], strides: [2, -1], masks: [0, 0, 0, 0, 0], wantShape: [1, 3], want: [6, 5, 4] },
  { shape: [2, 3], begin: [1, -2], end: [2, -4], strides: [1, -1], masks: [2, 0, 0, 0, 0], wantShape: [1, 3], want: [6, 5, 4] },
  { shape: [2, 3], begin: [1, -2], end: [2, -3], strides: [1, -1], masks: [0, 2, 0, 0, 0], wantShape: [1, 2], want: [5, 4] },
  { shape: [2, 3, 2], begin: [-1, -1, -1], end: [-3, -4, -3], strides: [-1, -1, -1], masks: [0, 0, 0, 0, 0], wantShape: [2, 3, 2], want: [12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1] },
  { shape: [4], begin: [-1], end: [0], strides: [1], masks: [0, 0, 0, 0, 1], wantShape: [], want: [4] },
  { shape: [4, 1], begin: [-2, -1], end: [-1, 0], strides: [1, 1], masks: [0, 0, 0, 0, 3], wantShape: [], want: [3] },
  { shape: [4, 1], begin: [0, -1], end: [0, 0], strides: [1, 1], masks: [1, 1, 0, 0, 2], wantShape: [4], want: [1, 2, 3, 4] },
  { shape: [2, 3, 2], begin: [0, 0, 0], end: [2, 3, 1], strides: [1, 1, 1], masks: [0, 0, 0, 0, 4], wantShape: [2, 3], want: [1, 3, 5, 7, 9, 11] },
  { shape: [2, 3, 2], begin: [0, 0, 0], end: [1, 1, 1], strides: [1, 1, 1], masks: [0, 0, 0, 0, 7], wantShape: [], want: [1] },
  { shape: [2, 2, 2, 1, 2], begin: [0, 0, 0, 0, 0], end: [2, 1, 2, 1, 2], strides: [1, 1, 1, 1, 1], masks: [0, 0, 0, 0, 1], wantShape: [1, 2, 1, 2], want: [1, 2, 3, 4] },
  { shape: [2, 3, 2], begin: [0], end: [1], strides: [1], masks: [0, 0, 0, 0, 1], wantShape: [3, 2], want: [1, 2, 3, 4, 5, 6] },
  { shape: [1, 1, 2], begin: [1], end: [0], strides: [1], masks: [0, 1, 0, 0, 0], wantShape: [0, 1, 2], want: [] },
  { shape: [1, 1, 2], begin: [1, 0, 0], end: [0, -1, -1], strides: [1, 1, 1], masks: [6, 7, 0, 0, 0], wantShape: [0, 1, 2], want: [] },
  { shape: [2, 2], begin: [0, -1], end: [0, 0], strides: [1, -1], masks: [1, 1, 0, 0, 1], wantShape: [1], want: [2] },
  { shape: [2, 3, 2], begin: [0, 0, 0], end: [1, 2, 1], strides: [1, 1, 1], masks: [0, 0, 1, 2, 0], wantShape: [2, 3, 1, 1], want: [1, 3, 5, 7, 9, 11] },
  { shape: [2, 3, 2], begin: [0, 0, 0], end: [1, 2, 1], strides: [1, 1, 1], masks: [0, 0, 2, 1, 0], wantShape: [1, 2, 3, 1], want: [1, 3, 5, 7, 9, 11] },
  { shape: [2, 3, 2], begin: [0, 0, 0], end: [1, 2, 1], strides: [1, 1, 1], masks: [0, 0, 2, 5, 0], wantShape: [1, 2, 3, 2, 1], want: iota(12) },
  { shape: [2, 3, 2], begin: [0, 0, 0], end: [1, 2, 1], strides: [1, 1, 1], masks: [0, 0, 2, 2, 0], wantShape: [1, 3, 1], want: [1, 3, 5] },
  { shape: [2, 3, 2], begin: [0, 0, 0], end: [1, 2, 1], strides: [1, 1, 1], masks: [0, 0, 4, 2, 0], wantShape: [1, 1, 3, 2], want: [1, 2, 3, 4, 5, 6] },
  { shape: [2, 3, 2], begin: [0, 0, 0], end: [1, 2, 1], strides: [1, 1, 1], masks: [0, 0, 2, 0, 0], wantShape: [1, 3, 1], want: [1, 3, 5] },
  { shape: [2, 3, 2], begin: [0, 0, 0], end: [1, 3, 1], strides: [1, 1, 1], masks: [0, 0, 0, 2, 0], wantShape: [1, 1, 1, 2], want: [1, 2] },
  { shape: [2, 3, 2], begin: [0, 0, 0], end: [1, 3, 1], strides: [1, 1, 1], masks: [0, 0, 0, 1, 0], wantShape: [1, 2, 1, 2], want: [1, 2, 7, 8] },
  { shape: [4], begin: [-3], end: [-4], strides: [-1], masks: [0, 0, 0, 0, 0], wantShape: [1], want: [2] },
  { shape: [1], begin: [1], end: [1], strides: [1], masks: [0, 0, 0, 0, 0], wantShape: [0], want: [] },
  { shape: [3], begin: [1], end: [1], strides: [1], masks: [0, 0, 0, 0, 1], wantShape: [], want: [2] },
  { shape: [2, 3], begin: [0, -1], end: [2, -3], strides: [1, -1], masks: [0, 2, 0, 0, 0], wantShape: [2, 3], want: [3, 2, 1, 6, 5, 4] },
  // offset = true: `end` is a size (inputs 0-based here, as in TFLite's tests).
  { shape: [10], begin: [1], end: [3], strides: [1], masks: [0, 0, 0, 0, 0], offset: true, wantShape: [3], want: [1, 2, 3] },
  { shape: [3, 4], begin: [0, 1], end: [2, 2], strides: [1, 1], masks: [0, 0, 0, 0, 0], offset: true, wantShape: [2, 2], want: [1, 2, 5, 6] },
  { shape: [5, 6], begin: [0, 1], end: [4, 3], strides: [2, 2], masks: [0, 0, 0, 0, 0], offset: true, wantShape: [2, 2], want: [1, 3, 13, 15] },
  { shape: [5, 6], begin: [4, 4], end: [-4, -3], strides: [-2, -2], masks: [0, 0, 0, 0, 0], offset: true, wantShape: [2, 2], want: [28, 26, 16, 14] },
];

test('STRIDED_SLICE: TFLite test vectors (negative indices and strides, all five masks, offset)', () => {
  for (const c of TFLITE_SLICE_CASES) {
    for (const dtype of ['int8', 'float32', 'int64'] as DType[]) {
      const g = sliceGraph(c, dtype);
      const label = `${JSON.stringify(c)} ${dtype}`;
      assert.deepEqual(g.tensors[g.outputs[0]].shape, c.wantShape, label);
      const values = iota(numElements(c.shape), c.offset ? 0 : 1);
      const got = run(g, [tensorData(dtype, values)]);
      if (c.want) assert.deepEqual(Array.from({ length: c.want.length }, (_, i) => readElement(got.bytes, dtype, i)), c.want, label);
    }
  }
});

test('STRIDED_SLICE: an input of size 0 and a tiny input with a long ellipsis/new-axis spec do not break', () => {
  const g = sliceGraph({ shape: [0], begin: [1], end: [3], strides: [1], masks: [0, 0, 0, 0, 0] }, 'int32');
  assert.deepEqual(g.tensors[g.outputs[0]].shape, [0]);
  run(g, [new Uint8Array(0)]);
  // TFLite's NoInfiniteLoop case: the shape rule must terminate and the output is tiny.
  const g2 = sliceGraph({ shape: [1, 1], begin: [1, 1, 1, 1, 1, 1], end: [3, 3, 3, 3, 3, 3], strides: [1, 1, 1, 1, 1, 1], masks: [1, 2, 1, 6, 0] }, 'int8');
  run(g2, [tensorData('int8', [5])]);
});

/** numpy indexing semantics, written independently of TFLite's start/stop functions. */
type Spec = { t: 'slice'; b?: number; e?: number; s: number } | { t: 'index'; i: number } | { t: 'new' } | { t: 'ell' };

function pySliceIndices(n: number, s: number, b?: number, e?: number): number[] {
  const [lower, upper] = s > 0 ? [0, n] : [-1, n - 1];
  const fix = (v: number | undefined, dflt: number): number => {
    if (v === undefined) return dflt;
    if (v < 0) return Math.max(v + n, lower);
    return Math.min(v, upper);
  };
  const start = fix(b, s > 0 ? lower : upper);
  const stop = fix(e, s > 0 ? upper : lower);
  const out: number[] = [];
  for (let i = start; s > 0 ? i < stop : i > stop; i += s) out.push(i);
  return out;
}

function numpyReference(shape: number[], data: number[], specs: Spec[]): { shape: number[]; data: number[] } {
  const consumed = specs.filter((s) => s.t === 'slice' || s.t === 'index').length;
  const full = (): Spec => ({ t: 'slice', s: 1 });
  const expanded: Spec[] = specs.some((s) => s.t === 'ell')
    ? specs.flatMap((s) => (s.t === 'ell' ? Array.from({ length: shape.length - consumed }, full) : [s]))
    : [...specs, ...Array.from({ length: shape.length - consumed }, full)];
  const outShape: number[] = [];
  const lists: number[][] = [];
  let axis = 0;
  for (const s of expanded) {
    if (s.t === 'new') { outShape.push(1); continue; }
    const n = shape[axis++];
    if (s.t === 'index') { lists.push([s.i < 0 ? s.i + n : s.i]); continue; }
    if (s.t === 'slice') {
      const l = pySliceIndices(n, s.s, s.b, s.e);
      lists.push(l);
      outShape.push(l.length);
    }
  }
  const strides = stridesOf(shape);
  const out: number[] = [];
  const walk = (k: number, off: number): void => {
    if (k === lists.length) { out.push(data[off]); return; }
    for (const i of lists[k]) walk(k + 1, off + i * strides[k]);
  };
  walk(0, 0);
  return { shape: outShape, data: out };
}

function specsToParams(specs: Spec[]): { begin: number[]; end: number[]; strides: number[]; masks: number[] } {
  const begin: number[] = [];
  const end: number[] = [];
  const strides: number[] = [];
  const masks = [0, 0, 0, 0, 0];
  specs.forEach((s, i) => {
    const bit = 1 << i;
    if (s.t === 'slice') {
      begin.push(s.b ?? 0); end.push(s.e ?? 0); strides.push(s.s);
      if (s.b === undefined) masks[0] |= bit;
      if (s.e === undefined) masks[1] |= bit;
    } else if (s.t === 'index') {
      begin.push(s.i); end.push(s.i + 1); strides.push(1); masks[4] |= bit;
    } else {
      begin.push(0); end.push(0); strides.push(1); masks[s.t === 'ell' ? 2 : 3] |= bit;
    }
  });
  return { begin, end, strides, masks };
}

function randomSpecs(shape: number[]): Spec[] {
  const rank = shape.length;
  const useEllipsis = rand() < 0.3 && rank >= 2;
  // The ellipsis stands for at least one axis (TFLite always gives it one), so the spec names fewer.
  const named = useEllipsis ? randInt(0, rank - 1) : randInt(1, rank);
  const newAxes = randInt(0, Math.min(2, 5 - rank));
  const specs: Spec[] = [];
  for (let k = 0; k < named; k++) {
    const n = shape[useEllipsis ? rank - named + k : k];
    if (rand() < 0.2) {
      specs.push({ t: 'index', i: randInt(-n, n - 1) });
    } else {
      const s = [1, 1, 2, 3, -1, -2][randInt(0, 5)];
      const pick = (): number | undefined => (rand() < 0.25 ? undefined : randInt(-n - 2, n + 2));
      specs.push({ t: 'slice', b: pick(), e: pick(), s });
    }
  }
  if (useEllipsis) specs.unshift({ t: 'ell' });
  for (let k = 0; k < newAxes; k++) specs.splice(randInt(0, specs.length), 0, { t: 'new' });
  return specs;
}

test('STRIDED_SLICE: random numpy-style specs (indices, negative strides, masks, ellipsis, new axes) against numpy semantics', () => {
  for (let t = 0; t < 400; t++) {
    const rank = randInt(1, 4);
    const shape = Array.from({ length: rank }, () => randInt(1, 5));
    const specs = randomSpecs(shape);
    const ref = numpyReference(shape, iota(numElements(shape)), specs);
    const dtype = DTYPES[t % DTYPES.length];
    const g = sliceGraph({ shape, ...specsToParams(specs) }, dtype);
    const label = `${shape} ${JSON.stringify(specs)}`;
    assert.deepEqual(g.tensors[g.outputs[0]].shape, ref.shape, label);
    // Element values wrap into the 8-bit types' range; the reference data wraps the same way.
    const fit = (v: number): number => (dtype === 'int8' ? ((v + 128) % 256) - 128 : dtype === 'uint8' ? v % 256 : v);
    const values = iota(numElements(shape)).map(fit);
    const got = run(g, [tensorData(dtype, values)]);
    const want = ref.data.map(fit);
    assert.deepEqual(Array.from({ length: want.length }, (_, i) => readElement(got.bytes, dtype, i)), want, label);
  }
});

test('STRIDED_SLICE: a zero stride and an offset slice past the end are model-format errors', () => {
  assert.throws(() => sliceGraph({ shape: [4], begin: [0], end: [4], strides: [0], masks: [0, 0, 0, 0, 0] }, 'int8'), ModelFormatError);
  // offset: begin 2 + size 4 runs past a length-4 axis; TFLite would leave part of the output unwritten.
  const b = new GraphBuilder('offset-oob');
  const x = b.tensor('x', [4], 'int8');
  b.input(x);
  const g = single(b, 'STRIDED_SLICE', [x, constI32(b, 'b', [2]), constI32(b, 'e', [4]), constI32(b, 's', [1])], 'int8',
    { beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0, offset: true });
  assert.throws(() => new Interpreter(g), ModelFormatError);
});

test('input and output dtypes must agree (a model-format error at prepare time)', () => {
  const b = new GraphBuilder('dtype-mismatch');
  const x = b.tensor('x', [2], 'int8');
  b.input(x);
  const g = single(b, 'TRANSPOSE', [x, constI32(b, 'perm', [0])], 'int8', {});
  g.tensors[g.outputs[0]].dtype = 'int16';
  assert.throws(() => new Interpreter(g), ModelFormatError);
});

// ---------- real models ----------

const DATA_MOVES = new Set(['RESHAPE', 'SQUEEZE', 'PAD', 'PADV2', 'TRANSPOSE', 'CONCATENATION', 'RESIZE_NEAREST_NEIGHBOR', 'STRIDED_SLICE']);

test('the shared models\' data-movement nodes reproduce TFLite Micro\'s per-layer dumps byte for byte', () => {
  let checked = 0;
  for (const m of manifests()) {
    const layers = layerTensors(m);
    if (!layers) continue;
    const files = new Map(layers.tensors.map((t) => [t.index, t.file]));
    const dump = (id: number): Uint8Array => {
      const b = readFileSync(join(layers.dir, files.get(id)!));
      return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    };
    const g = loadModel(modelPath(m));
    for (const n of g.nodes) {
      if (!DATA_MOVES.has(n.op)) continue;
      // Run the node alone, fed TFLM's own input tensors, so only this kernel is judged.
      const acts = n.inputs.filter((id) => id >= 0 && g.tensors[id].data === null);
      const sub: Graph = { ...g, nodes: [{ ...n, index: 0 }], inputs: acts, outputs: [n.outputs[0]] };
      const got = run(sub, acts.map(dump)).bytes;
      assert.deepEqual(got, dump(n.outputs[0]), `${m.id} node ${n.index} (${n.op})`);
      checked++;
    }
  }
  // mcunet-vww1: 4 PAD + 1 TRANSPOSE; ic, kws, vww, micro_speech, person_detect: one RESHAPE each.
  assert.ok(checked >= 10, `checked ${checked} nodes`);
});
