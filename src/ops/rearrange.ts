/**
 * Rearranging ops on the index-map kernel (index_map.ts), each as TFLite Micro's reference computes it:
 * PACK, REVERSE_V2, SLICE, SPACE_TO_DEPTH, DEPTH_TO_SPACE, SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND,
 * BROADCAST_TO, MIRROR_PAD.
 */
import type { Graph, Node } from '../graph/graph.js';
import type { OpName } from '../graph/options.js';
import { ModelFormatError } from '../errors.js';
import type { OpDef } from './op.js';
import { firstInputOnly, inputTensor, outputTensor } from './op.js';
import { constInts } from './data_move.js';
import type { IndexMap } from './index_map.js';
import { flatIndex, indexMapKernel, mapOutput } from './index_map.js';

const bad = (node: Node, detail: string) => new ModelFormatError(`node ${node.index} (${node.op})`, detail);

/** An op whose kernel is its index map; gradients flow to input 0 only unless every input carries data (PACK). */
function mapOp<K extends OpName>(name: K, maxVersion: number, build: (node: Node<K>, g: Graph) => IndexMap, allInputs = false): OpDef<K> {
  return {
    name,
    maxVersion,
    inferShapes: (node, g) => [build(node, g).shape],
    prepare: (node, g, views) => indexMapKernel(node, g, views, build(node, g)),
    indexMap: build,
    macs: () => 0,
    role: 'other',
    differentiableInputs: allInputs ? (node) => node.inputs.map(() => true) : firstInputOnly,
  };
}

function packMap(node: Node<'PACK'>, g: Graph): IndexMap {
  const ins = node.inputs.map((_, i) => inputTensor(node, g, i));
  const s = ins[0].shape;
  if (ins.some((t) => t.shape.join() !== s.join())) throw bad(node, 'inputs of different shapes');
  let axis = node.options.axis;
  if (axis < 0) axis += s.length + 1;
  if (axis < 0 || axis > s.length) throw bad(node, `axis ${node.options.axis} outside rank ${s.length + 1}`);
  const shape = [...s.slice(0, axis), ins.length, ...s.slice(axis)];
  return mapOutput(shape, ins, (c) => [c[axis], flatIndex([...c.slice(0, axis), ...c.slice(axis + 1)], s)]);
}

function reverseMap(node: Node<'REVERSE_V2'>, g: Graph): IndexMap {
  const t = inputTensor(node, g, 0);
  const rank = t.shape.length;
  const axes = new Set(constInts(node, g, 1, 'axis', ['int32', 'int64']).map((a) => (a < 0 ? a + rank : a)));
  return mapOutput([...t.shape], [t], (c) => [0, flatIndex(c.map((v, d) => (axes.has(d) ? t.shape[d] - 1 - v : v)), t.shape)]);
}

function sliceMap(node: Node<'SLICE'>, g: Graph): IndexMap {
  const t = inputTensor(node, g, 0);
  const begin = constInts(node, g, 1, 'begin', ['int32', 'int64']);
  const size = constInts(node, g, 2, 'size', ['int32', 'int64']);
  if (begin.length !== t.shape.length || size.length !== t.shape.length) throw bad(node, 'begin/size do not match the input rank');
  const shape = t.shape.map((d, i) => (size[i] === -1 ? d - begin[i] : size[i]));
  shape.forEach((n, i) => { if (begin[i] < 0 || n < 0 || begin[i] + n > t.shape[i]) throw bad(node, `slice [${begin[i]}, +${n}) outside dimension ${i} of ${t.shape[i]}`); });
  return mapOutput(shape, [t], (c) => [0, flatIndex(c.map((v, d) => v + begin[d]), t.shape)]);
}

function spaceToDepthMap(node: Node<'SPACE_TO_DEPTH'>, g: Graph): IndexMap {
  const t = inputTensor(node, g, 0);
  const b = node.options.blockSize;
  const [n, h, w, ch] = t.shape;
  if (t.shape.length !== 4 || h % b || w % b) throw bad(node, `input ${t.shape} not divisible by block ${b}`);
  return mapOutput([n, h / b, w / b, ch * b * b], [t], ([bn, y, x, oc]) => {
    const c = oc % ch, k = Math.floor(oc / ch);
    return [0, flatIndex([bn, y * b + Math.floor(k / b), x * b + (k % b), c], t.shape)];
  });
}

function depthToSpaceMap(node: Node<'DEPTH_TO_SPACE'>, g: Graph): IndexMap {
  const t = inputTensor(node, g, 0);
  const b = node.options.blockSize;
  const [n, h, w, ch] = t.shape;
  if (t.shape.length !== 4 || ch % (b * b)) throw bad(node, `depth ${ch} not divisible by block ${b}²`);
  const co = ch / (b * b);
  return mapOutput([n, h * b, w * b, co], [t], ([bn, y, x, c]) => {
    const k = (y % b) * b + (x % b);
    return [0, flatIndex([bn, Math.floor(y / b), Math.floor(x / b), k * co + c], t.shape)];
  });
}

/** Block sizes and (padding or crop) pairs of the spatial dimensions 1..M of a batch/space op. */
function blockArgs(node: Node, g: Graph, what: string): { block: number[]; pairs: number[][] } {
  const block = constInts(node, g, 1, 'block_shape', ['int32', 'int64']);
  const flat = constInts(node, g, 2, what, ['int32', 'int64']);
  if (flat.length !== 2 * block.length) throw bad(node, `${what} holds ${flat.length} values for ${block.length} block dimensions`);
  if (block.some((v) => v < 1)) throw bad(node, `block shape ${block} must be positive`);
  return { block, pairs: block.map((_, i) => [flat[2 * i], flat[2 * i + 1]]) };
}

function spaceToBatchMap(node: Node<'SPACE_TO_BATCH_ND'>, g: Graph): IndexMap {
  const t = inputTensor(node, g, 0);
  const { block, pairs } = blockArgs(node, g, 'paddings');
  const m = block.length, batch = t.shape[0];
  const padded = block.map((b, i) => t.shape[1 + i] + pairs[i][0] + pairs[i][1]);
  padded.forEach((p, i) => { if (p % block[i]) throw bad(node, `padded dimension ${p} not divisible by block ${block[i]}`); });
  const nb = block.reduce((a, b) => a * b, 1);
  const shape = [batch * nb, ...padded.map((p, i) => p / block[i]), ...t.shape.slice(1 + m)];
  return mapOutput(shape, [t], (c) => {
    const ob = c[0];
    const n = ob % batch;
    let k = Math.floor(ob / batch);
    const offs = new Array<number>(m);
    for (let i = m - 1; i >= 0; i--) { offs[i] = k % block[i]; k = Math.floor(k / block[i]); }
    const src = [n];
    for (let i = 0; i < m; i++) {
      const v = c[1 + i] * block[i] + offs[i] - pairs[i][0];
      if (v < 0 || v >= t.shape[1 + i]) return null;
      src.push(v);
    }
    return [0, flatIndex([...src, ...c.slice(1 + m)], t.shape)];
  }); // TFLite Micro pads with raw zeros, not the output's zero point
}

function batchToSpaceMap(node: Node<'BATCH_TO_SPACE_ND'>, g: Graph): IndexMap {
  const t = inputTensor(node, g, 0);
  const { block, pairs } = blockArgs(node, g, 'crops');
  const m = block.length;
  const nb = block.reduce((a, b) => a * b, 1);
  if (t.shape[0] % nb) throw bad(node, `batch ${t.shape[0]} not divisible by ${nb}`);
  const batch = t.shape[0] / nb;
  const shape = [batch, ...block.map((b, i) => t.shape[1 + i] * b - pairs[i][0] - pairs[i][1]), ...t.shape.slice(1 + m)];
  return mapOutput(shape, [t], (c) => {
    let k = 0;
    const src: number[] = [];
    for (let i = 0; i < m; i++) {
      const v = c[1 + i] + pairs[i][0];
      k = k * block[i] + (v % block[i]);
      src.push(Math.floor(v / block[i]));
    }
    return [0, flatIndex([k * batch + c[0], ...src, ...c.slice(1 + m)], t.shape)];
  });
}

function broadcastToMap(node: Node<'BROADCAST_TO'>, g: Graph): IndexMap {
  const t = inputTensor(node, g, 0);
  const shape = constInts(node, g, 1, 'shape', ['int32', 'int64']);
  const lead = shape.length - t.shape.length;
  if (lead < 0) throw bad(node, `cannot broadcast rank ${t.shape.length} to rank ${shape.length}`);
  t.shape.forEach((d, i) => { if (d !== 1 && d !== shape[lead + i]) throw bad(node, `dimension ${d} does not broadcast to ${shape[lead + i]}`); });
  return mapOutput(shape, [t], (c) => [0, flatIndex(t.shape.map((d, i) => (d === 1 ? 0 : c[lead + i])), t.shape)]);
}

function mirrorPadMap(node: Node<'MIRROR_PAD'>, g: Graph): IndexMap {
  const t = inputTensor(node, g, 0);
  const flat = constInts(node, g, 1, 'paddings', ['int32', 'int64']);
  const rank = t.shape.length;
  if (flat.length !== 2 * rank) throw bad(node, `paddings hold ${flat.length} values for rank ${rank}`);
  const symmetric = node.options.mode === 'SYMMETRIC';
  const shape = t.shape.map((d, i) => d + flat[2 * i] + flat[2 * i + 1]);
  const reflect = (v: number, n: number): number => {
    if (v < 0) return symmetric ? -v - 1 : -v;
    if (v >= n) return symmetric ? 2 * n - 1 - v : 2 * n - 2 - v;
    return v;
  };
  return mapOutput(shape, [t], (c) => [0, flatIndex(c.map((v, d) => reflect(v - flat[2 * d], t.shape[d])), t.shape)]);
}

export const pack = mapOp('PACK', 3, packMap, true);
export const reverseV2 = mapOp('REVERSE_V2', 3, reverseMap);
export const slice = mapOp('SLICE', 4, sliceMap);
export const spaceToDepth = mapOp('SPACE_TO_DEPTH', 2, spaceToDepthMap);
export const depthToSpace = mapOp('DEPTH_TO_SPACE', 2, depthToSpaceMap);
export const spaceToBatchNd = mapOp('SPACE_TO_BATCH_ND', 3, spaceToBatchMap);
export const batchToSpaceNd = mapOp('BATCH_TO_SPACE_ND', 3, batchToSpaceMap);
export const broadcastTo = mapOp('BROADCAST_TO', 3, broadcastToMap);
export const mirrorPad = mapOp('MIRROR_PAD', 2, mirrorPadMap);
