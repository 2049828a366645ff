import type { Graph, TensorId } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import { affineQuantizeValue } from '../ops/quantize.js';
import { Interpreter } from '../runtime/interpreter.js';
import type { Dataset } from './dataset.js';
import { DatasetError } from './errors.js';
import type { InputEncoding } from './encode.js';
import { inputEncodingFor } from './encode.js';
import type { Samples } from './samples.js';
import { checkSamples } from './samples.js';
import { trainingView } from './training_view.js';

/** How well a classifier does on a set of samples, by our Interpreter (the same kernels as deployment). */
export interface Evaluation {
  accuracy: number;
  correct: number;
  count: number;
  /** confusion[actual][predicted]. */
  confusion: number[][];
  /** Mean softmax cross-entropy of the logits (dequantised for int8), when a loss head was given. */
  loss: number | null;
}

/** Where a training graph's logits are and the softmax temperature its loss uses. */
export interface LossHeadRef {
  logits: TensorId;
  beta: number;
}

export interface EvaluateOptions {
  limit?: number;
  /** Also report the cross-entropy of these logits (training); the class is their arg-max. */
  head?: LossHeadRef;
}

/** Checks that a dataset's images and classes fit a classifier's input and output. */
export function checkCompatible(g: Graph, ds: Dataset): void {
  const input = g.tensors[g.inputs[0]];
  const [, h, w, c] = input.shape;
  if (input.shape.length !== 4 || h !== ds.height || w !== ds.width || c !== ds.channels) {
    throw new DatasetError(ds.source, `images are ${ds.height}×${ds.width}×${ds.channels} but model ${g.name} takes [${input.shape.join(',')}]`);
  }
  const classes = numElements(g.tensors[g.outputs[0]].shape);
  if (classes !== ds.classNames.length) {
    throw new DatasetError(ds.source, `${ds.classNames.length} classes but model ${g.name} has ${classes} outputs`);
  }
}

function realValues(dtype: string, bytes: Uint8Array, scale: number, zp: number): Float32Array {
  const copy = bytes.slice();
  if (dtype === 'int8') return Float32Array.from(new Int8Array(copy.buffer), (q) => scale * (q - zp));
  if (dtype === 'float32') return new Float32Array(copy.buffer);
  return Float32Array.from(copy);
}

/**
 * The one evaluator: every sample through the Interpreter, one at a time. An int8 input is quantised from
 * the sample's real values with TFLite's rule (AffineQuantize), as the deployed model's caller would.
 */
export function evaluateSamples(g: Graph, samples: Samples, opts: EvaluateOptions = {}): Evaluation {
  const input = g.tensors[g.inputs[0]];
  const n = numElements(input.shape);
  const logits = opts.head?.logits ?? g.outputs[0];
  const outT = g.tensors[logits];
  const classes = numElements(outT.shape);
  checkSamples(samples, n, classes);
  // A loss head's logits may sit before the output (a softmax): keep every tensor readable then.
  const interp = new Interpreter(g, g.outputs.includes(logits) ? {} : { preserveAll: true });
  const x = new Float32Array(n);
  const int8 = input.dtype === 'int8' ? new Int8Array(n) : null;
  const raw = int8 ? new Uint8Array(int8.buffer) : new Uint8Array(x.buffer);
  const scale = input.quant?.scale[0] ?? 1;
  const zp = input.quant?.zeroPoint[0] ?? 0;
  const confusion = Array.from({ length: samples.classes }, () => new Array<number>(classes).fill(0));
  const count = Math.min(samples.size, opts.limit ?? Infinity);
  let correct = 0;
  let loss = 0;
  for (let i = 0; i < count; i++) {
    const label = samples.read(i, x, 0);
    if (int8) for (let k = 0; k < n; k++) int8[k] = affineQuantizeValue(x[k], scale, zp, -128, 127);
    interp.setInput(0, raw);
    interp.invoke();
    const z = realValues(outT.dtype, interp.tensor(logits), outT.quant?.scale[0] ?? 1, outT.quant?.zeroPoint[0] ?? 0);
    let best = 0;
    for (let k = 1; k < z.length; k++) if (z[k] > z[best]) best = k;
    confusion[label][best]++;
    if (best === label) correct++;
    if (opts.head) {
      let sum = 0;
      for (let j = 0; j < z.length; j++) sum += Math.exp(opts.head.beta * (z[j] - z[best]));
      loss += Math.log(sum) - opts.head.beta * (z[label] - z[best]);
    }
  }
  return { accuracy: count > 0 ? correct / count : 0, correct, count, confusion, loss: opts.head ? loss / Math.max(1, count) : null };
}

/** Top-1 accuracy of a classifier on a Dataset, its pixels encoded as `enc` says. */
export function evaluateClassifier(g: Graph, ds: Dataset, enc: InputEncoding = inputEncodingFor(g.tensors[g.inputs[0]]), limit = ds.count): Evaluation {
  checkCompatible(g, ds);
  return evaluateSamples(g, trainingView(ds, enc), { limit });
}
