/**
 * SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_ALL and ARG_MAX / ARG_MIN over constant axes: TFLite Micro's
 * reduce.cc and arg_min_max.cc. Input elements are visited in row-major order, each folded into its output
 * element, which is the reference's order (so float sums round the same way). int8 MAX/MIN compare raw
 * values (input and output share the quantisation); int8/int16 SUM requantises as MEAN does (mean.ts).
 */
import type { Graph, Node } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import type { OpName } from '../graph/options.js';
import { ModelFormatError, UnsupportedOpError } from '../errors.js';
import type { OpDef } from './op.js';
import { firstInputOnly, inputTensor, outputTensor } from './op.js';
import { constInts, requireOutputShape } from './data_move.js';
import type { Element } from './element_access.js';
import { reader, writer } from './element_access.js';
import { coordsOf } from './index_map.js';
import { quantizedMeanOrSum } from './mean.js';

function reducedAxes(node: Node, g: Graph, rank: number): Set<number> {
  const axes = constInts(node, g, 1, 'axis', ['int32', 'int64']).map((a) => (a < 0 ? a + rank : a));
  if (axes.some((a) => a < 0 || a >= rank)) throw new ModelFormatError(`node ${node.index} (${node.op})`, `axis outside rank ${rank}`);
  return new Set(axes);
}

/** For each input element (row-major), the index of the output element it folds into. */
function foldMap(inShape: readonly number[], axes: Set<number>): { outIndex: Int32Array; outCount: number } {
  const kept = inShape.map((d, i) => (axes.has(i) ? 1 : d));
  const n = numElements(inShape);
  const outIndex = new Int32Array(n);
  const c = new Array<number>(inShape.length).fill(0);
  for (let i = 0; i < n; i++) {
    coordsOf(i, inShape, c);
    let k = 0;
    for (let d = 0; d < inShape.length; d++) k = k * kept[d] + (axes.has(d) ? 0 : c[d]);
    outIndex[i] = k;
  }
  return { outIndex, outCount: numElements(kept) };
}

function reducedShape(inShape: readonly number[], axes: Set<number>, keepDims: boolean): number[] {
  return keepDims ? inShape.map((d, i) => (axes.has(i) ? 1 : d)) : inShape.filter((_, i) => !axes.has(i));
}

type Reducer = 'SUM' | 'REDUCE_MAX' | 'REDUCE_MIN' | 'REDUCE_ALL';

function reduceOp<K extends Reducer & OpName>(name: K): OpDef<K> {
  return {
    name,
    maxVersion: 2,
    role: 'other',
    differentiableInputs: firstInputOnly,
    inferShapes(node, g) {
      const s = inputTensor(node, g, 0).shape;
      return [reducedShape(s, reducedAxes(node, g, s.length), (node.options as { keepDims: boolean }).keepDims)];
    },
    prepare(node, g, views) {
      const input = inputTensor(node, g, 0), output = outputTensor(node, g);
      const axes = reducedAxes(node, g, input.shape.length);
      requireOutputShape(node, output, reducedShape(input.shape, axes, (node.options as { keepDims: boolean }).keepDims));
      const dt = input.dtype;
      if (dt !== output.dtype) throw new UnsupportedOpError(node.op, node.index, `${dt} -> ${output.dtype}`);
      if (name === 'SUM' && (dt === 'int8' || dt === 'int16')) return quantizedMeanOrSum(node as Node<'SUM'>, g, views, true);
      const ok = name === 'REDUCE_ALL' ? dt === 'bool' : name === 'SUM' ? dt === 'float32' || dt === 'int32' : ['float32', 'int32', 'int8', 'int16'].includes(dt);
      if (!ok) throw new UnsupportedOpError(node.op, node.index, `${dt} ${name} is not implemented`);
      if ((dt === 'int8' || dt === 'int16') && input.quant && output.quant && (input.quant.scale[0] !== output.quant.scale[0] || input.quant.zeroPoint[0] !== output.quant.zeroPoint[0])) {
        throw new UnsupportedOpError(node.op, node.index, 'input and output quantisations differ (requantising reduction)');
      }
      const { outIndex, outCount } = foldMap(input.shape, axes);
      const r = reader(views, input), w = writer(views, output);
      const acc: Element[] = new Array(outCount);
      const init: Element = name === 'SUM' ? 0 : name === 'REDUCE_ALL' ? 1 : name === 'REDUCE_MAX' ? -Infinity : Infinity;
      const fold: (a: Element, x: Element) => Element =
        name === 'SUM' ? (dt === 'float32' ? (a, x) => Math.fround((a as number) + (x as number)) : (a, x) => ((a as number) + (x as number)) | 0)
          : name === 'REDUCE_MAX' ? (a, x) => (x > a ? x : a)
            : name === 'REDUCE_MIN' ? (a, x) => (x < a ? x : a)
              : (a, x) => (a && x ? 1 : 0);
      return () => {
        acc.fill(init);
        for (let i = 0; i < outIndex.length; i++) acc[outIndex[i]] = fold(acc[outIndex[i]], r(i));
        for (let k = 0; k < outCount; k++) w(k, acc[k]);
      };
    },
    macs: (node, g) => numElements(inputTensor(node, g, 0).shape),
  };
}

export const sum = reduceOp('SUM');
export const reduceMax = reduceOp('REDUCE_MAX');
export const reduceMin = reduceOp('REDUCE_MIN');
export const reduceAll = reduceOp('REDUCE_ALL');

function argOp<K extends 'ARG_MAX' | 'ARG_MIN'>(name: K): OpDef<K> {
  const better = name === 'ARG_MAX' ? (x: Element, best: Element) => x > best : (x: Element, best: Element) => x < best;
  const axisOf = (node: Node, g: Graph): number => {
    const rank = inputTensor(node, g, 0).shape.length;
    const [a] = constInts(node, g, 1, 'axis', ['int32', 'int64']);
    const axis = a < 0 ? a + rank : a;
    if (axis < 0 || axis >= rank) throw new ModelFormatError(`node ${node.index} (${node.op})`, `axis ${a} outside rank ${rank}`);
    return axis;
  };
  return {
    name,
    maxVersion: 2,
    role: 'other',
    differentiableInputs: (node) => node.inputs.map(() => false),
    inferShapes(node, g) {
      const s = inputTensor(node, g, 0).shape;
      const axis = axisOf(node, g);
      return [s.filter((_, i) => i !== axis)];
    },
    prepare(node, g, views) {
      const input = inputTensor(node, g, 0), output = outputTensor(node, g);
      const axis = axisOf(node, g);
      const s = input.shape;
      requireOutputShape(node, output, s.filter((_, i) => i !== axis));
      if (!['float32', 'int8', 'uint8', 'int16', 'int32'].includes(input.dtype) || !['int32', 'int64'].includes(output.dtype)) {
        throw new UnsupportedOpError(node.op, node.index, `${input.dtype} -> ${output.dtype}`);
      }
      const outer = s.slice(0, axis).reduce((a, b) => a * b, 1), n = s[axis], inner = s.slice(axis + 1).reduce((a, b) => a * b, 1);
      const r = reader(views, input), w = writer(views, output);
      const big = output.dtype === 'int64';
      return () => {
        for (let o = 0; o < outer; o++) {
          for (let i = 0; i < inner; i++) {
            let best = r(o * n * inner + i), at = 0;
            for (let k = 1; k < n; k++) {
              const x = r((o * n + k) * inner + i);
              if (better(x, best)) { best = x; at = k; }
            }
            w(o * inner + i, big ? BigInt(at) : at);
          }
        }
      };
    },
    macs: (node, g) => numElements(inputTensor(node, g, 0).shape),
  };
}

export const argMax = argOp('ARG_MAX');
export const argMin = argOp('ARG_MIN');
