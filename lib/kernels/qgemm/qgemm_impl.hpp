// The int8 GEMM's code, written once over a vector policy V and instantiated by each qgemm_<isa>.cpp
// with that file's compiler flags. Everything here has internal linkage (an unnamed namespace) on
// purpose: each instruction-set file gets its own copy, so the linker can never hand an AVX-512 body of
// a shared inline function to a caller on an AVX2-only CPU. Include this only from those files.
//
// A policy V (qgemm_vec256.hpp / qgemm_vec512.hpp) provides: L (lanes = tokens per vector), vi/vf (int32
// and float vectors), and zero_f, set1_i, set1_f, load_i, load_f, store_f, cvt, fma, dot (acc + the sum
// of 4 u8*s8 products per lane).
//
// Layouts (see qgemm.hpp for why):
//   activations, per group of L tokens, per block of blk elements:
//     q  [blk/4][L][4] uint8  (x_q + 128, x_q = round(x / d) in -127..127)
//     d  [L] float            (the block's scale per token; 0 for a padding token)
//     xs [nsub][L] float      (sum of x_q over each sub-block; only for types with mins)
//   weights, per panel of k_panel_rows rows, per block:
//     q     [R][blk] int8     (the type's integer value with its offset applied: q - 8, q - 32, ...)
//     scale [nsub][R] float   (d * sub-block scale)
//     init  [nsub][R] int32   (-128 * sum of q over the sub-block: removes the activations' +128)
//     min   [nsub][R] float   (only for types with mins: the additive term per unit of x)
#pragma once
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/qgemm/qgemm.hpp"
#include "kernels/quant/blocks.hpp"

namespace dianoia::detail::qgemm {
namespace {

constexpr int R = k_panel_rows;

// Every file that includes this has F16C; the scalar fp16_to_f32 would dominate the unpacking of the
// 32-element types.
inline float h2f(fp16_t h) { return _cvtsh_ss(h); }

// ---------------------------------------------------------------------------------------------------
// Activations

inline float hmax8(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}
inline int hsum8_i32(__m256i v) {
  __m128i m = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  m = _mm_add_epi32(m, _mm_shuffle_epi32(m, 0x4e));
  m = _mm_add_epi32(m, _mm_shuffle_epi32(m, 0xb1));
  return _mm_cvtsi128_si32(m);
}

// One token row into lane `lane` of a group: per block, the scale, the offset bytes and the sub-block
// sums. round(x * 127 / amax) by cvtps2dq (round to nearest even), as the scalar model does.
template <int L>
void pack_act_row(const type_layout& lo, const float* x, int64_t K, int lane, uint8_t* group) {
  const int64_t nblk = K / lo.blk;
  const size_t abb = act_block_bytes(lo, L);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7), flip = _mm256_set1_epi8(static_cast<char>(0x80));
  for (int64_t b = 0; b < nblk; ++b, x += lo.blk) {
    uint8_t* blk = group + b * abb;
    __m256 mx = _mm256_setzero_ps();
    for (int j = 0; j < lo.blk; j += 8) mx = _mm256_max_ps(mx, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)));
    const float amax = hmax8(mx);
    const __m256 id = _mm256_set1_ps(amax > 0.0f ? 127.0f / amax : 0.0f);
    auto* dp = reinterpret_cast<float*>(blk + static_cast<size_t>(lo.blk) * L);
    dp[lane] = amax / 127.0f;
    for (int j = 0; j < lo.blk; j += 32) {
      const __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j), id));
      const __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j + 8), id));
      const __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j + 16), id));
      const __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j + 24), id));
      if (lo.has_min) {
        if (lo.sub == 32) {
          dp[L + (j / 32) * L + lane] =
              static_cast<float>(hsum8_i32(_mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3))));
        } else {
          dp[L + (j / 16) * L + lane] = static_cast<float>(hsum8_i32(_mm256_add_epi32(i0, i1)));
          dp[L + (j / 16 + 1) * L + lane] = static_cast<float>(hsum8_i32(_mm256_add_epi32(i2, i3)));
        }
      }
      const __m256i p8 = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
      alignas(32) uint32_t u[8];
      _mm256_store_si256(reinterpret_cast<__m256i*>(u), _mm256_xor_si256(_mm256_permutevar8x32_epi32(p8, order), flip));
      for (int i = 0; i < 8; ++i) std::memcpy(blk + (static_cast<size_t>(j / 4 + i) * L + lane) * 4, &u[i], 4);
    }
  }
}

// A padding lane: zero activations (q = 0 stored as 128, scale 0).
template <int L>
void pack_act_zero(const type_layout& lo, int64_t K, int lane, uint8_t* group) {
  const int64_t nblk = K / lo.blk;
  const size_t abb = act_block_bytes(lo, L);
  for (int64_t b = 0; b < nblk; ++b) {
    uint8_t* blk = group + b * abb;
    for (int j = 0; j < lo.blk; j += 4) std::memset(blk + (static_cast<size_t>(j / 4) * L + lane) * 4, 128, 4);
    auto* dp = reinterpret_cast<float*>(blk + static_cast<size_t>(lo.blk) * L);
    dp[lane] = 0.0f;
    if (lo.has_min)
      for (int s = 0; s < lo.nsub(); ++s) dp[L + s * L + lane] = 0.0f;
  }
}

template <int L>
void pack_act_impl(ggml_type t, const float* x, int64_t M, int64_t K, int64_t g_begin, int64_t g_end, uint8_t* dst) {
  const type_layout lo = layout_of(t);
  const size_t gbytes = static_cast<size_t>(K / lo.blk) * act_block_bytes(lo, L);
  for (int64_t g = g_begin; g < g_end; ++g) {
    uint8_t* group = dst + g * gbytes;
    for (int lane = 0; lane < L; ++lane) {
      const int64_t m = g * L + lane;
      if (m < M) pack_act_row<L>(lo, x + m * K, K, lane, group);
      else pack_act_zero<L>(lo, K, lane, group);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Weights: one row's blocks into slot r of a panel. Each decoder writes the integer values of one block
// (q[blk]) and, per sub-block s, its scale and (for types with mins) its min; the sums for `init` are
// formed afterwards from q.

// Sum of n (16 or 32) signed bytes: as unsigned bytes (q + 128) through vpsadbw.
inline int sum_i8(const int8_t* p, int n) {
  const __m128i flip = _mm_set1_epi8(static_cast<char>(0x80));
  __m128i s = _mm_sad_epu8(_mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), flip), _mm_setzero_si128());
  if (n == 32)
    s = _mm_add_epi64(s, _mm_sad_epu8(_mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)), flip),
                                      _mm_setzero_si128()));
  return static_cast<int>(_mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1)) - 128 * n;
}

// Low and high nibbles of 16 bytes as 32 bytes (elements j and j + 16 of a 32-block), minus `offset`.
inline void nibbles16(const uint8_t* qs, int8_t offset, int8_t* out) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)), m = _mm_set1_epi8(15), o = _mm_set1_epi8(offset);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_sub_epi8(_mm_and_si128(v, m), o));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16), _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(v, 4), m), o));
}

// The 32 bits of qh as 32 bytes holding 16 where the bit is set (the fifth bit of Q5 values), else 0.
inline __m256i fifth_bits(const uint8_t* qh) {
  uint32_t h;
  std::memcpy(&h, qh, 4);
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(h)),
      _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303));
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(16));
}

struct block_out {
  int8_t* q;      // blk values
  float* scale;   // [nsub][R], this row at [s * R]
  float* min;     // [nsub][R] or nullptr
};

inline void decode_q4_0(const void* src, block_out o) {
  const auto* b = static_cast<const block_q4_0*>(src);
  nibbles16(b->qs, 8, o.q);
  o.scale[0] = h2f(b->d);
}
inline void decode_q4_1(const void* src, block_out o) {
  const auto* b = static_cast<const block_q4_1*>(src);
  nibbles16(b->qs, 0, o.q);
  o.scale[0] = h2f(b->d);
  o.min[0] = h2f(b->m);
}
// In registers throughout: storing the nibbles in two halves and reloading them as one 32-byte vector
// defeats store forwarding (a third of the unpack time on Q5_0 in a profile).
inline void decode_q5(const uint8_t* qs, const uint8_t* qh, int8_t offset, int8_t* out) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)), m = _mm_set1_epi8(15);
  const __m256i nib = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m), _mm_and_si128(v, m));
  const __m256i q = _mm256_or_si256(nib, fifth_bits(qh));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_sub_epi8(q, _mm256_set1_epi8(offset)));
}
inline void decode_q5_0(const void* src, block_out o) {
  const auto* b = static_cast<const block_q5_0*>(src);
  decode_q5(b->qs, b->qh, 16, o.q);
  o.scale[0] = h2f(b->d);
}
inline void decode_q5_1(const void* src, block_out o) {
  const auto* b = static_cast<const block_q5_1*>(src);
  decode_q5(b->qs, b->qh, 0, o.q);
  o.scale[0] = h2f(b->d);
  o.min[0] = h2f(b->m);
}
inline void decode_q8_0(const void* src, block_out o) {
  const auto* b = static_cast<const block_q8_0*>(src);
  std::memcpy(o.q, b->qs, 32);
  o.scale[0] = h2f(b->d);
}
inline void decode_q4_k(const void* src, block_out o) {
  const auto* b = static_cast<const block_q4_k*>(src);
  const float d = h2f(b->d), dmin = h2f(b->dmin);
  const __m256i m = _mm256_set1_epi8(15);
  for (int j = 0; j < 4; ++j) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b->qs + 32 * j));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o.q + 64 * j), _mm256_and_si256(v, m));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o.q + 64 * j + 32), _mm256_and_si256(_mm256_srli_epi16(v, 4), m));
  }
  for (int s = 0; s < 8; ++s) {
    int sc, mn;
    kquant_scale_min(s, b->scales, sc, mn);
    o.scale[s * R] = d * static_cast<float>(sc);
    o.min[s * R] = -dmin * static_cast<float>(mn);
  }
}
inline void decode_q5_k(const void* src, block_out o) {
  const auto* b = static_cast<const block_q5_k*>(src);
  const float d = h2f(b->d), dmin = h2f(b->dmin);
  for (int j = 0; j < 4; ++j)
    for (int l = 0; l < 32; ++l) {
      o.q[64 * j + l] = static_cast<int8_t>((b->qs[32 * j + l] & 15) | (((b->qh[l] >> (2 * j)) & 1) << 4));
      o.q[64 * j + 32 + l] = static_cast<int8_t>((b->qs[32 * j + l] >> 4) | (((b->qh[l] >> (2 * j + 1)) & 1) << 4));
    }
  for (int s = 0; s < 8; ++s) {
    int sc, mn;
    kquant_scale_min(s, b->scales, sc, mn);
    o.scale[s * R] = d * static_cast<float>(sc);
    o.min[s * R] = -dmin * static_cast<float>(mn);
  }
}
inline void decode_q6_k(const void* src, block_out o) {
  const auto* b = static_cast<const block_q6_k*>(src);
  const float d = h2f(b->d);
  const __m256i m4 = _mm256_set1_epi8(15), m2 = _mm256_set1_epi8(3), m30 = _mm256_set1_epi8(0x30),
                off = _mm256_set1_epi8(32);
  for (int h = 0; h < 2; ++h) {
    // Element l of the four 32-element quarters: nibbles of ql[l] / ql[l + 32], two bits each of qh[l].
    const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b->ql + 64 * h));
    const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b->ql + 64 * h + 32));
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b->qh + 32 * h));
    const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4);
    const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4);
    const __m256i h2 = _mm256_and_si256(qh, m30);
    const __m256i h3 = _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30);
    int8_t* q = o.q + 128 * h;
    auto put = [&](int at, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + at), _mm256_sub_epi8(v, off)); };
    put(0, _mm256_or_si256(_mm256_and_si256(ql0, m4), h0));
    put(32, _mm256_or_si256(_mm256_and_si256(ql1, m4), h1));
    put(64, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), h2));
    put(96, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4), h3));
  }
  for (int s = 0; s < 16; ++s) o.scale[s * R] = d * static_cast<float>(b->scales[s]);
}

// Rows [0, nr) of W into panels of R rows; slots past nr get zero weights and scales. Templated on the
// block decoder so that it inlines into the loop.
template <void (*Decode)(const void*, block_out)>
void unpack_rows(const type_layout& lo, const uint8_t* w, size_t row_bytes, int nr, int64_t K, uint8_t* scratch) {
  const int64_t nblk = K / lo.blk;
  const size_t pbb = panel_block_bytes(lo), src_bb = row_bytes / static_cast<size_t>(nblk);
  const int nsub = lo.nsub();
  const int npanels = (nr + R - 1) / R;
  // Row by row: the block's rows are one contiguous run of memory, so this reads it front to back (one
  // stream the prefetchers follow); walking the panels block-major kept 4-16 streams open and stalled on
  // every block's first load.
  for (int row = 0; row < npanels * R; ++row) {
    const int p = row / R, r = row % R;
    uint8_t* panel = scratch + static_cast<size_t>(p) * nblk * pbb;
    const uint8_t* src = w + static_cast<size_t>(row) * row_bytes;
    for (int64_t b = 0; b < nblk; ++b) {
      uint8_t* pb = panel + b * pbb;
      int8_t* qr = reinterpret_cast<int8_t*>(pb) + r * lo.blk;
      auto* scale = reinterpret_cast<float*>(pb + static_cast<size_t>(R) * lo.blk);
      auto* init = reinterpret_cast<int32_t*>(scale + nsub * R);
      float* min = lo.has_min ? reinterpret_cast<float*>(init + nsub * R) : nullptr;
      if (row < nr) {
        // 2 KB ahead (two lines: a K-type block is 144-210 bytes): the rows are short bursts between
        // compute phases, too short for the hardware prefetcher to ramp up on its own.
        _mm_prefetch(reinterpret_cast<const char*>(src + b * src_bb + 2048), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(src + b * src_bb + 2048 + 64), _MM_HINT_T0);
        Decode(src + b * src_bb, block_out{qr, scale + r, min ? min + r : nullptr});
      } else {
        std::memset(qr, 0, static_cast<size_t>(lo.blk));
        for (int s = 0; s < nsub; ++s) {
          scale[s * R + r] = 0.0f;
          if (min) min[s * R + r] = 0.0f;
        }
      }
      for (int s = 0; s < nsub; ++s) init[s * R + r] = -128 * sum_i8(qr + s * lo.sub, lo.sub);
    }
  }
}

inline void unpack_impl(ggml_type t, const uint8_t* w, size_t row_bytes, int nr, int64_t K, uint8_t* scratch) {
  const type_layout lo = layout_of(t);
  switch (t) {
    case ggml_type::q4_0: return unpack_rows<decode_q4_0>(lo, w, row_bytes, nr, K, scratch);
    case ggml_type::q4_1: return unpack_rows<decode_q4_1>(lo, w, row_bytes, nr, K, scratch);
    case ggml_type::q5_0: return unpack_rows<decode_q5_0>(lo, w, row_bytes, nr, K, scratch);
    case ggml_type::q5_1: return unpack_rows<decode_q5_1>(lo, w, row_bytes, nr, K, scratch);
    case ggml_type::q8_0: return unpack_rows<decode_q8_0>(lo, w, row_bytes, nr, K, scratch);
    case ggml_type::q4_k: return unpack_rows<decode_q4_k>(lo, w, row_bytes, nr, K, scratch);
    case ggml_type::q5_k: return unpack_rows<decode_q5_k>(lo, w, row_bytes, nr, K, scratch);
    case ggml_type::q6_k: return unpack_rows<decode_q6_k>(lo, w, row_bytes, nr, K, scratch);
    default: return;
  }
}

// ---------------------------------------------------------------------------------------------------
// The micro-kernel: R rows x G groups of L tokens over all of K. out[r][g * L + lane].

template <class V, int G>
void micro(const type_layout& lo, const uint8_t* panel, const uint8_t* act, size_t gbytes, int64_t nblk, float* out) {
  using vi = typename V::vi;
  using vf = typename V::vf;
  const int L = V::L, nsub = lo.nsub(), steps = lo.sub / 4;
  const size_t pbb = panel_block_bytes(lo), abb = act_block_bytes(lo, L);
  vf facc[R][G];
  for (int r = 0; r < R; ++r)
    for (int g = 0; g < G; ++g) facc[r][g] = V::zero_f();
  for (int64_t b = 0; b < nblk; ++b) {
    const uint8_t* pb = panel + b * pbb;
    const auto* scale = reinterpret_cast<const float*>(pb + static_cast<size_t>(R) * lo.blk);
    const auto* init = reinterpret_cast<const int32_t*>(scale + nsub * R);
    const float* min = reinterpret_cast<const float*>(init + nsub * R);
    const uint8_t* ab[G];
    for (int g = 0; g < G; ++g) ab[g] = act + g * gbytes + b * abb;
    vf tmp[R][G];
    for (int r = 0; r < R; ++r)
      for (int g = 0; g < G; ++g) tmp[r][g] = V::zero_f();
    for (int s = 0; s < nsub; ++s) {
      vi acc[R][G];
      for (int r = 0; r < R; ++r) {
        const vi i0 = V::set1_i(init[s * R + r]);
        for (int g = 0; g < G; ++g) acc[r][g] = i0;
      }
      const uint8_t* wq = pb + s * lo.sub;
      for (int k = 0; k < steps; ++k) {
        vi a[G];
        for (int g = 0; g < G; ++g) a[g] = V::load_i(ab[g] + (static_cast<size_t>(s * steps + k) * L) * 4);
        for (int r = 0; r < R; ++r) {
          int32_t w4;
          std::memcpy(&w4, wq + r * lo.blk + 4 * k, 4);
          const vi wv = V::set1_i(w4);
          for (int g = 0; g < G; ++g) acc[r][g] = V::dot(acc[r][g], a[g], wv);
        }
      }
      for (int r = 0; r < R; ++r) {
        const vf sc = V::set1_f(scale[s * R + r]);
        for (int g = 0; g < G; ++g) tmp[r][g] = V::fma(V::cvt(acc[r][g]), sc, tmp[r][g]);
      }
      if (lo.has_min) {
        for (int g = 0; g < G; ++g) {
          const vf xs = V::load_f(reinterpret_cast<const float*>(ab[g] + static_cast<size_t>(lo.blk) * L) + L + s * L);
          for (int r = 0; r < R; ++r) tmp[r][g] = V::fma(xs, V::set1_f(min[s * R + r]), tmp[r][g]);
        }
      }
    }
    for (int g = 0; g < G; ++g) {
      const vf d = V::load_f(reinterpret_cast<const float*>(ab[g] + static_cast<size_t>(lo.blk) * L));
      for (int r = 0; r < R; ++r) facc[r][g] = V::fma(tmp[r][g], d, facc[r][g]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int g = 0; g < G; ++g) V::store_f(out + (r * G + g) * L, facc[r][g]);
}

// All groups against the unpacked rows: the activation groups in pairs (outer, so a pair stays in cache
// while the panels pass over it), the panels inner.
template <class V>
void compute_impl(ggml_type t, const uint8_t* scratch, int nr, int64_t K, const uint8_t* act, int64_t M, float* y,
                  int64_t ldy) {
  const type_layout lo = layout_of(t);
  const int L = V::L;
  const int64_t nblk = K / lo.blk, ngroups = (M + L - 1) / L;
  const size_t gbytes = static_cast<size_t>(nblk) * act_block_bytes(lo, L);
  const size_t panel_bytes = static_cast<size_t>(nblk) * panel_block_bytes(lo);
  alignas(64) float out[R * 2 * 16];
  const int npanels = (nr + R - 1) / R;
  for (int64_t g0 = 0; g0 < ngroups; g0 += 2) {
    const int G = ngroups - g0 >= 2 ? 2 : 1;
    const uint8_t* a = act + g0 * gbytes;
    for (int p = 0; p < npanels; ++p) {
      const uint8_t* panel = scratch + p * panel_bytes;
      if (G == 2) micro<V, 2>(lo, panel, a, gbytes, nblk, out);
      else micro<V, 1>(lo, panel, a, gbytes, nblk, out);
      const int rows = nr - p * R < R ? nr - p * R : R;
      for (int i = 0; i < G * L; ++i) {
        const int64_t m = g0 * L + i;
        if (m >= M) break;
        for (int r = 0; r < rows; ++r) y[m * ldy + p * R + r] = out[(r * G) * L + i];
      }
    }
  }
}

}  // namespace
}  // namespace dianoia::detail::qgemm
