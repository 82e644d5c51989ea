// K-type super-blocks: row decoding (Q4_K, Q5_K, Q6_K, Q8_K) and the Q8_K activation quantizer.
//
// The decoders round exactly as ggml's dequantize_row_q*_K and gguf-py's numpy version do: the sub-block
// scale and min are formed first (d * sc, dmin * mn, one float multiplication each), then
// y = (d * sc) * q - (dmin * mn) with two separate roundings (no fma: this file is built without FMA and
// in ISO C++ mode, where GCC does not contract). Q6_K is (d * sc) * (q - 32).
#include <cmath>
#include <cstring>

#include "kernels/quant/blocks.hpp"
#include "kernels/quant/quant.hpp"

namespace dianoia::detail {

void dequantize_q4_k(const void* src, float* y, int64_t nb) {
  const auto* b = static_cast<const block_q4_k*>(src);
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_f32(b[i].d), dmin = fp16_to_f32(b[i].dmin);
    const uint8_t* q = b[i].qs;
    for (int j = 0; j < 4; ++j, q += 32, y += 64) {
      int sc, mn;
      kquant_scale_min(2 * j, b[i].scales, sc, mn);
      const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(mn);
      kquant_scale_min(2 * j + 1, b[i].scales, sc, mn);
      const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(mn);
      for (int l = 0; l < 32; ++l) y[l] = d1 * static_cast<float>(q[l] & 0x0f) - m1;
      for (int l = 0; l < 32; ++l) y[l + 32] = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
  }
}

void dequantize_q5_k(const void* src, float* y, int64_t nb) {
  const auto* b = static_cast<const block_q5_k*>(src);
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_f32(b[i].d), dmin = fp16_to_f32(b[i].dmin);
    const uint8_t* q = b[i].qs;
    for (int j = 0; j < 4; ++j, q += 32, y += 64) {
      int sc, mn;
      kquant_scale_min(2 * j, b[i].scales, sc, mn);
      const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(mn);
      kquant_scale_min(2 * j + 1, b[i].scales, sc, mn);
      const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(mn);
      const int lo_bit = 2 * j, hi_bit = 2 * j + 1;
      for (int l = 0; l < 32; ++l) {
        const int v = (q[l] & 0x0f) | (((b[i].qh[l] >> lo_bit) & 1) << 4);
        y[l] = d1 * static_cast<float>(v) - m1;
      }
      for (int l = 0; l < 32; ++l) {
        const int v = (q[l] >> 4) | (((b[i].qh[l] >> hi_bit) & 1) << 4);
        y[l + 32] = d2 * static_cast<float>(v) - m2;
      }
    }
  }
}

void dequantize_q6_k(const void* src, float* y, int64_t nb) {
  const auto* b = static_cast<const block_q6_k*>(src);
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_f32(b[i].d);
    // Two halves of 128 elements; in each, element l (0..31) of the four 32-element quarters shares
    // byte l of qh (2 bits per quarter), and quarters 0/2 and 1/3 share the nibbles of ql[l] / ql[l+32].
    for (int h = 0; h < 2; ++h, y += 128) {
      const uint8_t* ql = b[i].ql + 64 * h;
      const uint8_t* qh = b[i].qh + 32 * h;
      const int8_t* sc = b[i].scales + 8 * h;
      for (int l = 0; l < 32; ++l) {
        const int s = l / 16;
        const int q0 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q1 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q2 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q3 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * static_cast<float>(sc[s]) * static_cast<float>(q0);
        y[l + 32] = d * static_cast<float>(sc[s + 2]) * static_cast<float>(q1);
        y[l + 64] = d * static_cast<float>(sc[s + 4]) * static_cast<float>(q2);
        y[l + 96] = d * static_cast<float>(sc[s + 6]) * static_cast<float>(q3);
      }
    }
  }
}

void dequantize_q8_k(const void* src, float* y, int64_t nb) {
  const auto* b = static_cast<const block_q8_k*>(src);
  for (int64_t i = 0; i < nb; ++i, y += qk_k)
    for (int j = 0; j < qk_k; ++j) y[j] = b[i].d * static_cast<float>(b[i].qs[j]);
}

namespace {
// ggml's nearest_int: adding 1.5 * 2^23 leaves the value rounded (to nearest even) in the low mantissa
// bits. Kept as the same float addition so non-finite input decodes to the same integer as in llama.cpp.
inline int nearest_int(float v) {
  const float t = v + 12582912.f;
  int32_t i;
  std::memcpy(&i, &t, 4);
  return (i & 0x007fffff) - 0x00400000;
}
}  // namespace

void quantize_row_q8_K(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<block_q8_k*>(dst);
  for (int64_t i = 0; i < n / qk_k; ++i, x += qk_k) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < qk_k; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) amax = ax, max = x[j];  // NaN never compares greater: skipped, as in ggml
    }
    if (amax == 0.0f) {
      y[i].d = 0.0f;
      std::memset(y[i].qs, 0, sizeof y[i].qs);
      std::memset(y[i].bsums, 0, sizeof y[i].bsums);
      continue;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < qk_k; ++j) {
      const int v = nearest_int(iscale * x[j]);
      y[i].qs[j] = static_cast<int8_t>(v < 127 ? v : 127);
    }
    for (int j = 0; j < qk_k / 16; ++j) {
      int s = 0;
      for (int l = 0; l < 16; ++l) s += y[i].qs[16 * j + l];
      y[i].bsums[j] = static_cast<int16_t>(s);
    }
    y[i].d = 1.0f / iscale;
  }
}

}  // namespace dianoia::detail
