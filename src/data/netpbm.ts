import type { Image } from './image.js';
import { DatasetError } from './errors.js';

/**
 * Netpbm greymaps and pixmaps: P2/P5 (grey, ASCII/binary) and P3/P6 (RGB). Samples wider than a byte
 * (maxval > 255) are big-endian 16-bit; every sample is rescaled to 0..255.
 */
export function decodeNetpbm(bytes: Uint8Array, path: string): Image {
  const magic = String.fromCharCode(bytes[0] ?? 0, bytes[1] ?? 0);
  if (!['P2', 'P3', 'P5', 'P6'].includes(magic)) throw new DatasetError(path, `not a PGM/PPM image (magic "${printable(magic)}")`);
  const channels = magic === 'P3' || magic === 'P6' ? 3 : 1;
  let pos = 2;
  const token = (): string => {
    for (;;) {
      while (pos < bytes.length && isSpace(bytes[pos])) pos++;
      if (bytes[pos] === 0x23) { // '#' comment to end of line
        while (pos < bytes.length && bytes[pos] !== 0x0a && bytes[pos] !== 0x0d) pos++;
        continue;
      }
      break;
    }
    const start = pos;
    while (pos < bytes.length && !isSpace(bytes[pos]) && bytes[pos] !== 0x23) pos++;
    if (start === pos) throw new DatasetError(path, 'truncated PGM/PPM header or data');
    return String.fromCharCode(...bytes.subarray(start, pos));
  };
  const int = (what: string, min: number, max: number): number => {
    const t = token();
    const v = Number(t);
    if (!/^\d+$/.test(t) || v < min || v > max) throw new DatasetError(path, `bad ${what} "${printable(t)}" (expected ${min}..${max})`);
    return v;
  };
  const width = int('width', 1, 1 << 15);
  const height = int('height', 1, 1 << 15);
  const maxval = int('maxval', 1, 65535);
  const n = width * height * channels;
  const data = new Uint8Array(n);
  const rescale = (v: number) => (maxval === 255 ? v : Math.round((v * 255) / maxval));
  if (magic === 'P2' || magic === 'P3') {
    for (let i = 0; i < n; i++) data[i] = rescale(int('sample', 0, maxval));
  } else {
    pos++; // exactly one whitespace byte separates the header from binary data
    const bps = maxval > 255 ? 2 : 1;
    if (bytes.length - pos < n * bps) throw new DatasetError(path, `truncated image data: ${width}×${height}×${channels} needs ${n * bps} bytes, file has ${Math.max(0, bytes.length - pos)}`);
    for (let i = 0; i < n; i++) {
      const v = bps === 1 ? bytes[pos + i] : (bytes[pos + 2 * i] << 8) | bytes[pos + 2 * i + 1];
      if (v > maxval) throw new DatasetError(path, `sample ${v} exceeds maxval ${maxval}`);
      data[i] = rescale(v);
    }
  }
  return { width, height, channels, data };
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?');
}
