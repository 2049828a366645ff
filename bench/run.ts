import { benchManifests, writeReadmeSection } from './shared.js';
import { benchInference } from './inference.js';
import type { InferenceRow } from './inference.js';

/**
 * `npm run bench`: prints the benchmark tables as Markdown; `npm run bench -- --readme` also writes
 * them into README.md so the README's numbers always come from this script.
 */
function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}

function inferenceTable(rows: InferenceRow[]): string {
  const lines = [
    '| model | tinyml-ts median (ms, Node) | TFLM ref. native (ms) | ratio | our arena (bytes) | TFLM arena (bytes) | arena ratio |',
    '|---|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of rows) {
    const ratio = r.nativeMs ? `${(r.medianMs / r.nativeMs).toFixed(2)}x` : '–';
    lines.push(`| ${r.model} | ${r.medianMs < 1 ? r.medianMs.toFixed(3) : r.medianMs.toFixed(2)} | ${r.nativeMs ?? '–'} | ${ratio} | ${fmtInt(r.arenaBytes)} | ${fmtInt(r.tflmArenaBytes)} | ${(r.arenaBytes / r.tflmArenaBytes).toFixed(2)} |`);
  }
  return lines.join('\n');
}

const rows: InferenceRow[] = [];
for (const m of benchManifests()) {
  try {
    const r = benchInference(m);
    rows.push(r);
    console.error(`${m.id}: ${r.medianMs.toFixed(2)} ms (${r.runs} runs)`);
  } catch (e) {
    console.error(`${m.id}: FAILED — ${(e as Error).message}`);
  }
}
const table = inferenceTable(rows);
console.log('\n## Inference (interpreter, greedy-by-size arena)\n');
console.log(table);
if (process.argv.includes('--readme')) {
  writeReadmeSection('bench-inference', `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)} (2-core machine, Node ${process.version}).\n\n${table}`);
}
