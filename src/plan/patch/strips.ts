import type { AnyNode, Graph, Tensor, TensorId } from '../../graph/graph.js';
import { tensorBytes } from '../../graph/graph.js';
import type { Region, Span, Window } from './region.js';
import { clip, inputRegion, splitSpan, windowOf } from './region.js';
import type { PatchGraph, Piece } from './rewrite.js';
import { Builder, crop, overlayFits, padAmounts, recomputedMacs, shapeOf, slicePiece } from './rewrite.js';
import type { Stage } from './stage.js';
import { isElementwise } from './stage.js';

/**
 * The model rewritten to run its first stage in n full-width strips, top to bottom, with a row cache per
 * layer instead of recomputed halos: each layer computes each of its output rows once, in the strip that
 * first needs it, and keeps the rows of its input that its next window still reads (k - stride rows for a
 * k-tall, stride-s window). The strips are n near-equal spans of a driver tensor (the deepest stage tensor
 * with at least n rows): layers up to the driver compute what the driver's span needs, layers after it
 * every row their input already allows (a line-buffer pipeline), so a strip may be finer than one row of
 * the split tensor. Still only ordinary ops on ordinary tensors:
 * - a STRIDED_SLICE cuts each strip's rows out of the stage input (no cache: the input stays whole);
 * - a STRIDED_SLICE keeps a layer's cached rows out of its window once the layer has run, and another
 *   copies them back just before the layer feeding it runs in the next strip: the window's CONCATENATION
 *   [cached rows, new rows] then joins in place (the new rows are computed where the window holds them),
 *   so a window's buffer lives only within its strip and only the cached rows (a few hundred bytes per
 *   layer) cross from one strip to the next. (Keeping them before the layer runs, so it could run in
 *   place, packed worse: person_detect 24x1@7 17,664 B against 16,896.);
 * - the convolutions pad their windows explicitly by what SAME padding reads (left and right on every
 *   strip, top and bottom at the edges), as the tile rewrite does;
 * - CONCATENATION along height joins the strips' output rows into the split tensor, in place.
 * Only chains qualify (each node reads the one before), every padded read by an int8 or float32 convolution.
 */

/** The input rows (unclipped) that output rows `out` read through window `w`. */
function readsOf(w: Window, out: Span): Span {
  return inputRegion(w, { rows: out, cols: { lo: 0, hi: 1 } }).rows;
}

/** How many output rows (from the top) a layer can compute from the first `avail` of its `inH` input rows. */
function rowsAllowed(w: Window, avail: number, inH: number, outH: number): number {
  if (avail >= inH) return outH;
  let c = 0;
  while (c < outH && Math.min(inH, readsOf(w, { lo: c, hi: c + 1 }).hi) <= avail) c++;
  return c;
}

/**
 * Rows [0, done[s][L]) of stage node L's output that strips 0..s have produced: the driver's spans, the
 * layers before it what those need, the layers after it what their inputs allow.
 */
function rowsDone(g: Graph, stage: Stage, n: number): number[][] | null {
  const m = stage.nodes.length;
  const height = (L: number): number => g.tensors[g.nodes[stage.nodes[L]].outputs[0]].shape[1];
  const inHeight = (L: number): number => g.tensors[g.nodes[stage.nodes[L]].inputs[0]].shape[1];
  const win = (L: number): Window => stage.windows.get(stage.nodes[L])!;
  let driver = m - 1;
  while (driver >= 0 && height(driver) < n) driver--;
  if (driver < 0) return null;
  return splitSpan(height(driver), n).map(({ hi: end }) => {
    const done = new Array<number>(m);
    done[driver] = end;
    for (let L = driver; L > 0; L--) done[L - 1] = done[L] === 0 ? 0 : Math.min(inHeight(L), readsOf(win(L), { lo: 0, hi: done[L] }).hi);
    for (let L = driver + 1; L < m; L++) done[L] = rowsAllowed(win(L), done[L - 1], inHeight(L), height(L));
    return done;
  });
}

/** Each node reads the one before (the first reads the stage input), and only that activation. */
function isChain(g: Graph, stage: Stage): boolean {
  return stage.nodes.every((i, L) => {
    const node = g.nodes[i] as AnyNode;
    const prev = L === 0 ? stage.input : g.nodes[stage.nodes[L - 1]].outputs[0];
    // An elementwise op's other inputs would be read whole beside a strip of the first.
    const others = isElementwise(node) ? node.inputs.slice(1).filter((x) => x >= 0) : node.inputs.slice(1).filter((x) => x >= 0 && !g.tensors[x].data);
    return node.inputs[0] === prev && others.length === 0;
  });
}

function fullWidth(t: Tensor, lo: number, hi: number): Region {
  return { rows: { lo, hi }, cols: { lo: 0, hi: t.shape[2] } };
}

/** A copy of rows [lo, hi) of a piece, always a new tensor (crop returns the piece itself when it is all of it). */
function copyRows(b: Builder, src: Piece, lo: number, hi: number, like: Tensor, tag: string): Piece {
  return slicePiece(b, src, fullWidth(like, lo, hi), like, tag, `${like.name}${tag}`);
}

/** Joins consecutive full-width row pieces of one tensor into one (in place when the planner can). */
function joinRows(b: Builder, parts: Piece[], like: Tensor, tag: string): Piece {
  if (parts.length === 1) return parts[0];
  const region = fullWidth(like, parts[0].region.rows.lo, parts[parts.length - 1].region.rows.hi);
  const out = b.tensor(like, `${like.name}${tag}/window`, shapeOf(like, region));
  b.node('CONCATENATION', parts.map((p) => p.id), [out], { axis: 1, activation: 'NONE' }, -1);
  return { id: out, region };
}

/** Emits stage node `i` over `window` for output rows [lo, hi); null when its padding cannot be made explicit. */
function emitLayer(b: Builder, i: number, window: Piece, lo: number, hi: number, tag: string): Piece | null {
  const g = b.g;
  const node = g.nodes[i] as AnyNode;
  const x = g.tensors[node.inputs[0]];
  const y = g.tensors[node.outputs[0]];
  const w = windowOf(node, g)!;
  const reads = inputRegion(w, fullWidth(y, lo, hi));
  const pads = padAmounts(reads, clip(reads, x.shape[1], x.shape[2]));
  const padded = pads.some((p) => p !== 0);
  const conv = node.op === 'CONV_2D' || node.op === 'DEPTHWISE_CONV_2D';
  if (padded && !(conv && (x.dtype === 'int8' || x.dtype === 'float32'))) return null;
  const yId = b.tensor(y, `${y.name}${tag}`, shapeOf(y, fullWidth(y, lo, hi)));
  if (conv || node.op === 'AVERAGE_POOL_2D' || node.op === 'MAX_POOL_2D') {
    // The window and the explicit padding supply every padded pixel (a fused PAD's own is dropped).
    const { explicitPadding: _fused, ...options } = node.options as typeof node.options & { explicitPadding?: unknown };
    const explicit = padded ? { explicitPadding: { top: pads[2], bottom: pads[3], left: pads[4], right: pads[5] } } : {};
    b.node(node.op, [window.id, ...node.inputs.slice(1)], [yId], { ...options, padding: 'VALID', ...explicit } as never, i, node.version);
  } else if (isElementwise(node)) {
    b.node(node.op, [window.id, ...node.inputs.slice(1)], [yId], node.options as never, i, node.version);
  } else {
    return null;
  }
  return { id: yId, region: fullWidth(y, lo, hi) };
}

export function stripGraph(g: Graph, order: readonly number[], stage: Stage, n: number): PatchGraph | null {
  if (n < 2 || !isChain(g, stage)) return null;
  const done = rowsDone(g, stage, n);
  if (!done) return null;
  const m = stage.nodes.length;
  const b = new Builder(g);
  for (const i of order.slice(0, stage.first)) b.copy(g.nodes[i] as AnyNode);
  const X = g.tensors[stage.input];
  const whole: Piece = { id: stage.input, region: fullWidth(X, 0, X.shape[1]) };
  const inputOf = (L: number): Tensor => g.tensors[g.nodes[stage.nodes[L]].inputs[0]];
  const windowRows = (L: number, lo: number, hi: number): Span =>
    clip(inputRegion(stage.windows.get(stage.nodes[L])!, fullWidth(g.tensors[g.nodes[stage.nodes[L]].outputs[0]], lo, hi)), inputOf(L).shape[1], inputOf(L).shape[2]).rows;
  // held[L]: rows of stage node L's input kept for its next window (none for the stage input, kept whole).
  const held: (Piece | null)[] = new Array(m).fill(null);
  const outRows: TensorId[] = [];
  const firstInputRow: number[] = [];
  let floorBytes = tensorBytes(X);
  for (let s = 0; s < n; s++) {
    const tag = `@s${s}`;
    // At a strip's first step the stage input and every cache are live, each in its own bytes.
    floorBytes = Math.max(floorBytes, held.reduce((sum, h) => sum + (h ? tensorBytes(b.tensors[h.id]) : 0), tensorBytes(X)));
    const lo = (L: number): number => (s === 0 ? 0 : done[s - 1][L]);
    const hi = (L: number): number => done[s][L];
    let window: Piece | null = null;
    let keepFrom: { piece: Piece; next: number } | null = null;
    for (let L = 0; L < m; L++) {
      const i = stage.nodes[L];
      if (hi(L) <= lo(L)) { window = null; continue; }
      const x = inputOf(L);
      const rows = windowRows(L, lo(L), hi(L));
      if (L === 0) {
        window = crop(b, whole, fullWidth(X, rows.lo, rows.hi), X, `${tag}/n${i}`);
        firstInputRow[s] = rows.lo;
      } else {
        // The layer before computed nothing new this strip (its rows beyond are never read): the cache is the window.
        window ??= held[L];
        if (!window || window.region.rows.lo > rows.lo || window.region.rows.hi < rows.hi) {
          throw new Error(`strips: node ${i} strip ${s} needs rows ${rows.lo}..${rows.hi} of its input, the cache and the new rows do not hold them: planner bug`);
        }
        // What later windows read is kept once this layer has run (below).
        const next = Math.max(rows.lo, windowRows(L, hi(L), hi(L) + 1).lo);
        keepFrom = s + 1 < n && next < window.region.rows.hi ? { piece: window, next } : null;
        // A layer that runs ahead of this one (after the driver) leaves rows for the next strip.
        window = crop(b, window, fullWidth(x, rows.lo, rows.hi), x, `${tag}/n${i}`);
      }
      // The next layer's cached rows go back just before this layer computes its new rows beside them.
      const nextWindow = L + 1 < m && hi(L + 1) > lo(L + 1) ? windowRows(L + 1, lo(L + 1), hi(L + 1)) : null;
      const kept = nextWindow && held[L + 1] && held[L + 1]!.region.rows.hi > nextWindow.lo ? held[L + 1]! : null;
      const cached = kept ? copyRows(b, kept, Math.max(nextWindow!.lo, kept.region.rows.lo), kept.region.rows.hi, inputOf(L + 1), `${tag}/n${stage.nodes[L + 1]}/cache`) : null;
      const fresh = emitLayer(b, i, window!, lo(L), hi(L), tag);
      if (!fresh) return null;
      if (L > 0) held[L] = keepFrom ? copyRows(b, keepFrom.piece, keepFrom.next, keepFrom.piece.region.rows.hi, inputOf(L), `${tag}/n${i}/keep`) : null;
      if (L + 1 === m) { outRows.push(fresh.id); break; }
      const y = g.tensors[g.nodes[i].outputs[0]];
      if (!nextWindow) {
        // The next layer waits for more rows: these join its cache until it runs.
        held[L + 1] = held[L + 1] ? joinRows(b, [held[L + 1]!, fresh], y, `${tag}/n${stage.nodes[L + 1]}/pending`) : fresh;
        window = null;
        continue;
      }
      const parts = cached ? [cached] : [];
      if (fresh.region.rows.hi > nextWindow.lo) parts.push(crop(b, fresh, fullWidth(y, Math.max(nextWindow.lo, fresh.region.rows.lo), fresh.region.rows.hi), y, `${tag}/n${i}/new`));
      window = parts.length ? joinRows(b, parts, y, `${tag}/n${stage.nodes[L + 1]}`) : null;
    }
  }
  b.node('CONCATENATION', outRows, [stage.output], { axis: 1, activation: 'NONE' }, -1);
  for (const i of order.slice(stage.last + 1)) b.copy(g.nodes[i] as AnyNode);
  const graph: Graph = { ...g, tensors: b.tensors, nodes: b.nodes };
  const ends = done.map((d) => d[m - 1]);
  return { graph, origin: b.origin, extraMacs: recomputedMacs(g, b, graph, stage), n, cols: 1, floorBytes, overlayOnInput: overlayFits(g, stage, ends, firstInputRow) };
}
