/*
 * tinyml-ts C kernel library: what every kernel shares.
 *
 * The integer semantics are TensorFlow Lite Micro's reference kernels: int32 accumulators, gemmlowp's
 * double-rounding MultiplyByQuantizedMultiplier, round-half-away-from-zero. Every function here is
 * header-only and `static inline`, so a generated model.c that calls a kernel with constant shapes gets
 * a copy specialised to those shapes (TinyEngine's model-adaptive code generation) unless
 * TM_NO_SPECIALIZE is defined, in which case each kernel is compiled once and shared.
 *
 * C99, no libc beyond <string.h> and <stdint.h>.
 */
#ifndef TM_COMMON_H
#define TM_COMMON_H

#include <stdint.h>
#include <string.h>

#if defined(__GNUC__)
#define TM_ALIGN(n) __attribute__((aligned(n)))
/* Kernel buffers now live in the arena beside the tensors: say they never alias, as stack arrays did not. */
#define TM_RESTRICT __restrict__
/* Every arena buffer starts on a 16-byte boundary (the planner's ARENA_ALIGN): let the compiler know. */
#define TM_ARENA_PTR(p) __builtin_assume_aligned((p), 16)
#define TM_HELPER static inline __attribute__((always_inline))
#if defined(TM_WASM_EXPORT)
/* The WebAssembly build (csrc/wasm): every kernel once, exported by name for the interpreter to call. */
#define TM_KERNEL __attribute__((visibility("default"), noinline, used))
#elif defined(TM_NO_SPECIALIZE)
#define TM_KERNEL static __attribute__((noinline, unused))
#else
#define TM_KERNEL static inline __attribute__((always_inline))
#endif
#else
#define TM_ALIGN(n)
#define TM_RESTRICT
#define TM_ARENA_PTR(p) (p)
#define TM_HELPER static inline
#define TM_KERNEL static inline
#endif

/* The Cortex-M DSP extension (M4, M7, M33 with DSP): SIMD multiply-accumulate through ACLE. */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && defined(__ARM_FEATURE_SIMD32) && !defined(TM_PORTABLE)
#define TM_DSP 1
#include <arm_acle.h>
#else
#define TM_DSP 0
#endif

/* Unroll the next loop n times (GCC); other compilers ignore it. */
#if defined(__GNUC__) && !defined(__clang__)
#define TM_PRAGMA(x) _Pragma(#x)
#define TM_UNROLL(n) TM_PRAGMA(GCC unroll n)
#else
#define TM_UNROLL(n)
#endif

/* WebAssembly SIMD128 (the interpreter's backend, csrc/wasm): 128-bit integer lanes through clang's intrinsics. */
#if defined(__wasm_simd128__) && !defined(TM_PORTABLE)
#define TM_WASM_SIMD 1
#include <wasm_simd128.h>
#else
#define TM_WASM_SIMD 0
#endif

#define TM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define TM_MAX(a, b) ((a) > (b) ? (a) : (b))

TM_HELPER int32_t tm_clamp(int32_t x, int32_t lo, int32_t hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

/* Unaligned 32-bit load (one LDR on Cortex-M3 and up, which allow unaligned word access). */
TM_HELPER int32_t tm_load32(const int8_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return v;
}

/*
 * gemmlowp SaturatingRoundingDoublingHighMul: the high word of 2*a*b, rounded half away from zero.
 * Adding the nudge 2^30 and shifting right arithmetically (floor) gives exactly the reference's
 * truncating division for both signs, so this is one SMLAL and a shift on Cortex-M.
 */
TM_HELPER int32_t tm_srdhm(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  return (int32_t)(((int64_t)a * (int64_t)b + (INT64_C(1) << 30)) >> 31);
}

/* gemmlowp RoundingDivideByPOT: x / 2^e rounded half away from zero, 0 <= e <= 31. */
TM_HELPER int32_t tm_rdbpot(int32_t x, int e) {
  const int32_t mask = (int32_t)((UINT32_C(1) << e) - 1u);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (remainder > threshold ? 1 : 0);
}

/*
 * TFLite MultiplyByQuantizedMultiplier (the double-rounding variant TFLite Micro builds by default):
 * x * multiplier * 2^(shift - 31). The multiplier is positive, so the high-mul cannot saturate.
 * The left shift wraps like the reference's int32 multiply instead of being undefined behaviour.
 */
TM_HELPER int32_t tm_mbqm(int32_t x, int32_t multiplier, int32_t shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  const int32_t shifted = (int32_t)((uint32_t)x << left);
  const int32_t high = (int32_t)(((int64_t)shifted * (int64_t)multiplier + (INT64_C(1) << 30)) >> 31);
  return tm_rdbpot(high, right);
}

/* Requantise an int32 accumulator to an int8 output: scale, add the zero point, clamp to the activation. */
TM_HELPER int8_t tm_requant(int32_t acc, int32_t multiplier, int32_t shift, int32_t out_zp, int32_t act_min, int32_t act_max) {
  return (int8_t)tm_clamp(tm_mbqm(acc, multiplier, shift) + out_zp, act_min, act_max);
}

/* std::round for floats and doubles (half away from zero) without libm: exact for the magnitudes used. */
TM_HELPER float tm_roundf(float x) {
  if (!(x > -8388608.0f && x < 8388608.0f)) return x; /* already integral (or NaN) */
  const float t = (float)(int32_t)x;                  /* truncation toward zero */
  const float frac = x - t;                           /* exact */
  if (frac >= 0.5f) return t + 1.0f;
  if (frac <= -0.5f) return t - 1.0f;
  return t;
}

/*
 * Requantisation parameters of a layer. `fast` is set by the generator only when tm_requant_fast below is
 * exact for every channel of the layer (multiplier 0 or in [2^30, 2^31), shift in [-30, -1], and the
 * accumulator bound or a shift of at most 20 bits; see the proof there); 2 when tm_requant_zp_pre is too.
 */
typedef struct {
  const int32_t *bias;
  const int32_t *mult;
  const int8_t *shift; /* TFLite shift (-31..30): one byte per channel */
  int32_t out_zp;
  int32_t act_min;
  int32_t act_max;
  int32_t fast;
} tm_requant_params;

#if TM_DSP
/* SXTB16 of bytes 1 and 3 (GCC does not fuse the rotation into the instruction by itself). */
TM_HELPER int32_t tm_sxtb16_ror8(int32_t x) {
  int32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
}

/* SMMULR: (a * b + 2^31) >> 32, the rounded high word. */
TM_HELPER int32_t tm_smmulr(int32_t a, int32_t b) {
  int32_t r;
  __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}

/*
 * MultiplyByQuantizedMultiplier in five instructions, exact under the generator's conditions:
 *  - |acc| < 2^30: QADD doubles exactly and SMMULR(2 acc, m) = floor((acc m + 2^30) / 2^31), which is
 *    SaturatingRoundingDoublingHighMul; |x| < 2^30 so for e <= 30 the rounding shift below cannot
 *    overflow, and (x + 2^(e-1) - [x < 0]) >> e is RoundingDivideByPOT. The generator proves |acc| < 2^30
 *    from |bias| + taps * 128 * 128 when it can.
 *  - otherwise, with e <= 20: if |acc| >= 2^30 the true result has magnitude >= 2^(29 - e) >= 512
 *    (m >= 2^30), and so has the saturated one, with the same sign: both clamp to the same bound.
 */
/* MultiplyByQuantizedMultiplier for |acc| < 2^30, m in {0} U [2^30, 2^31), e = -shift in [1, 30] (exact, see above). */
TM_HELPER int32_t tm_mbqm_fast(int32_t acc, int32_t m, int e, int32_t round) {
  const int32_t x = tm_smmulr(__qadd(acc, acc), m);
  return (x + round + (x >> 31)) >> e;
}

TM_HELPER int8_t tm_requant_fast_pre(int32_t acc, int32_t m, int e, int32_t round, int32_t out_zp, int32_t act_min, int32_t act_max) {
  const int32_t r = tm_mbqm_fast(acc, m, e, round);
  /* SSAT clamps to int8 in one instruction; a fused activation's bounds cost a compare each instead. */
  int32_t v = r + out_zp;
  if (act_min == -128 || act_max == 127) v = __ssat(v, 8);
  if (act_min != -128) v = TM_MAX(v, act_min);
  if (act_max != 127) v = TM_MIN(v, act_max);
  return (int8_t)v;
}

/* The same with the per-channel right shift e = -shift and rounding term 2^(e-1) worked out here. */
TM_HELPER int8_t tm_requant_fast(int32_t acc, int32_t m, int32_t shift, int32_t out_zp, int32_t act_min, int32_t act_max) {
  return tm_requant_fast_pre(acc, m, -shift, (int32_t)1 << (-shift - 1), out_zp, act_min, act_max);
}

/* SMMLAR: (a * b + c * 2^32 + 2^31) >> 32, the rounded high word plus c. */
TM_HELPER int32_t tm_smmlar(int32_t a, int32_t b, int32_t c) {
  int32_t r;
  __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(c));
  return r;
}

/* The constant tm_requant_zp_pre adds before its shift: the rounding term 2^(e-1) and the zero point zp * 2^e. */
TM_HELPER int32_t tm_requant_zp_round(int e, int32_t out_zp) {
  return (int32_t)((uint32_t)(2 * out_zp + 1) << (e - 1));
}

/*
 * tm_requant_fast_pre with the zero point added before the shift (fast == 2, the generator's check): with
 * zr = 2^(e-1) + zp 2^e, floor((x + 2^(e-1) + s + zp 2^e) / 2^e) = floor((x + 2^(e-1) + s) / 2^e) + zp as
 * long as the sum stays within int32, which the generator proves from the accumulator bound (|x| <= |acc|,
 * or < 2^30 once QADD saturates). SMMLAR adds zr to the rounded high word in the same instruction (it is a
 * multiple of 2^32 in the 64-bit sum, so the rounding is untouched). s is acc's sign instead of x's: they
 * differ only when x = 0, and then both give zp because 2^(e-1) - 1 and 2^(e-1) floor alike by 2^e.
 */
TM_HELPER int8_t tm_requant_zp_pre(int32_t acc, int32_t m, int e, int32_t zr, int32_t act_min, int32_t act_max) {
  int32_t v = (tm_smmlar(__qadd(acc, acc), m, zr) + (acc >> 31)) >> e;
  if (act_min == -128 || act_max == 127) v = __ssat(v, 8);
  if (act_min != -128) v = TM_MAX(v, act_min);
  if (act_max != 127) v = TM_MIN(v, act_max);
  return (int8_t)v;
}

/* A channel's added constant for tm_requant_dsp: zr when the layer qualifies (fast == 2), else 2^(e-1). */
TM_HELPER int32_t tm_requant_dsp_k(const tm_requant_params *q, int e) {
  return q->fast == 2 ? tm_requant_zp_round(e, q->out_zp) : (int32_t)1 << (e - 1);
}

/* A fast layer's requantisation with its channel constants worked out beforehand (tm_requant_dsp_k). */
TM_HELPER int8_t tm_requant_dsp(const tm_requant_params *q, int32_t acc, int32_t m, int e, int32_t k) {
  if (q->fast == 2) return tm_requant_zp_pre(acc, m, e, k, q->act_min, q->act_max);
  return tm_requant_fast_pre(acc, m, e, k, q->out_zp, q->act_min, q->act_max);
}
#endif

#if TM_WASM_SIMD
/*
 * TFLite's requantisation for four int32 lanes at once, exactly, in the operations SIMD128 makes cheap on
 * x86 and Arm (32-bit lanes and 32x32->64 multiplies; 64-bit shifts and multiplies are emulated there):
 *  - SaturatingRoundingDoublingHighMul is (x * m + 2^30) >> 31 (m > 0 cannot saturate); the shift by 31
 *    of the 64-bit sum is assembled from its two halves (tm_wasm_hi31);
 *  - RoundingDivideByPOT by e is TFLite's own form, (h >> e) + [(h & mask) > mask / 2 + (h < 0)], with a
 *    per-lane h >> e as (h * 2^(31-e)) >> 31 when the lanes' shifts differ.
 * Only right shifts (e >= 0): callers use the scalar tm_requant when a channel shifts left.
 */
/*
 * An optimisation barrier: clang 14 otherwise rewrites an extmul by a splat into i64x2.mul and the
 * half-word shuffles below into 64-bit shifts and per-lane extract/replace, which engines emulate slowly
 * (x86 has no 64-bit lane multiply or arithmetic shift before AVX-512). The value is unchanged.
 */
TM_HELPER v128_t tm_wasm_opaque(v128_t v) {
  __asm__("" : "+r"(v));
  return v;
}

/*
 * The same for a value that is the same on every iteration of a loop (a multiplier, a shift count): the
 * barrier is volatile so it stays at its use, where instruction selection (one basic block at a time) can
 * see the splat; hoisted, a splatted shift count becomes four lane shifts and a multiplier an i64x2.mul.
 */
TM_HELPER v128_t tm_wasm_here(v128_t v) {
  __asm__ volatile("" : "+r"(v));
  return v;
}

TM_HELPER int tm_wasm_count_here(int n) {
  __asm__ volatile("" : "+r"(n));
  return n;
}

/* Lane shifts by a count known only at run time. */
TM_HELPER v128_t tm_wasm_shl(v128_t v, int n) {
  return wasm_i32x4_shl(v, tm_wasm_count_here(n));
}

TM_HELPER v128_t tm_wasm_shr(v128_t v, int n) {
  return wasm_i32x4_shr(v, tm_wasm_count_here(n));
}

TM_HELPER v128_t tm_wasm_hi31(v128_t q0, v128_t q1) {
  q0 = tm_wasm_opaque(q0);
  q1 = tm_wasm_opaque(q1);
  const v128_t hi = wasm_i32x4_shuffle(q0, q1, 1, 3, 5, 7), lo = wasm_i32x4_shuffle(q0, q1, 0, 2, 4, 6);
  return wasm_v128_or(wasm_i32x4_shl(hi, 1), wasm_u32x4_shr(lo, 31));
}

TM_HELPER v128_t tm_wasm_srdhm4(v128_t x, v128_t m) {
  m = tm_wasm_here(m);
  const v128_t nudge = wasm_i64x2_splat(INT64_C(1) << 30);
  return tm_wasm_hi31(wasm_i64x2_add(wasm_i64x2_extmul_low_i32x4(x, m), nudge), wasm_i64x2_add(wasm_i64x2_extmul_high_i32x4(x, m), nudge));
}

/* RoundingDivideByPOT's correction: +1 where the remainder passes the threshold (masks are all-ones). */
TM_HELPER v128_t tm_wasm_round_up(v128_t h, v128_t shifted, v128_t mask, v128_t half) {
  const v128_t threshold = wasm_i32x4_sub(half, wasm_i32x4_lt(h, wasm_i32x4_splat(0)));
  return wasm_i32x4_sub(shifted, wasm_i32x4_gt(wasm_v128_and(h, mask), threshold));
}

/*
 * The per-lane constants of tm_wasm_rq4_apply, worked out once per group of channels. `narrow` selects the
 * cheaper exact form tm_wasm_rq4_narrow (its constants: lim, nlim, k01, k23, en, scale, big_e) when it applies.
 */
typedef struct {
  v128_t m, f, e0, mask, half, zp, lo, hi;
  v128_t lim, nlim, k01, k23, en, scale;
  int32_t big_e, narrow;
  /* Shortcuts of the narrow form (tm_wasm_rq4_make_lean): TM_WASM_RQ4_* and whether the activation range is all of int8. */
  int32_t lean, full;
} tm_wasm_rq4;

#define TM_WASM_RQ4_CLAMPED 0 /* x saturated to +-lim, then a per-lane shift as a multiply */
#define TM_WASM_RQ4_SCALED 1  /* |x| bounded so that t * scale fits: no saturation */
#define TM_WASM_RQ4_UNIFORM 2 /* one shift for the four lanes and |x| < 2^30: no saturation, no multiply */

/*
 * MultiplyByQuantizedMultiplier with both roundings in one: for a multiplier m in {0} U [2^30, 2^31) and a
 * right shift e >= 1, with h = SaturatingRoundingDoublingHighMul(x, m) = floor((x m + 2^30) / 2^31) and
 * RoundingDivideByPOT(h, e) = floor((h + 2^(e-1) - [h < 0]) / 2^e), nested floors give
 *   floor((x m + 2^30 + 2^(30+e) - [x < 0] 2^31) / 2^(31+e))
 * ([h < 0] = [x < 0] for such m, except x = -1, m = 2^30 or m = 0, where both forms give 0). The 64-bit sum
 * is formed as 2x m + 2K (K the nudge below), so its high word, one shuffle, is floor((x m + K) / 2^31);
 * adding x's sign (-1 or 0) and shifting right by e gives the result. With e = 0, K = 2^30 and no sign.
 * x is saturated first so that 2x fits: the saturated results pass every bound anyway (see the callers).
 */
TM_HELPER int64_t tm_wasm_rq_nudge2(int e) {
  return e > 0 ? (INT64_C(1) << 31) + (INT64_C(1) << (31 + e)) : (INT64_C(1) << 31);
}

/* floor((x2 * m + k) / 2^32) per lane, k01 for lanes 0 and 1, k23 for lanes 2 and 3. */
TM_HELPER v128_t tm_wasm_rq_high(v128_t x2, v128_t m, v128_t k01, v128_t k23) {
  m = tm_wasm_here(m);
  const v128_t q0 = tm_wasm_opaque(wasm_i64x2_add(wasm_i64x2_extmul_low_i32x4(x2, m), k01));
  const v128_t q1 = tm_wasm_opaque(wasm_i64x2_add(wasm_i64x2_extmul_high_i32x4(x2, m), k23));
  return wasm_i32x4_shuffle(q0, q1, 1, 3, 5, 7);
}

/*
 * Whether the one-rounding form with x saturated to [-2^30, 2^30) is exact for a channel: then |x| >= 2^30 - 1
 * means a result of magnitude >= 2^(29-e) - 1 >= 1023 (e <= 19), beyond every bound after the zero point.
 */
TM_HELPER int tm_wasm_rq_wide_ok(int32_t m, int e, int32_t out_zp, int32_t act_min, int32_t act_max) {
  return e >= 0 && e <= 19 && (m == 0 || m >= (INT32_C(1) << 30)) && out_zp + 1023 > act_max && out_zp - 1023 < act_min;
}

/* MultiplyByQuantizedMultiplier of four lanes sharing m and a right shift e, where tm_wasm_rq_wide_ok holds. */
TM_HELPER v128_t tm_wasm_mbqm4_wide_in(v128_t x, int32_t m, int e);

TM_HELPER v128_t tm_wasm_mbqm4_wide(v128_t x, int32_t m, int e) {
  x = wasm_i32x4_min(wasm_i32x4_max(x, wasm_i32x4_splat(-(INT32_C(1) << 30))), wasm_i32x4_splat((INT32_C(1) << 30) - 1));
  return tm_wasm_mbqm4_wide_in(x, m, e);
}

/* The same for lanes already within [-2^30, 2^30) (the caller has bounded them), so without the clamp. */
TM_HELPER v128_t tm_wasm_mbqm4_wide_in(v128_t x, int32_t m, int e) {
  const v128_t k = wasm_i64x2_splat(tm_wasm_rq_nudge2(e));
  const v128_t t = tm_wasm_rq_high(wasm_i32x4_add(x, x), wasm_i32x4_splat(m), k, k);
  if (e == 0) return t;
  return tm_wasm_shr(wasm_i32x4_add(t, wasm_i32x4_shr(x, 31)), e);
}

TM_HELPER tm_wasm_rq4 tm_wasm_rq4_make_raw(v128_t m, v128_t e, int32_t out_zp, int32_t act_min, int32_t act_max) {
  tm_wasm_rq4 k;
  k.m = m;
  /* 2^(31-e) and 2^e through float exponent bits (e = 0 lanes take h itself, see e0). */
  k.f = wasm_i32x4_trunc_sat_f32x4(wasm_i32x4_shl(wasm_i32x4_sub(wasm_i32x4_splat(158), e), 23));
  k.mask = wasm_i32x4_sub(wasm_u32x4_trunc_sat_f32x4(wasm_i32x4_shl(wasm_i32x4_add(e, wasm_i32x4_splat(127)), 23)), wasm_i32x4_splat(1));
  k.half = wasm_u32x4_shr(k.mask, 1);
  k.e0 = wasm_i32x4_eq(e, wasm_i32x4_splat(0));
  k.zp = wasm_i32x4_splat(out_zp);
  k.lo = wasm_i32x4_splat(act_min);
  k.hi = wasm_i32x4_splat(act_max);
  k.narrow = k.big_e = 0;
  k.lean = TM_WASM_RQ4_CLAMPED;
  k.full = 0;
  return k;
}

/*
 * The same with the narrow form's constants when its conditions hold (see tm_wasm_rq4_narrow), E being the
 * lanes' largest shift: for tables made once per layer, where the extra set-up pays for itself.
 */
TM_HELPER tm_wasm_rq4 tm_wasm_rq4_make_narrow(v128_t m, v128_t e, int32_t out_zp, int32_t act_min, int32_t act_max) {
  tm_wasm_rq4 k = tm_wasm_rq4_make_raw(m, e, out_zp, act_min, act_max);
  int32_t es[4], ms[4];
  wasm_v128_store(es, e);
  wasm_v128_store(ms, m);
  const int big_e = TM_MAX(TM_MAX(es[0], es[1]), TM_MAX(es[2], es[3]));
  k.narrow = big_e <= 19 && out_zp + 512 > act_max && out_zp - 512 < act_min;
  for (int j = 0; j < 4; j++) k.narrow &= ms[j] == 0 || ms[j] >= (INT32_C(1) << 30);
  if (!k.narrow) return k;
  k.big_e = big_e;
  int32_t lim[4], scale[4], en[4];
  int64_t nudge[4];
  for (int j = 0; j < 4; j++) {
    lim[j] = (int32_t)1 << (es[j] + 10);
    scale[j] = (int32_t)1 << (big_e - es[j]);
    en[j] = es[j] > 0 ? -1 : 0;
    nudge[j] = tm_wasm_rq_nudge2(es[j]);
  }
  k.lim = wasm_v128_load(lim);
  k.nlim = wasm_i32x4_neg(k.lim);
  k.scale = wasm_v128_load(scale);
  k.en = wasm_v128_load(en);
  k.k01 = wasm_v128_load(nudge);
  k.k23 = wasm_v128_load(nudge + 2);
  return k;
}

/*
 * The narrow form's shortcuts where the lanes' accumulators are known to stay within +-bound: without the
 * saturation when t * 2^(E-e) cannot overflow (|t| <= |x| + 1), without the multiply when all lanes share E
 * (then only 2x must fit), and without the activation clamp when the range is all of int8 (the caller's
 * narrowing to int8 saturates). Exact wherever tm_wasm_rq4_narrow is: the saturation only ever served range.
 */
TM_HELPER void tm_wasm_rq4_make_lean(tm_wasm_rq4 *k, v128_t e, int32_t bound) {
  k->full = wasm_i32x4_extract_lane(k->lo, 0) == -128 && wasm_i32x4_extract_lane(k->hi, 0) == 127;
  if (!k->narrow || bound >= (INT32_C(1) << 30) - 2) return;
  int32_t es[4];
  wasm_v128_store(es, e);
  const int small_e = TM_MIN(TM_MIN(es[0], es[1]), TM_MIN(es[2], es[3]));
  if (small_e == k->big_e) k->lean = TM_WASM_RQ4_UNIFORM;
  else if (((int64_t)bound + 2) << (k->big_e - small_e) < (INT64_C(1) << 31)) k->lean = TM_WASM_RQ4_SCALED;
}

TM_HELPER tm_wasm_rq4 tm_wasm_rq4_make(const tm_requant_params *q, v128_t m, v128_t e) {
  return tm_wasm_rq4_make_raw(m, e, q->out_zp, q->act_min, q->act_max);
}

/* MultiplyByQuantizedMultiplier of four lanes with their own multipliers and right shifts. */
TM_HELPER v128_t tm_wasm_mbqm4(const tm_wasm_rq4 *k, v128_t x) {
  const v128_t h = tm_wasm_srdhm4(x, k->m), f = tm_wasm_here(k->f);
  v128_t shifted = tm_wasm_hi31(wasm_i64x2_extmul_low_i32x4(h, f), wasm_i64x2_extmul_high_i32x4(h, f));
  shifted = wasm_v128_bitselect(h, shifted, k->e0);
  return tm_wasm_round_up(h, shifted, k->mask, k->half);
}

/* The same with one multiplier m and one right shift e (>= 0) for all lanes (ADD, MUL, one depthwise channel). */
TM_HELPER v128_t tm_wasm_mbqm4_uniform(v128_t x, v128_t m, int e) {
  const v128_t h = tm_wasm_srdhm4(x, m);
  if (e == 0) return h;
  const int32_t mask = (int32_t)((UINT32_C(1) << e) - 1u);
  return tm_wasm_round_up(h, tm_wasm_shr(h, e), wasm_i32x4_splat(mask), wasm_i32x4_splat(mask >> 1));
}

/*
 * tm_wasm_mbqm4 for outputs that end clamped within int8 (k->narrow): the one-rounding form of
 * tm_wasm_rq_nudge2 with each lane's own nudge, then each lane's shift e as a 32-bit multiply by 2^(E-e) and
 * one shift by E (E the lanes' largest). x is saturated to +-2^(e+10) first: |x| >= 2^(e+10) means a result
 * of magnitude >= 512, and the saturated x gives +-512 with the same sign, both beyond every int8 bound
 * after the zero point (checked when the constants are made); it also keeps t 2^(E-e) within int32 (E <= 19).
 */
TM_HELPER v128_t tm_wasm_rq4_narrow(const tm_wasm_rq4 *k, v128_t x) {
  x = wasm_i32x4_min(wasm_i32x4_max(x, k->nlim), k->lim);
  v128_t t = tm_wasm_rq_high(wasm_i32x4_add(x, x), k->m, k->k01, k->k23);
  t = wasm_i32x4_add(t, wasm_v128_and(wasm_i32x4_shr(x, 31), k->en));
  return tm_wasm_shr(wasm_i32x4_mul(t, k->scale), k->big_e);
}

/* tm_wasm_rq4_narrow's shortcuts (k->lean): the same steps less the saturation, and less the multiply when uniform. */
TM_HELPER v128_t tm_wasm_rq4_lean(const tm_wasm_rq4 *k, v128_t x) {
  v128_t t = tm_wasm_rq_high(wasm_i32x4_add(x, x), k->m, k->k01, k->k23);
  if (k->lean == TM_WASM_RQ4_UNIFORM) return k->big_e ? tm_wasm_shr(wasm_i32x4_add(t, wasm_i32x4_shr(x, 31)), k->big_e) : t;
  t = wasm_i32x4_add(t, wasm_v128_and(wasm_i32x4_shr(x, 31), k->en));
  return tm_wasm_shr(wasm_i32x4_mul(t, k->scale), k->big_e);
}

TM_HELPER v128_t tm_wasm_rq4_apply(const tm_wasm_rq4 *k, v128_t x) {
  const v128_t r = k->narrow ? (k->lean ? tm_wasm_rq4_lean(k, x) : tm_wasm_rq4_narrow(k, x)) : tm_wasm_mbqm4(k, x);
  if (k->full) return wasm_i32x4_add(r, k->zp);
  return wasm_i32x4_min(wasm_i32x4_max(wasm_i32x4_add(r, k->zp), k->lo), k->hi);
}

TM_HELPER v128_t tm_wasm_requant_lanes(const tm_requant_params *q, v128_t x, v128_t m, v128_t e) {
  const tm_wasm_rq4 k = tm_wasm_rq4_make(q, m, e);
  return tm_wasm_rq4_apply(&k, x);
}

/* Right shifts e_i = -shift_i of channels c..c+3, or 0 when one of them shifts left (do those in scalar). */
TM_HELPER int tm_wasm_shifts4(const tm_requant_params *q, int c, v128_t *e) {
  const int8_t *sh = q->shift + c;
  if (sh[0] > 0 || sh[1] > 0 || sh[2] > 0 || sh[3] > 0) return 0;
  *e = wasm_i32x4_neg(wasm_i32x4_make(sh[0], sh[1], sh[2], sh[3]));
  return 1;
}

/* Channels c..c+3 (multiplier m_i, right shift e_i = -shift_i); 0 when one shifts left (do it in scalar). */
TM_HELPER int tm_wasm_requant4(const tm_requant_params *q, int c, v128_t x, v128_t *out) {
  v128_t e;
  if (!tm_wasm_shifts4(q, c, &e)) return 0;
  *out = tm_wasm_requant_lanes(q, x, wasm_v128_load(q->mult + c), e);
  return 1;
}

/* Four requantised int32 lanes (already within int8) stored as four bytes. */
TM_HELPER void tm_wasm_store4_s8(int8_t *dst, v128_t v) {
  const v128_t b = wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(v, v), v);
  wasm_v128_store32_lane(dst, b, 0);
}
#endif

/* Requantise output channel c of a layer (the fast form when the layer qualifies for it). */
TM_HELPER int8_t tm_requant_ch(const tm_requant_params *q, int32_t acc, int c) {
#if TM_DSP
  if (q->fast == 2) return tm_requant_zp_pre(acc, q->mult[c], -q->shift[c], tm_requant_zp_round(-q->shift[c], q->out_zp), q->act_min, q->act_max);
  if (q->fast) return tm_requant_fast(acc, q->mult[c], q->shift[c], q->out_zp, q->act_min, q->act_max);
#endif
  return tm_requant(acc, q->mult[c], q->shift[c], q->out_zp, q->act_min, q->act_max);
}

/*
 * float32 layers: the same floats as TFLite Micro's reference kernels, each output accumulated in the
 * reference's order (SIMD lanes are outputs, never partial sums of one). Build with -ffp-contract=off so no
 * compiler fuses a multiply and an add. The activation bounds of NONE are +-FLT_MAX, as TFLite's.
 */
typedef struct {
  float act_min, act_max;
} tm_float_act;

typedef struct {
  const float *bias;
  float act_min, act_max;
} tm_float_params;

TM_HELPER float tm_clamp_f32(float v, float lo, float hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

#endif /* TM_COMMON_H */
