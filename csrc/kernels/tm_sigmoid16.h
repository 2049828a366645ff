/*
 * int16 LOGISTIC and TANH (TFLite Micro's 16-bit reference_integer_ops::Logistic / Tanh, also the integer
 * LSTM's gates): the input brought to 1/(3 * 4096) units by a 15-bit multiplier and a rounding right shift
 * (multiplier 0: a power-of-two input scale, times 3 << shift), then sigmoid read from TFLite's 256-entry
 * table of sigmoid(i/24) in 0.16 with linear interpolation on |x|, mirrored for negative x. TANH reuses the
 * table (tanh(x) = 2 sigmoid(2x) - 1) with one bit less of fraction. The table is TFLite's data
 * (sigmoid_table_uint16): 44 of its entries sit one above round(65536 sigmoid(i/24)), so it is not recomputed.
 */
#ifndef TM_SIGMOID16_H
#define TM_SIGMOID16_H

#include "tm_common.h"

enum { TM_SIGMOID16_LOGISTIC, TM_SIGMOID16_TANH };

static const uint16_t tm_sigmoid_table_u16[256] = {
  32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
  43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
  51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
  57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
  61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
  63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
  64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
  64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
  65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
  65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
  65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
  65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
  65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
  65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
  65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
  65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535,
};

/* Element i is read before it is written: the output may lie on the input. */
TM_KERNEL void tm_sigmoid_s16(int32_t kind, int32_t multiplier, int32_t shift, int32_t n, const int16_t *in, int16_t *out) {
  if (multiplier == 0) {
    multiplier = 3 << shift;
    shift = 0;
  }
  const int32_t round = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
  for (int32_t i = 0; i < n; i++) {
    const int32_t v = (in[i] * multiplier + round) >> shift;
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    int32_t r;
    if (kind == TM_SIGMOID16_LOGISTIC) {
      const uint32_t uh = a >> 9;
      /* 0.16 table value << 9 plus the interpolated fraction: sigmoid in 0.25. */
      r = 0x7fff << 10;
      if (uh < 255) {
        const int32_t ua = tm_sigmoid_table_u16[uh];
        r = ua * 512 + (int32_t)(a & 0x1ff) * (tm_sigmoid_table_u16[uh + 1] - ua);
      }
      r = v >= 0 ? r + (1 << 9) : (1 << 25) - r + (1 << 9) - 1;
      out[i] = (int16_t)((uint32_t)r >> 10);
    } else {
      const uint32_t uh = a >> 8;
      r = 0xffff << 8;
      if (uh < 255) {
        const int32_t ua = tm_sigmoid_table_u16[uh];
        r = ua * 256 + (int32_t)(a & 0xff) * (tm_sigmoid_table_u16[uh + 1] - ua);
      }
      /* 2 sigmoid - 1: subtract one half (2^23 in this 0.24 form), with the reference's rounding offsets. */
      r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
      out[i] = (int16_t)(r >> 8);
    }
  }
}

#endif /* TM_SIGMOID16_H */
