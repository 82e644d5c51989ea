// attend_f16 with F16C/FMA: the same arithmetic as the scalar version in attention.cpp, vectorised. The
// dot product sums in ggml's AVX2 order (4 accumulators of 8 lanes over steps of 32, reduced pairwise),
// which the scalar f16 dot kernel follows too.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "model/attention.hpp"
#include "model/ops_avx2.hpp"

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

namespace {

// The online softmax of attend_f16 continued over one more run of keys (S, M: running sum and max;
// acc[hd]: the f16 accumulator; q16: the rounded query).
inline void f16_online_run(const float* q16, const kv_run<fp16_t>& r, int64_t stride, int64_t hd, float scale,
                           float& S_io, float& M_io, float* acc) {
  float S = S_io, M = M_io;  // locals: the chain through S stays in a register
  for (int64_t p = 0; p < r.len; ++p) {
    const float s = dot_f16(r.k + p * stride, q16, hd) * scale;
    float ms = 1.0f, vs = 1.0f;
    if (s > M) {
      ms = std::exp(M - s);
      M = s;
      const __m256 m = _mm256_set1_ps(ms);
      for (int64_t j = 0; j < hd; j += 8) _mm256_storeu_ps(acc + j, round_f16(_mm256_mul_ps(_mm256_loadu_ps(acc + j), m)));
    } else {
      vs = std::exp(s - M);
    }
    const fp16_t* vr = r.v + p * stride;
    const __m256 w = _mm256_set1_ps(vs);
    for (int64_t j = 0; j < hd; j += 8)
      _mm256_storeu_ps(acc + j, round_f16(_mm256_fmadd_ps(load_f16(vr + j), w, _mm256_loadu_ps(acc + j))));
    S = std::fma(S, ms, vs);  // llama.cpp fuses S*ms + vs (one vfmadd in its build)
  }
  S_io = S;
  M_io = M;
}

}  // namespace

void attend_f16_runs(const float* q, std::span<const kv_run<fp16_t>> runs, int64_t stride, int64_t hd, float scale,
                     float* scratch, float* out) {
  float* q16 = scratch;
  float* acc = scratch + hd;
  for (int64_t j = 0; j < hd; j += 8) {
    _mm256_storeu_ps(q16 + j, round_f16(_mm256_loadu_ps(q + j)));
    _mm256_storeu_ps(acc + j, _mm256_setzero_ps());
  }
  float S = 0.0f, M = -INFINITY;
  for (const kv_run<fp16_t>& r : runs) f16_online_run(q16, r, stride, hd, scale, S, M, acc);
  const float inv = S == 0.0f ? 0.0f : 1.0f / S;
  const __m256 iv = _mm256_set1_ps(inv);
  for (int64_t j = 0; j < hd; j += 8) _mm256_storeu_ps(out + j, _mm256_mul_ps(_mm256_loadu_ps(acc + j), iv));
}

void attend_f16(const float* q, const fp16_t* k, const fp16_t* v, int64_t stride, int64_t len, int64_t hd, float scale,
                float* scratch, float* out) {
  const kv_run<fp16_t> run{k, v, len};
  avx2::attend_f16_runs(q, std::span<const kv_run<fp16_t>>(&run, 1), stride, hd, scale, scratch, out);
}

// hd % 8 == 0 (checked by the caller). The key tile is transposed to f32 [hd][64] so that eight keys'
// scores build side by side in one vector, each lane the same fma chain over d as the scalar version.
void attend_f16_tiled(const float* q, const fp16_t* k, const fp16_t* v, int64_t stride, int64_t len, int64_t hd,
                      float scale, float* scratch, float* out) {
  constexpr int64_t T = k_fa_tile_kv;
  float* kt_f32 = scratch;      // [hd][T]
  float* s = scratch + hd * T;  // [T]
  for (int64_t d = 0; d < hd; d += 8) _mm256_storeu_ps(out + d, _mm256_setzero_ps());
  float S = 0.0f, M = -INFINITY;
  const __m256 vscale = _mm256_set1_ps(scale);
  for (int64_t t0 = 0; t0 < len; t0 += T) {
    const int64_t kt = std::min(T, len - t0);
    const int64_t groups = (kt + 7) / 8;
    for (int64_t j = 0; j < groups * 8; ++j) {
      if (j < kt) {
        const fp16_t* kr = k + (t0 + j) * stride;
        alignas(32) float row[8];
        for (int64_t d = 0; d < hd; d += 8) {  // F16C conversion, then scattered into the transposed tile
          _mm256_store_ps(row, load_f16(kr + d));
          for (int l = 0; l < 8; ++l) kt_f32[(d + l) * T + j] = row[l];
        }
      } else {
        for (int64_t d = 0; d < hd; ++d) kt_f32[d * T + j] = 0.0f;
      }
    }
    {
      // All groups' chains side by side (independent, so they overlap in the pipeline); per lane the
      // same sequential fma chain over d.
      __m256 acc[T / 8];
      for (int64_t g = 0; g < T / 8; ++g) acc[g] = _mm256_setzero_ps();
      for (int64_t d = 0; d < hd; ++d) {
        const __m256 qd = _mm256_set1_ps(q[d]);
        const float* kd = kt_f32 + d * T;
        for (int64_t g = 0; g < groups; ++g) acc[g] = _mm256_fmadd_ps(qd, _mm256_loadu_ps(kd + 8 * g), acc[g]);
      }
      for (int64_t g = 0; g < groups; ++g) _mm256_storeu_ps(s + 8 * g, _mm256_mul_ps(acc[g], vscale));
    }
    float tile_max = -INFINITY;
    for (int64_t j = 0; j < kt; ++j) tile_max = s[j] > tile_max ? s[j] : tile_max;
    for (int64_t j = kt; j < groups * 8; ++j) s[j] = -INFINITY;
    const float m_new = std::fmax(M, tile_max);
    if (m_new > M) {
      const float ms = std::exp(M - m_new);
      const __m256 m = _mm256_set1_ps(ms);
      for (int64_t d = 0; d < hd; d += 8) _mm256_storeu_ps(out + d, _mm256_mul_ps(_mm256_loadu_ps(out + d), m));
      S *= ms;
    }
    M = m_new;
    double sum = 0.0;  // groups past the last key add exact zeros in llama.cpp: skipped
    const __m256 vm = _mm256_set1_ps(M);
    for (int64_t g = 0; g < groups; ++g) {
      const __m256 e = ops::avx2::ggml_expf8(_mm256_sub_ps(_mm256_loadu_ps(s + 8 * g), vm));
      _mm256_storeu_ps(s + 8 * g, e);
      __m128 h = _mm_add_ps(_mm256_extractf128_ps(e, 1), _mm256_castps256_ps128(e));
      h = _mm_add_ps(h, _mm_movehl_ps(h, h));
      h = _mm_add_ss(h, _mm_movehdup_ps(h));
      sum += static_cast<double>(_mm_cvtss_f32(h));
    }
    S = static_cast<float>(static_cast<double>(S) + sum);
    for (int64_t d0 = 0; d0 < hd; d0 += 64) {  // up to 64 outputs held in registers across the keys
      const int64_t nv = std::min<int64_t>(8, (hd - d0) / 8);
      __m256 o[8];
      for (int64_t r = 0; r < nv; ++r) o[r] = _mm256_loadu_ps(out + d0 + 8 * r);
      for (int64_t j = 0; j < kt; ++j) {
        const fp16_t* vr = v + (t0 + j) * stride + d0;
        const __m256 w = _mm256_set1_ps(s[j]);
        for (int64_t r = 0; r < nv; ++r) o[r] = _mm256_fmadd_ps(w, load_f16(vr + 8 * r), o[r]);
      }
      for (int64_t r = 0; r < nv; ++r) _mm256_storeu_ps(out + d0 + 8 * r, o[r]);
    }
  }
  const float inv = S == 0.0f ? 0.0f : 1.0f / S;
  const __m256 iv = _mm256_set1_ps(inv);
  for (int64_t d = 0; d < hd; d += 8) _mm256_storeu_ps(out + d, _mm256_mul_ps(_mm256_loadu_ps(out + d), iv));
}

}  // namespace dianoia::detail::attn::avx2
