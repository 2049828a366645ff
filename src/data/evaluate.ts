import type { Graph } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import { Interpreter } from '../runtime/interpreter.js';
import type { Dataset } from './dataset.js';
import { sampleSize } from './dataset.js';
import { DatasetError } from './errors.js';
import type { InputEncoding } from './encode.js';
import { encodeSamples, inputEncodingFor } from './encode.js';

export interface Evaluation {
  accuracy: number;
  correct: number;
  count: number;
  /** confusion[actual][predicted]. */
  confusion: number[][];
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

/**
 * Top-1 accuracy of a classifier run by our Interpreter (the same kernels as deployment), one sample at
 * a time. The class is the arg-max of output 0; for int8 outputs the raw values order like the real ones.
 */
export function evaluateClassifier(g: Graph, ds: Dataset, enc: InputEncoding = inputEncodingFor(g.tensors[g.inputs[0]]), limit = ds.count): Evaluation {
  checkCompatible(g, ds);
  const interp = new Interpreter(g);
  const outT = g.tensors[g.outputs[0]];
  const classes = numElements(outT.shape);
  const size = sampleSize(ds);
  const buf = enc.dtype === 'float32' ? new Float32Array(size) : new Int8Array(size);
  const bytes = new Uint8Array(buf.buffer);
  const confusion = ds.classNames.map(() => new Array<number>(classes).fill(0));
  const n = Math.min(limit, ds.count);
  const idx = new Int32Array(1);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    idx[0] = i;
    encodeSamples(ds, idx, enc, buf);
    interp.setInput(0, bytes);
    interp.invoke();
    const out = interp.tensor(g.outputs[0]);
    const scores = outT.dtype === 'float32' ? new Float32Array(out.buffer, out.byteOffset, classes) : outT.dtype === 'int8' ? new Int8Array(out.buffer, out.byteOffset, classes) : out;
    let best = 0;
    for (let k = 1; k < classes; k++) if (scores[k] > scores[best]) best = k;
    confusion[ds.labels[i]][best]++;
    if (best === ds.labels[i]) correct++;
  }
  return { accuracy: n > 0 ? correct / n : 0, correct, count: n, confusion };
}
