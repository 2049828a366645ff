/** Accuracy and loss of a model on a dataset, run exactly as inference runs it (the Interpreter). */
import type { Graph } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import { Interpreter } from '../runtime/interpreter.js';
import { roundHalfAway } from '../quant/fixedpoint.js';
import type { Dataset } from './data.js';
import { checkDataset } from './data.js';
import { lossHead } from './graph_prep.js';

export interface Evaluation {
  accuracy: number;
  /** Mean softmax cross-entropy of the logits (dequantised for int8 models). */
  loss: number;
  count: number;
}

export function evaluate(g: Graph, data: Dataset, opts: { limit?: number } = {}): Evaluation {
  const input = g.tensors[g.inputs[0]];
  const n = numElements(input.shape);
  const head = lossHead(g);
  checkDataset(data, n, head.classes);
  const interp = new Interpreter(g, { preserveAll: true });
  const x = new Float32Array(n);
  const bytes = input.dtype === 'int8' ? new Int8Array(n) : x;
  const raw = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const logitsT = g.tensors[head.logits];
  const count = Math.min(data.size, opts.limit ?? Infinity);
  let correct = 0;
  let loss = 0;
  for (let i = 0; i < count; i++) {
    const label = data.read(i, x, 0);
    if (bytes instanceof Int8Array) {
      const s = input.quant!.scale[0];
      const zp = input.quant!.zeroPoint[0];
      for (let k = 0; k < n; k++) bytes[k] = Math.max(-128, Math.min(127, roundHalfAway(x[k] / s) + zp));
    }
    interp.setInput(0, raw);
    interp.invoke();
    const z = logitValues(logitsT.dtype, interp.tensor(head.logits), logitsT.quant?.scale[0] ?? 1, logitsT.quant?.zeroPoint[0] ?? 0);
    let max = -Infinity;
    let arg = 0;
    for (let j = 0; j < z.length; j++) if (z[j] > max) { max = z[j]; arg = j; }
    let sum = 0;
    for (let j = 0; j < z.length; j++) sum += Math.exp(head.beta * (z[j] - max));
    loss += Math.log(sum) - head.beta * (z[label] - max);
    if (arg === label) correct++;
  }
  return { accuracy: correct / count, loss: loss / count, count };
}

function logitValues(dtype: string, bytes: Uint8Array, scale: number, zp: number): Float32Array {
  const copy = bytes.slice();
  if (dtype === 'int8') return Float32Array.from(new Int8Array(copy.buffer), (q) => scale * (q - zp));
  return new Float32Array(copy.buffer);
}
