/**
 * A new classifier for transfer learning: the model's last layer (the one feeding the loss) replaced by
 * a freshly initialised one with `classes` outputs. For an int8 model the new weights are int8 with
 * per-channel scales wide enough for training to grow them, the bias int32 at input * weight scale, and
 * the logits get a fixed range.
 */
import type { AnyNode, Graph, Tensor, TensorId } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import { seededRandom } from '../util/random.js';
import { roundHalfAway } from '../quant/fixedpoint.js';
import { asymmetricInt8 } from '../quant/ptq.js';
import { cloneGraph, layersOf, lossHead } from './graph_prep.js';
import { TrainingConfigError } from './errors.js';

export interface ClassifierOptions {
  seed?: number;
  /** Int8: largest weight magnitude representable (sets the weight scale). Default max(0.5, 4 / sqrt(fan-in)). */
  weightRange?: number;
  /** Int8: logits range [-r, r]. Default 16. */
  logitRange?: number;
}

/** A copy of `g` whose last layer has `classes` outputs (every tensor after it re-shaped to match). */
export function replaceClassifier(g0: Graph, classes: number, opts: ClassifierOptions = {}): Graph {
  const g = cloneGraph(g0);
  const head = lossHead(g); // refuses graphs without a single classification output
  const layers = layersOf(g);
  const last = layers[layers.length - 1];
  if (!last || last.kind === 'depthwise') throw new TrainingConfigError(`${g.name}: the last layer is not a convolution or fully-connected layer`);
  const node = g.nodes[last.node] as AnyNode;
  const after = (g.nodes as AnyNode[]).filter((n) => n.index > node.index);
  if (after.some((n) => n.op !== 'RESHAPE' && n.op !== 'SQUEEZE' && n.op !== 'SOFTMAX' && n.op !== 'LOG_SOFTMAX')) {
    throw new TrainingConfigError(`${g.name}: only RESHAPE/SQUEEZE/SOFTMAX may follow the classifier`);
  }
  const w = g.tensors[last.weight];
  const fanIn = numElements(w.shape) / w.shape[0];
  const shape = [classes, ...w.shape.slice(1)];
  const rand = seededRandom(opts.seed ?? 1);
  const std = 1 / Math.sqrt(fanIn);
  const values = Float32Array.from({ length: classes * fanIn }, () => (rand() * 2 - 1) * std * Math.sqrt(3));
  const x = g.tensors[node.inputs[0]];
  const int8 = w.dtype === 'int8';
  if (int8) {
    const range = opts.weightRange ?? Math.max(0.5, 4 / Math.sqrt(fanIn));
    const s = Math.fround(range / 127);
    const q = Int8Array.from(values, (v) => Math.max(-127, Math.min(127, roundHalfAway(v / s))));
    setConstant(g, w, shape, 'int8', new Uint8Array(q.buffer), { scale: new Array(classes).fill(s), zeroPoint: new Array(classes).fill(0), axis: 0 });
    if (last.bias >= 0) {
      const sb = x.quant!.scale[0] * s;
      setConstant(g, g.tensors[last.bias], [classes], 'int32', new Uint8Array(new Int32Array(classes).buffer), { scale: new Array(classes).fill(sb), zeroPoint: new Array(classes).fill(0), axis: 0 });
    }
  } else {
    setConstant(g, w, shape, 'float32', new Uint8Array(values.buffer), null);
    if (last.bias >= 0) setConstant(g, g.tensors[last.bias], [classes], 'float32', new Uint8Array(new Float32Array(classes).buffer), null);
  }
  const r = opts.logitRange ?? 16;
  for (const n of [node, ...after]) {
    for (const id of n.outputs) {
      const t = g.tensors[id];
      t.shape = [...t.shape.slice(0, -1), classes];
      if (int8 && n === node) t.quant = asymmetricInt8({ min: -r, max: r });
      if (int8 && n !== node && (n.op === 'RESHAPE' || n.op === 'SQUEEZE')) t.quant = g.tensors[n.inputs[0]].quant;
    }
    if (n.op === 'RESHAPE') {
      const target = g.tensors[n.outputs[0]].shape;
      n.options = { newShape: [...target] };
      if (n.inputs[1] !== undefined && n.inputs[1] >= 0) setConstant(g, g.tensors[n.inputs[1]], [target.length], 'int32', new Uint8Array(new Int32Array(target).buffer), null);
    }
  }
  void head;
  return g;
}

function setConstant(g: Graph, t: Tensor, shape: number[], dtype: Tensor['dtype'], data: Uint8Array, quant: Tensor['quant']): void {
  const id: TensorId = t.id;
  g.tensors[id] = { ...t, shape, dtype, data, quant };
}
