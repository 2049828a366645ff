/** Elementwise backward kernels (float32 gradients), and the broadcast reductions of ADD, SUB and MUL. */

/** g_out = g_in where lo < v < hi (v in stored units: int8 codes or floats). In place allowed. */
export function clampGradFromValues(v: Int8Array | Float32Array, lo: number, hi: number, gin: Float32Array, gout: Float32Array, accumulate: boolean): void {
  if (v instanceof Int8Array) clampLoop(v, lo, hi, gin, gout, accumulate);
  else clampLoop(v, lo, hi, gin, gout, accumulate);
}

function clampLoop<T extends Int8Array | Float32Array>(v: T, lo: number, hi: number, gin: Float32Array, gout: Float32Array, accumulate: boolean): void {
  const n = gout.length;
  if (accumulate) {
    for (let i = 0; i < n; i++) { const x = v[i]; if (x > lo && x < hi) gout[i] += gin[i]; }
  } else {
    for (let i = 0; i < n; i++) { const x = v[i]; gout[i] = x > lo && x < hi ? gin[i] : 0; }
  }
}

/** The same from a 1-bit mask saved at forward time (bit i of byte i >> 3). */
export function clampGradFromBits(bits: Uint8Array, gin: Float32Array, gout: Float32Array, accumulate: boolean): void {
  const n = gout.length;
  for (let i = 0; i < n; i++) {
    const g = (bits[i >> 3] >> (i & 7)) & 1 ? gin[i] : 0;
    gout[i] = accumulate ? gout[i] + g : g;
  }
}

/** Pack lo < v < hi into bits. */
export function saveMask(v: Int8Array | Float32Array, lo: number, hi: number, bits: Uint8Array): void {
  bits.fill(0);
  for (let i = 0; i < v.length; i++) if (v[i] > lo && v[i] < hi) bits[i >> 3] |= 1 << (i & 7);
}

/** Gather channels `channels` of the last dimension (C entries) into a compact buffer. */
export function saveChannels(v: Int8Array | Float32Array, C: number, channels: Int32Array, out: Int8Array | Float32Array): void {
  const k = channels.length;
  for (let p = 0, o = 0; p < v.length; p += C, o += k) {
    for (let j = 0; j < k; j++) out[o + j] = v[p + channels[j]];
  }
}

/** LOGISTIC: g * y (1 - y); TANH: g * (1 - y^2). */
export function sigmoidGrad(kind: 'logistic' | 'tanh', y: Float32Array, gin: Float32Array, gout: Float32Array, accumulate: boolean): void {
  for (let i = 0; i < gout.length; i++) {
    const d = kind === 'logistic' ? y[i] * (1 - y[i]) : 1 - y[i] * y[i];
    const g = gin[i] * d;
    gout[i] = accumulate ? gout[i] + g : g;
  }
}

/** SOFTMAX over rows of `depth`: g_x = beta * y * (g_y - sum(g_y * y)). */
export function softmaxGrad(y: Float32Array, depth: number, beta: number, gin: Float32Array, gout: Float32Array, accumulate: boolean): void {
  for (let r = 0; r < y.length; r += depth) {
    let dot = 0;
    for (let j = 0; j < depth; j++) dot += gin[r + j] * y[r + j];
    for (let j = 0; j < depth; j++) {
      const g = beta * y[r + j] * (gin[r + j] - dot);
      gout[r + j] = accumulate ? gout[r + j] + g : g;
    }
  }
}

/**
 * How the elements of a broadcast operand map onto the output: for each output dimension, the
 * operand's stride (0 where it was broadcast).
 */
export interface BroadcastMap {
  outShape: number[];
  strides: Int32Array;
  same: boolean;
}

export function broadcastMap(outShape: readonly number[], inShape: readonly number[]): BroadcastMap {
  const rank = outShape.length;
  const strides = new Int32Array(rank);
  let stride = 1;
  for (let d = rank - 1; d >= 0; d--) {
    const k = d - (rank - inShape.length);
    const extent = k >= 0 ? inShape[k] : 1;
    strides[d] = extent === 1 && outShape[d] !== 1 ? 0 : stride;
    stride *= extent;
  }
  const same = inShape.reduce((p, v) => p * v, 1) === outShape.reduce((p, v) => p * v, 1);
  return { outShape: [...outShape], strides, same };
}

/** Walk the output once; f(outIndex, operandIndex). */
function walk(m: BroadcastMap, f: (o: number, i: number) => void): void {
  const rank = m.outShape.length;
  const idx = new Int32Array(rank);
  const n = m.outShape.reduce((p, v) => p * v, 1);
  let i = 0;
  for (let o = 0; o < n; o++) {
    f(o, i);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      i += m.strides[d];
      if (idx[d] < m.outShape[d]) break;
      i -= m.strides[d] * m.outShape[d];
      idx[d] = 0;
    }
  }
}

/** ADD/SUB: g_dst (+)= sign * g_src summed over the broadcast dimensions. */
export function sumToGrad(m: BroadcastMap, sign: number, gin: Float32Array, gout: Float32Array, accumulate: boolean): void {
  if (m.same) {
    for (let i = 0; i < gout.length; i++) gout[i] = accumulate ? gout[i] + sign * gin[i] : sign * gin[i];
    return;
  }
  if (!accumulate) gout.fill(0);
  walk(m, (o, i) => { gout[i] += sign * gin[o]; });
}

/** MUL: g_dst (+)= sum over broadcast of g_src * other, `other` mapped onto the output by `om`. */
export function mulInputGrad(m: BroadcastMap, om: BroadcastMap, other: Float32Array, gin: Float32Array, gout: Float32Array, accumulate: boolean): void {
  if (!accumulate) gout.fill(0);
  const otherIndex = new Int32Array(gin.length);
  walk(om, (o, i) => { otherIndex[o] = i; });
  walk(m, (o, i) => { gout[i] += gin[o] * other[otherIndex[o]]; });
}
