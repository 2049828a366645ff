/** Backward of FULLY_CONNECTED (weights [units, K]) in float32. */

/** dX[b, k] (+)= sum_u dZ[b, u] * W[u, k]. */
export function fcInputGrad(batches: number, units: number, K: number, dz: Float32Array, w: Float32Array, dx: Float32Array, accumulate: boolean): void {
  if (!accumulate) dx.fill(0, 0, batches * K);
  for (let b = 0; b < batches; b++) {
    for (let u = 0; u < units; u++) {
      const g = dz[b * units + u];
      if (g === 0) continue;
      const wo = u * K;
      const xo = b * K;
      for (let k = 0; k < K; k++) dx[xo + k] += g * w[wo + k];
    }
  }
}

/** out[u * nPick + j] = sum_b dZ[b, u] * X[b, pick[j]], X rows of xK values (pick null: all xK). */
export function fcWeightGrad(batches: number, units: number, dz: Float32Array, x: Float32Array, xK: number, pick: Int32Array | null, out: Float32Array): void {
  const nPick = pick ? pick.length : xK;
  out.fill(0, 0, units * nPick);
  for (let b = 0; b < batches; b++) {
    const xo = b * xK;
    for (let u = 0; u < units; u++) {
      const g = dz[b * units + u];
      if (g === 0) continue;
      const r = u * nPick;
      if (pick) for (let j = 0; j < nPick; j++) out[r + j] += g * x[xo + pick[j]];
      else for (let j = 0; j < nPick; j++) out[r + j] += g * x[xo + j];
    }
  }
}
