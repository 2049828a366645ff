/**
 * How stage 1 reads: a grid of (width x resolution) cells with the fraction of samples that fit and the
 * mean MACs of those that do, the chosen cell marked; the CDF of MACs of the best cells as a terminal
 * line chart (asciichart) and as inline SVG for the HTML report.
 */
import asciichart from 'asciichart';
import { int, kb } from '../report/format.js';
import type { SpaceCell, SpaceResult } from './space_opt.js';
import { cdfAt } from './space_opt.js';

const mmacs = (m: number) => `${(m / 1e6).toFixed(1)}M`;

/** The cells to draw: the chosen one and the next best by mean MACs (cells with fitting subnets only). */
export function chartCells(r: SpaceResult, n = 4): SpaceCell[] {
  const ranked = r.cells.filter((c) => c.fitting > 0).sort((a, b) => b.meanMacs - a.meanMacs);
  const top = ranked.slice(0, n);
  if (r.best && !top.includes(r.best)) top.splice(n - 1, 1, r.best);
  return top;
}

export function cellName(c: SpaceCell): string {
  return `w${c.width}-r${c.resolution}`;
}

/** Grid: rows are widths, columns resolutions; each cell "fit% / mean MMACs". */
export function spaceGrid(r: SpaceResult): string[] {
  const widths = [...new Set(r.cells.map((c) => c.width))];
  const res = [...new Set(r.cells.map((c) => c.resolution))];
  const cell = (w: number, x: number) => r.cells.find((c) => c.width === w && c.resolution === x);
  const colW = 15;
  const lines = [`${'width \\ res'.padEnd(11)}${res.map((x) => String(x).padStart(colW)).join('')}`];
  for (const w of widths) {
    let line = String(w).padEnd(11);
    for (const x of res) {
      const c = cell(w, x);
      const text = !c ? '' : c.fitting === 0 ? '0%' : `${Math.round((100 * c.fitting) / c.sampled)}% ${mmacs(c.meanMacs)}${c === r.best ? '*' : ''}`;
      line += text.padStart(colW);
    }
    lines.push(line);
  }
  return lines;
}

/** CDF of MACs of the fitting subnets of `cells` at `width` points from just under the least to the largest. */
export function cdfSeries(cells: readonly SpaceCell[], width: number): { minMacs: number; maxMacs: number; series: number[][] } {
  const maxMacs = Math.max(1, ...cells.map((c) => c.macs[c.macs.length - 1] ?? 0));
  const least = Math.min(...cells.map((c) => c.macs[0] ?? maxMacs));
  const minMacs = Math.max(0, least - (maxMacs - least) / width);
  const at = (i: number) => minMacs + ((maxMacs - minMacs) * i) / (width - 1);
  const series = cells.map((c) => Array.from({ length: width }, (_, i) => cdfAt(c, at(i))));
  return { minMacs, maxMacs, series };
}

const COLORS = [asciichart.blue, asciichart.red, asciichart.green, asciichart.magenta, asciichart.cyan];

/**
 * The CDF chart. Series are told apart by colour only, so without colour (a pipe, a log) it draws the
 * chosen cell alone; the percentile table beside it compares the cells in any medium.
 */
export function cdfChart(r: SpaceResult, colour: boolean, width = 64, height = 10): string[] {
  const ranked = chartCells(r);
  if (ranked.length === 0) return ['(no cell has a subnet that fits: nothing to chart)'];
  const cells = colour ? ranked : [r.best ?? ranked[0]];
  const { minMacs, maxMacs, series } = cdfSeries(cells, width);
  const plot = asciichart.plot(series, {
    height, min: 0, max: 1,
    format: (x) => `${Math.round(x * 100)}%`.padStart(5),
    ...(colour ? { colors: COLORS.slice(0, series.length) } : {}),
  });
  const legend = cells.map((c, i) => `${colour ? `${COLORS[i]}───${asciichart.reset} ` : ''}${cellName(c)}${c === r.best ? ' (chosen)' : ''}`);
  const pct = (c: SpaceCell, q: number) => mmacs(c.macs[Math.min(c.macs.length - 1, Math.floor(q * c.macs.length))]);
  const table = ['cell'.padEnd(14) + ['fit', 'p10', 'median', 'p90', 'max'].map((h) => h.padStart(9)).join(''),
    ...ranked.map((c) => `${cellName(c)}${c === r.best ? '*' : ''}`.padEnd(14)
      + [`${Math.round((100 * c.fitting) / c.sampled)}%`, pct(c, 0.1), pct(c, 0.5), pct(c, 0.9), pct(c, 1)].map((v) => v.padStart(9)).join(''))];
  return [
    'MACs of the subnets that fit, best cells by mean (* chosen):',
    ...table,
    '',
    'CDF of MACs among the subnets that fit (right is better: more computation within the limits)',
    ...plot.split('\n'),
    `${' '.repeat(7)}${mmacs(minMacs)} MACs${' '.repeat(Math.max(1, width - 18))}${mmacs(maxMacs)} MACs`,
    `${' '.repeat(7)}${legend.join('   ')}`,
  ];
}

export function spaceSummary(r: SpaceResult): string[] {
  const l = r.limits;
  const lines = [
    `search space ${r.space}: ${r.cells.length} (width, resolution) cells x ${int(r.samples)} subnets sampled (seed ${r.seed})`,
    `limits: ${l.name}: SRAM ${int(l.sramBytes)} B${l.reservedSramBytes ? ` (arena + ${int(l.reservedSramBytes)} B stack)` : ''}, Flash ${int(l.flashBytes)} B${l.maxMacs !== undefined ? `, at most ${int(l.maxMacs)} MACs` : ''}${l.maxWeightBytes !== undefined ? `, weights at most ${int(l.maxWeightBytes)} B` : ''}`,
    'SRAM from our planner (layer-wise, greedy packing: an upper bound of what compile achieves); Flash = int8 weights + int32 biases + code estimate',
    '',
    'fraction of samples that fit, and the mean MACs of those that fit (* chosen):',
    ...spaceGrid(r),
    '',
  ];
  if (r.best) {
    const b = r.best;
    lines.push(`chosen space: width ${b.width}, resolution ${b.resolution}: ${b.fitting} of ${b.sampled} samples fit, mean ${mmacs(b.meanMacs)} MACs (median ${mmacs(b.macs[b.macs.length >> 1])}, max ${mmacs(b.macs[b.macs.length - 1])})`);
  } else {
    const least = r.cells.reduce((a, c) => (c.minSramBytes < a.minSramBytes ? c : a));
    lines.push(`no cell has ${Math.round(r.minFitFraction * 100)} % of its samples within the limits; the least SRAM sampled was ${kb(least.minSramBytes)} (${cellName(least)})`);
  }
  return lines;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const SVG_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#17becf'];

/** The CDF chart as inline SVG (no script). */
export function cdfSvg(r: SpaceResult, W = 720, H = 300): string {
  const cells = chartCells(r);
  if (cells.length === 0) return '<p>No cell has a subnet that fits.</p>';
  const pad = { l: 56, r: 16, t: 16, b: 40 };
  const n = 120;
  const { minMacs, maxMacs, series } = cdfSeries(cells, n);
  const x = (i: number) => pad.l + (i / (n - 1)) * (W - pad.l - pad.r);
  const y = (v: number) => pad.t + (1 - v) * (H - pad.t - pad.b);
  const paths = series.map((s, k) => `<path d="${s.map((v, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}" fill="none" stroke="${SVG_COLORS[k]}" stroke-width="2"><title>${esc(cellName(cells[k]))}</title></path>`);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((v) => `<text x="${pad.l - 6}" y="${y(v) + 4}" text-anchor="end">${v * 100}%</text><line x1="${pad.l}" x2="${W - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
  const xt = [0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${pad.l + f * (W - pad.l - pad.r)}" y="${H - pad.b + 16}" text-anchor="middle">${mmacs(minMacs + f * (maxMacs - minMacs))}</text>`);
  const legend = cells.map((c, k) => `<span style="color:${SVG_COLORS[k]}">&#9632; ${esc(cellName(c))}${c === r.best ? ' (chosen)' : ''}</span>`).join(' &nbsp; ');
  return `<svg class="cdf" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-size="11">${ticks.join('')}${xt.join('')}${paths.join('')}`
    + `<text x="${(W + pad.l) / 2}" y="${H - 6}" text-anchor="middle">MACs</text></svg><p>${legend}</p>`;
}

/** The stage-1 section of the search report: summary, grid and CDF. */
export function spaceHtml(r: SpaceResult): string {
  const widths = [...new Set(r.cells.map((c) => c.width))];
  const res = [...new Set(r.cells.map((c) => c.resolution))];
  const rows = widths.map((w) => `<tr><th>${w}</th>${res.map((x) => {
    const c = r.cells.find((e) => e.width === w && e.resolution === x);
    if (!c) return '<td></td>';
    const frac = c.fitting / c.sampled;
    return `<td class="${c === r.best ? 'best' : ''}" style="background:rgba(31,119,180,${(0.08 + 0.5 * frac).toFixed(2)})">${Math.round(frac * 100)}%<br>${c.fitting ? mmacs(c.meanMacs) : '–'}</td>`;
  }).join('')}</tr>`);
  return `<h2>Stage 1: search-space optimisation</h2><pre>${esc(spaceSummary(r).join('\n'))}</pre>`
    + `<table class="grid"><tr><th>width \\ resolution</th>${res.map((x) => `<th>${x}</th>`).join('')}</tr>${rows.join('')}</table>`
    + `<h3>CDF of MACs of the subnets that fit</h3>${cdfSvg(r)}`;
}
