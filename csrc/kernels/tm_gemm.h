/*
 * The int8 matrix-vector core shared by CONV_2D (1x1 directly on the input, KxK on im2col columns) and
 * FULLY_CONNECTED: out[c] = requant(bias[c] + sum_k col[k] * w[c * depth + k]) for every output channel c.
 *
 * `bias` is the generator's folded bias, bias[c] - input_zero_point * sum_k w[c][k], so the inner loop
 * multiplies raw int8 values (no offset add per MAC) and padded taps are filled with the input zero point.
 * The result is bit-identical to the reference's sum of (x - zp) * w: the identity is exact in int32.
 *
 * DSP path: SXTB16 splits four int8 into two int16 pairs (bytes 0,2 and, rotated, bytes 1,3); SMLAD then
 * does two multiply-accumulates per instruction. Two output pixels share each weight word: their columns
 * are widened once into that pair order and interleaved ([a02 a13 b02 b13] per four values), so the inner
 * loop per four depth steps and two output channels is one LDM of both columns' pairs, two weight loads,
 * four SXTB16 and eight SMLADs for sixteen multiply-accumulates. The loops are hand-scheduled (naked
 * functions below): the instruction count is the cost model, and GCC's schedule of the same C spent a
 * quarter more. Four output channels per call (two passes) pay the call and the bias loads once.
 */
#ifndef TM_GEMM_H
#define TM_GEMM_H

#include "tm_common.h"

/* Words of a widened column of `depth` values: two per group of four, one per leftover value. */
#define TM_WIDE_WORDS(depth) (((depth) >> 1) + ((depth) & 3))

/* Dot product of one column with one weight row: the scalar tails, and the portable path. */
TM_HELPER int32_t tm_dot_s8(const int8_t *x, const int8_t *w, int n, int32_t acc) {
  for (int k = 0; k < n; k++) acc += (int32_t)x[k] * (int32_t)w[k];
  return acc;
}

#if TM_DSP
/*
 * Widen n int8 values into lane `lane` (0 or 1) of a two-column widened buffer. Per group of four values
 * the buffer holds [a02 a13 b02 b13] (column a's and b's SXTB16 pairs side by side, so the inner loop
 * loads all four with one LDM); the leftover values follow as [a_k b_k] words.
 */
TM_HELPER void tm_widen_lane_s8(const int8_t *TM_RESTRICT src, int n, int32_t *TM_RESTRICT dst, int lane) {
  const int groups = n >> 2;
  int32_t *d = dst + 2 * lane;
  for (int g = 0; g < groups; g++, d += 4) {
    const int32_t v = tm_load32(src + 4 * g);
    d[0] = __sxtb16(v);
    d[1] = tm_sxtb16_ror8(v);
  }
  d = dst + 4 * groups + lane;
  for (int k = 4 * groups; k < n; k++, d += 2) *d = src[k];
}

/*
 * acc[0..3] += {col a . row 0, col a . row 1, col b . row 0, col b . row 1} over `groups` groups of four
 * values (x: two interleaved widened columns; w0, w1: int8 rows). Hand-scheduled because the count of
 * instructions is the cost here: per group one LDM brings both columns' pairs, each weight word is split
 * by two SXTB16 and feeds four SMLADs: 16 instructions for 16 multiply-accumulates, the loop unrolled
 * twice (GCC's own schedule of the same C took 20). All fourteen allocatable registers are live in the loop, which
 * inline asm operands cannot have, hence a naked function; noipa keeps GCC from assuming anything of its body
 * (it writes acc through memory that no clobber list can declare here).
 * acc[4] holds the group count (>= 1) on entry.
 */
#define TM_ASM_ARG __attribute__((unused)) /* read by the asm body through the calling convention */
/* One group of tm_dsp_dot_2x2_groups: both columns' pairs by one LDM, each weight word split once. */
#define TM_DSP_2X2_GROUP                 \
  "ldm r0!, {r4, r5, r6, r7}\n\t"         \
  "ldr r8, [r1], #4\n\t"                  \
  "sxtb16 r9, r8\n\t"                     \
  "sxtb16 r8, r8, ror #8\n\t"             \
  "smlad r10, r4, r9, r10\n\t"            \
  "smlad r10, r5, r8, r10\n\t"            \
  "smlad r12, r6, r9, r12\n\t"            \
  "smlad r12, r7, r8, r12\n\t"            \
  "ldr r8, [r2], #4\n\t"                  \
  "sxtb16 r9, r8\n\t"                     \
  "sxtb16 r8, r8, ror #8\n\t"             \
  "smlad r11, r4, r9, r11\n\t"            \
  "smlad r11, r5, r8, r11\n\t"            \
  "smlad lr, r6, r9, lr\n\t"              \
  "smlad lr, r7, r8, lr\n\t"

__attribute__((naked, noipa, unused)) static void tm_dsp_dot_2x2_groups(TM_ASM_ARG const int32_t *x, TM_ASM_ARG const int8_t *w0, TM_ASM_ARG const int8_t *w1, TM_ASM_ARG int32_t *acc) {
  __asm__ volatile(
    "push {r3, r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t"
    "ldm r3, {r10, r11, r12, lr}\n\t"
    "ldr r3, [r3, #16]\n\t"
    /* r3 = pairs of groups; an odd group first (the flags of LSRS survive it: no instruction there sets them) */
    "lsrs r3, r3, #1\n\t"
    "bcc 2f\n\t"
    TM_DSP_2X2_GROUP
    "2:\n\t"
    "beq 3f\n"
    "1:\n\t"
    TM_DSP_2X2_GROUP
    TM_DSP_2X2_GROUP
    "subs r3, r3, #1\n\t"
    "bne 1b\n"
    "3:\n\t"
    "pop {r3}\n\t"
    "stm r3, {r10, r11, r12, lr}\n\t"
    "pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n\t");
}

/*
 * Two interleaved widened columns times four weight rows (rows w0 + j * depth): io->acc = {col a, col b}
 * x {row 0, 1} then x {row 2, 3}, each starting from io->bias[0..3]; depth >= 4 (the depth & ~3 values
 * only). Two passes of the 2x2 loop in one call: the call, the bias loads and the register saves are paid
 * once per eight outputs.
 */
typedef struct {
  const int32_t *bias;
  int32_t acc[8];
} tm_dsp_2x4_io;

#define TM_DSP_2X2_PASS                          \
  "lsrs r3, r3, #3\n\t"                          \
  "bcc 2f\n\t"                                   \
  TM_DSP_2X2_GROUP                               \
  "2:\n\t"                                       \
  "beq 3f\n"                                     \
  "1:\n\t"                                       \
  TM_DSP_2X2_GROUP                               \
  TM_DSP_2X2_GROUP                               \
  "subs r3, r3, #1\n\t"                          \
  "bne 1b\n"                                     \
  "3:\n\t"

__attribute__((naked, noipa, unused)) static void tm_dsp_dot_2x4_groups(TM_ASM_ARG const int32_t *x, TM_ASM_ARG const int8_t *w0, TM_ASM_ARG int32_t depth, TM_ASM_ARG tm_dsp_2x4_io *io) {
  __asm__ volatile(
    /* stack: [sp] = x, [sp, #4] = w0, [sp, #8] = depth, [sp, #12] = io, then the saved registers */
    "push {r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t"
    "ldr r4, [r3]\n\t"
    "ldrd r10, r11, [r4]\n\t"
    "mov r12, r10\n\t"
    "mov lr, r11\n\t"
    "mov r3, r2\n\t"
    "add r2, r1, r2\n\t"
    TM_DSP_2X2_PASS
    "ldr r3, [sp, #12]\n\t"
    "add r3, r3, #4\n\t"
    "stm r3, {r10, r11, r12, lr}\n\t"
    "ldm sp, {r0, r1, r3}\n\t"
    "ldr r4, [sp, #12]\n\t"
    "ldr r4, [r4]\n\t"
    "ldrd r10, r11, [r4, #8]\n\t"
    "mov r12, r10\n\t"
    "mov lr, r11\n\t"
    "add r1, r1, r3, lsl #1\n\t"
    "add r2, r1, r3\n\t"
    TM_DSP_2X2_PASS
    "ldr r3, [sp, #12]\n\t"
    "add r3, r3, #20\n\t"
    "stm r3, {r10, r11, r12, lr}\n\t"
    "add sp, sp, #16\n\t"
    "pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n\t");
}

/* Two interleaved widened columns (tm_widen_lane_s8) times two weight rows: acc as tm_dsp_dot_2x2_groups. */
TM_HELPER void tm_dot_2x2_wide(const int32_t *x, const int8_t *w0, const int8_t *w1, int depth, int32_t acc[4]) {
  const int groups = depth >> 2;
  if (groups > 0) {
    int32_t a[5] = {acc[0], acc[1], acc[2], acc[3], groups};
    tm_dsp_dot_2x2_groups(x, w0, w1, a);
    acc[0] = a[0]; acc[1] = a[1]; acc[2] = a[2]; acc[3] = a[3];
  }
  const int32_t *t = x + 4 * groups;
  for (int k = 4 * groups; k < depth; k++, t += 2) {
    acc[0] += t[0] * w0[k];
    acc[1] += t[0] * w1[k];
    acc[2] += t[1] * w0[k];
    acc[3] += t[1] * w1[k];
  }
}

/* One group of tm_dsp_dot_1x4_groups: the column's word split once, then each row's word split and used. */
#define TM_DSP_1X4_ROW(W, ACC)            \
  "ldr lr, [" W "], #4\n\t"             \
  "sxtb16 r3, lr\n\t"                    \
  "sxtb16 lr, lr, ror #8\n\t"            \
  "smlad " ACC ", r11, r3, " ACC "\n\t"   \
  "smlad " ACC ", r12, lr, " ACC "\n\t"
#define TM_DSP_1X4_GROUP                  \
  "ldr r12, [r0], #4\n\t"                \
  "sxtb16 r11, r12\n\t"                  \
  "sxtb16 r12, r12, ror #8\n\t"          \
  TM_DSP_1X4_ROW("r1", "r7")              \
  TM_DSP_1X4_ROW("r4", "r8")              \
  TM_DSP_1X4_ROW("r5", "r9")              \
  TM_DSP_1X4_ROW("r6", "r10")

/*
 * acc[0..3] += col . row j (rows w0 + j * depth) over the first depth & ~3 values; depth >= 4. The
 * column's word is split once for the four rows: 23 instructions per 16 multiply-accumulates, the loop
 * unrolled twice (GCC's schedule of the same C took about 28). Naked for the register count, as above.
 */
__attribute__((naked, noipa, unused)) static void tm_dsp_dot_1x4_groups(TM_ASM_ARG const int8_t *x, TM_ASM_ARG const int8_t *w0, TM_ASM_ARG int32_t depth, TM_ASM_ARG int32_t *acc) {
  __asm__ volatile(
    "push {r3, r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t"
    "ldm r3, {r7, r8, r9, r10}\n\t"
    "add r4, r1, r2\n\t"
    "add r5, r4, r2\n\t"
    "add r6, r5, r2\n\t"
    /* r2 = pairs of groups of four; an odd group first (no instruction before BEQ sets the flags) */
    "lsrs r2, r2, #3\n\t"
    "bcc 2f\n\t"
    TM_DSP_1X4_GROUP
    "2:\n\t"
    "beq 3f\n"
    "1:\n\t"
    TM_DSP_1X4_GROUP
    TM_DSP_1X4_GROUP
    "subs r2, r2, #1\n\t"
    "bne 1b\n"
    "3:\n\t"
    "pop {r3}\n\t"
    "stm r3, {r7, r8, r9, r10}\n\t"
    "pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n\t");
}

/* One int8 column times four weight rows (fully connected, the odd pixel of a convolution). */
TM_HELPER void tm_dot_1x4_s8(const int8_t *x, const int8_t *w0, int depth, int32_t acc[4]) {
  const int8_t *w1 = w0 + depth, *w2 = w1 + depth, *w3 = w2 + depth;
  if (depth >= 4) tm_dsp_dot_1x4_groups(x, w0, depth, acc);
  for (int k = depth & ~3; k < depth; k++) {
    const int32_t xv = x[k];
    acc[0] += xv * w0[k];
    acc[1] += xv * w1[k];
    acc[2] += xv * w2[k];
    acc[3] += xv * w3[k];
  }
}

/* One int8 column times one weight row. */
TM_HELPER int32_t tm_dot_1x1_s8(const int8_t *x, const int8_t *w, int depth, int32_t acc) {
  int k = 0;
  for (; k + 4 <= depth; k += 4) {
    const int32_t xv = tm_load32(x + k), wv = tm_load32(w + k);
    acc = __smlad(__sxtb16(xv), __sxtb16(wv), acc);
    acc = __smlad(tm_sxtb16_ror8(xv), tm_sxtb16_ror8(wv), acc);
  }
  return tm_dot_s8(x + k, w + k, depth - k, acc);
}
#endif /* TM_DSP */

#if TM_WASM_SIMD
/*
 * WebAssembly SIMD: eight int8 values load widened to int16 (v128.load8x8_s) and i32x4.dot_i16x8_s does
 * eight multiply-accumulates into four int32 lanes, exactly (|product pair| < 2^15). Two columns share each
 * weight load and four weight rows share each column load; the lane sums are reduced once per output.
 */
TM_HELPER v128_t tm_wasm_hsum4(v128_t a, v128_t b, v128_t c, v128_t d) {
  const v128_t ab = wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
  const v128_t cd = wasm_i32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
  return wasm_i32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}

/*
 * Columns x0, x1 times four rows of `stride` bytes from w: s{0,1}[j] = sum_k x[k] * w_j[k] over the first
 * len & ~7 values. (The im2col path passes len rounded up to 8 over zero-padded columns: the few weights
 * read past a row then meet zeros, and past the last row they stay within the module's memory.)
 */
TM_HELPER void tm_wasm_dot_2x4_len(const int8_t *x0, const int8_t *x1, const int8_t *w, int stride, int depth, v128_t *s0, v128_t *s1) {
  const int8_t *w1 = w + stride, *w2 = w1 + stride, *w3 = w2 + stride;
  v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  for (int k = 0; k + 8 <= depth; k += 8) {
    const v128_t xa = wasm_i16x8_load8x8(x0 + k), xb = wasm_i16x8_load8x8(x1 + k);
    v128_t wv = wasm_i16x8_load8x8(w + k);
    a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(xa, wv));
    b0 = wasm_i32x4_add(b0, wasm_i32x4_dot_i16x8(xb, wv));
    wv = wasm_i16x8_load8x8(w1 + k);
    a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(xa, wv));
    b1 = wasm_i32x4_add(b1, wasm_i32x4_dot_i16x8(xb, wv));
    wv = wasm_i16x8_load8x8(w2 + k);
    a2 = wasm_i32x4_add(a2, wasm_i32x4_dot_i16x8(xa, wv));
    b2 = wasm_i32x4_add(b2, wasm_i32x4_dot_i16x8(xb, wv));
    wv = wasm_i16x8_load8x8(w3 + k);
    a3 = wasm_i32x4_add(a3, wasm_i32x4_dot_i16x8(xa, wv));
    b3 = wasm_i32x4_add(b3, wasm_i32x4_dot_i16x8(xb, wv));
  }
  *s0 = tm_wasm_hsum4(a0, a1, a2, a3);
  *s1 = tm_wasm_hsum4(b0, b1, b2, b3);
}

TM_HELPER void tm_wasm_dot_2x4(const int8_t *x0, const int8_t *x1, const int8_t *w, int depth, v128_t *s0, v128_t *s1) {
  tm_wasm_dot_2x4_len(x0, x1, w, depth, depth, s0, s1);
}

/* Channels whose requantisation constants a kernel keeps at hand at once (on the module's stack). */
#define TM_WASM_CHUNK 64

/*
 * Requantisation constants of channels c0 .. c0 + 4 * groups - 1 (the kernels check first that none shifts
 * left), for accumulators of a bias plus n_products int8 products (each of magnitude <= 2^14). Their results
 * reach int8 only through saturating narrowing (tm_wasm_rq4_make_lean's `full`).
 */
TM_HELPER void tm_wasm_rq_table(const tm_requant_params *q, int c0, int groups, int n_products, tm_wasm_rq4 *k) {
  for (int g = 0; g < groups; g++) {
    const int c = c0 + 4 * g;
    v128_t e;
    tm_wasm_shifts4(q, c, &e);
    k[g] = tm_wasm_rq4_make_narrow(wasm_v128_load(q->mult + c), e, q->out_zp, q->act_min, q->act_max);
    int64_t bound = (int64_t)n_products << 14;
    int32_t big = 0;
    for (int j = 0; j < 4; j++) big = TM_MAX(big, q->bias[c + j] < 0 ? -(q->bias[c + j] + 1) : q->bias[c + j]);
    bound += (int64_t)big + 1;
    tm_wasm_rq4_make_lean(&k[g], e, bound < INT32_MAX ? (int32_t)bound : INT32_MAX);
  }
}

/* Whether every channel's requantisation shifts right only (the SIMD form's domain). */
TM_HELPER int tm_wasm_right_shifts(const tm_requant_params *q, int n) {
  for (int c = 0; c < n; c++) if (q->shift[c] > 0) return 0;
  return 1;
}

/* One column times one row over the first depth & ~7 values. */
TM_HELPER int32_t tm_wasm_dot_1x1(const int8_t *x, const int8_t *w, int depth) {
  v128_t a = wasm_i32x4_splat(0);
  for (int k = 0; k + 8 <= depth; k += 8) a = wasm_i32x4_add(a, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(x + k), wasm_i16x8_load8x8(w + k)));
  return wasm_i32x4_extract_lane(a, 0) + wasm_i32x4_extract_lane(a, 1) + wasm_i32x4_extract_lane(a, 2) + wasm_i32x4_extract_lane(a, 3);
}

/* Two columns through all rows; col1 may be NULL (then only out0 is written). */
TM_HELPER void tm_wasm_gemm_2col(const int8_t *col0, const int8_t *col1, const int8_t *w, int depth, int n_out, const tm_requant_params *q, int8_t *out0, int8_t *out1) {
  const int8_t *x1 = col1 ? col1 : col0;
  const int body = depth & ~7;
  int c = 0;
  const int8_t *wr = w;
  for (; c + 4 <= n_out; c += 4, wr += 4 * depth) {
    v128_t s0, s1;
    tm_wasm_dot_2x4(col0, x1, wr, depth, &s0, &s1);
    const v128_t bias = wasm_v128_load(q->bias + c);
    s0 = wasm_i32x4_add(s0, bias);
    s1 = wasm_i32x4_add(s1, bias);
    if (body < depth) {
      int32_t t0[4], t1[4];
      for (int j = 0; j < 4; j++) {
        t0[j] = tm_dot_s8(col0 + body, wr + j * depth + body, depth - body, 0);
        t1[j] = tm_dot_s8(x1 + body, wr + j * depth + body, depth - body, 0);
      }
      s0 = wasm_i32x4_add(s0, wasm_v128_load(t0));
      s1 = wasm_i32x4_add(s1, wasm_v128_load(t1));
    }
    v128_t r0, r1;
    if (tm_wasm_requant4(q, c, s0, &r0) && tm_wasm_requant4(q, c, s1, &r1)) {
      tm_wasm_store4_s8(out0 + c, r0);
      if (col1) tm_wasm_store4_s8(out1 + c, r1);
      continue;
    }
    int32_t a0[4], a1[4];
    wasm_v128_store(a0, s0);
    wasm_v128_store(a1, s1);
    for (int j = 0; j < 4; j++) {
      out0[c + j] = tm_requant_ch(q, a0[j], c + j);
      if (col1) out1[c + j] = tm_requant_ch(q, a1[j], c + j);
    }
  }
  for (; c < n_out; c++, wr += depth) {
    out0[c] = tm_requant_ch(q, tm_dot_s8(col0 + body, wr + body, depth - body, q->bias[c] + tm_wasm_dot_1x1(col0, wr, depth)), c);
    if (col1) out1[c] = tm_requant_ch(q, tm_dot_s8(col1 + body, wr + body, depth - body, q->bias[c] + tm_wasm_dot_1x1(col1, wr, depth)), c);
  }
}
/*
 * The pixel-lane GEMM (WebAssembly SIMD): lanes are output pixels, so a vector of accumulators holds one
 * output channel of four pixels and requantises with one multiplier and one shift (no per-lane shifts, no
 * horizontal sums). Eight pixels (two quads) are packed once per tile into `xp`, int16 in pair order,
 * [depth pair][pixel][2], and meet each weight pair as a splat: i32x4.dot_i16x8_s does the pair's two
 * multiply-accumulates for four pixels. Four output channels share every packed load.
 */
#define TM_WASM_TILE 8
/* Deepest column the tile takes: its packed form and eight im2col columns live on the module's stack. */
#define TM_WASM_TILE_DEPTH 1152

/* Eight rows of `depth` int8 values into xp (pairs padded with 0 when depth is odd). */
TM_HELPER void tm_wasm_pack8(const int8_t *const rows[TM_WASM_TILE], int depth, int16_t *xp) {
  int k = 0;
  for (; k + 16 <= depth; k += 16) {
    int16_t *dst = xp + 8 * k; /* pair k / 2, 16 values per pair */
    for (int h = 0; h < 2; h++) {
      const v128_t r0 = wasm_v128_load(rows[4 * h] + k), r1 = wasm_v128_load(rows[4 * h + 1] + k);
      const v128_t r2 = wasm_v128_load(rows[4 * h + 2] + k), r3 = wasm_v128_load(rows[4 * h + 3] + k);
      const v128_t t01l = wasm_i16x8_shuffle(r0, r1, 0, 8, 1, 9, 2, 10, 3, 11), t01h = wasm_i16x8_shuffle(r0, r1, 4, 12, 5, 13, 6, 14, 7, 15);
      const v128_t t23l = wasm_i16x8_shuffle(r2, r3, 0, 8, 1, 9, 2, 10, 3, 11), t23h = wasm_i16x8_shuffle(r2, r3, 4, 12, 5, 13, 6, 14, 7, 15);
      const v128_t u[4] = {wasm_i32x4_shuffle(t01l, t23l, 0, 4, 1, 5), wasm_i32x4_shuffle(t01l, t23l, 2, 6, 3, 7),
                           wasm_i32x4_shuffle(t01h, t23h, 0, 4, 1, 5), wasm_i32x4_shuffle(t01h, t23h, 2, 6, 3, 7)};
      for (int j = 0; j < 4; j++) {
        wasm_v128_store(dst + 32 * j + 8 * h, wasm_i16x8_extend_low_i8x16(u[j]));
        wasm_v128_store(dst + 32 * j + 16 + 8 * h, wasm_i16x8_extend_high_i8x16(u[j]));
      }
    }
  }
  if (k + 8 <= depth) {
    int16_t *dst = xp + 8 * k;
    for (int h = 0; h < 2; h++) {
      const v128_t r0 = wasm_v128_load64_zero(rows[4 * h] + k), r1 = wasm_v128_load64_zero(rows[4 * h + 1] + k);
      const v128_t r2 = wasm_v128_load64_zero(rows[4 * h + 2] + k), r3 = wasm_v128_load64_zero(rows[4 * h + 3] + k);
      const v128_t t01 = wasm_i16x8_shuffle(r0, r1, 0, 8, 1, 9, 2, 10, 3, 11), t23 = wasm_i16x8_shuffle(r2, r3, 0, 8, 1, 9, 2, 10, 3, 11);
      const v128_t u[2] = {wasm_i32x4_shuffle(t01, t23, 0, 4, 1, 5), wasm_i32x4_shuffle(t01, t23, 2, 6, 3, 7)};
      for (int j = 0; j < 2; j++) {
        wasm_v128_store(dst + 32 * j + 8 * h, wasm_i16x8_extend_low_i8x16(u[j]));
        wasm_v128_store(dst + 32 * j + 16 + 8 * h, wasm_i16x8_extend_high_i8x16(u[j]));
      }
    }
    k += 8;
  }
  for (; k < depth; k += 2) {
    int16_t *dst = xp + 8 * k;
    for (int i = 0; i < TM_WASM_TILE; i++) {
      dst[2 * i] = rows[i][k];
      dst[2 * i + 1] = k + 1 < depth ? rows[i][k + 1] : 0;
    }
  }
}

/* MultiplyByQuantizedMultiplier of four lanes sharing one multiplier and one (TFLite) shift, then the output clamp. */
TM_HELPER v128_t tm_wasm_rq_uniform(v128_t x, int32_t m, int32_t shift, v128_t zp, v128_t lo, v128_t hi, int wide) {
  v128_t r;
  if (wide) {
    r = tm_wasm_mbqm4_wide(x, m, -shift);
  } else {
    if (shift > 0) x = tm_wasm_shl(x, shift);
    r = tm_wasm_mbqm4_uniform(x, wasm_i32x4_splat(m), shift > 0 ? 0 : -shift);
  }
  return wasm_i32x4_min(wasm_i32x4_max(wasm_i32x4_add(r, zp), lo), hi);
}

/* Whether channel c takes tm_wasm_mbqm4_wide (its multiplier and shift, the layer's output range). */
TM_HELPER int tm_wasm_rq_wide_ch(const tm_requant_params *q, int c) {
  return tm_wasm_rq_wide_ok(q->mult[c], -q->shift[c], q->out_zp, q->act_min, q->act_max);
}

/*
 * One packed tile through all n_out weight rows: out[i] + c receives channel c of pixel i (i < n_px).
 * `quads` (a constant at each call, so each use is specialised) is 1 when n_px <= 4: the second quad's
 * work is skipped for a short last tile. A weight row may be read one byte past its end when depth is
 * odd; that byte meets a zero.
 */
/*
 * Four channels' int32 results for eight pixels (a: pixels 0-3, b: pixels 4-7, one vector per channel)
 * narrowed and stored as [pixel][channel]: on a full tile four channels of a pixel are one 32-bit store;
 * a short tile (n_px pixels) or a last group of nv < 4 channels goes through a small buffer.
 */
TM_HELPER void tm_wasm_store_quads(int8_t *const out[TM_WASM_TILE], int c, int n_px, int nv, v128_t a0, v128_t a1, v128_t a2, v128_t a3, v128_t b0, v128_t b1, v128_t b2, v128_t b3) {
  const v128_t ta = wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(a0, a1), wasm_i16x8_narrow_i32x4(a2, a3));
  const v128_t tb = wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(b0, b1), wasm_i16x8_narrow_i32x4(b2, b3));
  const v128_t pa = wasm_i8x16_shuffle(ta, ta, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const v128_t pb = wasm_i8x16_shuffle(tb, tb, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  if (n_px == TM_WASM_TILE && nv == 4) {
    wasm_v128_store32_lane(out[0] + c, pa, 0);
    wasm_v128_store32_lane(out[1] + c, pa, 1);
    wasm_v128_store32_lane(out[2] + c, pa, 2);
    wasm_v128_store32_lane(out[3] + c, pa, 3);
    wasm_v128_store32_lane(out[4] + c, pb, 0);
    wasm_v128_store32_lane(out[5] + c, pb, 1);
    wasm_v128_store32_lane(out[6] + c, pb, 2);
    wasm_v128_store32_lane(out[7] + c, pb, 3);
  } else {
    int8_t t[32];
    wasm_v128_store(t, pa);
    wasm_v128_store(t + 16, pb);
    for (int i = 0; i < n_px; i++)
      for (int j = 0; j < nv; j++) out[i][c + j] = t[4 * i + j];
  }
}

TM_HELPER void tm_wasm_tile_gemm_q(const int16_t *xp, const int8_t *w, int depth, int n_out, const tm_requant_params *q, int8_t *const out[TM_WASM_TILE], int n_px, int quads) {
  const int pairs = (depth + 1) >> 1;
  const v128_t zp = wasm_i32x4_splat(q->out_zp), lo = wasm_i32x4_splat(q->act_min), hi = wasm_i32x4_splat(q->act_max);
  int c = 0;
  for (; c + 4 <= n_out; c += 4) {
    const int8_t *w0 = w + c * depth, *w1 = w0 + depth, *w2 = w1 + depth, *w3 = w2 + depth;
    v128_t a0 = wasm_i32x4_splat(q->bias[c]), a1 = wasm_i32x4_splat(q->bias[c + 1]);
    v128_t a2 = wasm_i32x4_splat(q->bias[c + 2]), a3 = wasm_i32x4_splat(q->bias[c + 3]);
    v128_t b0 = a0, b1 = a1, b2 = a2, b3 = a3;
    const int16_t *x = xp;
    for (int p = 0; p < pairs; p++, x += 16) {
      const v128_t xa = wasm_v128_load(x), xb = quads == 2 ? wasm_v128_load(x + 8) : xa;
      v128_t wv = wasm_i16x8_extend_low_i8x16(wasm_v128_load16_splat(w0 + 2 * p));
      a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(xa, wv));
      if (quads == 2) b0 = wasm_i32x4_add(b0, wasm_i32x4_dot_i16x8(xb, wv));
      wv = wasm_i16x8_extend_low_i8x16(wasm_v128_load16_splat(w1 + 2 * p));
      a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(xa, wv));
      if (quads == 2) b1 = wasm_i32x4_add(b1, wasm_i32x4_dot_i16x8(xb, wv));
      wv = wasm_i16x8_extend_low_i8x16(wasm_v128_load16_splat(w2 + 2 * p));
      a2 = wasm_i32x4_add(a2, wasm_i32x4_dot_i16x8(xa, wv));
      if (quads == 2) b2 = wasm_i32x4_add(b2, wasm_i32x4_dot_i16x8(xb, wv));
      wv = wasm_i16x8_extend_low_i8x16(wasm_v128_load16_splat(w3 + 2 * p));
      a3 = wasm_i32x4_add(a3, wasm_i32x4_dot_i16x8(xa, wv));
      if (quads == 2) b3 = wasm_i32x4_add(b3, wasm_i32x4_dot_i16x8(xb, wv));
    }
    a0 = tm_wasm_rq_uniform(a0, q->mult[c], q->shift[c], zp, lo, hi, tm_wasm_rq_wide_ch(q, c));
    a1 = tm_wasm_rq_uniform(a1, q->mult[c + 1], q->shift[c + 1], zp, lo, hi, tm_wasm_rq_wide_ch(q, c + 1));
    a2 = tm_wasm_rq_uniform(a2, q->mult[c + 2], q->shift[c + 2], zp, lo, hi, tm_wasm_rq_wide_ch(q, c + 2));
    a3 = tm_wasm_rq_uniform(a3, q->mult[c + 3], q->shift[c + 3], zp, lo, hi, tm_wasm_rq_wide_ch(q, c + 3));
    if (quads == 2) {
      b0 = tm_wasm_rq_uniform(b0, q->mult[c], q->shift[c], zp, lo, hi, tm_wasm_rq_wide_ch(q, c));
      b1 = tm_wasm_rq_uniform(b1, q->mult[c + 1], q->shift[c + 1], zp, lo, hi, tm_wasm_rq_wide_ch(q, c + 1));
      b2 = tm_wasm_rq_uniform(b2, q->mult[c + 2], q->shift[c + 2], zp, lo, hi, tm_wasm_rq_wide_ch(q, c + 2));
      b3 = tm_wasm_rq_uniform(b3, q->mult[c + 3], q->shift[c + 3], zp, lo, hi, tm_wasm_rq_wide_ch(q, c + 3));
    }
    /* Bytes [channel][pixel] to [pixel][channel]: four channels of each pixel are one 32-bit store. */
    /* Bytes [channel][pixel] to [pixel][channel]. */
    tm_wasm_store_quads(out, c, n_px, 4, a0, a1, a2, a3, b0, b1, b2, b3);
  }
  for (; c < n_out; c++) {
    const int8_t *w0 = w + c * depth;
    v128_t a0 = wasm_i32x4_splat(q->bias[c]), b0 = a0;
    const int16_t *x = xp;
    for (int p = 0; p < pairs; p++, x += 16) {
      const v128_t wv = wasm_i16x8_extend_low_i8x16(wasm_v128_load16_splat(w0 + 2 * p));
      a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(wasm_v128_load(x), wv));
      if (quads == 2) b0 = wasm_i32x4_add(b0, wasm_i32x4_dot_i16x8(wasm_v128_load(x + 8), wv));
    }
    a0 = tm_wasm_rq_uniform(a0, q->mult[c], q->shift[c], zp, lo, hi, tm_wasm_rq_wide_ch(q, c));
    if (quads == 2) b0 = tm_wasm_rq_uniform(b0, q->mult[c], q->shift[c], zp, lo, hi, tm_wasm_rq_wide_ch(q, c));
    int32_t t[8];
    wasm_v128_store(t, a0);
    wasm_v128_store(t + 4, b0);
    for (int i = 0; i < n_px; i++) out[i][c] = (int8_t)t[i];
  }
}
TM_HELPER void tm_wasm_tile_gemm(const int16_t *xp, const int8_t *w, int depth, int n_out, const tm_requant_params *q, int8_t *const out[TM_WASM_TILE], int n_px) {
  if (n_px > 4) tm_wasm_tile_gemm_q(xp, w, depth, n_out, q, out, n_px, 2);
  else tm_wasm_tile_gemm_q(xp, w, depth, n_out, q, out, n_px, 1);
}

/*
 * The tile's requantisation forms, chosen once per layer (tm_wasm_rq_mode): per channel (GENERIC), every
 * channel in tm_wasm_mbqm4_wide (WIDE), or LEAN: WIDE where no accumulator can reach the saturation bound
 * and the activation range is all of int8, so neither clamp is needed (the narrowing stores saturate).
 */
#define TM_WASM_RQ_GENERIC 0
#define TM_WASM_RQ_WIDE 1
#define TM_WASM_RQ_LEAN 2

/* tm_wasm_rq_uniform of one channel's two quads (b only when quads == 2), the channel's constants made once. */
TM_HELPER void tm_wasm_rq_quads(v128_t *a, v128_t *b, int quads, int32_t m, int32_t shift, v128_t zp, v128_t lo, v128_t hi, int wide) {
  v128_t xa = *a, xb = *b;
  if (wide == TM_WASM_RQ_LEAN) {
    *a = wasm_i32x4_add(tm_wasm_mbqm4_wide_in(xa, m, -shift), zp);
    if (quads == 2) *b = wasm_i32x4_add(tm_wasm_mbqm4_wide_in(xb, m, -shift), zp);
    return;
  }
  if (wide) {
    *a = wasm_i32x4_min(wasm_i32x4_max(wasm_i32x4_add(tm_wasm_mbqm4_wide(xa, m, -shift), zp), lo), hi);
    if (quads == 2) *b = wasm_i32x4_min(wasm_i32x4_max(wasm_i32x4_add(tm_wasm_mbqm4_wide(xb, m, -shift), zp), lo), hi);
    return;
  }
  if (shift > 0) {
    xa = tm_wasm_shl(xa, shift);
    if (quads == 2) xb = tm_wasm_shl(xb, shift);
  }
  const v128_t mv = wasm_i32x4_splat(m);
  v128_t ha = tm_wasm_srdhm4(xa, mv), hb = quads == 2 ? tm_wasm_srdhm4(xb, mv) : ha;
  const int e = shift > 0 ? 0 : -shift;
  if (e > 0) {
    const int32_t mask = (int32_t)((UINT32_C(1) << e) - 1u);
    const v128_t mk = wasm_i32x4_splat(mask), half = wasm_i32x4_splat(mask >> 1);
    ha = tm_wasm_round_up(ha, tm_wasm_shr(ha, e), mk, half);
    if (quads == 2) hb = tm_wasm_round_up(hb, tm_wasm_shr(hb, e), mk, half);
  }
  *a = wasm_i32x4_min(wasm_i32x4_max(wasm_i32x4_add(ha, zp), lo), hi);
  if (quads == 2) *b = wasm_i32x4_min(wasm_i32x4_max(wasm_i32x4_add(hb, zp), lo), hi);
}

/*
 * The packed pixel-lane GEMM's inner loop: `pairs` pairs of packed input (16 int16 a pair: quad 0, then quad 1
 * when quads == 2) against one group's packed weight pairs (8 int16 a pair: a 32-bit splat per channel), added
 * into the accumulators a (quad 0) and b (quad 1) of four channels. Shared by the tile GEMM and Winograd's
 * products; inlined, so the accumulators stay in locals.
 */
TM_HELPER void tm_wasm_dot_quads(const int16_t *x, const int16_t *wq, int pairs, int quads, v128_t *pa0, v128_t *pa1, v128_t *pa2, v128_t *pa3, v128_t *pb0, v128_t *pb1, v128_t *pb2, v128_t *pb3) {
  v128_t a0 = *pa0, a1 = *pa1, a2 = *pa2, a3 = *pa3, b0 = *pb0, b1 = *pb1, b2 = *pb2, b3 = *pb3;
  for (int p = 0; p < pairs; p++, x += 16, wq += 8) {
    const v128_t xa = wasm_v128_load(x), xb = quads == 2 ? wasm_v128_load(x + 8) : xa;
    v128_t wv = wasm_v128_load32_splat(wq);
    a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(xa, wv));
    if (quads == 2) b0 = wasm_i32x4_add(b0, wasm_i32x4_dot_i16x8(xb, wv));
    wv = wasm_v128_load32_splat(wq + 2);
    a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(xa, wv));
    if (quads == 2) b1 = wasm_i32x4_add(b1, wasm_i32x4_dot_i16x8(xb, wv));
    wv = wasm_v128_load32_splat(wq + 4);
    a2 = wasm_i32x4_add(a2, wasm_i32x4_dot_i16x8(xa, wv));
    if (quads == 2) b2 = wasm_i32x4_add(b2, wasm_i32x4_dot_i16x8(xb, wv));
    wv = wasm_v128_load32_splat(wq + 6);
    a3 = wasm_i32x4_add(a3, wasm_i32x4_dot_i16x8(xa, wv));
    if (quads == 2) b3 = wasm_i32x4_add(b3, wasm_i32x4_dot_i16x8(xb, wv));
  }
  *pa0 = a0; *pa1 = a1; *pa2 = a2; *pa3 = a3; *pb0 = b0; *pb1 = b1; *pb2 = b2; *pb3 = b3;
}

/*
 * Weights packed for the tile (the WebAssembly runtime packs them once, at load): per group of four output
 * channels and per depth pair, the four channels' pairs as int16, [group][pair][channel][2], zero past the
 * last channel and the last value. Every weight pair is then one 32-bit splat load at a constant offset
 * from one pointer, with no widening and no address arithmetic in the loop.
 */
TM_HELPER void tm_wasm_tile_gemm_packed_q(const int16_t *xp, const int16_t *wp, int pairs, int n_out, const tm_requant_params *q, int8_t *const out[TM_WASM_TILE], int n_px, int quads, int mode) {
  const v128_t zp = wasm_i32x4_splat(q->out_zp), lo = wasm_i32x4_splat(q->act_min), hi = wasm_i32x4_splat(q->act_max);
  for (int c = 0; c < n_out; c += 4, wp += 8 * pairs) {
    const int nv = TM_MIN(4, n_out - c);
    /* Channels past the last (a short last group) borrow the last channel's constants; they are not stored. */
    const int c1 = c + TM_MIN(1, nv - 1), c2 = c + TM_MIN(2, nv - 1), c3 = c + TM_MIN(3, nv - 1);
    v128_t a0 = wasm_i32x4_splat(q->bias[c]), a1 = wasm_i32x4_splat(q->bias[c1]);
    v128_t a2 = wasm_i32x4_splat(q->bias[c2]), a3 = wasm_i32x4_splat(q->bias[c3]);
    v128_t b0 = a0, b1 = a1, b2 = a2, b3 = a3;
    tm_wasm_dot_quads(xp, wp, pairs, quads, &a0, &a1, &a2, &a3, &b0, &b1, &b2, &b3);
    tm_wasm_rq_quads(&a0, &b0, quads, q->mult[c], q->shift[c], zp, lo, hi, mode ? mode : tm_wasm_rq_wide_ch(q, c));
    tm_wasm_rq_quads(&a1, &b1, quads, q->mult[c1], q->shift[c1], zp, lo, hi, mode ? mode : tm_wasm_rq_wide_ch(q, c1));
    tm_wasm_rq_quads(&a2, &b2, quads, q->mult[c2], q->shift[c2], zp, lo, hi, mode ? mode : tm_wasm_rq_wide_ch(q, c2));
    tm_wasm_rq_quads(&a3, &b3, quads, q->mult[c3], q->shift[c3], zp, lo, hi, mode ? mode : tm_wasm_rq_wide_ch(q, c3));
    tm_wasm_store_quads(out, c, n_px, nv, a0, a1, a2, a3, b0, b1, b2, b3);
  }
}

/* Whether every output channel takes tm_wasm_mbqm4_wide (then the tile needs no per-channel test). */
TM_HELPER int tm_wasm_rq_all_wide(const tm_requant_params *q, int n_out) {
  for (int c = 0; c < n_out; c++) if (!tm_wasm_rq_wide_ch(q, c)) return 0;
  return 1;
}

/*
 * The layer's form (TM_WASM_RQ_*) for a tile of `pairs` depth pairs. LEAN's bound: an accumulator is a bias
 * plus at most 2 * pairs products of int8 values (|product| <= 2^14), so with every |bias| below
 * 2^30 - 2 * pairs * 2^14 it stays within the [-2^30, 2^30) that tm_wasm_mbqm4_wide would clamp it to.
 */
TM_HELPER int tm_wasm_rq_mode(const tm_requant_params *q, int n_out, int pairs) {
  if (!tm_wasm_rq_all_wide(q, n_out)) return TM_WASM_RQ_GENERIC;
  if (q->act_min != -128 || q->act_max != 127) return TM_WASM_RQ_WIDE;
  const int32_t limit = (INT32_C(1) << 30) - pairs * (INT32_C(1) << 15);
  for (int c = 0; c < n_out; c++)
    if (q->bias[c] >= limit || q->bias[c] <= -limit) return TM_WASM_RQ_WIDE;
  return TM_WASM_RQ_LEAN;
}

/* `mode` from tm_wasm_rq_mode, worked out once per layer: each value gets its own copy of the tile. */
TM_HELPER void tm_wasm_tile_gemm_packed(const int16_t *xp, const int16_t *wp, int pairs, int n_out, const tm_requant_params *q, int8_t *const out[TM_WASM_TILE], int n_px, int mode) {
  if (mode == TM_WASM_RQ_LEAN) {
    if (n_px > 4) tm_wasm_tile_gemm_packed_q(xp, wp, pairs, n_out, q, out, n_px, 2, TM_WASM_RQ_LEAN);
    else tm_wasm_tile_gemm_packed_q(xp, wp, pairs, n_out, q, out, n_px, 1, TM_WASM_RQ_LEAN);
  } else if (mode == TM_WASM_RQ_WIDE) {
    if (n_px > 4) tm_wasm_tile_gemm_packed_q(xp, wp, pairs, n_out, q, out, n_px, 2, 1);
    else tm_wasm_tile_gemm_packed_q(xp, wp, pairs, n_out, q, out, n_px, 1, 1);
  } else {
    if (n_px > 4) tm_wasm_tile_gemm_packed_q(xp, wp, pairs, n_out, q, out, n_px, 2, 0);
    else tm_wasm_tile_gemm_packed_q(xp, wp, pairs, n_out, q, out, n_px, 1, 0);
  }
}
#endif /* TM_WASM_SIMD */

/*
 * Weight k of row c in the split layout the generator makes for the DSP kernels (blocks of `block` rows;
 * per block, per group of four values k..k+3, each row's words (k, k+2) and (k+1, k+3), low half first).
 */
TM_HELPER int32_t tm_w16_weight(const int32_t *wp, int block, int c, int k, int depth) {
  const int32_t word = wp[(c / block) * block * (depth >> 1) + (k >> 2) * 2 * block + (c % block) * 2 + (k & 1)];
  return (k & 2) ? (int32_t)(int16_t)(uint16_t)((uint32_t)word >> 16) : (int32_t)(int16_t)(uint16_t)word;
}

/* One column (one output pixel, or one fully-connected row) through all n_out weight rows. */
TM_HELPER void tm_gemm_s8_1col(const int8_t *col, const int8_t *w, int depth, int n_out, const tm_requant_params *q, int8_t *out) {
#if TM_WASM_SIMD
  tm_wasm_gemm_2col(col, 0, w, depth, n_out, q, out, 0);
  return;
#endif
  int c = 0;
  const int8_t *wr = w; /* row c (a pointer walk keeps c * depth from looking like an overflow to GCC) */
#if TM_DSP
  for (; c + 4 <= n_out; c += 4, wr += 4 * depth) {
    int32_t acc[4] = {q->bias[c], q->bias[c + 1], q->bias[c + 2], q->bias[c + 3]};
    tm_dot_1x4_s8(col, wr, depth, acc);
    for (int j = 0; j < 4; j++) out[c + j] = tm_requant_ch(q, acc[j], c + j);
  }
  for (int left = n_out - c; left > 0; left--, c++, wr += depth) out[c] = tm_requant_ch(q, tm_dot_1x1_s8(col, wr, depth, q->bias[c]), c);
#else
  for (int left = n_out; left > 0; left--, c++, wr += depth) out[c] = tm_requant_ch(q, tm_dot_s8(col, wr, depth, q->bias[c]), c);
#endif
}

/* Two int8 columns (two output pixels) through all weight rows, without widening (portable, or too deep). */
TM_HELPER void tm_gemm_s8_2col(const int8_t *col0, const int8_t *col1, const int8_t *w, int depth, int n_out, const tm_requant_params *q, int8_t *out0, int8_t *out1) {
#if TM_WASM_SIMD
  tm_wasm_gemm_2col(col0, col1, w, depth, n_out, q, out0, out1);
  return;
#endif
  const int8_t *wr = w;
  for (int c = 0; c < n_out; c++, wr += depth) {
#if TM_DSP
    const int32_t a0 = tm_dot_1x1_s8(col0, wr, depth, q->bias[c]);
    const int32_t a1 = tm_dot_1x1_s8(col1, wr, depth, q->bias[c]);
#else
    int32_t a0 = q->bias[c], a1 = q->bias[c];
    for (int k = 0; k < depth; k++) {
      const int32_t wv = wr[k];
      a0 += (int32_t)col0[k] * wv;
      a1 += (int32_t)col1[k] * wv;
    }
#endif
    out0[c] = tm_requant_ch(q, a0, c);
    out1[c] = tm_requant_ch(q, a1, c);
  }
}

#if TM_DSP
/*
 * After tm_dsp_dot_2x4_groups: the depth % 4 leftover values of both columns (t: their [a b] words) times
 * rows wr .. wr + 3 * depth, into io->acc in the 2x4 core's order.
 */
TM_HELPER void tm_dsp_2x4_leftover(const int32_t *t, const int8_t *wr, int depth, int32_t *acc) {
  for (int k = depth & ~3, i = 0; k < depth; k++, i += 2) {
    const int32_t xa = t[i], xb = t[i + 1];
    const int32_t w0 = wr[k], w1 = wr[depth + k], w2 = wr[2 * depth + k], w3 = wr[3 * depth + k];
    acc[0] += xa * w0;
    acc[1] += xa * w1;
    acc[2] += xb * w0;
    acc[3] += xb * w1;
    acc[4] += xa * w2;
    acc[5] += xa * w3;
    acc[6] += xb * w2;
    acc[7] += xb * w3;
  }
}

/*
 * The 2x4 core's eight accumulators requantised (channels c .. c + 3 of two pixels) and stored. All eight
 * results before any store: an int8 store may alias the shift table, which would force reloads.
 */
TM_HELPER void tm_dsp_2x4_store(const tm_requant_params *q, const int32_t *acc, int c, int8_t *out0, int8_t *out1) {
  const int8_t a0 = tm_requant_ch(q, acc[0], c), b0 = tm_requant_ch(q, acc[2], c);
  const int8_t a1 = tm_requant_ch(q, acc[1], c + 1), b1 = tm_requant_ch(q, acc[3], c + 1);
  const int8_t a2 = tm_requant_ch(q, acc[4], c + 2), b2 = tm_requant_ch(q, acc[6], c + 2);
  const int8_t a3 = tm_requant_ch(q, acc[5], c + 3), b3 = tm_requant_ch(q, acc[7], c + 3);
  out0[c] = a0; out0[c + 1] = a1; out0[c + 2] = a2; out0[c + 3] = a3;
  out1[c] = b0; out1[c + 1] = b1; out1[c + 2] = b2; out1[c + 3] = b3;
}

/* Two interleaved widened columns through all weight rows, four rows at a time, then two, then one. */
TM_HELPER void tm_gemm_wide_2col(const int32_t *TM_RESTRICT x, const int8_t *w, int depth, int n_out, const tm_requant_params *q, int8_t *out0, int8_t *out1) {
  int c = 0;
  const int8_t *wr = w;
  const int32_t *t = x + 4 * (depth >> 2); /* the leftover values' [a b] words */
  for (; c + 4 <= n_out; c += 4, wr += 4 * depth) {
    tm_dsp_2x4_io io;
    io.bias = q->bias + c;
    tm_dsp_dot_2x4_groups(x, wr, depth, &io);
    tm_dsp_2x4_leftover(t, wr, depth, io.acc);
    tm_dsp_2x4_store(q, io.acc, c, out0, out1);
  }
  for (; c + 2 <= n_out; c += 2, wr += 2 * depth) {
    int32_t acc[4] = {q->bias[c], q->bias[c + 1], q->bias[c], q->bias[c + 1]};
    tm_dot_2x2_wide(x, wr, wr + depth, depth, acc);
    out0[c] = tm_requant_ch(q, acc[0], c);
    out0[c + 1] = tm_requant_ch(q, acc[1], c + 1);
    out1[c] = tm_requant_ch(q, acc[2], c);
    out1[c + 1] = tm_requant_ch(q, acc[3], c + 1);
  }
  if (c < n_out) {
    int32_t acc[4] = {q->bias[c], q->bias[c], q->bias[c], q->bias[c]};
    tm_dot_2x2_wide(x, wr, wr, depth, acc);
    out0[c] = tm_requant_ch(q, acc[0], c);
    out1[c] = tm_requant_ch(q, acc[2], c);
  }
}
#endif

/*
 * Two int8 columns through all rows, widened on the DSP path into `wide` (2 * TM_WIDE_WORDS(depth) words
 * of the layer's plan scratch; unused by the portable path). col1 may be NULL (an odd last pixel).
 */
TM_HELPER void tm_gemm_cols(const int8_t *col0, const int8_t *col1, const int8_t *w, int depth, int n_out, const tm_requant_params *q, int8_t *out0, int8_t *out1, int32_t *wide) {
  if (!col1) {
    tm_gemm_s8_1col(col0, w, depth, n_out, q, out0);
    return;
  }
#if TM_DSP
  tm_widen_lane_s8(col0, depth, wide, 0);
  tm_widen_lane_s8(col1, depth, wide, 1);
  tm_gemm_wide_2col(wide, w, depth, n_out, q, out0, out1);
#else
  (void)wide;
  tm_gemm_s8_2col(col0, col1, w, depth, n_out, q, out0, out1);
#endif
}

#endif /* TM_GEMM_H */
