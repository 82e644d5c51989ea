// attend_f16 with F16C/FMA: the same arithmetic as the scalar version in attention.cpp, vectorised. The
// dot product sums in ggml's AVX2 order (4 accumulators of 8 lanes over steps of 32, reduced pairwise),
// which the scalar f16 dot kernel follows too.
#include <immintrin.h>

#include <cmath>

#include "model/attention.hpp"

namespace dianoia::detail::attn::avx2 {

namespace {

inline __m256 load_f16(const fp16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
inline __m256 round_f16(__m256 x) { return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT)); }

inline float reduce(__m256 s0, __m256 s1, __m256 s2, __m256 s3) {
  s0 = _mm256_add_ps(s0, s2);
  s1 = _mm256_add_ps(s1, s3);
  s0 = _mm256_add_ps(s0, s1);
  const __m128 t0 = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
  const __m128 t1 = _mm_hadd_ps(t0, t0);
  return _mm_cvtss_f32(_mm_hadd_ps(t1, t1));
}

// hd % 32 == 0 (checked by the caller).
inline float dot_f16(const fp16_t* k, const float* q, int64_t hd) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (int64_t i = 0; i < hd; i += 32) {
    s0 = _mm256_fmadd_ps(load_f16(k + i), _mm256_loadu_ps(q + i), s0);
    s1 = _mm256_fmadd_ps(load_f16(k + i + 8), _mm256_loadu_ps(q + i + 8), s1);
    s2 = _mm256_fmadd_ps(load_f16(k + i + 16), _mm256_loadu_ps(q + i + 16), s2);
    s3 = _mm256_fmadd_ps(load_f16(k + i + 24), _mm256_loadu_ps(q + i + 24), s3);
  }
  return reduce(s0, s1, s2, s3);
}

}  // namespace

void attend_f16(const float* q, const fp16_t* k, const fp16_t* v, int64_t stride, int64_t len, int64_t hd, float scale,
                float* scratch, float* out) {
  float* q16 = scratch;
  float* acc = scratch + hd;
  for (int64_t j = 0; j < hd; j += 8) {
    _mm256_storeu_ps(q16 + j, round_f16(_mm256_loadu_ps(q + j)));
    _mm256_storeu_ps(acc + j, _mm256_setzero_ps());
  }
  float S = 0.0f, M = -INFINITY;
  for (int64_t p = 0; p < len; ++p) {
    const float s = dot_f16(k + p * stride, q16, hd) * scale;
    float ms = 1.0f, vs = 1.0f;
    if (s > M) {
      ms = std::exp(M - s);
      M = s;
      const __m256 m = _mm256_set1_ps(ms);
      for (int64_t j = 0; j < hd; j += 8) _mm256_storeu_ps(acc + j, round_f16(_mm256_mul_ps(_mm256_loadu_ps(acc + j), m)));
    } else {
      vs = std::exp(s - M);
    }
    const fp16_t* vr = v + p * stride;
    const __m256 w = _mm256_set1_ps(vs);
    for (int64_t j = 0; j < hd; j += 8)
      _mm256_storeu_ps(acc + j, round_f16(_mm256_fmadd_ps(load_f16(vr + j), w, _mm256_loadu_ps(acc + j))));
    S = S * ms + vs;
  }
  const float inv = S == 0.0f ? 0.0f : 1.0f / S;
  const __m256 iv = _mm256_set1_ps(inv);
  for (int64_t j = 0; j < hd; j += 8) _mm256_storeu_ps(out + j, _mm256_mul_ps(_mm256_loadu_ps(acc + j), iv));
}

}  // namespace dianoia::detail::attn::avx2
