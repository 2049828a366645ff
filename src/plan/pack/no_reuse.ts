import type { BufferRequest } from '../lifetimes.js';
import type { Placement } from '../placement.js';
import { alignUp } from '../align.js';
import type { PackingStrategy } from './strategy.js';

/** Every buffer in its own slot: for debugging (every intermediate stays readable after invoke). */
export function packNoReuse(requests: readonly BufferRequest[]): Map<number, Placement> {
  const out = new Map<number, Placement>();
  let offset = 0;
  for (const r of requests) {
    out.set(r.id, { ...r, offset });
    offset = alignUp(offset + r.bytes);
  }
  return out;
}

export const noReuse: PackingStrategy = {
  name: 'no-reuse',
  description: 'no reuse: every buffer in its own slot (debugging)',
  pack: (requests) => ({ placements: packNoReuse(requests), provenOptimal: false }),
};
