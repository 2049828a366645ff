/** From a trained float model to the int8 model a device runs: post-training quantisation, then .tflite. */
import type { Graph } from '../graph/graph.js';
import { calibrate, quantizeGraph } from '../quant/ptq.js';
import { writeTflite } from '../tflite/writer.js';
import type { Samples } from '../data/samples.js';
import { shuffledIndices } from '../util/random.js';

/** Calibrate activation ranges on `samples` samples of `data` (a seeded random subset) and quantise to int8. */
export function quantizeTrained(g: Graph, data: Samples, samples = 200, seed = 1): Graph {
  const n = Math.min(samples, data.size);
  const order = shuffledIndices(data.size, seed);
  function* inputs(): Generator<Float32Array[]> {
    for (let i = 0; i < n; i++) {
      const x = new Float32Array(data.sampleSize);
      data.read(order[i], x, 0);
      yield [x];
    }
  }
  return quantizeGraph(g, calibrate(g, inputs()));
}

/** The .tflite bytes of a (trained) model. */
export function exportTflite(g: Graph): Uint8Array {
  return writeTflite(g);
}
