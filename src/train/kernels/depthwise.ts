/**
 * Backward of DEPTHWISE_CONV_2D in float32. Filter [1, kH, kW, C*M]; output channel oc = c*M + m reads
 * input channel c.
 *   input gradient:  dX[.., c] += sum over taps, m of W[tap, c*M+m] * dZ[.., c*M+m]
 *   weight gradient: rows per kept input channel j and multiplier m: dW[tap] of oc = S[j]*M + m
 */
import type { Window2D } from '../../ops/conv_util.js';

export function depthwiseInputGrad(win: Window2D, M: number, dz: Float32Array, w: Float32Array, dx: Float32Array, accumulate: boolean): void {
  const { batches, inH, inW, inC, outH, outW, kH, kW, strideH, strideW, dilH, dilW, padTop, padLeft } = win;
  const cout = inC * M;
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
            const wo = (ky * kW + kx) * cout;
            if (M === 1) {
              for (let c = 0; c < inC; c++) dx[xo + c] += dz[zo + c] * w[wo + c];
            } else {
              for (let c = 0; c < inC; c++) {
                let s = 0;
                for (let m = 0; m < M; m++) s += dz[zo + c * M + m] * w[wo + c * M + m];
                dx[xo + c] += s;
              }
            }
          }
        }
      }
    }
  }
}

/**
 * out[(j * M + m) * taps + tap] for kept input channel j (x's channel pick[j], weight channel
 * channels[j]); pick null: x holds exactly the kept channels, in order. Accumulated tap-major (the
 * channel loop contiguous in x, dZ and the accumulator), then transposed into rows.
 */
export function depthwiseWeightGrad(
  win: Window2D, M: number, dz: Float32Array, x: Float32Array, xC: number, pick: Int32Array | null, channels: Int32Array | null, out: Float32Array,
): void {
  const { batches, inH, inW, inC, outH, outW, kH, kW, strideH, strideW, dilH, dilW, padTop, padLeft } = win;
  const cout = inC * M;
  const nKept = channels ? channels.length : inC;
  const taps = kH * kW;
  const rows = nKept * M;
  const acc = new Float32Array(taps * rows);
  const dense = !pick && !channels && M === 1;
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
            const ao = (ky * kW + kx) * rows;
            if (dense) {
              for (let c = 0; c < inC; c++) acc[ao + c] += x[xo + c] * dz[zo + c];
              continue;
            }
            for (let j = 0; j < nKept; j++) {
              const xv = x[xo + (pick ? pick[j] : j)];
              const c = channels ? channels[j] : j;
              for (let m = 0; m < M; m++) acc[ao + j * M + m] += xv * dz[zo + c * M + m];
            }
          }
        }
      }
    }
  }
  for (let t = 0; t < taps; t++) for (let r = 0; r < rows; r++) out[r * taps + t] = acc[t * rows + r];
}
