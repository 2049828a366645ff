import type { Graph, TensorId } from '../../src/graph/graph.js';
import { numElements } from '../../src/graph/graph.js';
import { GraphBuilder, perTensor } from '../../src/graph/builder.js';
import { prng } from '../../src/plan/pack/local_search.js';

/** Small int8 graphs built by hand, to pin down what each reuse trick does. */

const q = perTensor(0.05, -3);
const CONV = { padding: 'SAME' as const, strideW: 1, strideH: 1, dilationW: 1, dilationH: 1, activation: 'NONE' as const };

function conv1x1(b: GraphBuilder, name: string, x: TensorId, inShape: number[], outC: number, rand: () => number): { id: TensorId; shape: number[] } {
  const inC = inShape[3];
  const w = Int8Array.from({ length: outC * inC }, () => Math.floor(rand() * 255) - 127);
  const wId = b.constant(`${name}/w`, [outC, 1, 1, inC], 'int8', w, perTensor(0.01, 0));
  const bias = b.constant(`${name}/b`, [outC], 'int32', Int32Array.from({ length: outC }, () => Math.floor(rand() * 200) - 100), perTensor(0.05 * 0.01, 0));
  const shape = [inShape[0], inShape[1], inShape[2], outC];
  const y = b.tensor(name, shape, 'int8', q);
  b.node('CONV_2D', [x, wId, bias], [y], CONV);
  return { id: y, shape };
}

/** x -> RELU -> RESHAPE -> RELU -> y: an in-place chain through an alias. */
export function chainGraph(): Graph {
  const b = new GraphBuilder('chain');
  const x = b.tensor('x', [1, 8, 8, 4], 'int8', q);
  const r1 = b.tensor('relu1', [1, 8, 8, 4], 'int8', q);
  const flat = b.tensor('flat', [1, 256], 'int8', q);
  const y = b.tensor('y', [1, 256], 'int8', q);
  b.node('RELU', [x], [r1], {});
  b.node('RESHAPE', [r1], [flat], { newShape: [1, 256] });
  b.node('RELU', [flat], [y], {});
  return b.input(x).output(y).build();
}

/** x -> RELU -> y where x is also a graph output: x must survive. */
export function keepInputGraph(): Graph {
  const b = new GraphBuilder('keep');
  const x = b.tensor('x', [1, 64], 'int8', q);
  const y = b.tensor('y', [1, 64], 'int8', q);
  b.node('RELU', [x], [y], {});
  return b.input(x).output(x).output(y).build();
}

/**
 * Two branches from x, each a widening 1x1 conv (8 KB) then a narrowing one (256 B), joined by ADD. The
 * model interleaves them (A1, B1, A2, B2): both wide tensors are live at once. Running one branch to its end
 * first halves the peak.
 */
export function branchyGraph(seed = 5): Graph {
  const rand = prng(seed);
  const b = new GraphBuilder('branchy');
  const shape = [1, 4, 4, 64];
  const x = b.tensor('x', shape, 'int8', q);
  const a1 = conv1x1(b, 'a1', x, shape, 512, rand);
  const b1 = conv1x1(b, 'b1', x, shape, 512, rand);
  const a2 = conv1x1(b, 'a2', a1.id, a1.shape, 16, rand);
  const b2 = conv1x1(b, 'b2', b1.id, b1.shape, 16, rand);
  const y = b.tensor('y', a2.shape, 'int8', q);
  b.node('ADD', [a2.id, b2.id], [y], { activation: 'NONE' });
  return b.input(x).output(y).build();
}

/** x -> DEPTHWISE 3x3 (SAME, multiplier 1) -> y. */
export function depthwiseGraph(seed = 9, stride = 1): Graph {
  const rand = prng(seed);
  const b = new GraphBuilder('dw');
  const c = 16;
  const x = b.tensor('x', [1, 8, 8, c], 'int8', q);
  const w = b.constant('w', [1, 3, 3, c], 'int8', Int8Array.from({ length: 9 * c }, () => Math.floor(rand() * 255) - 127), perTensor(0.01, 0));
  const bias = b.constant('b', [c], 'int32', Int32Array.from({ length: c }, () => Math.floor(rand() * 200) - 100), perTensor(0.05 * 0.01, 0));
  const out = Math.ceil(8 / stride);
  const y = b.tensor('y', [1, out, out, c], 'int8', q);
  b.node('DEPTHWISE_CONV_2D', [x, w, bias], [y], { ...CONV, strideW: stride, strideH: stride, depthMultiplier: 1 });
  return b.input(x).output(y).build();
}

/** float x -> QUANTIZE -> int8 -> RELU -> DEQUANTIZE -> float y: the float input is 4x the int8 tensor. */
export function floatEdgesGraph(): Graph {
  const b = new GraphBuilder('edges');
  const x = b.tensor('x', [1, 256], 'float32');
  const xq = b.tensor('xq', [1, 256], 'int8', perTensor(1 / 64, 0));
  const r = b.tensor('r', [1, 256], 'int8', perTensor(1 / 64, 0));
  const y = b.tensor('y', [1, 256], 'float32');
  b.node('QUANTIZE', [x], [xq], {});
  b.node('RELU', [xq], [r], {});
  b.node('DEQUANTIZE', [r], [y], {});
  return b.input(x).output(y).build();
}

/** Seeded random bytes for every graph input. */
export function randomInputs(g: Graph, seed: number): Uint8Array[] {
  const rand = prng(seed);
  return g.inputs.map((id) => {
    const t = g.tensors[id];
    if (t.dtype === 'float32') {
      const f = Float32Array.from({ length: numElements(t.shape) }, () => rand() * 4 - 2);
      return new Uint8Array(f.buffer);
    }
    return Uint8Array.from({ length: numElements(t.shape) }, () => Math.floor(rand() * 256));
  });
}
