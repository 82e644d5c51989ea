// AVX2 + FMA + F16C dot kernels (see dot.hpp for the numerics contract). The gemv entry points process
// up to four weight rows per pass so that each activation block is loaded once per four rows; each row
// keeps its own accumulators, so a row's result does not depend on how rows were grouped.
#include <immintrin.h>

#include <cmath>

#include "kernels/dot.hpp"
#include "kernels/quant/blocks.hpp"

namespace dianoia::detail::avx2 {

namespace {

inline float hsum8(__m256 x) {
  __m128 r = _mm_add_ps(_mm256_extractf128_ps(x, 1), _mm256_castps256_ps128(x));
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

inline float half(fp16_t h) { return _cvtsh_ss(h); }

// 16 bytes of nibbles -> 32 bytes in element order: low nibbles (elements 0..15), then high nibbles.
inline __m256i unpack_nibbles(const uint8_t* p) {
  const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m256i b = _mm256_insertf128_si256(_mm256_castsi128_si256(t), _mm_srli_epi16(t, 4), 1);
  return _mm256_and_si256(b, _mm256_set1_epi8(0x0f));
}

// 8 int32 lanes, lane l = sum of u[j]*s[j] for j in 4l..4l+3, as floats. u unsigned bytes <= 128, s signed:
// pair sums stay below 2^15 for every input these kernels see (nibbles, or |q| <= 127 times q8).
inline __m256 lanes_us(__m256i u, __m256i s) {
  const __m256i p16 = _mm256_maddubs_epi16(u, s);
  return _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
}
// Same for two signed operands: move x's sign onto y.
inline __m256 lanes_ss(__m256i x, __m256i y) { return lanes_us(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x)); }

template <int R>
void rows_q4_0(const uint8_t* w, size_t rb, const block_q8_0* a, int64_t nb, float* y) {
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  const __m256i eight = _mm256_set1_epi8(8);
  for (int64_t i = 0; i < nb; ++i) {
    const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[i].qs));
    const float dy = half(a[i].d);
    for (int r = 0; r < R; ++r) {
      const auto& b = reinterpret_cast<const block_q4_0*>(w + r * rb)[i];
      const __m256i qx = _mm256_sub_epi8(unpack_nibbles(b.qs), eight);
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(half(b.d) * dy), lanes_ss(qx, qy), acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) y[r] = hsum8(acc[r]);
}

template <int R>
void rows_q4_1(const uint8_t* w, size_t rb, const block_q8_1* a, int64_t nb, float* y) {
  __m256 acc[R];
  float summs[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps(), summs[r] = 0.0f;
  for (int64_t i = 0; i < nb; ++i) {
    const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[i].qs));
    const float dy = half(a[i].d), sy = half(a[i].s);
    for (int r = 0; r < R; ++r) {
      const auto& b = reinterpret_cast<const block_q4_1*>(w + r * rb)[i];
      summs[r] = std::fma(half(b.m), sy, summs[r]);
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(half(b.d) * dy), lanes_us(unpack_nibbles(b.qs), qy), acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) y[r] = hsum8(acc[r]) + summs[r];
}

template <int R>
void rows_q8_0(const uint8_t* w, size_t rb, const block_q8_0* a, int64_t nb, float* y) {
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[i].qs));
    const float dy = half(a[i].d);
    for (int r = 0; r < R; ++r) {
      const auto& b = reinterpret_cast<const block_q8_0*>(w + r * rb)[i];
      const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs));
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(half(b.d) * dy), lanes_ss(qx, qy), acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) y[r] = hsum8(acc[r]);
}

template <class Block, template <int> class Rows>
void gemv_q(const void* w, size_t rb, int64_t nrows, const void* x, int64_t k, float* y) {
  const auto* base = static_cast<const uint8_t*>(w);
  const auto* a = static_cast<const Block*>(x);
  const int64_t nb = k / qk;
  int64_t r = 0;
  for (; r + 4 <= nrows; r += 4) Rows<4>::run(base + r * rb, rb, a, nb, y + r);
  switch (nrows - r) {
    case 3: Rows<3>::run(base + r * rb, rb, a, nb, y + r); break;
    case 2: Rows<2>::run(base + r * rb, rb, a, nb, y + r); break;
    case 1: Rows<1>::run(base + r * rb, rb, a, nb, y + r); break;
    default: break;
  }
}
template <int R> struct q4_0_rows { static void run(const uint8_t* w, size_t rb, const block_q8_0* a, int64_t nb, float* y) { rows_q4_0<R>(w, rb, a, nb, y); } };
template <int R> struct q4_1_rows { static void run(const uint8_t* w, size_t rb, const block_q8_1* a, int64_t nb, float* y) { rows_q4_1<R>(w, rb, a, nb, y); } };
template <int R> struct q8_0_rows { static void run(const uint8_t* w, size_t rb, const block_q8_0* a, int64_t nb, float* y) { rows_q8_0<R>(w, rb, a, nb, y); } };

// Float rows: 4 vector accumulators over steps of 32, then steps of 8, then a scalar tail.
template <class Load>
float dot_float(const Load& load, float (*scalar)(const void*, int64_t), const void* w, const float* x,
                int64_t k) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 32 <= k; i += 32) {
    a0 = _mm256_fmadd_ps(load(w, i), _mm256_loadu_ps(x + i), a0);
    a1 = _mm256_fmadd_ps(load(w, i + 8), _mm256_loadu_ps(x + i + 8), a1);
    a2 = _mm256_fmadd_ps(load(w, i + 16), _mm256_loadu_ps(x + i + 16), a2);
    a3 = _mm256_fmadd_ps(load(w, i + 24), _mm256_loadu_ps(x + i + 24), a3);
  }
  for (; i + 8 <= k; i += 8) a0 = _mm256_fmadd_ps(load(w, i), _mm256_loadu_ps(x + i), a0);
  float s = hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < k; ++i) s = std::fma(scalar(w, i), x[i], s);
  return s;
}

inline __m256 load_f16(const void* w, int64_t i) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const fp16_t*>(w) + i)));
}
inline __m256 load_f32(const void* w, int64_t i) { return _mm256_loadu_ps(static_cast<const float*>(w) + i); }
float scalar_f16(const void* w, int64_t i) { return half(static_cast<const fp16_t*>(w)[i]); }
float scalar_f32(const void* w, int64_t i) { return static_cast<const float*>(w)[i]; }

void gemv_f16(const void* w, size_t rb, int64_t nrows, const void* x, int64_t k, float* y) {
  for (int64_t r = 0; r < nrows; ++r)
    y[r] = dot_f16_f32(static_cast<const uint8_t*>(w) + r * rb, static_cast<const float*>(x), k);
}
void gemv_f32(const void* w, size_t rb, int64_t nrows, const void* x, int64_t k, float* y) {
  for (int64_t r = 0; r < nrows; ++r)
    y[r] = dot_f32_f32(reinterpret_cast<const float*>(static_cast<const uint8_t*>(w) + r * rb),
                       static_cast<const float*>(x), k);
}

}  // namespace

float dot_q4_0_q8_0(const void* w, const void* x, int64_t k) {
  float y;
  rows_q4_0<1>(static_cast<const uint8_t*>(w), 0, static_cast<const block_q8_0*>(x), k / qk, &y);
  return y;
}
float dot_q4_1_q8_1(const void* w, const void* x, int64_t k) {
  float y;
  rows_q4_1<1>(static_cast<const uint8_t*>(w), 0, static_cast<const block_q8_1*>(x), k / qk, &y);
  return y;
}
float dot_q8_0_q8_0(const void* w, const void* x, int64_t k) {
  float y;
  rows_q8_0<1>(static_cast<const uint8_t*>(w), 0, static_cast<const block_q8_0*>(x), k / qk, &y);
  return y;
}
float dot_f16_f32(const void* w, const float* x, int64_t k) { return dot_float(load_f16, scalar_f16, w, x, k); }
float dot_f32_f32(const float* w, const float* x, int64_t k) { return dot_float(load_f32, scalar_f32, w, x, k); }

gemv_fn gemv(ggml_type t) {
  switch (t) {
    case ggml_type::q4_0: return gemv_q<block_q8_0, q4_0_rows>;
    case ggml_type::q4_1: return gemv_q<block_q8_1, q4_1_rows>;
    case ggml_type::q8_0: return gemv_q<block_q8_0, q8_0_rows>;
    case ggml_type::f16: return gemv_f16;
    case ggml_type::f32: return gemv_f32;
    default: return nullptr;
  }
}

}  // namespace dianoia::detail::avx2
