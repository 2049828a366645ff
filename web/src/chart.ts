import type { Timeline } from './analysis.js';

/**
 * Memory over execution steps as inline SVG: one chart per plan, on one byte scale so the two compare at
 * a glance; the arena as a dashed line, the peak step marked.
 */
const W = 720;
const H = 200;
const PAD = { left: 70, right: 12, top: 14, bottom: 30 };
const SVG_NS = 'http://www.w3.org/2000/svg';

function svgEl(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(bytes < 10240 ? 1 : 0)} KB`;
}

/** One plan's live bytes per step; `maxBytes` is shared by the charts shown together. */
export function memoryChart(t: Timeline, maxBytes: number): SVGSVGElement {
  const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, class: `memory-chart${t.chosen ? ' chosen' : ''}`, role: 'img' }) as SVGSVGElement;
  svg.appendChild(svgEl('title', {}, `${t.label}: bytes live per execution step`));
  const n = t.liveBytes.length;
  const plotW = W - PAD.left - PAD.right, plotH = H - PAD.top - PAD.bottom;
  const x = (s: number) => PAD.left + (n <= 1 ? plotW / 2 : (s / (n - 1)) * plotW);
  const y = (b: number) => PAD.top + plotH - (b / Math.max(1, maxBytes)) * plotH;
  for (let k = 0; k <= 4; k++) {
    const b = (maxBytes * k) / 4;
    svg.appendChild(svgEl('line', { class: 'grid', x1: PAD.left, x2: W - PAD.right, y1: y(b), y2: y(b) }));
    svg.appendChild(svgEl('text', { class: 'tick', x: PAD.left - 6, y: y(b) + 4, 'text-anchor': 'end' }, kib(b)));
  }
  const every = Math.max(1, Math.ceil(n / 12));
  for (let s = 0; s < n; s += every) svg.appendChild(svgEl('text', { class: 'tick', x: x(s), y: H - PAD.bottom + 14, 'text-anchor': 'middle' }, String(s)));
  svg.appendChild(svgEl('text', { class: 'tick', x: PAD.left + plotW / 2, y: H - 2, 'text-anchor': 'middle' }, 'execution step'));
  const pts = t.liveBytes.map((b, s) => `${x(s).toFixed(1)},${y(b).toFixed(1)}`);
  svg.appendChild(svgEl('polygon', { class: 'live-area', points: `${x(0).toFixed(1)},${y(0)} ${pts.join(' ')} ${x(n - 1).toFixed(1)},${y(0)}` }));
  svg.appendChild(svgEl('polyline', { class: 'live-line', points: pts.join(' ') }));
  svg.appendChild(svgEl('line', { class: 'arena', x1: PAD.left, x2: W - PAD.right, y1: y(t.arenaBytes), y2: y(t.arenaBytes) }));
  svg.appendChild(svgEl('text', { class: 'arena-label', x: W - PAD.right, y: y(t.arenaBytes) - 4, 'text-anchor': 'end' }, `arena ${t.arenaBytes.toLocaleString('en-US')} B`));
  t.liveBytes.forEach((b, s) => {
    const dot = svgEl('circle', { class: s === t.peakStep ? 'point peak' : 'point', cx: x(s), cy: y(b), r: s === t.peakStep ? 4 : 2 });
    dot.appendChild(svgEl('title', {}, `step ${s}: ${b.toLocaleString('en-US')} bytes live`));
    svg.appendChild(dot);
  });
  return svg;
}

/** The largest value the charts of these plans must show. */
export function sharedMax(ts: readonly Timeline[]): number {
  return Math.max(1, ...ts.flatMap((t) => [t.arenaBytes, ...t.liveBytes])) * 1.08;
}
