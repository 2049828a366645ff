/**
 * Backward of CONV_2D (NHWC input, OHWI weights, groups = 1) in float32.
 *   input gradient:  dX[b, iy, ix, :] += sum over taps and output channels of dZ[b, oy, ox, co] * W[co, tap, :]
 *   weight gradient: dW[co, tap, j] = sum over output pixels of dZ[b, oy, ox, co] * X[b, iy, ix, pick[j]]
 * Zeros in dZ (masked by a ReLU) are skipped: they are common and cost nothing to test.
 */
import type { Window2D } from '../../ops/conv_util.js';

/** W[co][tap][ci] -> Wt[tap][co][ci], so the input-gradient loop walks both arrays contiguously. */
export function transposeConvWeights(w: Float32Array, cout: number, taps: number, cin: number, out: Float32Array): void {
  for (let co = 0; co < cout; co++) {
    for (let t = 0; t < taps; t++) {
      const s = (co * taps + t) * cin;
      const d = (t * cout + co) * cin;
      for (let ci = 0; ci < cin; ci++) out[d + ci] = w[s + ci];
    }
  }
}

export function conv2dInputGrad(win: Window2D, cout: number, dz: Float32Array, wt: Float32Array, dx: Float32Array, accumulate: boolean): void {
  const { batches, inH, inW, inC, outH, outW, kH, kW, strideH, strideW, dilH, dilW, padTop, padLeft } = win;
  if (!accumulate) dx.fill(0);
  for (let b = 0; b < batches; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        const zo = ((b * outH + oy) * outW + ox) * cout;
        for (let ky = 0; ky < kH; ky++) {
          const iy = oy * strideH - padTop + ky * dilH;
          if (iy < 0 || iy >= inH) continue;
          for (let kx = 0; kx < kW; kx++) {
            const ix = ox * strideW - padLeft + kx * dilW;
            if (ix < 0 || ix >= inW) continue;
            const xo = ((b * inH + iy) * inW + ix) * inC;
            const wo = (ky * kW + kx) * cout * inC;
            for (let co = 0; co < cout; co++) {
              const gz = dz[zo + co];
              if (gz === 0) continue;
              const w0 = wo + co * inC;
              for (let ci = 0; ci < inC; ci++) dx[xo + ci] += gz * wt[w0 + ci];
            }
          }
        }
      }
    }
  }
}

/**
 * Rows of dW, one per output channel: out[co * taps * nPick + tap * nPick + j]. `x` has `xC` channels;
 * channel j of the selection is x's channel pick[j] (pick null: the first nPick = xC channels).
 */
export function conv2dWeightGrad(win: Window2D, cout: number, dz: Float32Array, x: Float32Array, xC: number, pick: Int32Array | null, out: Float32Array): void {
  const { batches, inH, inW, outH, outW, kH, kW, strideH, strideW, dilH, dilW, padTop, padLeft } = win;
  const nPick = pick ? pick.length : xC;
  const taps = kH * kW;
  const rowLen = taps * nPick;
  const xrow = new Float32Array(nPick);
  out.fill(0, 0, cout * rowLen);
  for (let b = 0; b < batches; b++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        const zo = ((b * outH + oy) * outW + ox) * cout;
        for (let ky = 0; ky < kH; ky++) {
          const iy = oy * strideH - padTop + ky * dilH;
          if (iy < 0 || iy >= inH) continue;
          for (let kx = 0; kx < kW; kx++) {
            const ix = ox * strideW - padLeft + kx * dilW;
            if (ix < 0 || ix >= inW) continue;
            const xo = ((b * inH + iy) * inW + ix) * xC;
            const to = (ky * kW + kx) * nPick;
            if (pick) {
              for (let j = 0; j < nPick; j++) xrow[j] = x[xo + pick[j]];
            } else {
              for (let j = 0; j < nPick; j++) xrow[j] = x[xo + j];
            }
            for (let co = 0; co < cout; co++) {
              const gz = dz[zo + co];
              if (gz === 0) continue;
              const r = co * rowLen + to;
              for (let j = 0; j < nPick; j++) out[r + j] += gz * xrow[j];
            }
          }
        }
      }
    }
  }
}

/** dB[c] = sum of dZ over every position of channel c. */
export function biasGrad(dz: Float32Array, channels: number, out: Float32Array): void {
  out.fill(0, 0, channels);
  for (let i = 0; i < dz.length; i += channels) {
    for (let c = 0; c < channels; c++) out[c] += dz[i + c];
  }
}
