// AVX-512 (BW) + VNNI decode gemv for the K types: Q4_K, Q5_K and Q6_K weights against Q8_K activations.
//
// One block (256 weights) of one row: four 64-byte vectors of weights as unsigned bytes, each multiplied
// with 64 activation bytes by vpdpbusd (fours summed into int32), two such results packed to int16 and
// added into one int32 accumulator by vpdpwssd against the matching sub-block scales (dot_pair), so a
// block ends as one int32 vector whose lane sum is the block's exact integer dot; one conversion and one
// FMA per block and row. Q4_K/Q5_K mins and Q6_K's -32 offset come from the activation's 16-element sums.
//
// Q4_K/Q5_K store sub-blocks 2c and 2c+1 as the low and high nibbles of the same 32 bytes: those bytes
// are broadcast to both halves of a zmm and the upper half shifted right by 4 (vpsrlvw), which puts
// sub-block 2c in bytes 0..31 and 2c+1 in bytes 32..63 — the order of the activations, so they are read
// as stored. Q6_K's 64 low-nibble bytes of a half-block are already in element order.
//
// A weight row at a time, its blocks in file order, so that a call reads one sequential stream, which the
// hardware prefetcher follows, with software prefetches 8 KiB ahead on top (measured, 1.5B decode: +9%
// tok/s with 2 threads against four rows per pass prefetched two passes ahead; 4 KiB and 16 KiB were
// worse). Several activation rows (sequences decoded in lockstep): each weight block is unpacked once into
// registers and multiplied with up to 8 of them, so a step for 8 sequences costs far less than 8.
// GCC 12 implements _mm512_undefined_* as a self-initialised variable, which -Wuninitialized reports
// inside every broadcast/insert intrinsic.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>

#include "kernels/gemv/gemv.hpp"
#include "kernels/gemv/gemv_common.hpp"
#include "kernels/quant/blocks.hpp"

namespace dianoia::detail::gemv::avx512vnni {

namespace {

inline float half(fp16_t h) { return _cvtsh_ss(h); }

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline __m512i load512(const void* p) { return _mm512_loadu_si512(p); }
inline __m512i broadcast256(const void* p) { return _mm512_broadcast_i64x4(load256(p)); }

// 16-bit lanes 0..15 get `lo`, lanes 16..31 get `hi` (per-half shift counts for vpsrlvw / vpsllvw).
inline __m512i halves16(short lo, short hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16(lo)), _mm256_set1_epi16(hi), 1);
}

// vpshufb indices for the scales of a vpackssdw(P, Q) of two vpdpbusd results: in 128-bit lane k, int16
// words 0-3 (P's four int32 lanes there) get element p_k of the lane's 8 int16, words 4-7 (Q's) q_k.
inline __m512i spread16_packed(const int (&p)[4], const int (&q)[4]) {
  alignas(64) uint8_t idx[64];
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 8; ++j) {
      const int e = j < 4 ? p[k] : q[k];
      idx[16 * k + 2 * j] = static_cast<uint8_t>(2 * e), idx[16 * k + 2 * j + 1] = static_cast<uint8_t>(2 * e + 1);
    }
  return _mm512_load_si512(idx);
}

// The integer dot of two 64-byte pairs (weights as unsigned bytes, activations signed) under int16
// scales: vpdpbusd sums each four products into an int32 lane (at most 4 * 63 * 127 < 2^15, so they pack
// to int16 exactly), vpackssdw puts the two results side by side and vpdpwssd applies the scales: six
// multiplies where vpmaddubsw + vpdpwssd per vector take eight, which is what a step over several
// sequences is bound by.
inline __m512i dot_pair(__m512i sumi, __m512i w0, const void* x0, __m512i w1, const void* x1, __m512i scale) {
  const __m512i p0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w0, load512(x0));
  const __m512i p1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w1, load512(x1));
  return _mm512_dpwssd_epi32(sumi, _mm512_packs_epi32(p0, p1), scale);
}

// Q4_K/Q5_K: the 8 scales (low 128 bits) and 8 mins (high) of a block as int16, from the 12 packed bytes
// (read as 16: the block goes on). With u0, u1, u2 the three words: scales 0-3 = u0 & 0x3f.., scales 4-7
// = (u2 & 0x0f..) | ((u0 >> 2) & 0x30..), mins 0-3 = u1 & 0x3f.., mins 4-7 = ((u2 >> 4) & 0x0f..) |
// ((u1 >> 2) & 0x30..): one word each, computed side by side in the four dwords of an xmm.
inline __m256i k4_scales_mins(const uint8_t* packed) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(packed));
  const __m128i a = _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 1, 2, 0));  // u0, u2, u1, u2
  const __m128i b = _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 1, 0, 0));  // u0, u0, u1, u1
  const __m128i lo = _mm_and_si128(_mm_srlv_epi32(a, _mm_setr_epi32(0, 0, 0, 4)),
                                   _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
  const __m128i hi = _mm_and_si128(_mm_srli_epi32(b, 2), _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
  return _mm256_cvtepu8_epi16(_mm_or_si128(lo, hi));
}

// Activation rows: S consecutive rows `stride` bytes apart, each a Q8_K row.
struct acts {
  const uint8_t* base;
  size_t stride;
  const block_q8_k& at(int s, int64_t i) const {
    return reinterpret_cast<const block_q8_k*>(base + static_cast<size_t>(s) * stride)[i];
  }
};

// ---- Q4_K and Q5_K ------------------------------------------------------------------------------------

// One weight row times S activation rows. Each (row, activation) pair runs the same instructions in the
// same order whatever S is, so a product does not depend on what it was computed beside.
template <bool Five, int S>
void k45_pass(const uint8_t* w, size_t rb, const acts& a, int64_t nb, float* y, int64_t ldy, const uint8_t* pf) {
  using block = std::conditional_t<Five, block_q5_k, block_q4_k>;
  constexpr size_t bb = sizeof(block);
  const __m512i m4 = _mm512_set1_epi8(0x0f), m16 = _mm512_set1_epi8(0x10);
  const __m512i nibble_shift = halves16(0, 4);
  // Vector c holds sub-block 2c in 128-bit lanes 0-1 and 2c+1 in lanes 2-3; vectors 0,1 and 2,3 are packed.
  const __m512i sc_idx[2] = {spread16_packed({0, 0, 1, 1}, {2, 2, 3, 3}), spread16_packed({4, 4, 5, 5}, {6, 6, 7, 7})};
  __m512 acc[S];
  for (int s = 0; s < S; ++s) acc[s] = _mm512_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    prefetch_step(pf, bb, i);
    {
      const auto* b = reinterpret_cast<const block*>(w + i * bb);
      const __m256i sm = k4_scales_mins(b->scales);
      const __m512i sc = _mm512_broadcast_i32x4(_mm256_castsi256_si128(sm));
      // Each sub-block's min twice, against the activation's 16-element sums: one vpmaddwd per
      // activation row gives min * (sum of its 32 activations) per sub-block.
      const __m256i mn = _mm256_permute4x64_epi64(_mm256_castsi128_si256(_mm256_extracti128_si256(sm, 1)), 0x50);
      const __m256i mins2 = _mm256_unpacklo_epi16(mn, mn);
      __m512i hb;
      if constexpr (Five) hb = broadcast256(b->qh);
      __m512i q[4];
      const __m512i scale[2] = {_mm512_shuffle_epi8(sc, sc_idx[0]), _mm512_shuffle_epi8(sc, sc_idx[1])};
      for (int c = 0; c < 4; ++c) {
        q[c] = _mm512_and_si512(_mm512_srlv_epi16(broadcast256(b->qs + 32 * c), nibble_shift), m4);
        if constexpr (Five) {
          // Bit 2c of each qh byte is sub-block 2c's fifth bit, bit 2c+1 sub-block 2c+1's: move each to 0x10.
          const __m512i h = _mm512_srlv_epi16(hb, halves16(static_cast<short>(2 * c), static_cast<short>(2 * c + 1)));
          q[c] = _mm512_or_si512(q[c], _mm512_and_si512(_mm512_slli_epi16(h, 4), m16));
        }
      }
      // d for lanes 0..7, -dmin for 8..15: a block's scaled sums and its mins side by side in one vector,
      // so that each activation row takes one conversion, one multiply by its d and one FMA.
      const __m512 dd = _mm512_insertf32x8(_mm512_set1_ps(half(b->d)), _mm256_set1_ps(-half(b->dmin)), 1);
      for (int s = 0; s < S; ++s) {
        const block_q8_k& x = a.at(s, i);
        __m512i sumi = dot_pair(_mm512_setzero_si512(), q[0], x.qs, q[1], x.qs + 64, scale[0]);
        sumi = dot_pair(sumi, q[2], x.qs + 128, q[3], x.qs + 192, scale[1]);
        const __m256i sum8 = _mm256_add_epi32(_mm512_castsi512_si256(sumi), _mm512_extracti64x4_epi64(sumi, 1));
        const __m512i both = _mm512_inserti64x4(_mm512_castsi256_si512(sum8), _mm256_madd_epi16(mins2, load256(x.bsums)), 1);
        acc[s] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(both), _mm512_set1_ps(x.d)), dd, acc[s]);
      }
    }
  }
  for (int s = 0; s < S; ++s) y[s * ldy] = _mm512_reduce_add_ps(acc[s]);
}

// ---- Q6_K ---------------------------------------------------------------------------------------------

template <int S>
void q6k_pass(const uint8_t* w, size_t rb, const acts& a, int64_t nb, float* y, int64_t ldy, const uint8_t* pf) {
  constexpr size_t bb = sizeof(block_q6_k);
  const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
  // qh bits 0-1 (for elements 0..31 of a half) and 2-3 (32..63) to 0x30; bits 4-5 and 6-7 for 64..127.
  const __m512i shl_lo = halves16(4, 2), shr_hi = halves16(0, 2);
  // 16-element sub-blocks, one per 128-bit lane: the low-nibble vector of a half holds scales 0..3 of the
  // half, the high one 4..7, and the two are packed together.
  const __m512i sc_idx = spread16_packed({0, 1, 2, 3}, {4, 5, 6, 7});
  __m512 acc[S];
  for (int s = 0; s < S; ++s) acc[s] = _mm512_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    prefetch_step(pf, bb, i);
    {
      const auto* b = reinterpret_cast<const block_q6_k*>(w + i * bb);
      const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b->scales)));
      __m512i q[4], scale[2];
      for (int h = 0; h < 2; ++h) {
        const __m512i sc = _mm512_broadcast_i32x4(h ? _mm256_extracti128_si256(sc16, 1) : _mm256_castsi256_si128(sc16));
        const __m512i lo = load512(b->ql + 64 * h), hb = broadcast256(b->qh + 32 * h);
        q[2 * h] = _mm512_or_si512(_mm512_and_si512(lo, m4), _mm512_and_si512(_mm512_sllv_epi16(hb, shl_lo), m30));
        q[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(lo, 4), m4),
                                       _mm512_and_si512(_mm512_srlv_epi16(hb, shr_hi), m30));
        scale[h] = _mm512_shuffle_epi8(sc, sc_idx);
      }
      const float d = half(b->d);
      for (int s = 0; s < S; ++s) {
        const block_q8_k& x = a.at(s, i);
        // The -32 offset: 32 * sum over sub-blocks of scale * (sum of its 16 activations).
        const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(sc16, load256(x.bsums)), 5);
        __m512i sumi = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_zextsi256_si512(offset));
        sumi = dot_pair(sumi, q[0], x.qs, q[1], x.qs + 64, scale[0]);
        sumi = dot_pair(sumi, q[2], x.qs + 128, q[3], x.qs + 192, scale[1]);
        acc[s] = _mm512_fmadd_ps(_mm512_set1_ps(x.d * d), _mm512_cvtepi32_ps(sumi), acc[s]);
      }
    }
  }
  for (int s = 0; s < S; ++s) y[s * ldy] = _mm512_reduce_add_ps(acc[s]);
}

// ---- driver -------------------------------------------------------------------------------------------

// Up to k_max_seq activation rows share each unpacked weight block; prefetches run k_prefetch_bytes ahead
// of the row being read, in the call's own stream (the first bytes are requested before the loop).
constexpr int k_max_seq = 8;
constexpr size_t k_prefetch_bytes = 8192;

template <template <int> class Pass, int S>
void rows_for(const uint8_t* base, size_t rb, int64_t nrows, const acts& a, int64_t nb, float* y, int64_t ldy) {
  const size_t bytes = static_cast<size_t>(nrows) * rb;
  prefetch_step(base, std::min(bytes, k_prefetch_bytes), 0);
  for (int64_t r = 0; r < nrows; ++r) {
    const size_t at = static_cast<size_t>(r) * rb;
    // Past the call's end lies another thread's share or another tensor: nothing is prefetched there.
    const uint8_t* pf = at + k_prefetch_bytes + rb <= bytes ? base + at + k_prefetch_bytes : base + at;
    Pass<S>::run(base + at, rb, a, nb, y + r, ldy, pf);
  }
}

template <template <int> class Pass>
void gemm_k(const void* w, size_t rb, int64_t nrows, const void* x, size_t x_stride, int64_t m, int64_t k, float* y,
            int64_t ldy) {
  const auto* base = static_cast<const uint8_t*>(w);
  const int64_t nb = k / qk_k;
  for (int64_t s0 = 0; s0 < m; s0 += k_max_seq) {
    const acts a{static_cast<const uint8_t*>(x) + static_cast<size_t>(s0) * x_stride, x_stride};
    float* ys = y + s0 * ldy;
    switch (std::min<int64_t>(k_max_seq, m - s0)) {
      case 1: rows_for<Pass, 1>(base, rb, nrows, a, nb, ys, ldy); break;
      case 2: rows_for<Pass, 2>(base, rb, nrows, a, nb, ys, ldy); break;
      case 3: rows_for<Pass, 3>(base, rb, nrows, a, nb, ys, ldy); break;
      case 4: rows_for<Pass, 4>(base, rb, nrows, a, nb, ys, ldy); break;
      case 5: rows_for<Pass, 5>(base, rb, nrows, a, nb, ys, ldy); break;
      case 6: rows_for<Pass, 6>(base, rb, nrows, a, nb, ys, ldy); break;
      case 7: rows_for<Pass, 7>(base, rb, nrows, a, nb, ys, ldy); break;
      default: rows_for<Pass, 8>(base, rb, nrows, a, nb, ys, ldy); break;
    }
  }
}

template <int S>
struct q4k {
  static void run(const uint8_t* w, size_t rb, const acts& a, int64_t nb, float* y, int64_t ldy, const uint8_t* pf) {
    k45_pass<false, S>(w, rb, a, nb, y, ldy, pf);
  }
};
template <int S>
struct q5k {
  static void run(const uint8_t* w, size_t rb, const acts& a, int64_t nb, float* y, int64_t ldy, const uint8_t* pf) {
    k45_pass<true, S>(w, rb, a, nb, y, ldy, pf);
  }
};
template <int S>
struct q6k {
  static void run(const uint8_t* w, size_t rb, const acts& a, int64_t nb, float* y, int64_t ldy, const uint8_t* pf) {
    q6k_pass<S>(w, rb, a, nb, y, ldy, pf);
  }
};

}  // namespace

gemm_fn get(ggml_type t) {
  switch (t) {
    case ggml_type::q4_k: return gemm_k<q4k>;
    case ggml_type::q5_k: return gemm_k<q5k>;
    case ggml_type::q6_k: return gemm_k<q6k>;
    default: return get_q32(t);
  }
}

}  // namespace dianoia::detail::gemv::avx512vnni
