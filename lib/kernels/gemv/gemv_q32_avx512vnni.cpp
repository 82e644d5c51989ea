// AVX-512 (BW) + VNNI decode gemv for the 32-element block types: Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 weights
// against Q8_0 / Q8_1 activations.
//
// Two blocks per zmm: bytes 0..31 hold block i's weights in element order, bytes 32..63 block i+1's, and
// one vpdpbusd against the two activation blocks leaves block i's integer dot in int32 lanes 0..7 and
// block i+1's in lanes 8..15. Unsigned weights (Q4_1, Q5_1) meet the signed activations directly; signed
// ones (Q4_0, Q5_0: q - 8, q - 16; Q8_0) meet the activations flipped to unsigned (x + 128), and
// 128 * (sum of the weights), a property of the row alone, starts the accumulator. Q5's fifth bits become a 64-bit byte mask
// (vpaddb under mask). The two blocks' float scales d_w * d_x (and Q4_1/Q5_1's m_w * s_x) come from one
// 4-half conversion per pair: one int->float conversion and one FMA per two blocks and row.
//
// An odd last block is paired with itself against zero activations in the upper half (contributing 0).
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12's _mm512_undefined_* (see gemv_avx512vnni.cpp)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "kernels/gemv/gemv.hpp"
#include "kernels/gemv/gemv_common.hpp"
#include "kernels/quant/blocks.hpp"

namespace dianoia::detail::gemv::avx512vnni {

namespace {

inline uint32_t load_u32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// What differs between the types.
enum class kind { q4_0, q4_1, q5_0, q5_1, q8_0 };

template <kind K>
struct traits;
template <>
struct traits<kind::q4_0> {
  using block = block_q4_0;
  using act = block_q8_0;
  static constexpr int offset = 8;
  static constexpr bool min = false, fifth = false, nibbles = true;
};
template <>
struct traits<kind::q4_1> {
  using block = block_q4_1;
  using act = block_q8_1;
  static constexpr int offset = 0;
  static constexpr bool min = true, fifth = false, nibbles = true;
};
template <>
struct traits<kind::q5_0> {
  using block = block_q5_0;
  using act = block_q8_0;
  static constexpr int offset = 16;
  static constexpr bool min = false, fifth = true, nibbles = true;
};
template <>
struct traits<kind::q5_1> {
  using block = block_q5_1;
  using act = block_q8_1;
  static constexpr int offset = 0;
  static constexpr bool min = true, fifth = true, nibbles = true;
};
template <>
struct traits<kind::q8_0> {
  using block = block_q8_0;
  using act = block_q8_0;
  static constexpr int offset = 128;
  static constexpr bool min = false, fifth = false, nibbles = false;
};

// Two blocks' 32 weights each as unsigned bytes, block i in bytes 0..31 and block j in 32..63.
template <kind K>
inline __m512i weights(const typename traits<K>::block* bi, const typename traits<K>::block* bj) {
  using T = traits<K>;
  __m512i q;
  if constexpr (T::nibbles) {
    // [qs_i, qs_j] -> [qs_i, qs_i, qs_j, qs_j]; the 2nd and 4th 128-bit lanes take the high nibbles.
    const __m256i both = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bi->qs))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(bj->qs)), 1);
    const __m512i z = _mm512_castsi256_si512(both);
    const __m512i shift = _mm512_setr_epi64(0, 0, 0x0004000400040004, 0x0004000400040004, 0, 0, 0x0004000400040004,
                                            0x0004000400040004);
    q = _mm512_and_si512(_mm512_srlv_epi16(_mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(1, 1, 0, 0)), shift),
                         _mm512_set1_epi8(0x0f));
  } else {
    const __m512i z = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(bi->qs))),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bj->qs)), 1);
    q = z;  // signed bytes as stored
  }
  if constexpr (T::fifth) {
    const uint64_t bits = uint64_t{load_u32(bi->qh)} | (uint64_t{load_u32(bj->qh)} << 32);
    q = _mm512_mask_add_epi8(q, _cvtu64_mask64(bits), q, _mm512_set1_epi8(0x10));
  }
  return q;
}

// [d_i, m_i, d_j, m_j] of two blocks as floats (m only for types with a min; otherwise whatever the two
// bytes after d hold, never used).
inline __m128 block_scales(const void* bi, const void* bj) {
  const __m128i h = _mm_insert_epi32(_mm_cvtsi32_si128(static_cast<int>(load_u32(bi))), static_cast<int>(load_u32(bj)), 1);
  return _mm_cvtph_ps(h);
}

template <kind K, int R, int S>
void pass(const uint8_t* w, size_t rb, const uint8_t* x, size_t xs_stride, int64_t nb, float* y, int64_t ldy,
          const uint8_t* pf) {
  using T = traits<K>;
  using block = typename T::block;
  using act = typename T::act;
  constexpr size_t bb = sizeof(block);
  // Lanes 0..7 take element 0 of a [d_i, m_i, d_j, m_j] product, lanes 8..15 element 2.
  const __m512i d_lanes = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2);
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  // Where the offset of signed weights goes. One activation row shared by several weight rows: weights
  // made unsigned (q as stored; Q8_0 flipped), offset * (sum of the activations) starts each product.
  // Several activation rows: activations made unsigned (flipped), 128 * (sum of the weights) of the row
  // starts them. Either way each int32 lane is the same exact integer.
  constexpr bool act_side = S == 1;
  __m512 acc[R][S];
  __m128 accm[R][S];  // lanes 1 and 3: m_w * s_x chains (types with a min)
  for (int r = 0; r < R; ++r)
    for (int s = 0; s < S; ++s) acc[r][s] = _mm512_setzero_ps(), accm[r][s] = _mm_setzero_ps();
  for (int64_t i = 0; i < nb; i += 2) {
    prefetch_step(pf, R * 2 * bb, i / 2);
    const bool pair = i + 1 < nb;
    const int64_t j = pair ? i + 1 : i;
    // The activations of both blocks (flipped to unsigned for the offset types) and their d_x (s_x),
    // with 0 for a missing second block; loaded once for all rows of the pass.
    __m512i xq[S], xinit[S];
    __m128 xs[S];
    __m512 xsz[S];  // d_x of block i in lanes 0..7, of block j in 8..15
    for (int s = 0; s < S; ++s) {
      const auto* a = reinterpret_cast<const act*>(x + static_cast<size_t>(s) * xs_stride);
      const __m256i xi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[i].qs));
      const __m256i xj = pair ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[j].qs)) : _mm256_setzero_si256();
      xq[s] = _mm512_inserti64x4(_mm512_castsi256_si512(xi), xj, 1);
      if constexpr (T::offset != 0 && act_side) {
        xinit[s] = _mm512_sub_epi32(_mm512_setzero_si512(),
                                    _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(static_cast<char>(T::offset)), xq[s]));
      } else if constexpr (T::offset != 0) {
        // A missing second block's activations are 0, flipped 128: its lanes give 128 * sum(q) - init = 0.
        xq[s] = _mm512_xor_si512(xq[s], flip);
      }
      xs[s] = block_scales(&a[i], &a[j]);
      if (!pair) xs[s] = _mm_blend_ps(xs[s], _mm_setzero_ps(), 0b1100);
      xsz[s] = _mm512_permutexvar_ps(d_lanes, _mm512_castps128_ps512(xs[s]));
    }
    for (int r = 0; r < R; ++r) {
      const auto* bi = reinterpret_cast<const block*>(w + r * rb + i * bb);
      const auto* bj = reinterpret_cast<const block*>(w + r * rb + j * bb);
      // Offset types multiply the activations, flipped to unsigned (x + 128), with the signed weights;
      // 128 * (sum of the weights) per lane, which depends on the row only, comes off first.
      __m512i q = weights<K>(bi, bj), init = _mm512_setzero_si512();
      if constexpr (T::offset != 0 && act_side) {
        if constexpr (T::offset == 128) q = _mm512_xor_si512(q, flip);
      } else if constexpr (T::offset != 0) {
        if constexpr (T::offset != 128) q = _mm512_sub_epi8(q, _mm512_set1_epi8(T::offset));
        init = _mm512_sub_epi32(init, _mm512_dpbusd_epi32(_mm512_setzero_si512(), flip, q));
      }
      const __m128 ws = block_scales(bi, bj);
      const __m512 wsz = _mm512_permutexvar_ps(d_lanes, _mm512_castps128_ps512(ws));
      for (int s = 0; s < S; ++s) {
        __m512i sumi;
        if constexpr (T::offset != 0 && act_side) sumi = _mm512_dpbusd_epi32(xinit[s], q, xq[s]);
        else if constexpr (T::offset != 0) sumi = _mm512_dpbusd_epi32(init, xq[s], q);
        else sumi = _mm512_dpbusd_epi32(init, q, xq[s]);
        acc[r][s] = _mm512_fmadd_ps(_mm512_mul_ps(wsz, xsz[s]), _mm512_cvtepi32_ps(sumi), acc[r][s]);
        if constexpr (T::min) accm[r][s] = _mm_add_ps(accm[r][s], _mm_mul_ps(ws, xs[s]));
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int s = 0; s < S; ++s) {
      float v = _mm512_reduce_add_ps(acc[r][s]);
      if constexpr (T::min) {
        alignas(16) float m[4];
        _mm_store_ps(m, accm[r][s]);
        v += m[1] + m[3];
      }
      y[s * ldy + r] = v;
    }
}

// One activation row: four weight rows per pass; several: two weight rows against up to 4 of them at a
// time (measured: the per-activation work dominates these types, and more activation rows spill).
constexpr int k_max_seq = 4;

template <kind K, int S>
void rows_for(const uint8_t* base, size_t rb, int64_t nrows, const uint8_t* x, size_t xs, int64_t nb, float* y,
              int64_t ldy) {
  constexpr int R = S == 1 ? k_rows : 2;
  prefetch_head(base, rb, nrows, R);
  int64_t r = 0;
  for (; r + R <= nrows; r += R) {
    const int64_t ahead = r + R * k_prefetch_passes;
    const uint8_t* pf = base + (ahead + R <= nrows ? ahead : r) * rb;
    pass<K, R, S>(base + r * rb, rb, x, xs, nb, y + r, ldy, pf);
  }
  const uint8_t* here = base + r * rb;
  switch (nrows - r) {
    case 3: if constexpr (R > 3) pass<K, 3, S>(here, rb, x, xs, nb, y + r, ldy, here); break;
    case 2: if constexpr (R > 2) pass<K, 2, S>(here, rb, x, xs, nb, y + r, ldy, here); break;
    case 1: if constexpr (R > 1) pass<K, 1, S>(here, rb, x, xs, nb, y + r, ldy, here); break;
    default: break;
  }
}

template <kind K>
void gemm_q32(const void* w, size_t rb, int64_t nrows, const void* x, size_t x_stride, int64_t m, int64_t k, float* y,
              int64_t ldy) {
  const auto* base = static_cast<const uint8_t*>(w);
  const int64_t nb = k / qk;
  for (int64_t s0 = 0; s0 < m; s0 += k_max_seq) {
    const uint8_t* xs = static_cast<const uint8_t*>(x) + static_cast<size_t>(s0) * x_stride;
    float* ys = y + s0 * ldy;
    switch (std::min<int64_t>(k_max_seq, m - s0)) {
      case 1: rows_for<K, 1>(base, rb, nrows, xs, x_stride, nb, ys, ldy); break;
      case 2: rows_for<K, 2>(base, rb, nrows, xs, x_stride, nb, ys, ldy); break;
      case 3: rows_for<K, 3>(base, rb, nrows, xs, x_stride, nb, ys, ldy); break;
      default: rows_for<K, 4>(base, rb, nrows, xs, x_stride, nb, ys, ldy); break;
    }
  }
}

}  // namespace

gemm_fn get_q32(ggml_type t) {
  switch (t) {
    case ggml_type::q4_0: return gemm_q32<kind::q4_0>;
    case ggml_type::q4_1: return gemm_q32<kind::q4_1>;
    case ggml_type::q5_0: return gemm_q32<kind::q5_0>;
    case ggml_type::q5_1: return gemm_q32<kind::q5_1>;
    case ggml_type::q8_0: return gemm_q32<kind::q8_0>;
    default: return nullptr;
  }
}

}  // namespace dianoia::detail::gemv::avx512vnni
