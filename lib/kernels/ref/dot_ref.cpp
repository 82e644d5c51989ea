// Scalar dot products that reproduce the AVX2 kernels' lane structure and rounding order exactly (see
// kernels/dot.hpp). Slow by design: they are the specification the vector code is tested against and the
// fallback on CPUs without AVX2.
#include <cmath>

#include "kernels/cpu_features.hpp"
#include "kernels/dot.hpp"
#include "kernels/quant/blocks.hpp"

namespace dianoia::detail {

namespace {

inline float hsum8(const float* a) { return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7])); }

// acc[l] = fma(d, lane l of the block's integer products, acc[l])
inline void accumulate_block(float* acc, float d, const int8_t* wq, const int8_t* xq) {
  for (int l = 0; l < 8; ++l) {
    int s = 0;
    for (int j = 4 * l; j < 4 * l + 4; ++j) s += wq[j] * xq[j];
    acc[l] = std::fma(d, static_cast<float>(s), acc[l]);
  }
}

inline void unpack_nibbles(const uint8_t* qs, int offset, int8_t* out) {
  for (int j = 0; j < qk / 2; ++j) {
    out[j] = static_cast<int8_t>((qs[j] & 0x0f) - offset);
    out[j + qk / 2] = static_cast<int8_t>((qs[j] >> 4) - offset);
  }
}

template <float (*Dot)(const void*, const void*, int64_t)>
void gemv_q(const void* w, size_t row_bytes, int64_t nrows, const void* x, int64_t k, float* y) {
  for (int64_t r = 0; r < nrows; ++r) y[r] = Dot(static_cast<const uint8_t*>(w) + r * row_bytes, x, k);
}

void gemv_f16(const void* w, size_t row_bytes, int64_t nrows, const void* x, int64_t k, float* y) {
  for (int64_t r = 0; r < nrows; ++r)
    y[r] = ref::dot_f16_f32(static_cast<const uint8_t*>(w) + r * row_bytes, static_cast<const float*>(x), k);
}

void gemv_f32(const void* w, size_t row_bytes, int64_t nrows, const void* x, int64_t k, float* y) {
  for (int64_t r = 0; r < nrows; ++r)
    y[r] = ref::dot_f32_f32(reinterpret_cast<const float*>(static_cast<const uint8_t*>(w) + r * row_bytes),
                            static_cast<const float*>(x), k);
}

template <class Load>
float dot_float_lanes(const Load& wv, const float* x, int64_t k) {
  float acc[4][8] = {};
  int64_t i = 0;
  for (; i + 32 <= k; i += 32)
    for (int v = 0; v < 4; ++v)
      for (int l = 0; l < 8; ++l) acc[v][l] = std::fma(wv(i + 8 * v + l), x[i + 8 * v + l], acc[v][l]);
  for (; i + 8 <= k; i += 8)
    for (int l = 0; l < 8; ++l) acc[0][l] = std::fma(wv(i + l), x[i + l], acc[0][l]);
  float a[8];
  for (int l = 0; l < 8; ++l) a[l] = (acc[0][l] + acc[1][l]) + (acc[2][l] + acc[3][l]);
  float s = hsum8(a);
  for (; i < k; ++i) s = std::fma(wv(i), x[i], s);
  return s;
}

}  // namespace

ggml_type dot_activation_type(ggml_type t) {
  switch (t) {
    case ggml_type::q4_0: case ggml_type::q5_0: case ggml_type::q8_0: return ggml_type::q8_0;
    case ggml_type::q4_1: case ggml_type::q5_1: return ggml_type::q8_1;
    case ggml_type::q4_k: case ggml_type::q5_k: case ggml_type::q6_k: return ggml_type::q8_k;
    case ggml_type::bf16: return ggml_type::bf16;
    default: return ggml_type::f32;
  }
}

gemv_fn select_gemv(ggml_type t) { return cpu_has_avx2() ? avx2::gemv(t) : ref::gemv(t); }

namespace ref {

float dot_q4_0_q8_0(const void* w, const void* x, int64_t k) {
  const auto* b = static_cast<const block_q4_0*>(w);
  const auto* a = static_cast<const block_q8_0*>(x);
  float acc[8] = {};
  int8_t wq[qk];
  for (int64_t i = 0; i < k / qk; ++i) {
    unpack_nibbles(b[i].qs, 8, wq);
    accumulate_block(acc, fp16_to_f32(b[i].d) * fp16_to_f32(a[i].d), wq, a[i].qs);
  }
  return hsum8(acc);
}

float dot_q4_1_q8_1(const void* w, const void* x, int64_t k) {
  const auto* b = static_cast<const block_q4_1*>(w);
  const auto* a = static_cast<const block_q8_1*>(x);
  float acc[8] = {};
  float summs = 0.0f;
  int8_t wq[qk];
  for (int64_t i = 0; i < k / qk; ++i) {
    summs = std::fma(fp16_to_f32(b[i].m), fp16_to_f32(a[i].s), summs);
    unpack_nibbles(b[i].qs, 0, wq);
    accumulate_block(acc, fp16_to_f32(b[i].d) * fp16_to_f32(a[i].d), wq, a[i].qs);
  }
  return hsum8(acc) + summs;
}

float dot_q8_0_q8_0(const void* w, const void* x, int64_t k) {
  const auto* b = static_cast<const block_q8_0*>(w);
  const auto* a = static_cast<const block_q8_0*>(x);
  float acc[8] = {};
  for (int64_t i = 0; i < k / qk; ++i)
    accumulate_block(acc, fp16_to_f32(b[i].d) * fp16_to_f32(a[i].d), b[i].qs, a[i].qs);
  return hsum8(acc);
}

float dot_f16_f32(const void* w, const float* x, int64_t k) {
  const auto* h = static_cast<const fp16_t*>(w);
  return dot_float_lanes([h](int64_t i) { return fp16_to_f32(h[i]); }, x, k);
}

float dot_f32_f32(const float* w, const float* x, int64_t k) {
  return dot_float_lanes([w](int64_t i) { return w[i]; }, x, k);
}

gemv_fn gemv(ggml_type t) {
  switch (t) {
    case ggml_type::q4_0: return gemv_q<dot_q4_0_q8_0>;
    case ggml_type::q4_1: return gemv_q<dot_q4_1_q8_1>;
    case ggml_type::q8_0: return gemv_q<dot_q8_0_q8_0>;
    case ggml_type::f16: return gemv_f16;
    case ggml_type::f32: return gemv_f32;
    default: return gemv_more(t);
  }
}

}  // namespace ref
}  // namespace dianoia::detail
