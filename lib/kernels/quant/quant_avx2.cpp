// AVX2/F16C versions of the activation quantizers and half conversions. Only called after
// cpu_has_avx2(); must give bit-identical results to the scalar versions in quant.cpp.
#include <immintrin.h>

#include <cstring>

#include "kernels/quant/blocks.hpp"
#include "kernels/quant/quant.hpp"

namespace dianoia::detail::avx2 {

namespace {

inline fp16_t to_half(float f) { return static_cast<fp16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT)); }

// Quantizes 32 floats; returns the 32 int32 values still unpacked (for Q8_1's sum) via i0..i3.
template <class Block>
inline float quantize_block(const float* x, Block& b, __m256i& i0, __m256i& i1, __m256i& i2, __m256i& i3) {
  __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
  __m256 v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 amax = _mm256_andnot_ps(sign, v0);
  amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v1));
  amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v2));
  amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v3));
  __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(amax, 1), _mm256_castps256_ps128(amax));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
  const float mx = _mm_cvtss_f32(m4);
  const float d = mx / 127.f;
  b.d = to_half(d);
  const __m256 mul = _mm256_set1_ps(mx != 0.0f ? 127.f / mx : 0.0f);
  constexpr int rnd = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, mul), rnd));
  i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, mul), rnd));
  i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, mul), rnd));
  i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, mul), rnd));
  // Saturating packs work within 128-bit halves; the permute restores element order.
  const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(b.qs),
                      _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
  return d;
}

inline int hsum_i32_8(__m256i a) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

}  // namespace

void quantize_row_q8_0(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<block_q8_0*>(dst);
  __m256i i0, i1, i2, i3;
  for (int64_t i = 0; i < n / qk; ++i) quantize_block(x + i * qk, y[i], i0, i1, i2, i3);
}

void quantize_row_q8_1(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<block_q8_1*>(dst);
  __m256i i0, i1, i2, i3;
  for (int64_t i = 0; i < n / qk; ++i) {
    const float d = quantize_block(x + i * qk, y[i], i0, i1, i2, i3);
    const int sum = hsum_i32_8(_mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3)));
    y[i].s = to_half(d * static_cast<float>(sum));
  }
}

void fp16_to_f32_row(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  for (; i < n; ++i) dst[i] = _cvtsh_ss(src[i]);
}

void f32_to_fp16_row(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) dst[i] = to_half(src[i]);
}

// Round to nearest even by adding 0x7fff + (bit 16) and keeping the high half; NaN is quieted instead
// (high half | 0x40), as f32_to_bf16 and ggml do.
void quantize_row_bf16(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<uint16_t*>(dst);
  const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
  const __m256i bias = _mm256_set1_epi32(0x7fff), one = _mm256_set1_epi32(1), quiet = _mm256_set1_epi32(64);
  auto one8 = [&](__m256i u) {
    const __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, abs_mask), inf);
    const __m256i r = _mm256_srli_epi32(
        _mm256_add_epi32(u, _mm256_add_epi32(bias, _mm256_and_si256(_mm256_srli_epi32(u, 16), one))), 16);
    const __m256i q = _mm256_or_si256(_mm256_srli_epi32(u, 16), quiet);
    return _mm256_blendv_epi8(r, q, is_nan);
  };
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i a = one8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)));
    const __m256i b = one8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i + 8)));
    // packus works within 128-bit halves: [a0 b0 a1 b1] -> reorder the 64-bit quarters to [a0 a1 b0 b1].
    const __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xd8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), p);
  }
  for (; i < n; ++i) y[i] = f32_to_bf16(x[i]);
}

void bf16_to_f32_row(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_slli_epi32(w, 16));
  }
  for (; i < n; ++i) dst[i] = bf16_to_f32(src[i]);
}

void round_row_through_fp16(const float* x, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT)));
  for (; i < n; ++i) dst[i] = _cvtsh_ss(to_half(x[i]));
}

}  // namespace dianoia::detail::avx2
