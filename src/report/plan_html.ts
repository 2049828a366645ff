import type { PlanSummary } from './plan_summary.js';
import { int as fmt, kb } from './format.js';

/**
 * `tinyml plan --html`: one self-contained page (inline SVG and CSS, no script, nothing fetched) with the
 * strategies table, memory over execution steps, the arena layout (each buffer a rectangle: steps across,
 * offsets up) and per-layer bars of live memory.
 */
const W = 960;
const H = 280;
const PAD = { left: 64, right: 16, top: 16, bottom: 36 };

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

interface Scale {
  x(step: number): number;
  y(bytes: number): number;
  stepWidth: number;
}

function scale(nSteps: number, maxBytes: number): Scale {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const stepWidth = plotW / Math.max(nSteps, 1);
  return {
    x: (s) => PAD.left + s * stepWidth,
    y: (b) => PAD.top + plotH - (b / Math.max(maxBytes, 1)) * plotH,
    stepWidth,
  };
}

function axes(sc: Scale, nSteps: number, maxBytes: number): string {
  const ticks: string[] = [];
  for (let k = 0; k <= 4; k++) {
    const b = (maxBytes * k) / 4;
    const y = sc.y(b).toFixed(1);
    ticks.push(`<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}"/><text class="tick" x="${PAD.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${kb(b)}</text>`);
  }
  const every = Math.max(1, Math.ceil(nSteps / 16));
  for (let s = 0; s < nSteps; s += every) {
    ticks.push(`<text class="tick" x="${(sc.x(s) + sc.stepWidth / 2).toFixed(1)}" y="${H - PAD.bottom + 14}" text-anchor="middle">${s}</text>`);
  }
  ticks.push(`<text class="tick" x="${(W + PAD.left) / 2}" y="${H - 4}" text-anchor="middle">execution step</text>`);
  return ticks.join('');
}

function arenaLine(sc: Scale, arena: number): string {
  const y = sc.y(arena).toFixed(1);
  return `<line class="arena" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}"/><text class="arena-label" x="${W - PAD.right}" y="${Number(y) - 4}" text-anchor="end">arena ${fmt(arena)} B</text>`;
}

function memoryChart(s: PlanSummary): string {
  const n = s.steps.length;
  const max = Math.max(s.peakBytes, ...s.steps.map((r) => r.liveBytes)) * 1.08;
  const sc = scale(n, max);
  const pts = s.steps.map((r) => `${(sc.x(r.step) + sc.stepWidth / 2).toFixed(1)},${sc.y(r.liveBytes).toFixed(1)}`);
  const area = `${(sc.x(0) + sc.stepWidth / 2).toFixed(1)},${sc.y(0)} ${pts.join(' ')} ${(sc.x(n - 1) + sc.stepWidth / 2).toFixed(1)},${sc.y(0)}`;
  const dots = s.steps.map((r) => `<circle class="point${r.step === s.peakStep ? ' peak' : ''}" cx="${(sc.x(r.step) + sc.stepWidth / 2).toFixed(1)}" cy="${sc.y(r.liveBytes).toFixed(1)}" r="${r.step === s.peakStep ? 4 : 2}"><title>step ${r.step}: node ${r.node} ${esc(r.op)}, ${fmt(r.liveBytes)} bytes live</title></circle>`);
  return `<svg id="memory-chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="memory over execution steps">${axes(sc, n, max)}<polygon class="live-area" points="${area}"/><polyline class="live-line" points="${pts.join(' ')}"/>${dots.join('')}${arenaLine(sc, s.peakBytes)}</svg>`;
}

function layoutChart(s: PlanSummary): string {
  const n = s.steps.length;
  const top = Math.max(s.peakBytes, ...s.buffers.map((b) => b.offset + b.bytes), 1) * 1.04;
  const sc = scale(n, top);
  const rects = s.buffers.map((b, i) => {
    // A group whose size changes (an in-place output narrower than its input) is drawn step by step.
    const spans = b.profile ? b.profile.map((bytes, k) => ({ step: b.first + k, steps: 1, bytes })) : [{ step: b.first, steps: b.last - b.first + 1, bytes: b.bytes }];
    const kind = b.id < 0 ? 'scratch' : `hue${i % 6}`;
    const title = `<title>${esc(b.label)}: ${fmt(b.bytes)} bytes at offset ${fmt(b.offset)}, steps ${b.first}–${b.last}</title>`;
    return spans.map((sp) => {
      const y = sc.y(b.offset + sp.bytes);
      const h = Math.max(1, sc.y(b.offset) - y);
      return `<rect class="buffer ${kind}" x="${sc.x(sp.step).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, sc.stepWidth * sp.steps - 1).toFixed(1)}" height="${h.toFixed(1)}">${title}</rect>`;
    }).join('');
  });
  return `<svg id="layout-chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="arena layout">${axes(sc, n, top)}${rects.join('')}${arenaLine(sc, s.peakBytes)}</svg>`;
}

function layerBars(s: PlanSummary): string {
  const rowH = 16;
  const labelW = 230;
  const barW = W - labelW - 90;
  const max = Math.max(...s.layers.map((r) => r.liveBytes), 1);
  const peak = Math.max(...s.layers.map((r) => r.liveBytes));
  const height = s.layers.length * rowH + 8;
  const bars = s.layers.map((r, i) => {
    const y = 4 + i * rowH;
    const w = (r.liveBytes / max) * barW;
    const ow = (Math.min(r.outputBytes, r.liveBytes) / max) * barW;
    const tag = r.patched ? ' (patches)' : '';
    return `<g class="layer${r.liveBytes === peak ? ' peak' : ''}${r.patched ? ' patched' : ''}"><text class="tick" x="${labelW - 6}" y="${y + rowH / 2}" text-anchor="end" dominant-baseline="middle">${r.node}: ${esc(r.op)}${tag}</text>`
      + `<rect class="bar" x="${labelW}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 4}"><title>node ${r.node} ${esc(r.op)}: ${fmt(r.liveBytes)} bytes live at most, output ${fmt(r.outputBytes)} bytes, ${fmt(r.macs)} MACs</title></rect>`
      + `<rect class="out-bar" x="${labelW}" y="${y + 2}" width="${ow.toFixed(1)}" height="${rowH - 4}"/>`
      + `<text class="tick" x="${labelW + w + 6}" y="${y + rowH / 2}" dominant-baseline="middle">${kb(r.liveBytes)}</text></g>`;
  });
  return `<svg id="layer-bars" viewBox="0 0 ${W} ${height}" role="img" aria-label="live memory per layer">${bars.join('')}</svg>`;
}

function strategiesTable(s: PlanSummary): string {
  const rows = s.rows.map((r) => `<tr class="${r.chosen ? 'chosen' : ''}"><td>${r.chosen ? '★ ' : ''}${esc(r.name)}</td><td>${fmt(r.arenaBytes)}</td><td>${fmt(r.lowerBound)}</td>`
    + `<td>${s.referenceArenaBytes ? `${(r.arenaBytes / s.referenceArenaBytes).toFixed(2)}×` : '–'}</td><td>${fmt(r.extraMacs)}</td><td>${r.provenOptimal ? 'optimal' : esc(r.note)}</td></tr>`);
  return `<table id="strategies"><thead><tr><th>strategy</th><th>peak SRAM (B)</th><th>lower bound (B)</th><th>vs reference</th><th>extra MACs</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px auto; max-width: 1000px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
table { border-collapse: collapse; } td, th { padding: 3px 10px; text-align: right; border-bottom: 1px solid #ddd; }
td:first-child, th:first-child, td:last-child { text-align: left; } tr.chosen { font-weight: 600; background: #eef6ee; }
svg { width: 100%; height: auto; display: block; }
.grid { stroke: #e4e4e4; } .tick { font-size: 11px; fill: #555; }
.live-area { fill: #4a7fb5; fill-opacity: 0.18; } .live-line { fill: none; stroke: #4a7fb5; stroke-width: 1.5; }
.point { fill: #4a7fb5; } .point.peak { fill: #c0392b; }
.arena { stroke: #c0392b; stroke-dasharray: 6 4; } .arena-label { font-size: 11px; fill: #c0392b; }
.buffer { stroke: #fff; stroke-width: 0.5; } .scratch { fill: #999; }
.hue0 { fill: #4a7fb5; } .hue1 { fill: #e08e3c; } .hue2 { fill: #5aa469; } .hue3 { fill: #b5584a; } .hue4 { fill: #8a6bb5; } .hue5 { fill: #3ca3a3; }
.bar { fill: #4a7fb5; fill-opacity: 0.35; } .out-bar { fill: #4a7fb5; } .layer.peak .bar { fill: #c0392b; } .layer.patched .bar { fill: #5aa469; }
`;

export function planHtml(s: PlanSummary): string {
  const tflm = s.referenceArenaBytes ? `, ${(s.peakBytes / s.referenceArenaBytes).toFixed(2)}× the reference arena of ${fmt(s.referenceArenaBytes)} bytes` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tinyml plan: ${esc(s.model)}</title><style>${CSS}</style></head>
<body>
<h1>Memory plan: ${esc(s.model)}</h1>
<p id="summary">Peak SRAM <b>${fmt(s.peakBytes)} bytes</b> (${kb(s.peakBytes)})${tflm}; lower bound ${fmt(s.lowerBound)} bytes;
greedy by size without reuse tricks ${fmt(s.baselineBytes)} bytes; best layer by layer ${fmt(s.layerwiseBytes)} bytes.
${s.patch ? `Patch-based: ${esc(s.patch.name)} over nodes ${s.patch.firstNode}–${s.patch.lastNode}, ${fmt(s.patch.extraMacs)} extra MACs.` : `No patch-based plan: ${esc(s.patchNote)}.`}
${s.inPlaceNodes} node(s) in place, ${s.aliases} alias(es);
${s.steps.length} steps, ${fmt(s.totalMacs)} MACs.</p>
<h2>Strategies</h2>
${strategiesTable(s)}
<h2>Memory over execution steps</h2>
${memoryChart(s)}
<h2>Arena layout</h2>
${layoutChart(s)}
<h2>Live memory per layer <small>(light: all live buffers, the most over the layer's steps; dark: the layer's full output; green: run patch by patch)</small></h2>
${layerBars(s)}
</body></html>
`;
}
