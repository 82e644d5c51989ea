#include "model/attention.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "kernels/cpu_features.hpp"
#include "model/ops.hpp"

namespace dianoia::detail::attn {

namespace avx2 {
void attend_f16(const float* q, const fp16_t* k, const fp16_t* v, int64_t stride, int64_t len, int64_t hd, float scale,
                float* scratch, float* out);
void attend_f16_runs(const float* q, std::span<const kv_run<fp16_t>> runs, int64_t stride, int64_t hd, float scale,
                     float* scratch, float* out);
void attend_f16_tiled(const float* q, const fp16_t* k, const fp16_t* v, int64_t stride, int64_t len, int64_t hd,
                      float scale, float* scratch, float* out);
void attend_block_f16(const block_queries& bq, const fp16_t* k, const fp16_t* v, int64_t stride, int64_t hd,
                      float scale, float* scratch, float* out, int64_t out_stride);
}

bool block_kernel_available(int64_t hd) { return hd > 0 && hd % 32 == 0 && cpu_has_avx2(); }

void attend_block_f16(const block_queries& bq, const fp16_t* k, const fp16_t* v, int64_t stride, int64_t hd,
                      float scale, float* scratch, float* out, int64_t out_stride) {
  if (!block_kernel_available(hd)) fail(errc::unsupported, "attend_block_f16: head size {} or this CPU", hd);
  avx2::attend_block_f16(bq, k, v, stride, hd, scale, scratch, out, out_stride);
}

namespace {

// f16 . f32 dot in the order of ggml's AVX2 ggml_vec_dot_f16: 32 lanes (4 vectors of 8) over steps of
// 32 with fma, vectors reduced (v0+v2)+(v1+v3), then lanes (l0+l4)+(l1+l5) + (l2+l6)+(l3+l7); a tail
// past the last multiple of 32 is added afterwards.
float dot_f16_ggml(const fp16_t* k, const float* q, int64_t n) {
  float lane[4][8] = {};
  const int64_t n32 = n - n % 32;
  for (int64_t i = 0; i < n32; i += 32)
    for (int j = 0; j < 4; ++j)
      for (int l = 0; l < 8; ++l) lane[j][l] = std::fma(fp16_to_f32(k[i + 8 * j + l]), q[i + 8 * j + l], lane[j][l]);
  float v[8];
  for (int l = 0; l < 8; ++l) v[l] = (lane[0][l] + lane[2][l]) + (lane[1][l] + lane[3][l]);
  const float t0 = v[0] + v[4], t1 = v[1] + v[5], t2 = v[2] + v[6], t3 = v[3] + v[7];
  float sum = (t0 + t1) + (t2 + t3);
  for (int64_t i = n32; i < n; ++i) sum += fp16_to_f32(k[i]) * q[i];
  return sum;
}

}  // namespace

namespace {

inline float widen(float x) { return x; }
inline float widen(fp16_t x) { return fp16_to_f32(x); }

// Plain softmax attention in f32 with a double sum, over an f32 or f16 cache (f16 values widened
// exactly): the one arithmetic attend_f32 and attend_f16_f32 share. The keys of the runs are scored
// in order into one row of scores, so any split of a run gives the same bits.
template <typename T>
void attend_exact(const float* q, std::span<const kv_run<T>> runs, int64_t stride, int64_t hd, float scale,
                  float* scores, float* out) {
  float mx = -INFINITY;
  int64_t len = 0;
  for (const kv_run<T>& r : runs)
    for (int64_t p = 0; p < r.len; ++p, ++len) {
      const T* kr = r.k + p * stride;
      float dot = 0.0f;
      for (int64_t j = 0; j < hd; ++j) dot += q[j] * widen(kr[j]);
      scores[len] = dot * scale;
      mx = std::fmax(mx, scores[len]);
    }
  double sum = 0.0;
  for (int64_t p = 0; p < len; ++p) {
    scores[p] = std::exp(scores[p] - mx);
    sum += scores[p];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t j = 0; j < hd; ++j) out[j] = 0.0f;
  const float* a = scores;
  for (const kv_run<T>& r : runs)
    for (int64_t p = 0; p < r.len; ++p) {
      const float w = *a++ * inv;
      const T* vr = r.v + p * stride;
      for (int64_t j = 0; j < hd; ++j) out[j] += w * widen(vr[j]);
    }
}

template <typename T>
void attend_exact(const float* q, const T* k, const T* v, int64_t stride, int64_t len, int64_t hd, float scale,
                  float* scores, float* out) {
  const kv_run<T> run{k, v, len};
  attend_exact(q, std::span<const kv_run<T>>(&run, 1), stride, hd, scale, scores, out);
}

}  // namespace

void attend_f32(const float* q, const float* k, const float* v, int64_t stride, int64_t len, int64_t hd, float scale,
                float* scores, float* out) {
  attend_exact(q, k, v, stride, len, hd, scale, scores, out);
}

void attend_f16_f32(const float* q, const fp16_t* k, const fp16_t* v, int64_t stride, int64_t len, int64_t hd,
                    float scale, float* scores, float* out) {
  attend_exact(q, k, v, stride, len, hd, scale, scores, out);
}

void attend_f32_runs(const float* q, std::span<const kv_run<float>> runs, int64_t stride, int64_t hd, float scale,
                     float* scores, float* out) {
  attend_exact(q, runs, stride, hd, scale, scores, out);
}

void attend_f16(const float* q, const fp16_t* k, const fp16_t* v, int64_t stride, int64_t len, int64_t hd, float scale,
                float* scratch, float* out) {
  if (hd % 32 == 0 && cpu_has_avx2()) return avx2::attend_f16(q, k, v, stride, len, hd, scale, scratch, out);
  attend_f16_ref(q, k, v, stride, len, hd, scale, scratch, out);
}

void attend_f16_runs(const float* q, std::span<const kv_run<fp16_t>> runs, int64_t stride, int64_t hd, float scale,
                     float* scratch, float* out) {
  if (hd % 32 == 0 && cpu_has_avx2()) return avx2::attend_f16_runs(q, runs, stride, hd, scale, scratch, out);
  attend_f16_runs_ref(q, runs, stride, hd, scale, scratch, out);
}

namespace {

// llama.cpp's one-query online softmax, continued over one more run of keys: S and M are the running
// sum and max, acc[hd] the f16 accumulator (floats that are always exact halves), q16 the rounded query.
void f16_online_run(const float* q16, const kv_run<fp16_t>& r, int64_t stride, int64_t hd, float scale, float& S_io,
                    float& M_io, float* acc) {
  float S = S_io, M = M_io;  // locals: the chain through S stays in a register
  for (int64_t p = 0; p < r.len; ++p) {
    const float s = dot_f16_ggml(r.k + p * stride, q16, hd) * scale;
    float ms = 1.0f, vs = 1.0f;
    if (s > M) {
      ms = std::exp(M - s);
      M = s;
      for (int64_t j = 0; j < hd; ++j) acc[j] = fp16_to_f32(f32_to_fp16(acc[j] * ms));
    } else {
      vs = std::exp(s - M);
    }
    const fp16_t* vr = r.v + p * stride;
    for (int64_t j = 0; j < hd; ++j) acc[j] = fp16_to_f32(f32_to_fp16(std::fma(fp16_to_f32(vr[j]), vs, acc[j])));
    S = std::fma(S, ms, vs);  // llama.cpp fuses S*ms + vs (one vfmadd in its build)
  }
  S_io = S;
  M_io = M;
}

}  // namespace

void attend_f16_ref(const float* q, const fp16_t* k, const fp16_t* v, int64_t stride, int64_t len, int64_t hd,
                    float scale, float* scratch, float* out) {
  const kv_run<fp16_t> run{k, v, len};
  attend_f16_runs_ref(q, std::span<const kv_run<fp16_t>>(&run, 1), stride, hd, scale, scratch, out);
}

void attend_f16_runs_ref(const float* q, std::span<const kv_run<fp16_t>> runs, int64_t stride, int64_t hd,
                         float scale, float* scratch, float* out) {
  float* q16 = scratch;       // q rounded through half, as the f16 dot product consumes it
  float* acc = scratch + hd;  // the f16 accumulator
  for (int64_t j = 0; j < hd; ++j) {
    q16[j] = fp16_to_f32(f32_to_fp16(q[j]));
    acc[j] = 0.0f;
  }
  float S = 0.0f, M = -INFINITY;
  for (const kv_run<fp16_t>& r : runs) f16_online_run(q16, r, stride, hd, scale, S, M, acc);
  const float inv = S == 0.0f ? 0.0f : 1.0f / S;
  for (int64_t j = 0; j < hd; ++j) out[j] = acc[j] * inv;
}

void attend_f16_tiled(const float* q, const fp16_t* k, const fp16_t* v, int64_t stride, int64_t len, int64_t hd,
                      float scale, float* scratch, float* out) {
  if (hd % 8 == 0 && cpu_has_avx2()) return avx2::attend_f16_tiled(q, k, v, stride, len, hd, scale, scratch, out);
  attend_f16_tiled_ref(q, k, v, stride, len, hd, scale, scratch, out);
}

void attend_f16_tiled_ref(const float* q, const fp16_t* k, const fp16_t* v, int64_t stride, int64_t len, int64_t hd,
                          float scale, float* scratch, float* out) {
  constexpr int64_t T = k_fa_tile_kv;
  float* s = scratch;      // the tile's scores, then its weights
  for (int64_t j = 0; j < hd; ++j) out[j] = 0.0f;
  float S = 0.0f, M = -INFINITY;
  for (int64_t t0 = 0; t0 < len; t0 += T) {
    const int64_t kt = std::min(T, len - t0);
    float tile_max = -INFINITY;
    for (int64_t j = 0; j < T; ++j) {
      if (j < kt) {
        const fp16_t* kr = k + (t0 + j) * stride;
        float acc = 0.0f;
        for (int64_t d = 0; d < hd; ++d) acc = std::fma(q[d], fp16_to_f32(kr[d]), acc);
        s[j] = acc * scale;
      } else {
        s[j] = -INFINITY;  // keys past the causal limit (masked in llama.cpp) weigh exactly 0
      }
      tile_max = s[j] > tile_max ? s[j] : tile_max;
    }
    const float m_new = std::fmax(M, tile_max);
    if (m_new > M) {
      const float ms = std::exp(M - m_new);
      for (int64_t d = 0; d < hd; ++d) out[d] *= ms;
      S *= ms;
    }
    M = m_new;
    double sum = 0.0;
    for (int64_t g = 0; g < T; g += 8) {
      float e[8];
      for (int l = 0; l < 8; ++l) e[l] = s[g + l] == -INFINITY ? 0.0f : ops::ggml_expf(s[g + l] - M);
      // ggml's horizontal sum of one vector: halves, then pairs, then the last two lanes
      const float h0 = e[0] + e[4], h1 = e[1] + e[5], h2 = e[2] + e[6], h3 = e[3] + e[7];
      sum += static_cast<double>((h0 + h2) + (h1 + h3));
      for (int l = 0; l < 8; ++l) s[g + l] = e[l];
    }
    S = static_cast<float>(static_cast<double>(S) + sum);
    for (int64_t j = 0; j < kt; ++j) {
      const fp16_t* vr = v + (t0 + j) * stride;
      for (int64_t d = 0; d < hd; ++d) out[d] = std::fma(s[j], fp16_to_f32(vr[d]), out[d]);
    }
  }
  const float inv = S == 0.0f ? 0.0f : 1.0f / S;
  for (int64_t d = 0; d < hd; ++d) out[d] *= inv;
}

}  // namespace dianoia::detail::attn
