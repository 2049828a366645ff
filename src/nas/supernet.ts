/**
 * The weight-shared supernet of one (width, resolution) cell (Once-for-All's scheme, as TinyNAS trains
 * it): every subnet's parameters are views of one set, stored at the largest network's shapes.
 *  - elastic depth: a stage of depth d uses its first d blocks;
 *  - elastic expand ratio: a block's hidden channels are the first `mid` of the largest block's, kept
 *    sorted by importance (L1 norm of the projection's input columns) so the first are the ones that matter;
 *  - elastic kernel: a 5x5 kernel is the centre of the 7x7 one times a learned 25x25 transform, a 3x3 the
 *    centre of that 5x5 times a 9x9 transform (shared by a layer's channels, identity at the start).
 * Subnets are our Graphs (subnet_graph.ts), trained by the training engine with gradients collected; this
 * module maps parameters out (`source`) and gradients back (`accumulate`), and owns the optimizer state.
 */
import type { Arch, SpaceConfig } from './space.js';
import { extremeArch, subnetShape } from './space.js';
import type { ParamRequest, ParamSource } from './subnet_graph.js';
import { buildSubnet, heInit } from './subnet_graph.js';

export interface SharedParam {
  name: string;
  shape: number[];
  /** Values (in a SharedArrayBuffer once `shareValues` ran). */
  values: Float32Array;
  /** Summed gradients (in a worker's shared buffer once `attachGradients` ran). */
  grad: Float32Array;
  /** Adam moments. */
  m: Float32Array;
  v: Float32Array;
}

/** A block's tensors, parsed from a parameter name (`s2b1/dw/weights`). */
interface BlockRef { stage: number; index: number; layer: 'expand' | 'dw' | 'project' | 'se_reduce' | 'se_expand'; kind: 'weights' | 'bias' }

/** A batch normalisation's scale or shift: one value per channel, the first ones a subnet's. */
function isChannelVector(name: string): boolean {
  return /\/bn\/(weights|bias)$/.test(name);
}

function blockRef(name: string): BlockRef | null {
  const m = /^s(\d+)b(\d+)\/(expand|dw|project|se_reduce|se_expand)\/(weights|bias)$/.exec(name);
  return m ? { stage: Number(m[1]), index: Number(m[2]), layer: m[3] as BlockRef['layer'], kind: m[4] as BlockRef['kind'] } : null;
}

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export class Supernet {
  readonly params = new Map<string, SharedParam>();
  /** Kernel sizes, largest first: the stored kernel and the chain of transforms down from it. */
  readonly kernels: number[];
  private adamStep = 0;

  constructor(readonly space: SpaceConfig, readonly width: number, readonly resolution: number, seed = 1) {
    this.kernels = [...space.kernels].sort((a, b) => b - a);
    const init = heInit(seed);
    // The largest network's parameters are the shared set; building it is how their shapes are found.
    // The training graph (batch normalisation unfolded) names every parameter there is.
    buildSubnet(space, this.largest(), (req) => {
      const values = init(req);
      this.add(req.name, req.shape, values);
      return values;
    }, undefined, { kind: 'train' });
    const largest = subnetShape(space, this.largest());
    // Residual blocks start as the identity: the projection's batch-norm scale zeroed (Goyal et al.), or
    // without batch normalisation the projection itself (SkipInit/Fixup); the classifier starts small.
    for (const b of largest.blocks) if (b.residual) this.param(`s${b.stage}b${b.index}/project/${space.batchNorm ? 'bn/' : ''}weights`).values.fill(0);
    for (const p of [this.param('classifier/weights')]) for (let i = 0; i < p.values.length; i++) p.values[i] *= 0.1;
    for (const b of largest.blocks) {
      for (const k of this.kernels.slice(1)) {
        const eye = new Float32Array(k ** 4);
        for (let i = 0; i < k * k; i++) eye[i * k * k + i] = 1;
        this.add(`s${b.stage}b${b.index}/dw/transform${k}`, [k * k, k * k], eye);
      }
    }
  }

  largest(): Arch { return extremeArch(this.space, 'largest', this.width, this.resolution); }
  smallest(): Arch { return extremeArch(this.space, 'smallest', this.width, this.resolution); }

  get parameterCount(): number {
    let n = 0;
    for (const p of this.params.values()) n += p.values.length;
    return n;
  }

  private add(name: string, shape: number[], values: Float32Array): void {
    const n = values.length;
    this.params.set(name, { name, shape, values: Float32Array.from(values), grad: new Float32Array(n), m: new Float32Array(n), v: new Float32Array(n) });
  }

  private param(name: string): SharedParam {
    const p = this.params.get(name);
    if (!p) throw new Error(`supernet has no parameter ${name}`);
    return p;
  }

  /** The kernel of size k for the first `channels` channels, tap-major ([k*k][channels]), and the crops on the way. */
  private kernelChain(prefix: string, k: number, channels: number): { kernel: Float32Array; steps: { k: number; crop: Float32Array; K: number }[] } {
    const stored = this.param(`${prefix}/dw/weights`);
    const C = stored.shape[3];
    const K0 = this.kernels[0];
    let K = K0;
    let cur = new Float32Array(K * K * channels);
    for (let t = 0; t < K * K; t++) for (let c = 0; c < channels; c++) cur[t * channels + c] = stored.values[t * C + c];
    const steps: { k: number; crop: Float32Array; K: number }[] = [];
    for (const next of this.kernels.slice(1)) {
      if (K === k) break;
      const off = (K - next) / 2;
      const crop = new Float32Array(next * next * channels);
      for (let y = 0; y < next; y++) {
        for (let x = 0; x < next; x++) {
          const src = ((y + off) * K + (x + off)) * channels;
          crop.set(cur.subarray(src, src + channels), (y * next + x) * channels);
        }
      }
      const T = this.param(`${prefix}/dw/transform${next}`).values;
      const taps = next * next;
      const out = new Float32Array(taps * channels);
      for (let t = 0; t < taps; t++) {
        for (let u = 0; u < taps; u++) {
          const w = T[t * taps + u];
          if (w === 0) continue;
          const o = t * channels, i = u * channels;
          for (let c = 0; c < channels; c++) out[o + c] += w * crop[i + c];
        }
      }
      steps.push({ k: next, crop, K });
      cur = out;
      K = next;
    }
    if (K !== k) throw new Error(`kernel ${k} is not in the supernet's chain ${this.kernels.join(', ')}`);
    return { kernel: cur, steps };
  }

  /** A subnet's parameters, read from the shared set (fresh arrays: the subnet owns its copy). */
  source(): ParamSource {
    return (req: ParamRequest) => {
      const p = this.param(req.name);
      if (isChannelVector(req.name)) return p.values.slice(0, req.shape.reduce((a, d) => a * d, 1));
      const ref = blockRef(req.name);
      if (!ref) return Float32Array.from(p.values);
      const prefix = `s${ref.stage}b${ref.index}`;
      if (ref.kind === 'bias') return p.values.slice(0, req.shape[0]);
      if (ref.layer === 'dw') return this.kernelChain(prefix, req.shape[1], req.shape[3]).kernel;
      // 1x1 convolutions [out, 1, 1, in]: the first rows and columns of the shared matrix.
      const [rows, , , cols] = req.shape;
      const M = p.shape[3];
      const w = new Float32Array(rows * cols);
      for (let o = 0; o < rows; o++) w.set(p.values.subarray(o * M, o * M + cols), o * cols);
      return w;
    };
  }

  /** Add a subnet parameter's gradient (named and shaped as `source` gave it) into the shared gradients. */
  accumulate(name: string, shape: number[], grad: Float32Array): void {
    const ref = blockRef(name);
    const p = this.param(name);
    if (!ref || ref.kind === 'bias' || isChannelVector(name)) {
      for (let i = 0; i < grad.length; i++) p.grad[i] += grad[i];
      return;
    }
    if (ref.layer === 'dw') {
      this.accumulateKernel(`s${ref.stage}b${ref.index}`, shape[1], shape[3], grad);
      return;
    }
    const [rows, , , cols] = shape;
    const M = p.shape[3];
    for (let o = 0; o < rows; o++) for (let c = 0; c < cols; c++) p.grad[o * M + c] += grad[o * cols + c];
  }

  /** Back through the crop-and-transform chain: transforms get their gradient, the stored kernel the rest. */
  private accumulateKernel(prefix: string, k: number, channels: number, grad: Float32Array): void {
    const { steps } = this.kernelChain(prefix, k, channels);
    let g = grad;
    for (let s = steps.length - 1; s >= 0; s--) {
      const { k: kk, crop, K } = steps[s];
      const taps = kk * kk;
      const T = this.param(`${prefix}/dw/transform${kk}`);
      const dCrop = new Float32Array(taps * channels);
      for (let t = 0; t < taps; t++) {
        for (let u = 0; u < taps; u++) {
          const w = T.values[t * taps + u];
          let dT = 0;
          const o = t * channels, i = u * channels;
          for (let c = 0; c < channels; c++) {
            dT += g[o + c] * crop[i + c];
            dCrop[i + c] += w * g[o + c];
          }
          T.grad[t * taps + u] += dT;
        }
      }
      // The crop is the centre of the bigger kernel: its gradient lands there, the rim gets none.
      const big = new Float32Array(K * K * channels);
      const off = (K - kk) / 2;
      for (let y = 0; y < kk; y++) {
        for (let x = 0; x < kk; x++) big.set(dCrop.subarray((y * kk + x) * channels, (y * kk + x + 1) * channels), ((y + off) * K + (x + off)) * channels);
      }
      g = big;
    }
    const stored = this.param(`${prefix}/dw/weights`);
    const C = stored.shape[3];
    const K0 = this.kernels[0];
    for (let t = 0; t < K0 * K0; t++) for (let c = 0; c < channels; c++) stored.grad[t * C + c] += g[t * channels + c];
  }

  /**
   * Move every parameter's values into one SharedArrayBuffer (insertion order) and return it: worker
   * threads `attachValues` to it and read the live weights without copies.
   */
  shareValues(): SharedArrayBuffer {
    const total = this.parameterCount;
    const sab = new SharedArrayBuffer(4 * total);
    let at = 0;
    for (const p of this.params.values()) {
      const view = new Float32Array(sab, 4 * at, p.values.length);
      view.set(p.values);
      p.values = view;
      at += p.values.length;
    }
    return sab;
  }

  /** Read values from a buffer `shareValues` made for a supernet of the same space and cell. */
  attachValues(sab: SharedArrayBuffer): void {
    if (sab.byteLength !== 4 * this.parameterCount) throw new Error(`shared supernet holds ${sab.byteLength / 4} values, this one ${this.parameterCount}`);
    let at = 0;
    for (const p of this.params.values()) {
      p.values = new Float32Array(sab, 4 * at, p.values.length);
      at += p.values.length;
    }
  }

  /** Accumulate gradients into a shared buffer (a worker's shard), laid out as `shareValues` lays out values. */
  attachGradients(sab: SharedArrayBuffer): void {
    if (sab.byteLength !== 4 * this.parameterCount) throw new Error(`shared gradients hold ${sab.byteLength / 4} values, the supernet ${this.parameterCount}`);
    let at = 0;
    for (const p of this.params.values()) {
      p.grad = new Float32Array(sab, 4 * at, p.grad.length);
      at += p.grad.length;
    }
  }

  /** Add gradients laid out as `attachGradients` lays them (a worker's), then zero them there. */
  addGradients(flat: Float32Array): void {
    let at = 0;
    for (const p of this.params.values()) {
      const g = p.grad;
      for (let i = 0; i < g.length; i++) g[i] += flat[at + i];
      at += g.length;
    }
    flat.fill(0);
  }

  zeroGradients(): void {
    for (const p of this.params.values()) p.grad.fill(0);
  }

  /** One Adam step on every shared parameter from the summed gradients (then zeroed). */
  adam(o: AdamOptions): void {
    const b1 = o.beta1 ?? 0.9, b2 = o.beta2 ?? 0.999, eps = o.eps ?? 1e-8, wd = o.weightDecay ?? 0;
    this.adamStep++;
    const c1 = 1 - b1 ** this.adamStep, c2 = 1 - b2 ** this.adamStep;
    for (const p of this.params.values()) {
      // Decay on weights, not on biases or batch normalisation's scale and shift.
      const decay = p.name.endsWith('/weights') && !isChannelVector(p.name) ? wd : 0;
      const { values, grad, m, v } = p;
      for (let i = 0; i < values.length; i++) {
        const g = grad[i] + decay * values[i];
        if (g === 0 && m[i] === 0) continue;
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        values[i] -= (o.lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
      }
      grad.fill(0);
    }
  }

  /**
   * Re-sort every block's hidden channels by importance, most important first (the L1 norm of the
   * projection's column), moving the expand rows, depthwise channels, biases and optimizer state along:
   * the network computes the same function, and small expand ratios keep the channels that matter.
   */
  sortChannels(): void {
    const largest = subnetShape(this.space, this.largest());
    for (const b of largest.blocks) {
      const prefix = `s${b.stage}b${b.index}`;
      const proj = this.param(`${prefix}/project/weights`);
      const [out, , , M] = proj.shape;
      const importance = new Float64Array(M);
      for (let o = 0; o < out; o++) for (let c = 0; c < M; c++) importance[c] += Math.abs(proj.values[o * M + c]);
      const order = Array.from({ length: M }, (_, c) => c).sort((a, c) => importance[c] - importance[a] || a - c);
      if (order.every((c, i) => c === i)) continue;
      // Row permutation (channel = outer index): expand weights/bias, depthwise bias.
      const rows = (p: SharedParam, rowLen: number) => {
        for (const arr of [p.values, p.m, p.v]) {
          const copy = arr.slice();
          order.forEach((src, dst) => arr.set(copy.subarray(src * rowLen, (src + 1) * rowLen), dst * rowLen));
        }
      };
      // Column permutation (channel = inner index): depthwise weights, projection weights.
      const cols = (p: SharedParam) => {
        const C = p.shape[p.shape.length - 1];
        for (const arr of [p.values, p.m, p.v]) {
          const copy = arr.slice();
          for (let r = 0; r < arr.length / C; r++) order.forEach((src, dst) => { arr[r * C + dst] = copy[r * C + src]; });
        }
      };
      // A layer's per-channel vectors (bias; batch normalisation's scale and shift) move with its channels.
      const vectors = (layer: string) => {
        for (const v of ['bias', 'bn/weights', 'bn/bias']) if (this.params.has(`${prefix}/${layer}/${v}`)) rows(this.param(`${prefix}/${layer}/${v}`), 1);
      };
      if (this.params.has(`${prefix}/expand/weights`)) {
        const ew = this.param(`${prefix}/expand/weights`);
        rows(ew, ew.shape[3]);
        vectors('expand');
      }
      cols(this.param(`${prefix}/dw/weights`));
      vectors('dw');
      cols(proj);
      if (this.params.has(`${prefix}/se_reduce/weights`)) {
        cols(this.param(`${prefix}/se_reduce/weights`));
        const up = this.param(`${prefix}/se_expand/weights`);
        rows(up, up.shape[3]);
        rows(this.param(`${prefix}/se_expand/bias`), 1);
      }
    }
    this.sortSqueeze();
  }

  /** The squeeze channels of each SE block, by importance too (L1 of the up-projection's columns). */
  private sortSqueeze(): void {
    for (const b of subnetShape(this.space, this.largest()).blocks) {
      const prefix = `s${b.stage}b${b.index}`;
      if (!this.params.has(`${prefix}/se_expand/weights`)) continue;
      const up = this.param(`${prefix}/se_expand/weights`);
      const down = this.param(`${prefix}/se_reduce/weights`);
      const [mid, , , R] = up.shape;
      const importance = new Float64Array(R);
      for (let o = 0; o < mid; o++) for (let r = 0; r < R; r++) importance[r] += Math.abs(up.values[o * R + r]);
      const order = Array.from({ length: R }, (_, r) => r).sort((a, c) => importance[c] - importance[a] || a - c);
      if (order.every((r, i) => r === i)) continue;
      const inner = down.shape[3];
      for (const arr of [down.values, down.m, down.v]) {
        const copy = arr.slice();
        order.forEach((src, dst) => arr.set(copy.subarray(src * inner, (src + 1) * inner), dst * inner));
      }
      const bias = this.param(`${prefix}/se_reduce/bias`);
      for (const arr of [bias.values, bias.m, bias.v]) {
        const copy = arr.slice();
        order.forEach((src, dst) => { arr[dst] = copy[src]; });
      }
      for (const arr of [up.values, up.m, up.v]) {
        const copy = arr.slice();
        for (let o = 0; o < mid; o++) order.forEach((src, dst) => { arr[o * R + dst] = copy[o * R + src]; });
      }
    }
  }

  /** Every shared tensor in one buffer (values, then Adam moments): a checkpoint. */
  serialise(): { meta: SupernetMeta; data: Float32Array } {
    const names = [...this.params.keys()];
    const total = names.reduce((n, k) => n + 3 * this.params.get(k)!.values.length, 0);
    const data = new Float32Array(total);
    let at = 0;
    for (const k of names) {
      const p = this.params.get(k)!;
      for (const arr of [p.values, p.m, p.v]) { data.set(arr, at); at += arr.length; }
    }
    return { meta: { space: this.space.name, width: this.width, resolution: this.resolution, adamStep: this.adamStep, params: names.map((n) => ({ name: n, shape: this.params.get(n)!.shape })) }, data };
  }

  /** Load a checkpoint of this same supernet (same space, cell and parameter shapes). */
  restore(meta: SupernetMeta, data: Float32Array): void {
    if (meta.space !== this.space.name || meta.width !== this.width || meta.resolution !== this.resolution) {
      throw new Error(`checkpoint is for ${meta.space} w${meta.width} r${meta.resolution}, not ${this.space.name} w${this.width} r${this.resolution}`);
    }
    let at = 0;
    for (const { name, shape } of meta.params) {
      const p = this.param(name);
      if (shape.join(',') !== p.shape.join(',')) throw new Error(`checkpoint parameter ${name} is [${shape.join(',')}], expected [${p.shape.join(',')}]`);
      for (const arr of [p.values, p.m, p.v]) { arr.set(data.subarray(at, at + arr.length)); at += arr.length; }
    }
    if (at !== data.length) throw new Error(`checkpoint holds ${data.length} values, the supernet ${at}`);
    this.adamStep = meta.adamStep;
  }
}

export interface SupernetMeta {
  space: string;
  width: number;
  resolution: number;
  adamStep: number;
  params: { name: string; shape: number[] }[];
}
