// Scalar references for the BF16, Q5_0, Q5_1 and K-type dot kernels: the lane structure and every
// float operation of the AVX2 code (and of llama.cpp's AVX2 vec_dot functions) in plain C++, per the
// contract in kernels/dot.hpp. Integer lane sums are exact, so only the float steps need a fixed order.
#include <cmath>
#include <cstring>

#include "kernels/dot.hpp"
#include "kernels/quant/blocks.hpp"

namespace dianoia::detail::ref {

namespace {

inline float hsum8(const float* a) { return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7])); }

// acc[l] = fma(d, sum of w[j] * x[j] over j in 4l..4l+3, acc[l]) for one 32-element block.
inline void accumulate_block(float* acc, float d, const int8_t* w, const int8_t* x) {
  for (int l = 0; l < 8; ++l) {
    int s = 0;
    for (int j = 4 * l; j < 4 * l + 4; ++j) s += w[j] * x[j];
    acc[l] = std::fma(d, static_cast<float>(s), acc[l]);
  }
}

// The 5-bit values of a Q5_0/Q5_1 block, minus `offset`.
inline void unpack_q5(const uint8_t* qs, const uint8_t* qh_bytes, int offset, int8_t* out) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  for (int j = 0; j < qk / 2; ++j) {
    out[j] = static_cast<int8_t>(((qs[j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4)) - offset);
    out[j + qk / 2] = static_cast<int8_t>(((qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4)) - offset);
  }
}

// One K block: the 8 integer lanes of dot.hpp, with scale_of(e) the scale that applies to element e.
template <class ScaleOf>
inline void kblock_lanes(const int8_t* w, const int8_t* x, const ScaleOf& scale_of, int32_t* lanes) {
  for (int l = 0; l < 8; ++l) {
    int32_t s = 0;
    for (int c = 0; c < 8; ++c)
      for (int t = 4 * l; t < 4 * l + 4; ++t) s += scale_of(32 * c + t) * w[32 * c + t] * x[32 * c + t];
    lanes[l] = s;
  }
}

// Q4_K/Q5_K: the 6-bit scales and mins of the 8 sub-blocks.
inline void scales_mins(const uint8_t* packed, int* sc, int* mn) {
  for (int j = 0; j < 8; ++j) kquant_scale_min(j, packed, sc[j], mn[j]);
}

// Q4_K/Q5_K minimum term of one block as the four integers llama.cpp's _mm_madd_epi16 produces.
inline void min_products(const int* mn, const int16_t* bsums, int32_t* prod) {
  for (int p = 0; p < 4; ++p) {
    const int x0 = bsums[4 * p] + bsums[4 * p + 1], x1 = bsums[4 * p + 2] + bsums[4 * p + 3];
    prod[p] = mn[2 * p] * x0 + mn[2 * p + 1] * x1;
  }
}

template <float (*Dot)(const void*, const void*, int64_t)>
void gemv_rows(const void* w, size_t row_bytes, int64_t nrows, const void* x, int64_t k, float* y) {
  for (int64_t r = 0; r < nrows; ++r) y[r] = Dot(static_cast<const uint8_t*>(w) + r * row_bytes, x, k);
}

}  // namespace

float dot_q5_0_q8_0(const void* w, const void* x, int64_t k) {
  const auto* b = static_cast<const block_q5_0*>(w);
  const auto* a = static_cast<const block_q8_0*>(x);
  float acc[8] = {};
  int8_t wq[qk];
  for (int64_t i = 0; i < k / qk; ++i) {
    unpack_q5(b[i].qs, b[i].qh, 16, wq);
    accumulate_block(acc, fp16_to_f32(b[i].d) * fp16_to_f32(a[i].d), wq, a[i].qs);
  }
  return hsum8(acc);
}

float dot_q5_1_q8_1(const void* w, const void* x, int64_t k) {
  const auto* b = static_cast<const block_q5_1*>(w);
  const auto* a = static_cast<const block_q8_1*>(x);
  float acc[8] = {};
  float summs = 0.0f;
  int8_t wq[qk];
  for (int64_t i = 0; i < k / qk; ++i) {
    summs = std::fma(fp16_to_f32(b[i].m), fp16_to_f32(a[i].s), summs);
    unpack_q5(b[i].qs, b[i].qh, 0, wq);
    accumulate_block(acc, fp16_to_f32(b[i].d) * fp16_to_f32(a[i].d), wq, a[i].qs);
  }
  return hsum8(acc) + summs;
}

float dot_q4_k_q8_k(const void* w, const void* x, int64_t k) {
  const auto* b = static_cast<const block_q4_k*>(w);
  const auto* a = static_cast<const block_q8_k*>(x);
  float acc[8] = {}, accm[4] = {};
  int8_t wq[qk_k];
  for (int64_t i = 0; i < k / qk_k; ++i) {
    const float d = a[i].d * fp16_to_f32(b[i].d);
    const float dmin = -a[i].d * fp16_to_f32(b[i].dmin);
    int sc[8], mn[8];
    scales_mins(b[i].scales, sc, mn);
    int32_t prod[4];
    min_products(mn, a[i].bsums, prod);
    for (int p = 0; p < 4; ++p) accm[p] = std::fma(dmin, static_cast<float>(prod[p]), accm[p]);
    for (int j = 0; j < 4; ++j)
      for (int l = 0; l < 32; ++l) {
        wq[64 * j + l] = static_cast<int8_t>(b[i].qs[32 * j + l] & 0x0f);
        wq[64 * j + 32 + l] = static_cast<int8_t>(b[i].qs[32 * j + l] >> 4);
      }
    int32_t lanes[8];
    kblock_lanes(wq, a[i].qs, [&](int e) { return sc[e / 32]; }, lanes);
    for (int l = 0; l < 8; ++l) acc[l] = std::fma(d, static_cast<float>(lanes[l]), acc[l]);
  }
  return hsum8(acc) + ((accm[0] + accm[2]) + (accm[1] + accm[3]));
}

float dot_q5_k_q8_k(const void* w, const void* x, int64_t k) {
  const auto* b = static_cast<const block_q5_k*>(w);
  const auto* a = static_cast<const block_q8_k*>(x);
  float acc[8] = {};
  float summs = 0.0f;
  int8_t wq[qk_k];
  for (int64_t i = 0; i < k / qk_k; ++i) {
    const float d = a[i].d * fp16_to_f32(b[i].d);
    const float dmin = -a[i].d * fp16_to_f32(b[i].dmin);
    int sc[8], mn[8];
    scales_mins(b[i].scales, sc, mn);
    int32_t prod[4];
    min_products(mn, a[i].bsums, prod);
    summs = std::fma(static_cast<float>((prod[0] + prod[1]) + (prod[2] + prod[3])), dmin, summs);
    for (int j = 0; j < 4; ++j)
      for (int l = 0; l < 32; ++l) {
        const uint8_t q = b[i].qs[32 * j + l], h = b[i].qh[l];
        wq[64 * j + l] = static_cast<int8_t>((q & 0x0f) | (((h >> (2 * j)) & 1) << 4));
        wq[64 * j + 32 + l] = static_cast<int8_t>((q >> 4) | (((h >> (2 * j + 1)) & 1) << 4));
      }
    int32_t lanes[8];
    kblock_lanes(wq, a[i].qs, [&](int e) { return sc[e / 32]; }, lanes);
    for (int l = 0; l < 8; ++l) acc[l] = std::fma(d, static_cast<float>(lanes[l]), acc[l]);
  }
  return hsum8(acc) + summs;
}

float dot_q6_k_q8_k(const void* w, const void* x, int64_t k) {
  const auto* b = static_cast<const block_q6_k*>(w);
  const auto* a = static_cast<const block_q8_k*>(x);
  float acc[8] = {};
  int8_t wq[qk_k];
  for (int64_t i = 0; i < k / qk_k; ++i) {
    const float d = a[i].d * fp16_to_f32(b[i].d);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = b[i].ql + 64 * h;
      const uint8_t* qh = b[i].qh + 32 * h;
      int8_t* o = wq + 128 * h;
      for (int l = 0; l < 32; ++l) {
        o[l] = static_cast<int8_t>((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4));
        o[l + 32] = static_cast<int8_t>((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4));
        o[l + 64] = static_cast<int8_t>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
        o[l + 96] = static_cast<int8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
      }
    }
    const int8_t* sc = b[i].scales;
    int32_t lanes[8];
    kblock_lanes(wq, a[i].qs, [&](int e) { return static_cast<int>(sc[e / 16]); }, lanes);
    // The -32 offset, taken from the activation's 16-element sums: lane l gets sub-blocks 2l and 2l+1.
    for (int l = 0; l < 8; ++l)
      lanes[l] -= 32 * (sc[2 * l] * a[i].bsums[2 * l] + sc[2 * l + 1] * a[i].bsums[2 * l + 1]);
    for (int l = 0; l < 8; ++l) acc[l] = std::fma(d, static_cast<float>(lanes[l]), acc[l]);
  }
  return hsum8(acc);
}

float dot_bf16_bf16(const void* w, const void* x, int64_t k) {
  const auto* wh = static_cast<const bf16_t*>(w);
  const auto* xh = static_cast<const bf16_t*>(x);
  float acc[4][8] = {};
  int64_t i = 0;
  for (; i + 32 <= k; i += 32)
    for (int v = 0; v < 4; ++v)
      for (int l = 0; l < 8; ++l) {
        const int64_t e = i + 8 * v + l;
        acc[v][l] = std::fma(bf16_to_f32(wh[e]), bf16_to_f32(xh[e]), acc[v][l]);
      }
  float a[8];
  for (int l = 0; l < 8; ++l) a[l] = (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l]);
  double s = static_cast<double>(hsum8(a));
  for (; i < k; ++i) s += static_cast<double>(bf16_to_f32(wh[i]) * bf16_to_f32(xh[i]));
  return static_cast<float>(s);
}

gemv_fn gemv_more(ggml_type t) {
  switch (t) {
    case ggml_type::q5_0: return gemv_rows<dot_q5_0_q8_0>;
    case ggml_type::q5_1: return gemv_rows<dot_q5_1_q8_1>;
    case ggml_type::q4_k: return gemv_rows<dot_q4_k_q8_k>;
    case ggml_type::q5_k: return gemv_rows<dot_q5_k_q8_k>;
    case ggml_type::q6_k: return gemv_rows<dot_q6_k_q8_k>;
    case ggml_type::bf16: return gemv_rows<dot_bf16_bf16>;
    default: return nullptr;
  }
}

}  // namespace dianoia::detail::ref
