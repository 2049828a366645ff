/**
 * The search's final report: the winner against the limits, the accuracy of every scored subnet against
 * its SRAM and MACs with the Pareto front (the candidates no other beats on both), and the winner's
 * per-layer table; stage 1's grid and CDF when it ran.
 */
import { compileModel } from '../compiler/compile_model.js';
import { int, kb, shapes } from '../report/format.js';
import { modelReport } from '../report/layers.js';
import type { Candidate } from './evolution.js';
import type { SearchOutcome } from './search.js';
import { spaceHtml } from './space_report.js';

const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

/** Candidates not beaten on both accuracy and the resource (lower is better). */
export function paretoFront(history: readonly Candidate[], resource: (c: Candidate) => number): Candidate[] {
  const sorted = [...history].sort((a, b) => resource(a) - resource(b) || b.score - a.score);
  const front: Candidate[] = [];
  let best = -Infinity;
  for (const c of sorted) if (c.score > best) { front.push(c); best = c.score; }
  return front;
}

export function searchSummary(o: SearchOutcome): string[] {
  const w = o.winner;
  const c = w.cost;
  return [
    `cell: width ${o.cell.width}, resolution ${o.cell.resolution}${o.spaceResult ? ' (chosen by stage 1)' : ''}${o.resumed ? '; resumed from a checkpoint' : ''}`,
    `supernet: ${int(o.supernetSteps)} sandwich steps, ${(o.supernetSeconds / 60).toFixed(1)} min, ${o.teacher ? `subnets within the limits, teacher ${o.teacher}` : 'the whole cell, its largest network the teacher'}`,
    `evolution: ${o.evolution.generations} generations, ${o.evolution.history.length} subnets scored`,
    `fine-tuning: ${int(o.finetuneSteps)} steps`,
    `winner: ${w.key}`,
    `  validation accuracy, weights inherited from the supernet: ${pct(w.inheritedAccuracy)}`,
    `  test accuracy after fine-tuning: float32 ${pct(w.floatAccuracy)}, int8 ${pct(w.int8Accuracy.accuracy)} (${int(w.int8Accuracy.correct)} / ${int(w.int8Accuracy.count)}, our interpreter)`,
    `  ${int(c.macs)} MACs, ${int(c.params)} parameters; peak SRAM ${int(c.sramBytes)} B (${c.plan} arena ${int(c.arenaBytes)} B${c.sramBytes > c.arenaBytes ? ' + stack' : ''}), Flash ${int(c.flashBytes)} B (weights ${int(c.constantBytes)} B + code estimate)`,
    ...(c.instructions !== undefined ? [`  ${int(c.instructions)} Cortex-M4 instructions per inference (our kernels, measured under QEMU)`] : []),
    `  ${c.fits ? 'fits' : `DOES NOT FIT: ${c.misses.join(', ')} on`} ${o.limits.name}`,
  ];
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

/** Accuracy (validation, inherited weights) against a resource, the front drawn as a line. */
function scatterSvg(history: readonly Candidate[], winner: string, resource: (c: Candidate) => number, label: string, W = 460, H = 300): string {
  if (history.length === 0) return '';
  const pad = { l: 56, r: 12, t: 12, b: 40 };
  const xs = history.map(resource), ys = history.map((c) => c.score);
  // A flat axis (every candidate alike) gets a margin, so points sit in the middle, not on an edge.
  const span = (v: number[], pad: number): [number, number] => {
    const lo = Math.min(...v), hi = Math.max(...v);
    return hi - lo > 1e-9 ? [lo, hi] : [lo - pad, hi + pad];
  };
  const [x0, x1] = span(xs, Math.max(1, Math.abs(xs[0]) * 0.05));
  const [y0, y1] = span(ys, 0.01);
  const sx = (v: number) => pad.l + ((v - x0) / Math.max(1e-9, x1 - x0)) * (W - pad.l - pad.r);
  const sy = (v: number) => pad.t + (1 - (v - y0) / Math.max(1e-9, y1 - y0)) * (H - pad.t - pad.b);
  const front = paretoFront(history, resource);
  const dots = history.map((c) => `<circle cx="${sx(resource(c)).toFixed(1)}" cy="${sy(c.score).toFixed(1)}" r="${c.key === winner ? 6 : 3}" fill="${c.key === winner ? '#d62728' : front.includes(c) ? '#1f77b4' : '#aaa'}"><title>${esc(c.key)}: ${pct(c.score)}</title></circle>`);
  const line = `<path d="${front.map((c, i) => `${i ? 'L' : 'M'}${sx(resource(c)).toFixed(1)},${sy(c.score).toFixed(1)}`).join(' ')}" fill="none" stroke="#1f77b4"/>`;
  const fmt = (v: number) => (v >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : kb(v));
  return `<svg width="${W}" height="${H}" font-size="11"><text x="${pad.l}" y="${H - 22}">${fmt(x0)}</text><text x="${W - pad.r}" y="${H - 22}" text-anchor="end">${fmt(x1)}</text>`
    + `<text x="${(W + pad.l) / 2}" y="${H - 6}" text-anchor="middle">${esc(label)}</text><text x="${pad.l - 6}" y="${sy(y1) + 4}" text-anchor="end">${pct(y1)}</text>`
    + `<text x="${pad.l - 6}" y="${sy(y0) + 4}" text-anchor="end">${pct(y0)}</text>${line}${dots.join('')}</svg>`;
}

export function searchHtmlReport(o: SearchOutcome, title: string): string {
  // Layers as the model has them (the layer-wise plan); the deployed plan may split a stage into patches.
  const c = compileModel(o.model, { objective: 'memory' });
  const rep = modelReport(c.prepared, c.layerwise);
  const rows = rep.layers.map((l) => `<tr><td>${l.node}</td><td>${l.op}</td><td>${shapes(l.inputShapes)}</td><td>${shapes(l.outputShapes)}</td><td>${int(l.macs)}</td><td>${int(l.weightBytes)}</td><td>${l.step === rep.peakStep ? '<b>' : ''}${int(l.liveBytes)}${l.step === rep.peakStep ? '</b>' : ''}</td></tr>`);
  const h = o.evolution.history;
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title><style>
body{font-family:system-ui,sans-serif;margin:24px;max-width:1000px}pre{background:#f6f6f6;padding:8px;overflow:auto}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;font-size:12px;text-align:right}td:nth-child(2){text-align:left}
table.grid td,table.grid th{text-align:center}td.best{outline:3px solid #d62728}</style></head><body><h1>${esc(title)}</h1>
<h2>Result</h2><pre>${esc(searchSummary(o).join('\n'))}</pre>
${o.spaceResult ? spaceHtml(o.spaceResult) : ''}
<h2>Stage 2: evolutionary search</h2><p>Validation accuracy with inherited weights of every scored subnet; blue: the Pareto front, red: the winner.</p>
${scatterSvg(h, o.winner.key, (x) => x.cost.sramBytes, 'peak SRAM')} ${scatterSvg(h, o.winner.key, (x) => x.cost.macs, 'MACs')}
<h2>The winner, layer by layer (int8; live bytes of the layer-wise plan, ${int(c.layerwise.arenaBytes)} B; least-memory plan: ${c.kind}, ${int(c.plan.arenaBytes)} B)</h2>
<table><tr><th>node</th><th>op</th><th>input</th><th>output</th><th>MACs</th><th>weights (B)</th><th>live (B)</th></tr>${rows.join('')}</table>
</body></html>\n`;
}
