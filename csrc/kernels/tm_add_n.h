/*
 * int8 ADD_N and CUMSUM (TFLite Micro's add_n.cc and cumsum.cc, reference_ops::AddN / CumSum): every term
 * (q - zero point) is shifted up 20 bits and halved into a common scale of twice the input scale, the
 * terms are summed in int32, and each sum is rescaled to the output. The reference starts its accumulator
 * at the rescaled input offset (-zero point) rather than at 0; its outputs carry that term, so ours do.
 */
#ifndef TM_ADD_N_H
#define TM_ADD_N_H

#include "tm_common.h"

typedef struct {
  int32_t in_offset;          /* -input zero point */
  int32_t in_mult, in_shift;  /* input scale / twice the input scale */
  int32_t out_mult, out_shift;
  int32_t out_zp;
} tm_addn_params;

/* MultiplyByQuantizedMultiplierSmallerThanOne (shift <= 0). */
TM_HELPER int32_t tm_mbqm_small(int32_t x, int32_t m, int32_t shift) {
  return tm_rdbpot(tm_srdhm(x, m), -shift);
}

/* One input value in the common scale (|q - zp| < 2^8, so the 20-bit shift cannot overflow). */
TM_HELPER int32_t tm_addn_term(const tm_addn_params *p, int32_t q) {
  return tm_mbqm_small((q + p->in_offset) * (1 << 20), p->in_mult, p->in_shift);
}

TM_HELPER int8_t tm_addn_out(const tm_addn_params *p, int32_t acc) {
  return (int8_t)tm_clamp(tm_mbqm_small(acc, p->out_mult, p->out_shift) + p->out_zp, -128, 127);
}

/*
 * ADD_N, one input at a time into an int32 sum per element (an arena scratch buffer the plan sizes from
 * the layer): `first` starts the sums at the rescaled offset, then each call adds its input's terms.
 */
TM_KERNEL void tm_add_n_s8_acc(const tm_addn_params *p, int32_t n, int32_t first, const int8_t *in, int32_t *acc) {
  const int32_t start = tm_addn_term(p, 0);
  for (int32_t i = 0; i < n; i++) acc[i] = (int32_t)((uint32_t)(first ? start : acc[i]) + (uint32_t)tm_addn_term(p, in[i]));
}

/* ADD_N's last step: the sums rescaled to the int8 output (the output may lie on any input). */
TM_KERNEL void tm_add_n_s8_out(const tm_addn_params *p, int32_t n, const int32_t *acc, int8_t *out) {
  for (int32_t i = 0; i < n; i++) out[i] = tm_addn_out(p, acc[i]);
}

/* CUMSUM geometry: `before` rows of `depth` runs of `after` contiguous elements, summed along depth. */
typedef struct {
  int32_t before, depth, after;
  int32_t exclusive, reverse;
} tm_cumsum_params;

/*
 * int8 CUMSUM, runs in the reference's order (reversed ones from the far end), the running sum wrapping
 * like its int32. Element i is read before it is written, and no run reads another's elements, so the
 * output may lie on the input.
 */
TM_KERNEL void tm_cumsum_s8(const tm_cumsum_params *g, const tm_addn_params *p, const int8_t *in, int8_t *out) {
  const int32_t start = tm_addn_term(p, 0);
  for (int32_t o = 0; o < g->after; o++)
    for (int32_t b = 0; b < g->before; b++) {
      const int32_t base = (g->reverse ? g->after - 1 - o : o) + (g->reverse ? g->before - 1 - b : b) * g->depth * g->after;
      int32_t acc = start;
      for (int32_t d = 0; d < g->depth; d++) {
        const int32_t i = base + (g->reverse ? g->depth - 1 - d : d) * g->after;
        const int32_t before = acc;
        acc = (int32_t)((uint32_t)acc + (uint32_t)tm_addn_term(p, in[i]));
        out[i] = tm_addn_out(p, g->exclusive ? before : acc);
      }
    }
}

#endif /* TM_ADD_N_H */
