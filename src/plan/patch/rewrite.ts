import type { AnyNode, Graph, Node, Tensor, TensorId } from '../../graph/graph.js';
import { tensorBytes } from '../../graph/graph.js';
import type { ExplicitPadding, OpName, OpOptionsMap } from '../../graph/options.js';
import type { OpDef } from '../../ops/op.js';
import { OPS } from '../../ops/registry.js';
import type { Region } from './region.js';
import { area, clip, inputRegion, sameRegion, splitSpan, union } from './region.js';
import type { Stage } from './stage.js';
import { isElementwise } from './stage.js';

/**
 * The model rewritten to run its first stage patch by patch (MCUNetV2): for each of n x n patches of the
 * split tensor, the stage's ops on just the windows they need, then the patches assembled into the split
 * tensor and the rest of the network unchanged. Everything is ordinary ops on ordinary tensors, so the
 * interpreter, the planner and the code generator run it as they run any graph:
 * - a STRIDED_SLICE cuts each patch's window (with its halo) out of the stage input;
 * - where a window reaches past the image edge, the convolution pads its patch explicitly by what SAME
 *   padding would have read there (the zero point, which adds nothing to its sum; int8 and float32), or a
 *   PAD adds it (other types) and the convolution runs VALID — the same sums in the same order, so the
 *   same bytes;
 * - a STRIDED_SLICE also trims a tensor when its consumers want different windows of it (residual blocks);
 * - CONCATENATION along width joins a row of patches, and along height joins the rows into the split
 *   tensor (in place: each row is produced where the split tensor holds it).
 * Tensor ids of the original graph are kept; new tensors are appended.
 */
export interface PatchGraph {
  graph: Graph;
  /** For each node of the new graph: the original node it computes, or -1 for slicing, padding and joining. */
  origin: number[];
  /** MACs of the stage run patch by patch, minus once layer by layer: the halo recomputation. */
  extraMacs: number;
  /** Patches down the split tensor (rows of patches). */
  n: number;
  /** Patches across: n for n x n tiles, 1 for full-width strips with row caches (strips.ts). */
  cols: number;
  /** Bytes some step must hold whatever the packing (strips: the stage input and every row cache); the search skips candidates whose floor cannot beat a planned one. */
  floorBytes?: number;
  /**
   * True when the split tensor may start where the stage input starts: each row of patches is written
   * only over input rows no later patch reads (the input shrinks faster than the output grows).
   */
  overlayOnInput: boolean;
}

/** Appends nodes and tensors to a copy of a graph, recording which original node each new node computes. */
export class Builder {
  readonly tensors: Tensor[];
  readonly nodes: AnyNode[] = [];
  readonly origin: number[] = [];

  constructor(readonly g: Graph) {
    this.tensors = g.tensors.map((t) => ({ ...t }));
  }

  tensor(like: Tensor, name: string, shape: number[]): TensorId {
    const id = this.tensors.length;
    this.tensors.push({ id, name, shape, dtype: like.dtype, quant: like.quant, data: null });
    return id;
  }

  int32(name: string, shape: number[], values: number[]): TensorId {
    const id = this.tensors.length;
    const data = new Uint8Array(new Int32Array(values).buffer);
    this.tensors.push({ id, name: `${name}#${id}`, shape, dtype: 'int32', quant: null, data });
    return id;
  }

  node<K extends OpName>(op: K, inputs: TensorId[], outputs: TensorId[], options: OpOptionsMap[K], origin: number, version = 1): void {
    const n: Node<K> = { index: this.nodes.length, op, version, inputs, outputs, options };
    this.nodes.push(n as unknown as AnyNode);
    this.origin.push(origin);
  }

  copy(node: AnyNode): void {
    this.nodes.push({ ...node, index: this.nodes.length } as AnyNode);
    this.origin.push(node.index);
  }
}

const NO_MASKS = { beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0, offset: false };

/** Where a patch's copy of a tensor lives and which window of the full tensor it holds. */
export interface Piece {
  id: TensorId;
  region: Region;
}

export function shapeOf(t: Tensor, r: Region): number[] {
  return [1, r.rows.hi - r.rows.lo, r.cols.hi - r.cols.lo, t.shape[3]];
}

/** A STRIDED_SLICE copying `want` (inside the piece's window) into a new tensor named `name`. */
export function slicePiece(b: Builder, src: Piece, want: Region, like: Tensor, tag: string, name: string): Piece {
  const begin = [0, want.rows.lo - src.region.rows.lo, want.cols.lo - src.region.cols.lo, 0];
  const end = [1, want.rows.hi - src.region.rows.lo, want.cols.hi - src.region.cols.lo, like.shape[3]];
  const out = b.tensor(like, name, shapeOf(like, want));
  b.node('STRIDED_SLICE', [src.id, b.int32(`${tag}/begin`, [4], begin), b.int32(`${tag}/end`, [4], end), b.int32(`${tag}/strides`, [4], [1, 1, 1, 1])], [out], NO_MASKS, -1);
  return { id: out, region: want };
}

/** Slice `want` (inside `have`) out of a piece: nothing when they are the same window. */
export function crop(b: Builder, src: Piece, want: Region, like: Tensor, tag: string): Piece {
  return sameRegion(src.region, want) ? src : slicePiece(b, src, want, like, tag, `${like.name}${tag}/crop`);
}

/** MACs of the rewritten stage's nodes minus the stage's once layer by layer: what the split recomputes. */
export function recomputedMacs(g: Graph, b: Builder, graph: Graph, stage: Stage): number {
  let patched = 0;
  b.nodes.forEach((node, k) => { if (b.origin[k] >= 0 && stage.nodes.includes(b.origin[k])) patched += computeMacs(graph, node); });
  return patched - stage.nodes.reduce((s, i) => s + computeMacs(g, g.nodes[i] as AnyNode), 0);
}

/**
 * Whether the split tensor may start where the stage input starts. Part k of the split tensor (a row of
 * patches, or a strip) ends at byte ends[k] * rowBytesT; later parts read input bytes from
 * min(firstRead[k + 1..]) * rowBytesX on, so each part must end at or before that, and nothing outside the
 * stage may read the input.
 */
export function overlayFits(g: Graph, stage: Stage, ends: readonly number[], firstRead: readonly (number | undefined)[]): boolean {
  const T = g.tensors[stage.output];
  const X = g.tensors[stage.input];
  const inputOnlyInStage = !g.outputs.includes(stage.input)
    && g.nodes.every((node) => stage.nodes.includes(node.index) || !node.inputs.includes(stage.input));
  const rowBytesT = tensorBytes(T) / T.shape[1];
  const rowBytesX = tensorBytes(X) / X.shape[1];
  return inputOnlyInStage && ends.every((end, k) => {
    const later = Math.min(Infinity, ...firstRead.slice(k + 1).filter((r): r is number => r !== undefined));
    return k === ends.length - 1 || end * rowBytesT <= later * rowBytesX;
  });
}

export function padAmounts(need: Region, have: Region): number[] {
  return [0, 0, have.rows.lo - need.rows.lo, need.rows.hi - have.rows.hi, have.cols.lo - need.cols.lo, need.cols.hi - have.cols.hi, 0, 0];
}

/** Runs the stage for one patch of the split tensor; returns the patch's piece of it and the input rows it reads. */
function emitPatch(b: Builder, stage: Stage, input: Piece, patch: Region, tag: string): { piece: Piece; inputRows: Region['rows'] } {
  const g = b.g;
  const needs = new Map<TensorId, Region>([[stage.output, patch]]);
  const edge = new Map<string, Region>();
  for (const i of [...stage.nodes].reverse()) {
    const node = g.nodes[i] as AnyNode;
    const out = node.outputs[0];
    const want = needs.get(out);
    if (!want) continue;
    const y = g.tensors[out];
    const computed = clip(want, y.shape[1], y.shape[2]);
    const w = stage.windows.get(i)!;
    const xs = isElementwise(node) ? node.inputs : [node.inputs[0]];
    for (const x of xs) {
      const reads = inputRegion(w, computed);
      edge.set(`${i}:${x}`, reads);
      needs.set(x, union(needs.get(x), reads));
    }
  }
  const pieces = new Map<TensorId, Piece>();
  const X = g.tensors[stage.input];
  const inputWindow = clip(needs.get(stage.input)!, X.shape[1], X.shape[2]);
  pieces.set(stage.input, crop(b, input, inputWindow, X, tag));
  for (const i of stage.nodes) {
    const node = g.nodes[i] as AnyNode;
    const out = node.outputs[0];
    const want = needs.get(out);
    if (!want) continue;
    const y = g.tensors[out];
    const computed = clip(want, y.shape[1], y.shape[2]);
    const xs = isElementwise(node) ? node.inputs : [node.inputs[0]];
    const ins: TensorId[] = [];
    let padded = false;
    let explicit: ExplicitPadding | null = null;
    for (const x of xs) {
      const t = g.tensors[x];
      const reads = edge.get(`${i}:${x}`)!;
      const inside = clip(reads, t.shape[1], t.shape[2]);
      let piece = crop(b, pieces.get(x)!, inside, t, `${tag}/n${i}`);
      const pads = padAmounts(reads, inside);
      if (pads.some((p) => p !== 0)) {
        if (node.op === 'PAD' || node.op === 'PADV2') {
          padded = true;
        } else if ((node.op === 'CONV_2D' || node.op === 'DEPTHWISE_CONV_2D') && (t.dtype === 'int8' || t.dtype === 'float32')) {
          // The convolution pads itself (as a fused PAD, src/plan/fuse_pad.ts): its kernels read a missing
          // tap as the zero point (0.0 for float), what a PAD would write; no padded copy, no PAD step.
          explicit = { top: pads[2], bottom: pads[3], left: pads[4], right: pads[5] };
        } else if (node.op === 'CONV_2D' || node.op === 'DEPTHWISE_CONV_2D') {
          const p = b.tensor(t, `${t.name}${tag}/pad`, shapeOf(t, reads));
          b.node('PAD', [piece.id, b.int32(`${tag}/n${i}/pads`, [4, 2], pads)], [p], {}, -1);
          piece = { id: p, region: reads };
        } else {
          throw new Error(`patch: node ${i} (${node.op}) would read outside its input`);
        }
      }
      ins.push(piece.id);
    }
    if ((node.op === 'PAD' || node.op === 'PADV2') && !padded) {
      // This patch lies inside the image: the model's PAD adds nothing here.
      pieces.set(out, { id: ins[0], region: computed });
      continue;
    }
    const yId = b.tensor(y, `${y.name}${tag}`, shapeOf(y, computed));
    if (node.op === 'PAD' || node.op === 'PADV2') {
      const t = g.tensors[node.inputs[0]];
      const reads = edge.get(`${i}:${node.inputs[0]}`)!;
      const pads = padAmounts(reads, clip(reads, t.shape[1], t.shape[2]));
      b.node(node.op, [ins[0], b.int32(`${tag}/n${i}/pads`, [4, 2], pads), ...node.inputs.slice(2)], [yId], {}, i, node.version);
    } else if (node.op === 'CONV_2D' || node.op === 'DEPTHWISE_CONV_2D' || node.op === 'AVERAGE_POOL_2D' || node.op === 'MAX_POOL_2D') {
      // The crop and the PAD or explicit padding above supply every padded pixel (a fused PAD's own is dropped).
      const { explicitPadding: _fused, ...options } = node.options as typeof node.options & { explicitPadding?: unknown };
      b.node(node.op, [ins[0], ...node.inputs.slice(1)], [yId], { ...options, padding: 'VALID', ...(explicit ? { explicitPadding: explicit } : {}) } as never, i, node.version);
    } else {
      b.node(node.op, isElementwise(node) ? ins : [ins[0], ...node.inputs.slice(1)], [yId], node.options as never, i, node.version);
    }
    pieces.set(out, { id: yId, region: computed });
  }
  return { piece: pieces.get(stage.output)!, inputRows: inputWindow.rows };
}

/** MACs of computing ops; padding only moves bytes (and border patches pad less than the whole image). */
export function computeMacs(g: Graph, node: AnyNode): number {
  return node.op === 'PAD' || node.op === 'PADV2' ? 0 : (OPS[node.op] as OpDef).macs(node as never, g);
}

export function patchGraph(g: Graph, order: readonly number[], stage: Stage, n: number): PatchGraph | null {
  const T = g.tensors[stage.output];
  const [, H, W] = T.shape;
  if (n < 2 || H < n || W < n) return null;
  const b = new Builder(g);
  for (const i of order.slice(0, stage.first)) b.copy(g.nodes[i] as AnyNode);
  const X = g.tensors[stage.input];
  const whole: Piece = { id: stage.input, region: { rows: { lo: 0, hi: X.shape[1] }, cols: { lo: 0, hi: X.shape[2] } } };
  const rows = splitSpan(H, n);
  const cols = splitSpan(W, n);
  const strips: TensorId[] = [];
  const firstRowRead: number[] = [];
  rows.forEach((rs, r) => {
    const row = cols.map((cs, c) => {
      const { piece, inputRows } = emitPatch(b, stage, whole, { rows: rs, cols: cs }, `@p${r}_${c}`);
      firstRowRead[r] = Math.min(firstRowRead[r] ?? Infinity, inputRows.lo);
      return piece.id;
    });
    const strip = b.tensor(T, `${T.name}@row${r}`, [1, rs.hi - rs.lo, W, T.shape[3]]);
    b.node('CONCATENATION', row, [strip], { axis: 2, activation: 'NONE' }, -1);
    strips.push(strip);
  });
  b.node('CONCATENATION', strips, [stage.output], { axis: 1, activation: 'NONE' }, -1);
  for (const i of order.slice(stage.last + 1)) b.copy(g.nodes[i] as AnyNode);
  const graph: Graph = { ...g, tensors: b.tensors, nodes: b.nodes };
  const overlayOnInput = overlayFits(g, stage, rows.map((rs) => rs.hi), firstRowRead);
  return { graph, origin: b.origin, extraMacs: recomputedMacs(g, b, graph, stage), n, cols: n, overlayOnInput };
}

/** The extra MACs of an n x n split without building the graph: per-pixel cost times recomputed pixels. */
export function estimateExtraMacs(g: Graph, stage: Stage, n: number): number {
  const T = g.tensors[stage.output];
  const rows = splitSpan(T.shape[1], n);
  const cols = splitSpan(T.shape[2], n);
  const pixels = new Map<number, number>();
  for (const rs of rows) {
    for (const cs of cols) {
      const needs = new Map<TensorId, Region>([[stage.output, { rows: rs, cols: cs }]]);
      for (const i of [...stage.nodes].reverse()) {
        const node = g.nodes[i] as AnyNode;
        const want = needs.get(node.outputs[0]);
        if (!want) continue;
        const y = g.tensors[node.outputs[0]];
        const computed = clip(want, y.shape[1], y.shape[2]);
        pixels.set(i, (pixels.get(i) ?? 0) + area(computed));
        const xs = isElementwise(node) ? node.inputs : [node.inputs[0]];
        for (const x of xs) needs.set(x, union(needs.get(x), inputRegion(stage.windows.get(i)!, computed)));
      }
    }
  }
  let extra = 0;
  for (const i of stage.nodes) {
    const y = g.tensors[g.nodes[i].outputs[0]];
    const full = y.shape[1] * y.shape[2];
    extra += (computeMacs(g, g.nodes[i] as AnyNode) / full) * ((pixels.get(i) ?? 0) - full);
  }
  return extra;
}
