/**
 * What a session on the WebAssembly training kernels adds to one on the TypeScript kernels: the memory
 * layout of its instance (sized before any view is made, since the memory cannot grow afterwards) and the
 * forward of the float32 layers on those kernels.
 */
import type { AnyNode, Graph, Node, Tensor } from '../graph/graph.js';
import { numElements } from '../graph/graph.js';
import type { Kernel, TensorViews } from '../ops/op.js';
import type { Window2D } from '../ops/conv_util.js';
import { activationBounds, convWindowParams, poolGeometry, window2d } from '../ops/conv_util.js';
import type { Placement } from '../plan/memory_plan.js';
import type { TrainingProgram } from './program.js';
import { arenaBytes } from './views.js';
import type { WasmScratchSizes, WasmTrainKernels, WasmTrainLayout } from './wasm_kernels.js';

/**
 * A bound on what any one kernel call of the program can take from the scratch stack: per step, a copy of
 * every buffer it touches and of its node's constants (arguments outside the memory are copied in), the
 * node's kernel scratch, and channel selections. Long-lived: each parameter's gradient rows.
 */
export function wasmLayout(p: TrainingProgram, placements: Map<number, Placement>, sizes: WasmScratchSizes): WasmTrainLayout {
  const g = p.graph;
  let scratch = 0;
  let persistent = 0;
  for (const s of p.steps) {
    let bytes = 0;
    for (const b of new Set([...s.reads, ...s.writes])) bytes += Math.max(p.buffers[b].bytes, 4 * p.buffers[b].elements) + 16;
    const nodeIndex = s.kind === 'forward' ? s.node : s.kind === 'backward' ? s.op.node : -1;
    if (nodeIndex >= 0) bytes += nodeBytes(g.nodes[nodeIndex] as AnyNode, g, sizes);
    if (s.kind === 'backward' && 'param' in s.op) persistent += 4 * numElements(g.tensors[s.op.param].shape) + 16;
    scratch = Math.max(scratch, bytes);
  }
  return { arenaBytes: arenaBytes(p, placements), persistentBytes: persistent, scratchBytes: scratch };
}

/** A node's constants as floats, its kernel scratch and two channel lists. */
function nodeBytes(n: AnyNode, g: Graph, sizes: WasmScratchSizes): number {
  let bytes = 0;
  for (const id of n.inputs) if (id >= 0 && g.tensors[id].data) bytes += 4 * numElements(g.tensors[id].shape) + 16;
  const x = g.tensors[n.inputs[0]];
  bytes += 8 * (x ? x.shape[x.shape.length - 1] ?? 1 : 1) + 32;
  let floats = 0;
  if (n.op === 'CONV_2D' || n.op === 'DEPTHWISE_CONV_2D') {
    const { win, cout } = layerWindow(n, g);
    floats = n.op === 'CONV_2D' ? sizes.convScratch(win, cout) : sizes.depthwiseScratch(win, cout);
  } else if (n.op === 'FULLY_CONNECTED') {
    const [units, K] = g.tensors[n.inputs[1]].shape;
    floats = sizes.fcScratch(Math.ceil(numElements(x.shape) / K), K, units);
  } else if (n.op === 'BATCH_NORMALIZE') {
    floats = 16 * x.shape[x.shape.length - 1]; // eight doubles a channel
  }
  return bytes + 4 * floats + 16;
}

/**
 * The forward of a float32 CONV_2D (groups 1), DEPTHWISE_CONV_2D, FULLY_CONNECTED, pool, ADD / SUB (same shapes) or BATCH_NORMALIZE on the
 * WebAssembly kernels; null for anything else (the session prepares the inference kernel instead). The
 * kernel reads the weights where the optimizer updates them, so it never needs preparing again.
 */
export function bindWasmForward(k: WasmTrainKernels, node: AnyNode, g: Graph, views: TensorViews): Kernel | null {
  const x = g.tensors[node.inputs[0]];
  const y = g.tensors[node.outputs[0]];
  if (!x || x.dtype !== 'float32' || y.dtype !== 'float32') return null;
  const xv = views.float32(x.id);
  const yv = views.float32(y.id);
  switch (node.op) {
    case 'CONV_2D': case 'DEPTHWISE_CONV_2D': case 'FULLY_CONNECTED': {
      const w = g.tensors[node.inputs[1]];
      if (w.dtype !== 'float32' || !w.data) return null;
      const bounds = fusedBounds(node, y);
      if (!bounds) return null;
      const [lo, hi] = bounds;
      const wv = views.float32(w.id);
      const biasId = node.inputs[2] ?? -1;
      if (biasId >= 0 && g.tensors[biasId].dtype !== 'float32') return null;
      if (node.op === 'FULLY_CONNECTED') {
        const [units, K] = w.shape;
        const bias = biasId >= 0 ? views.float32(biasId).subarray(0, units) : null;
        const batches = numElements(x.shape) / K;
        return () => k.fullyConnected(batches, K, units, xv, wv, bias, lo, hi, yv);
      }
      if (node.op === 'CONV_2D' && w.shape[3] !== x.shape[3]) return null;
      const { win, cout } = layerWindow(node, g);
      const bias = biasId >= 0 ? views.float32(biasId).subarray(0, cout) : null;
      if (node.op === 'CONV_2D') return () => k.conv2d(win, cout, xv, wv, bias, lo, hi, yv);
      const M = cout / win.inC;
      return () => k.depthwise(win, M, xv, wv, bias, lo, hi, yv);
    }
    case 'ADD': case 'SUB': {
      // Two float tensors of the output's shape (a residual connection); broadcasting stays with the TypeScript kernel.
      const b = g.tensors[node.inputs[1]];
      if (b.dtype !== 'float32' || !sameShape(x.shape, y.shape) || !sameShape(b.shape, y.shape)) return null;
      const bounds = fusedBounds(node, y);
      if (!bounds) return null;
      const [lo, hi] = bounds;
      const bv = views.float32(b.id);
      const sign = node.op === 'SUB' ? -1 : 1;
      return () => k.add(xv, bv, sign, lo, hi, yv);
    }
    case 'BATCH_NORMALIZE': {
      const eps = node.options.epsilon;
      const C = x.shape[x.shape.length - 1];
      return () => k.batchNormalize(xv, C, eps, yv);
    }
    case 'MAX_POOL_2D': case 'AVERAGE_POOL_2D': {
      const bounds = fusedBounds(node, y);
      if (!bounds) return null;
      const [lo, hi] = bounds;
      const win = poolGeometry(node, g);
      return node.op === 'MAX_POOL_2D' ? () => k.maxPool(win, lo, hi, xv, yv) : () => k.avgPool(win, lo, hi, xv, yv);
    }
    default:
      return null;
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The window of a CONV_2D / DEPTHWISE_CONV_2D and its output channels (a grouped convolution's too). */
function layerWindow(node: Node<'CONV_2D'> | Node<'DEPTHWISE_CONV_2D'>, g: Graph): { win: Window2D; cout: number } {
  const w = g.tensors[node.inputs[1]];
  const win = window2d(g.tensors[node.inputs[0]].shape, w.shape[1], w.shape[2], convWindowParams(node.options));
  return { win, cout: node.op === 'CONV_2D' ? w.shape[0] : w.shape[3] };
}

/** The float clamp of a fused activation, or null for one the kernels do not take. */
function fusedBounds(node: Node<'CONV_2D'> | Node<'DEPTHWISE_CONV_2D'> | Node<'FULLY_CONNECTED'> | Node<'MAX_POOL_2D'> | Node<'AVERAGE_POOL_2D'> | Node<'ADD'> | Node<'SUB'>, output: Tensor): [number, number] | null {
  try {
    return activationBounds(node, node.options.activation, output);
  } catch {
    return null;
  }
}
