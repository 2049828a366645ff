/**
 * One model's inference row, printed as JSON: `node dist/bench/inference_one.js MODEL_ID`. The bench runs each
 * model in a process of its own, so what an earlier model leaves behind (heap, WebAssembly memories, LiteRT.js
 * sessions) cannot slow a later one: in one process the later rows ran up to 1.5x slower, ours and LiteRT.js's.
 */
import { benchInference } from './inference.js';
import { benchManifests } from './shared.js';

const id = process.argv[2];
const m = benchManifests().find((x) => x.id === id);
if (!m) {
  console.error(`no bench manifest "${id}"`);
  process.exit(2);
}
console.log(JSON.stringify(await benchInference(m)));
