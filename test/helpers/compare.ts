import type { Manifest, TensorSpec } from './shared.js';
import { floatTolerance } from './shared.js';

/** Compare an output with its reference per the manifest's rule; returns a message or null when equal. */
export function compareOutput(m: Manifest, spec: TensorSpec, got: Uint8Array, want: Uint8Array): string | null {
  if (got.byteLength !== want.byteLength) return `size ${got.byteLength} != ${want.byteLength}`;
  if (m.compare === 'exact') {
    for (let i = 0; i < got.length; i++) {
      if (got[i] !== want[i]) return `first differing byte ${i}: got ${got[i]}, want ${want[i]}`;
    }
    return null;
  }
  const tol = floatTolerance(m.compare);
  if (tol === null || spec.type !== 'FLOAT32') throw new Error(`unknown compare rule ${m.compare} for ${spec.type}`);
  const a = new Float32Array(got.slice().buffer);
  const b = new Float32Array(want.slice().buffer);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])))) return `element ${i}: got ${a[i]}, want ${b[i]}`;
  }
  return null;
}

/** Expected-class statements in a case's `source`: "expect argmax 2", "expect output[1] > output[0]". */
export function expectedClass(source: string): number | null {
  const arg = /expect argmax (\d+)/.exec(source);
  if (arg) return Number(arg[1]);
  const gt = /expect output\[(\d+)\] > output\[(\d+)\]/.exec(source);
  return gt ? Number(gt[1]) : null;
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
