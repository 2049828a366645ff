import { buildMobileNetV2, seededRandom, TINY_MOBILENET_V2 } from './mobilenet_v2.js';
import { calibrate, quantizeGraph } from '../quant/ptq.js';
import { writeTflite } from '../tflite/writer.js';
import { numElements } from '../graph/graph.js';

export const DEFAULT_MODEL_FILE = 'models/tinyml-default-int8.tflite';

/**
 * The bundled default model: our MobileNetV2-style network, quantised to int8 by our own PTQ on seeded
 * smooth random images, written by our own TFLite writer. Deterministic: same bytes every time.
 */
export function makeDefaultModel(calibrationSamples = 8): Uint8Array {
  const g = buildMobileNetV2(TINY_MOBILENET_V2);
  const inShape = g.tensors[g.inputs[0]].shape;
  const rand = seededRandom(7);
  const samples: Float32Array[][] = [];
  for (let s = 0; s < calibrationSamples; s++) {
    // Smooth images in [-1, 1] (a few random gradients) exercise the network more like photos than noise.
    const [, h, w, c] = inShape;
    const x = new Float32Array(numElements(inShape));
    const a = rand() * 4 - 2, b = rand() * 4 - 2, p = rand() * 6;
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) {
      x[(i * w + j) * c + k] = Math.sin(a * i / h * Math.PI + b * j / w * Math.PI + p + k) * 0.9 + (rand() - 0.5) * 0.2;
    }
    samples.push([x]);
  }
  // Ranges rounded to 4 significant digits: the file then does not change when a float kernel's
  // summation order changes the last bit of a calibrated minimum or maximum.
  const ranges = calibrate(g, samples);
  for (const r of ranges.values()) {
    r.min = Number(r.min.toPrecision(4));
    r.max = Number(r.max.toPrecision(4));
  }
  const q = quantizeGraph(g, ranges);
  return writeTflite(q);
}
