// Causal attention of a block of prompt queries over an f16 cache, with AVX2 + FMA + F16C.
//
// Why a block: attending one query at a time converts and streams every cached key and value once per
// query and head (on a 512-token prompt that was a third of the prefill time). Here the queries of a few
// consecutive tokens and of every query head that shares one KV head (GQA) form the rows of a block;
// each tile of 64 keys and values is converted to f32 once and used by all rows. Scores are computed
// against the tile transposed (one broadcast query element times 8 keys per FMA, no horizontal sums), the
// softmax is online per row (running max and sum, ggml's vector exp), and each row's output accumulates
// in registers. f32 arithmetic throughout, as the per-row prompt kernel.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "model/attention.hpp"
#include "model/ops_avx2.hpp"

namespace dianoia::detail::attn::avx2 {

namespace {

constexpr int64_t T = k_block_tile_kv;  // keys per tile (64: 8 vectors of scores)

// Converts keys [j0, j0 + n) to kt[d][t] (transposed, zero past n) and values to vt[t][d].
void load_tile(const fp16_t* k, const fp16_t* v, int64_t stride, int64_t j0, int64_t n, int64_t hd, float* kt,
               float* vt) {
  for (int64_t t = 0; t < T; ++t) {
    float* vrow = vt + t * hd;
    if (t >= n) {
      for (int64_t d = 0; d < hd; ++d) kt[d * T + t] = 0.0f;
      for (int64_t d = 0; d < hd; d += 8) _mm256_storeu_ps(vrow + d, _mm256_setzero_ps());
      continue;
    }
    const fp16_t* krow = k + (j0 + t) * stride;
    const fp16_t* vsrc = v + (j0 + t) * stride;
    for (int64_t d = 0; d < hd; d += 8) {
      alignas(32) float buf[8];
      _mm256_store_ps(buf, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(krow + d))));
      for (int i = 0; i < 8; ++i) kt[(d + i) * T + t] = buf[i];
      _mm256_storeu_ps(vrow + d, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(vsrc + d))));
    }
  }
}

// s[0..64) = q . kt[:, t] for one row.
inline void scores(const float* q, const float* kt, int64_t hd, float* s) {
  __m256 a[8];
  for (auto& x : a) x = _mm256_setzero_ps();
  for (int64_t d = 0; d < hd; ++d) {
    const __m256 qd = _mm256_set1_ps(q[d]);
    const float* row = kt + d * T;
    for (int i = 0; i < 8; ++i) a[i] = _mm256_fmadd_ps(qd, _mm256_loadu_ps(row + 8 * i), a[i]);
  }
  for (int i = 0; i < 8; ++i) _mm256_storeu_ps(s + 8 * i, a[i]);
}

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}
inline float hsum(__m256 v) {
  __m128 m = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_add_ps(m, _mm_movehl_ps(m, m));
  m = _mm_add_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

}  // namespace

void attend_block_f16(const block_queries& bq, const fp16_t* k, const fp16_t* v, int64_t stride, int64_t hd,
                      float scale, float* scratch, float* out, int64_t out_stride) {
  const int64_t rows = bq.n_tok * bq.n_head;
  float* kt = scratch;                 // [hd][T]
  float* vt = kt + hd * T;             // [T][hd]
  float* qs = vt + T * hd;             // [rows][hd], scaled queries
  float* acc = qs + rows * hd;         // [rows][hd]
  float* mx = acc + rows * hd;         // [rows]
  float* sum = mx + rows;              // [rows]
  float* s = sum + rows;               // [T]
  const __m256 vscale = _mm256_set1_ps(scale);
  for (int64_t r = 0; r < rows; ++r) {
    const float* q = bq.q + (r / bq.n_head) * bq.q_stride + (r % bq.n_head) * hd;
    for (int64_t d = 0; d < hd; d += 8) {
      _mm256_storeu_ps(qs + r * hd + d, _mm256_mul_ps(_mm256_loadu_ps(q + d), vscale));
      _mm256_storeu_ps(acc + r * hd + d, _mm256_setzero_ps());
    }
    mx[r] = -INFINITY;
    sum[r] = 0.0f;
  }
  const int64_t max_len = bq.len0 + bq.n_tok - 1;
  for (int64_t j0 = 0; j0 < max_len; j0 += T) {
    const int64_t n = std::min(T, max_len - j0);
    load_tile(k, v, stride, j0, n, hd, kt, vt);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t valid = std::min(n, bq.len0 + r / bq.n_head - j0);  // keys this query may see
      if (valid <= 0) continue;
      scores(qs + r * hd, kt, hd, s);
      for (int64_t t = valid; t < T; ++t) s[t] = -INFINITY;
      __m256 m8 = _mm256_loadu_ps(s);
      for (int i = 1; i < 8; ++i) m8 = _mm256_max_ps(m8, _mm256_loadu_ps(s + 8 * i));
      const float m_new = std::max(mx[r], hmax(m8));
      float* o = acc + r * hd;
      if (m_new > mx[r] && mx[r] != -INFINITY) {
        const float f = std::exp(mx[r] - m_new);
        sum[r] *= f;
        const __m256 vf = _mm256_set1_ps(f);
        for (int64_t d = 0; d < hd; d += 8) _mm256_storeu_ps(o + d, _mm256_mul_ps(_mm256_loadu_ps(o + d), vf));
      }
      mx[r] = m_new;
      const __m256 vm = _mm256_set1_ps(m_new);
      __m256 ps = _mm256_setzero_ps();
      for (int i = 0; i < 8; ++i) {
        const __m256 p = ops::avx2::ggml_expf8(_mm256_sub_ps(_mm256_loadu_ps(s + 8 * i), vm));
        _mm256_storeu_ps(s + 8 * i, p);
        ps = _mm256_add_ps(ps, p);
      }
      sum[r] += hsum(ps);
      // o[d] += sum_t p[t] * v[t][d], 32 output columns at a time in registers.
      for (int64_t d = 0; d < hd; d += 32) {
        __m256 o0 = _mm256_loadu_ps(o + d), o1 = _mm256_loadu_ps(o + d + 8), o2 = _mm256_loadu_ps(o + d + 16),
               o3 = _mm256_loadu_ps(o + d + 24);
        for (int64_t t = 0; t < valid; ++t) {
          const __m256 p = _mm256_set1_ps(s[t]);
          const float* vr = vt + t * hd + d;
          o0 = _mm256_fmadd_ps(p, _mm256_loadu_ps(vr), o0);
          o1 = _mm256_fmadd_ps(p, _mm256_loadu_ps(vr + 8), o1);
          o2 = _mm256_fmadd_ps(p, _mm256_loadu_ps(vr + 16), o2);
          o3 = _mm256_fmadd_ps(p, _mm256_loadu_ps(vr + 24), o3);
        }
        _mm256_storeu_ps(o + d, o0);
        _mm256_storeu_ps(o + d + 8, o1);
        _mm256_storeu_ps(o + d + 16, o2);
        _mm256_storeu_ps(o + d + 24, o3);
      }
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    float* dst = out + (r / bq.n_head) * out_stride + (r % bq.n_head) * hd;
    const __m256 inv = _mm256_set1_ps(sum[r] > 0.0f ? 1.0f / sum[r] : 0.0f);
    for (int64_t d = 0; d < hd; d += 8) _mm256_storeu_ps(dst + d, _mm256_mul_ps(_mm256_loadu_ps(acc + r * hd + d), inv));
  }
}

}  // namespace dianoia::detail::attn::avx2
