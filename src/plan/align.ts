/** Every buffer starts on a 16-byte boundary: enough for any element type and for SIMD loads in the C code. */
export const ARENA_ALIGN = 16;

export function alignUp(n: number, a = ARENA_ALIGN): number {
  return Math.ceil(n / a) * a;
}
