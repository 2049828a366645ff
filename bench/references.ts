import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED } from './shared.js';

/**
 * Peers' figures as ../shared/README.md publishes them ("Measured here" tables): read at bench time, so
 * the bench and the README always compare against the same numbers and no product code knows of them.
 */
export interface TflmM4Figures {
  cmsisNnM4: number;
  cmsisNnM7: number | null;
  referenceM4: number;
  arenaBytes: number;
}

export interface NodePeerFigures {
  litertMs: number | null;
  tflmNativeMs: number | null;
}

function num(cell: string): number | null {
  const v = Number(cell.replace(/[,\s]/g, ''));
  return cell.trim() !== '' && Number.isFinite(v) ? v : null;
}

/** Rows (cells by column) of the first markdown table under the heading that contains `heading`. */
function tableUnder(text: string, heading: string): string[][] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith('#') && l.includes(heading));
  if (start < 0) return [];
  const rows: string[][] = [];
  for (let i = start + 1; i < lines.length && !lines[i].startsWith('#'); i++) {
    const l = lines[i].trim();
    if (!l.startsWith('|')) { if (rows.length) break; continue; }
    const cells = l.slice(1, -1).split('|').map((c) => c.trim());
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
    rows.push(cells);
  }
  return rows.slice(1);
}

function readme(): string {
  const path = join(SHARED, 'README.md');
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** TFLite Micro on QEMU mps2-an386/an500: instructions per Invoke and arena, by model id. */
export function tflmM4Figures(): Map<string, TflmM4Figures> {
  const out = new Map<string, TflmM4Figures>();
  for (const r of tableUnder(readme(), 'TensorFlow Lite Micro on an emulated Cortex-M4')) {
    const [model, m4, m7, ref, arena] = r;
    const cmsisNnM4 = num(m4 ?? '');
    const referenceM4 = num(ref ?? '');
    const arenaBytes = num(arena ?? '');
    if (model && cmsisNnM4 !== null && referenceM4 !== null && arenaBytes !== null) {
      out.set(model, { cmsisNnM4, cmsisNnM7: num(m7 ?? ''), referenceM4, arenaBytes });
    }
  }
  return out;
}

/** LiteRT.js in Node and TFLite Micro's reference kernels natively, milliseconds per inference, by model id. */
export function nodePeerFigures(): Map<string, NodePeerFigures> {
  const out = new Map<string, NodePeerFigures>();
  for (const [model, litert, native] of tableUnder(readme(), 'LiteRT.js in Node')) {
    if (model) out.set(model, { litertMs: num(litert ?? ''), tflmNativeMs: num(native ?? '') });
  }
  return out;
}
