import cliProgress from 'cli-progress';
import { InputError } from '../errors.js';
import type { Limits } from '../nas/resources.js';
import { boardLimits, budgetLimits } from '../nas/resources.js';
import { CostPool, defaultWorkers } from '../nas/pool.js';
import type { SpaceConfig } from '../nas/space.js';
import { findSpace } from '../nas/space.js';
import type { SpaceResult } from '../nas/space_opt.js';
import { optimiseSpace } from '../nas/space_opt.js';
import { cdfChart, spaceHtml, spaceSummary } from '../nas/space_report.js';
import { checkFileOutput, writeFileAtomic } from '../util/output.js';
import { parseBoard } from './compile_flags.js';
import { parseBytes } from './train.js';

/** `tinyml search` options as commander hands them over. */
export interface SearchCliOptions {
  board?: string;
  sram?: string;
  flash?: string;
  maxMacs?: string;
  space?: string;
  spaceSamples?: string;
  widths?: string;
  resolutions?: string;
  workers?: string;
  seed?: string;
  spaceOnly?: boolean;
  data?: string;
  report?: string;
  json?: boolean;
  progress?: boolean;
}

export interface SearchRequest {
  space: SpaceConfig;
  limits: Limits;
  samples: number;
  widths: number[];
  resolutions: number[];
  workers: number;
  seed: number;
  report?: string;
}

function count(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new InputError(`${flag} takes a positive integer, got "${text}"`);
  return Number(text);
}

/** "15M", "2.5G", "400k", "12000000": a MAC count. */
export function parseMacs(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg])?\s*$/i.exec(text);
  if (!m) throw new InputError(`--max-macs "${text}" is not a count (e.g. 15M, 400k, 12000000)`);
  const scale = { k: 1e3, m: 1e6, g: 1e9 }[(m[2] ?? '').toLowerCase() as 'k' | 'm' | 'g'] ?? 1;
  return Math.round(Number(m[1]) * scale);
}

/** A comma list that must be a subset of the space's choices. */
function subset(text: string | undefined, flag: string, choices: readonly number[]): number[] {
  if (text === undefined) return [...choices];
  const vals = text.split(',').map((s) => Number(s.trim()));
  const bad = vals.filter((v) => !choices.includes(v));
  if (vals.length === 0 || bad.length) throw new InputError(`${flag}: ${bad.join(', ') || text} not among the space's choices (${choices.join(', ')})`);
  return vals;
}

export function parseSearchOptions(o: SearchCliOptions): SearchRequest {
  const board = parseBoard(o.board);
  const maxMacs = o.maxMacs !== undefined ? parseMacs(o.maxMacs) : undefined;
  let limits: Limits;
  if (board) {
    if (o.sram !== undefined || o.flash !== undefined) throw new InputError('give either --board or --sram and --flash, not both');
    limits = boardLimits(board, maxMacs);
  } else {
    if (o.sram === undefined || o.flash === undefined) throw new InputError('the limits are needed: --board NAME, or --sram BYTES and --flash BYTES');
    limits = budgetLimits(parseBytes(o.sram), parseBytes(o.flash), maxMacs);
  }
  const space = findSpace(o.space ?? 'mbv2-cifar');
  if (!o.spaceOnly) {
    throw new InputError('only stage 1 (search-space optimisation) is built so far: add --space-only. The one-shot stage (supernet training on --data, evolutionary search) is issue 13\'s next step');
  }
  if (o.report !== undefined) checkFileOutput(o.report);
  return {
    space, limits,
    samples: count(o.spaceSamples, '--space-samples', 1000),
    widths: subset(o.widths, '--widths', space.widths),
    resolutions: subset(o.resolutions, '--resolutions', space.resolutions),
    workers: count(o.workers, '--workers', defaultWorkers()),
    seed: count(o.seed, '--seed', 1),
    report: o.report,
  };
}

export function searchHtml(r: SpaceResult): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>tinyml search: ${r.space} for ${r.limits.name}</title><style>
body{font-family:system-ui,sans-serif;margin:24px;max-width:1000px}pre{background:#f6f6f6;padding:8px;overflow:auto}
table.grid{border-collapse:collapse}table.grid td,table.grid th{border:1px solid #ccc;padding:4px 8px;text-align:center;font-size:12px}
td.best{outline:3px solid #d62728}</style></head><body><h1>TinyNAS search: ${r.space}</h1>${spaceHtml(r)}</body></html>\n`;
}

export async function searchCommand(o: SearchCliOptions): Promise<number> {
  const req = parseSearchOptions(o);
  const showProgress = o.progress !== false && !o.json && process.stderr.isTTY;
  const cells = req.widths.length * req.resolutions.length;
  const bar = showProgress ? new cliProgress.SingleBar({ format: 'space {bar} {value}/{total} cells | {cell} | {eta_formatted} left', stream: process.stderr }, cliProgress.Presets.shades_classic) : null;
  bar?.start(cells, 0, { cell: '' });
  const pool = new CostPool(req.workers);
  let result: SpaceResult;
  try {
    result = await optimiseSpace(req.space, req.limits, {
      samples: req.samples, seed: req.seed, widths: req.widths, resolutions: req.resolutions,
      evaluate: (space, archs, limits) => pool.costs('screen', space, archs, limits),
      onCell: (done, _total, c) => bar?.update(done, { cell: `w${c.width}-r${c.resolution}: ${c.fitting}/${c.sampled} fit` }),
    });
  } finally {
    bar?.stop();
    await pool.close();
  }
  if (req.report) writeFileAtomic(req.report, searchHtml(result));
  if (o.json) {
    const cellsOut = result.cells.map(({ macs, ...c }) => ({ ...c, medianMacs: macs.length ? macs[macs.length >> 1] : 0, maxMacs: macs.length ? macs[macs.length - 1] : 0 }));
    console.log(JSON.stringify({ space: result.space, limits: result.limits, samples: result.samples, seed: result.seed, best: result.best ? { width: result.best.width, resolution: result.best.resolution, meanMacs: result.best.meanMacs } : null, cells: cellsOut }, null, 2));
  } else {
    console.log([...spaceSummary(result), '', ...cdfChart(result, process.stdout.isTTY === true)].join('\n'));
    if (req.report) console.log(`\nreport: ${req.report}`);
  }
  return result.best ? 0 : 3;
}
