/** One decoded image: 8-bit intensities, row-major HWC (1 channel grey, 3 RGB). */
export interface Image {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

/** ITU-R BT.601 luma, the weights PIL and OpenCV use to turn RGB into grey. */
const LUMA = [0.299, 0.587, 0.114] as const;

/** Convert between grey and RGB: grey is replicated into three channels, RGB becomes its luma. */
export function convertChannels(img: Image, channels: 1 | 3): Image {
  if (img.channels === channels) return img;
  const n = img.width * img.height;
  const out = new Uint8Array(n * channels);
  if (channels === 3) {
    for (let i = 0; i < n; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = img.data[i];
  } else {
    for (let i = 0; i < n; i++) {
      const s = img.data;
      out[i] = Math.round(LUMA[0] * s[3 * i] + LUMA[1] * s[3 * i + 1] + LUMA[2] * s[3 * i + 2]);
    }
  }
  return { width: img.width, height: img.height, channels, data: out };
}

/**
 * Bilinear resize with half-pixel centres (TensorFlow 2's `resize(..., 'bilinear')`, OpenCV's
 * INTER_LINEAR): output pixel centres map onto input pixel centres, so a 28→96 upscale stays centred.
 */
export function resizeBilinear(src: Uint8Array, inH: number, inW: number, channels: number, outH: number, outW: number, out = new Uint8Array(outH * outW * channels)): Uint8Array {
  if (inH === outH && inW === outW) {
    out.set(src.subarray(0, inH * inW * channels));
    return out;
  }
  const ys = axisWeights(inH, outH);
  const xs = axisWeights(inW, outW);
  for (let oy = 0; oy < outH; oy++) {
    const y0 = ys.lo[oy], y1 = ys.hi[oy], fy = ys.frac[oy];
    for (let ox = 0; ox < outW; ox++) {
      const x0 = xs.lo[ox], x1 = xs.hi[ox], fx = xs.frac[ox];
      for (let c = 0; c < channels; c++) {
        const p00 = src[(y0 * inW + x0) * channels + c], p01 = src[(y0 * inW + x1) * channels + c];
        const p10 = src[(y1 * inW + x0) * channels + c], p11 = src[(y1 * inW + x1) * channels + c];
        const top = p00 + (p01 - p00) * fx;
        const bottom = p10 + (p11 - p10) * fx;
        out[(oy * outW + ox) * channels + c] = Math.round(top + (bottom - top) * fy);
      }
    }
  }
  return out;
}

function axisWeights(inSize: number, outSize: number): { lo: Int32Array; hi: Int32Array; frac: Float64Array } {
  const lo = new Int32Array(outSize), hi = new Int32Array(outSize), frac = new Float64Array(outSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const s = Math.min(Math.max((o + 0.5) * scale - 0.5, 0), inSize - 1);
    lo[o] = Math.floor(s);
    hi[o] = Math.min(lo[o] + 1, inSize - 1);
    frac[o] = s - lo[o];
  }
  return { lo, hi, frac };
}

/** Resize and convert one image to the target shape. */
export function fitImage(img: Image, height: number, width: number, channels: 1 | 3): Image {
  const c = convertChannels(img, channels);
  return { width, height, channels, data: resizeBilinear(c.data, c.height, c.width, channels, height, width) };
}
