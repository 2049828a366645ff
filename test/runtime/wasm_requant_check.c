/*
 * The WebAssembly SIMD requantisation shortcuts against the scalar reference (tm_mbqm, TFLite's
 * MultiplyByQuantizedMultiplier), on many random multipliers, shifts and values, ties and saturation included.
 * Built and run by wasm_requant.test.ts; each export returns its number of mismatches.
 */
#define TM_WASM_EXPORT 1
#include "tm_common.h"
#include "tm_gemm.h"
#include "tm_elementwise.h"

static uint32_t state = 12345;
static uint32_t next(void) {
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

/* A multiplier as TFLite makes them, in [2^30, 2^31), now and then exactly 2^30 (ties) or anything below. */
static int32_t multiplier(int i) {
  if (i % 7 == 0) return INT32_C(1) << 30;
  if (i % 11 == 0) return (int32_t)(next() >> (next() % 31 + 1));
  return (int32_t)((next() >> 1) | 0x40000000u);
}

/* A value of random magnitude (any bit length), or a small multiple of 2^e (near ties). */
static int32_t value(int n, int e) {
  if (n % 5 == 0) return ((int32_t)(next() % 64) - 32) * (INT32_C(1) << e);
  const int bits = (int)(next() % 32);
  const int32_t x = (int32_t)next();
  return bits == 31 ? x : x >> (31 - bits);
}

/* ADD's input rescale (tm_wasm_add_rescale) for every |v| <= 255. */
__attribute__((visibility("default"), used)) int check_add_rescale(int iters) {
  int bad = 0;
  for (int i = 0; i < iters; i++) {
    const int32_t m = multiplier(i);
    const int e = (int)(next() % 26), ls = 9 + (int)(next() % 14);
    const tm_wasm_add_in k = tm_wasm_add_in_make(m, -e, ls);
    for (int v0 = -256; v0 <= 255; v0 += 4) {
      const int32_t vs[4] = {v0 + 1, v0 + 2, v0 + 3, v0 + 4};
      int32_t got[4];
      wasm_v128_store(got, tm_wasm_add_rescale(&k, wasm_v128_load(vs)));
      for (int j = 0; j < 4; j++) bad += vs[j] <= 255 && got[j] != tm_mbqm((int32_t)((uint32_t)vs[j] << ls), m, -e);
    }
  }
  return bad;
}

/* One multiplier and shift for four lanes (tm_wasm_mbqm4_wide), then a zero point and the int8 clamp. */
__attribute__((visibility("default"), used)) int check_wide(int iters) {
  int bad = 0;
  for (int i = 0; i < iters; i++) {
    const int32_t m = i % 13 == 0 ? 0 : multiplier(i);
    const int e = (int)(next() % 20), zp = (int)(next() % 256) - 128;
    if (!tm_wasm_rq_wide_ok(m, e, zp, -128, 127)) continue;
    for (int n = 0; n < 64; n++) {
      int32_t xs[4], got[4];
      for (int j = 0; j < 4; j++) xs[j] = value(n, e);
      wasm_v128_store(got, tm_wasm_mbqm4_wide(wasm_v128_load(xs), m, e));
      for (int j = 0; j < 4; j++) bad += tm_clamp(got[j] + zp, -128, 127) != tm_clamp(tm_mbqm(xs[j], m, -e) + zp, -128, 127);
    }
  }
  return bad;
}

/*
 * tm_wasm_mbqm4_wide_in, the tile's LEAN form: lanes the caller has bounded to [-2^30, 2^30), no clamp of its
 * own; the zero point is added in int32 and the int8 clamp is the narrowing stores' saturation.
 */
__attribute__((visibility("default"), used)) int check_wide_in(int iters) {
  int bad = 0;
  for (int i = 0; i < iters; i++) {
    const int32_t m = i % 13 == 0 ? 0 : multiplier(i);
    const int e = (int)(next() % 20), zp = (int)(next() % 256) - 128;
    if (!tm_wasm_rq_wide_ok(m, e, zp, -128, 127)) continue;
    for (int n = 0; n < 64; n++) {
      int32_t xs[4], got[4];
      for (int j = 0; j < 4; j++) xs[j] = value(n, e) >> 1; /* within [-2^30, 2^30) */
      const v128_t r = wasm_i32x4_add(tm_wasm_mbqm4_wide_in(wasm_v128_load(xs), m, e), wasm_i32x4_splat(zp));
      const v128_t b = wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(r, r), r);
      int8_t bytes[16];
      wasm_v128_store(bytes, b);
      for (int j = 0; j < 4; j++) got[j] = bytes[j];
      for (int j = 0; j < 4; j++) bad += got[j] != tm_clamp(tm_mbqm(xs[j], m, -e) + zp, -128, 127);
    }
  }
  return bad;
}

/* Four lanes with their own multipliers and shifts (tm_wasm_rq4_apply in its narrow form), activation bounds too. */
__attribute__((visibility("default"), used)) int check_narrow(int iters) {
  int bad = 0;
  for (int i = 0; i < iters; i++) {
    int32_t ms[4], es[4];
    for (int j = 0; j < 4; j++) {
      ms[j] = multiplier(i + j);
      if (ms[j] < (INT32_C(1) << 30)) ms[j] = 0;
      es[j] = (int32_t)(next() % 20);
    }
    if (i & 1) es[next() % 4] = 0;
    const int zp = (int)(next() % 256) - 128, lo = i % 3 ? -128 : zp, hi = i % 5 ? 127 : TM_MAX(zp, 0);
    const tm_wasm_rq4 k = tm_wasm_rq4_make_narrow(wasm_v128_load(ms), wasm_v128_load(es), zp, lo, hi);
    if (!k.narrow) {
      bad++;
      continue;
    }
    for (int n = 0; n < 64; n++) {
      int32_t xs[4], got[4];
      for (int j = 0; j < 4; j++) xs[j] = value(n, es[j]);
      wasm_v128_store(got, tm_wasm_rq4_apply(&k, wasm_v128_load(xs)));
      for (int j = 0; j < 4; j++) bad += got[j] != tm_clamp(tm_mbqm(xs[j], ms[j], -es[j]) + zp, lo, hi);
    }
  }
  return bad;
}

/*
 * The narrow form's shortcuts (tm_wasm_rq4_make_lean): accumulators within a bound, lanes sharing a shift
 * or not, activation ranges all of int8 or not; results through the saturating narrowing the kernels use.
 */
__attribute__((visibility("default"), used)) int check_narrow_lean(int iters) {
  int bad = 0, lean = 0;
  for (int i = 0; i < iters; i++) {
    int32_t ms[4], es[4];
    const int32_t e0 = (int32_t)(next() % 20);
    for (int j = 0; j < 4; j++) {
      ms[j] = multiplier(i + j);
      if (ms[j] < (INT32_C(1) << 30)) ms[j] = 0;
      const int32_t d = (int32_t)(next() % 4); /* TM_MAX evaluates its arguments twice */
      es[j] = i % 3 ? e0 : TM_MAX(0, e0 - d);
    }
    const int zp = (int)(next() % 256) - 128, lo = i % 2 ? -128 : zp, hi = i % 4 ? 127 : TM_MAX(zp, 0);
    const int32_t bound = (int32_t)(next() >> (next() % 31 + 1));
    tm_wasm_rq4 k = tm_wasm_rq4_make_narrow(wasm_v128_load(ms), wasm_v128_load(es), zp, lo, hi);
    tm_wasm_rq4_make_lean(&k, wasm_v128_load(es), bound);
    lean += k.lean != TM_WASM_RQ4_CLAMPED;
    for (int n = 0; n < 64; n++) {
      int32_t xs[4], got[4];
      for (int j = 0; j < 4; j++) {
        const int32_t v = value(n, es[j]);
        xs[j] = v > bound ? bound : (v < -bound ? -bound : v);
      }
      const v128_t r = tm_wasm_rq4_apply(&k, wasm_v128_load(xs));
      int8_t bytes[16];
      wasm_v128_store(bytes, wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(r, r), r));
      for (int j = 0; j < 4; j++) got[j] = bytes[j];
      for (int j = 0; j < 4; j++) bad += got[j] != tm_clamp(tm_mbqm(xs[j], ms[j], -es[j]) + zp, lo, hi);
    }
  }
  return lean > iters / 4 ? bad : -1; /* -1: the shortcuts were hardly exercised */
}
