/**
 * TFLite_Detection_PostProcess (TFLite Micro's detection_postprocess.cc, a custom op): SSD box decoding
 * and non-max suppression, float32 only (as in TFLite Micro).
 *
 * Boxes are decoded from centre-size encodings against the anchors (in double, then float, as the
 * reference). Fast NMS ranks each anchor by its best class score and suppresses once over all anchors,
 * writing the top `max_classes_per_detection` classes of each kept anchor; regular NMS suppresses class
 * by class (at most `detections_per_class` each) and keeps the best `max_detections` overall. Ties sort
 * as the reference's sorts do: a stable merge sort by decreasing score for the NMS candidates, and
 * (score descending, index ascending) for the partial sorts. Outputs: boxes [ymin, xmin, ymax, xmax],
 * classes (as float, background excluded), scores and the detection count. Slots past the count are zero
 * (regular NMS writes them; fast NMS leaves them, and we clear them).
 */
import type { Graph, Node } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import { InputError, ModelFormatError, UnsupportedOpError } from '../errors.js';
import type { DetectionPostProcessOptions } from '../graph/options.js';
import type { Kernel, OpDef } from './op.js';
import { inputTensor, outputTensor } from './op.js';

const f32 = Math.fround;
type DppNode = Node<'TFLite_Detection_PostProcess'>;

export function detectionGeometry(node: DppNode, g: Graph): { numBoxes: number; withBackground: number } {
  const boxes = inputTensor(node, g, 0), scores = inputTensor(node, g, 1), anchors = inputTensor(node, g, 2);
  const fail = (what: string): never => { throw new ModelFormatError(`node ${node.index} (${node.op})`, what); };
  if (boxes.shape.length !== 3 || scores.shape.length !== 3 || anchors.shape.length !== 2) fail('box encodings and class predictions must be 3-D, anchors 2-D');
  if (boxes.shape[0] !== 1 || scores.shape[0] !== 1) fail('batch must be 1');
  const numBoxes = boxes.shape[1];
  if (boxes.shape[2] < 4 || scores.shape[1] !== numBoxes || anchors.shape[0] !== numBoxes || anchors.shape[1] !== 4) {
    fail('box encodings [1, boxes, >= 4], class predictions [1, boxes, classes] and anchors [boxes, 4] disagree');
  }
  const withBackground = scores.shape[2];
  const classes = node.options.numClasses;
  if (withBackground - classes > 1 || withBackground < classes) fail(`${withBackground} class scores for ${classes} classes`);
  return { numBoxes, withBackground };
}

/** Output rows: fast NMS writes max_classes_per_detection classes per detection, regular NMS one. */
export function detectionOutputRows(o: DetectionPostProcessOptions): number {
  return o.useRegularNms ? o.maxDetections : o.maxDetections * Math.min(o.maxClassesPerDetection, o.numClasses);
}

/** Indices 0..n-1 by decreasing value, ties by index (the reference's partial sort order). */
function decreasingPartialArgSort(values: ArrayLike<number>, n: number): number[] {
  return Array.from({ length: n }, (_, i) => i).sort((i, j) => values[j] - values[i] || i - j);
}

function intersectionOverUnion(b: Float32Array, i: number, j: number): number {
  const areaI = f32(f32(b[4 * i + 2] - b[4 * i]) * f32(b[4 * i + 3] - b[4 * i + 1]));
  const areaJ = f32(f32(b[4 * j + 2] - b[4 * j]) * f32(b[4 * j + 3] - b[4 * j + 1]));
  if (areaI <= 0 || areaJ <= 0) return 0;
  const ymin = Math.max(b[4 * i], b[4 * j]), xmin = Math.max(b[4 * i + 1], b[4 * j + 1]);
  const ymax = Math.min(b[4 * i + 2], b[4 * j + 2]), xmax = Math.min(b[4 * i + 3], b[4 * j + 3]);
  const inter = f32(Math.max(f32(ymax - ymin), 0) * Math.max(f32(xmax - xmin), 0));
  return f32(inter / f32(f32(areaI + areaJ) - inter));
}

/** NonMaxSuppressionSingleClassHelper: anchors kept for one score column, best first. */
function nmsSingleClass(node: DppNode, boxes: Float32Array, scores: ArrayLike<number>, numBoxes: number, maxDetections: number): number[] {
  const o = node.options;
  for (let i = 0; i < numBoxes; i++) {
    if (boxes[4 * i] >= boxes[4 * i + 2] || boxes[4 * i + 1] >= boxes[4 * i + 3]) {
      throw new InputError(`node ${node.index} (${node.op}): decoded box ${i} is empty or inverted (the reference fails too)`);
    }
  }
  const kept: number[] = [];
  for (let i = 0; i < numBoxes; i++) if (scores[i] >= o.nmsScoreThreshold) kept.push(i);
  // Stable sort by decreasing score (the reference's merge sort).
  const order = kept.map((_, k) => k).sort((a, b) => scores[kept[b]] - scores[kept[a]]);
  const limit = Math.min(kept.length, maxDetections);
  const active = new Array<boolean>(kept.length).fill(true);
  let activeCount = kept.length;
  const selected: number[] = [];
  for (let i = 0; i < kept.length; i++) {
    if (activeCount === 0 || selected.length >= limit) break;
    if (!active[i]) continue;
    selected.push(kept[order[i]]);
    active[i] = false;
    activeCount--;
    for (let j = i + 1; j < kept.length; j++) {
      if (active[j] && intersectionOverUnion(boxes, kept[order[i]], kept[order[j]]) > o.nmsIouThreshold) {
        active[j] = false;
        activeCount--;
      }
    }
  }
  return selected;
}

/**
 * The C kernel's scratch (tm_detection.h, tm_detection_carve): decoded boxes (4 floats a box), the ranked
 * score, the candidates and the selected boxes (one float or int32 a box each), regular NMS's detections
 * (anchor, class, score) for max_detections plus one class's detections_per_class, and a byte per candidate.
 */
export function detectionScratchBytes(o: DetectionPostProcessOptions, numBoxes: number): number {
  const kept = o.useRegularNms ? 12 * (o.maxDetections + o.detectionsPerClass) : 0;
  return 16 * numBoxes + 3 * 4 * numBoxes + kept + numBoxes;
}

export const detectionPostProcess: OpDef<'TFLite_Detection_PostProcess'> = {
  name: 'TFLite_Detection_PostProcess',
  maxVersion: 1,
  role: 'other',
  differentiableInputs: (node) => node.inputs.map(() => false),
  inferShapes(node) {
    const rows = detectionOutputRows(node.options);
    return [[1, rows, 4], [1, rows], [1, rows], [1]];
  },
  prepare(node, g, views) {
    const o = node.options;
    const { numBoxes, withBackground } = detectionGeometry(node, g);
    const ins = [0, 1, 2].map((i) => inputTensor(node, g, i)), outs = [0, 1, 2, 3].map((i) => outputTensor(node, g, i));
    if ([...ins, ...outs].some((t) => t.dtype !== 'float32')) throw new UnsupportedOpError(node.op, node.index, 'float32 tensors only (as in TFLite Micro)');
    if (!(o.nmsIouThreshold > 0 && o.nmsIouThreshold <= 1)) throw new UnsupportedOpError(node.op, node.index, `IoU threshold ${o.nmsIouThreshold} outside (0, 1]`);
    if (o.useRegularNms ? o.detectionsPerClass <= 0 : o.maxClassesPerDetection <= 0) {
      throw new UnsupportedOpError(node.op, node.index, o.useRegularNms ? 'detections_per_class must be positive' : 'max_classes_per_detection must be positive');
    }
    const encodings = views.float32(ins[0].id), scores = views.float32(ins[1].id), anchors = views.float32(ins[2].id);
    const [outBoxes, outClasses, outScores, outCount] = outs.map((t) => views.float32(t.id));
    const stride = ins[0].shape[2];
    const labelOffset = withBackground - o.numClasses;
    const decoded = new Float32Array(4 * numBoxes);
    const decode = (): void => {
      for (let i = 0; i < numBoxes; i++) {
        const [y, x, h, w] = [0, 1, 2, 3].map((k) => encodings[i * stride + k]);
        const [ay, ax, ah, aw] = [0, 1, 2, 3].map((k) => anchors[4 * i + k]);
        const yc = f32((y / o.yScale) * ah + ay), xc = f32((x / o.xScale) * aw + ax);
        const hh = f32(0.5 * Math.exp(h / o.hScale) * ah), hw = f32(0.5 * Math.exp(w / o.wScale) * aw);
        decoded.set([f32(yc - hh), f32(xc - hw), f32(yc + hh), f32(xc + hw)], 4 * i);
      }
    };
    const put = (row: number, anchor: number, cls: number, score: number): void => {
      outBoxes.set(decoded.subarray(4 * anchor, 4 * anchor + 4), 4 * row);
      outClasses[row] = cls;
      outScores[row] = score;
    };
    const classScore = (anchor: number, cls: number): number => scores[anchor * withBackground + cls + labelOffset];

    const regular = (): number => {
      let kept: { index: number; score: number }[] = [];
      const column = new Float32Array(numBoxes);
      for (let c = 0; c < o.numClasses; c++) {
        for (let a = 0; a < numBoxes; a++) column[a] = classScore(a, c);
        for (const a of nmsSingleClass(node, decoded, column, numBoxes, o.detectionsPerClass)) {
          kept.push({ index: a * withBackground + c + labelOffset, score: column[a] });
        }
        const order = decreasingPartialArgSort(kept.map((k) => k.score), kept.length);
        kept = order.slice(0, Math.min(kept.length, o.maxDetections)).map((i) => kept[i]);
      }
      kept.forEach((k, row) => {
        const anchor = Math.floor(k.index / withBackground);
        put(row, anchor, k.index - anchor * withBackground - labelOffset, k.score);
      });
      return kept.length;
    };

    const fast = (): number => {
      const perAnchor = Math.min(o.maxClassesPerDetection, o.numClasses);
      const best: number[][] = [];
      const maxScores = new Float32Array(numBoxes);
      for (let a = 0; a < numBoxes; a++) {
        const row = Array.from({ length: o.numClasses }, (_, c) => classScore(a, c));
        best.push(decreasingPartialArgSort(row, o.numClasses).slice(0, perAnchor));
        maxScores[a] = row[best[a][0]];
      }
      let row = 0;
      for (const a of nmsSingleClass(node, decoded, maxScores, numBoxes, o.maxDetections)) {
        for (const c of best[a]) put(row++, a, c, classScore(a, c));
      }
      return row;
    };

    const rows = detectionOutputRows(o);
    if (numElements(outs[0].shape) !== 4 * rows) throw new ModelFormatError(`node ${node.index} (${node.op})`, `detection boxes must hold ${rows} boxes`);
    return () => {
      decode();
      outBoxes.fill(0);
      outClasses.fill(0);
      outScores.fill(0);
      outCount[0] = o.useRegularNms ? regular() : fast();
    };
  },
  scratchBytes: (node, g) => detectionScratchBytes(node.options, detectionGeometry(node, g).numBoxes),
  macs(node, g) {
    const { numBoxes } = detectionGeometry(node, g);
    return numBoxes * numBoxes * Math.max(1, node.options.useRegularNms ? node.options.numClasses : 1);
  },
};
