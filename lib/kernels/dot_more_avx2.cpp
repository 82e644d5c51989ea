// AVX2 + FMA + F16C gemv kernels for BF16, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K weights (numerics contract in
// dot.hpp; each is bit-identical to its scalar reference in ref/dot_more_ref.cpp and to llama.cpp's AVX2
// ggml_vec_dot_* for the same type).
//
// As in dot_avx2.cpp, rows are taken several per pass and prefetched a few passes ahead: each row keeps
// its own accumulators, so a row's result does not depend on the grouping. What is shared between the
// rows of a pass is only exact integer work on the activations (Q8_K's per-chunk sums for the mins, the
// 16 * x corrections of Q5_0) and the activation loads.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>

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

template <class T>
inline T load_as(const void* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline __m256i loadu(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// Prefetch of the rows `groups` passes ahead (see dot_avx2.cpp for the measurement behind it): block i of a
// pass over R rows requests the lines that start inside its share (step bytes) of the span at pf.
constexpr int64_t prefetch_groups = 2;
inline void prefetch_block(const uint8_t* pf, size_t step, int64_t i) {
  const uintptr_t b = reinterpret_cast<uintptr_t>(pf) + static_cast<uintptr_t>(i) * step, e = b + step;
  for (uintptr_t l = (b + 63) & ~uintptr_t{63}; l < e; l += 64) _mm_prefetch(reinterpret_cast<const char*>(l), _MM_HINT_T0);
}

// 16 bytes of nibbles -> 32 bytes in element order (low nibbles, then high), without a cross-lane shuffle.
inline __m256i unpack_nibbles(const uint8_t* p) {
  const __m256i b = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_and_si256(_mm256_srlv_epi32(b, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4)), _mm256_set1_epi8(0x0f));
}

// Bit j of the 32-bit word at p -> 0x10 in byte j.
inline __m256i fifth_bits(const uint8_t* p) {
  const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
  const __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(load_as<int32_t>(p)), shuf);
  const __m256i sel = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
  return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(bytes, sel), sel), _mm256_set1_epi8(0x10));
}

// 8 int32 lanes: lane l = sum of u[j] * s[j], j in 4l..4l+3 (u unsigned bytes, s signed).
inline __m256i lanes_us(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

// The rows of one pass: R rows at w, rb bytes apart, prefetching the span at pf.
template <class Kernel>
void gemv_passes(const void* w, size_t rb, int64_t nrows, const void* x, int64_t k, float* y) {
  const auto* base = static_cast<const uint8_t*>(w);
  const typename Kernel::shared sh(x, k);
  constexpr int64_t R = Kernel::rows;
  int64_t r = 0;
  for (; r + R <= nrows; r += R) {
    const int64_t ahead = r + R * prefetch_groups;
    const uint8_t* pf = base + (ahead + R <= nrows ? ahead : r) * rb;
    Kernel::template run<R>(base + r * rb, rb, sh, y + r, pf);
  }
  const uint8_t* here = base + r * rb;
  switch (nrows - r) {
    case 3: if constexpr (R > 3) Kernel::template run<3>(here, rb, sh, y + r, here); break;
    case 2: if constexpr (R > 2) Kernel::template run<2>(here, rb, sh, y + r, here); break;
    case 1: Kernel::template run<1>(here, rb, sh, y + r, here); break;
    default: break;
  }
}

// ---- Q5_0 x Q8_0 and Q5_1 x Q8_1 --------------------------------------------------------------------

struct q5_0_kernel {
  static constexpr int rows = 4;
  struct shared {
    const block_q8_0* a;
    int64_t nb;
    shared(const void* x, int64_t k) : a(static_cast<const block_q8_0*>(x)), nb(k / qk) {}
  };
  template <int R>
  static void run(const uint8_t* w, size_t rb, const shared& sh, float* y, const uint8_t* pf) {
    constexpr size_t bb = sizeof(block_q5_0);
    __m256 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi8(1);
    for (int64_t i = 0; i < sh.nb; ++i) {
      prefetch_block(pf, R * bb, i);
      const block_q8_0& a = sh.a[i];
      const float dx = half(a.d);
      const __m256i qy = loadu(a.qs);
      // (q - 16) * y per lane = q * y per lane - 16 * (sum of y per lane): exact int32 either way.
      const __m256i bias = _mm256_slli_epi32(lanes_us(ones, qy), 4);
      for (int r = 0; r < R; ++r) {
        const uint8_t* b = w + r * rb + i * bb;
        const __m256i q = _mm256_or_si256(unpack_nibbles(b + offsetof(block_q5_0, qs)), fifth_bits(b + offsetof(block_q5_0, qh)));
        const __m256 l = _mm256_cvtepi32_ps(_mm256_sub_epi32(lanes_us(q, qy), bias));
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(half(load_as<fp16_t>(b)) * dx), l, acc[r]);
      }
    }
    for (int r = 0; r < R; ++r) y[r] = hsum8(acc[r]);
  }
};

struct q5_1_kernel {
  static constexpr int rows = 4;
  struct shared {
    const block_q8_1* a;
    int64_t nb;
    shared(const void* x, int64_t k) : a(static_cast<const block_q8_1*>(x)), nb(k / qk) {}
  };
  template <int R>
  static void run(const uint8_t* w, size_t rb, const shared& sh, float* y, const uint8_t* pf) {
    constexpr size_t bb = sizeof(block_q5_1);
    __m256 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    // Lane 2r+1: row r's chain of m_w * s_x (one fma per block, in block order); even lanes unused.
    __m256 summs = _mm256_setzero_ps();
    for (int64_t i = 0; i < sh.nb; ++i) {
      prefetch_block(pf, R * bb, i);
      const block_q8_1& a = sh.a[i];
      uint32_t dm[4] = {};
      for (int r = 0; r < R; ++r) dm[r] = load_as<uint32_t>(w + r * rb + i * bb);
      const __m256 wv = _mm256_cvtph_ps(_mm_setr_epi32(static_cast<int>(dm[0]), static_cast<int>(dm[1]),
                                                       static_cast<int>(dm[2]), static_cast<int>(dm[3])));
      const float dx = half(a.d), sx = half(a.s);
      const __m256 xv = _mm256_setr_ps(dx, sx, dx, sx, dx, sx, dx, sx);
      summs = _mm256_fmadd_ps(wv, xv, summs);
      alignas(32) float sc[8];
      _mm256_store_ps(sc, _mm256_mul_ps(wv, xv));
      const __m256i qy = loadu(a.qs);
      for (int r = 0; r < R; ++r) {
        const uint8_t* b = w + r * rb + i * bb;
        const __m256i q = _mm256_or_si256(unpack_nibbles(b + offsetof(block_q5_1, qs)), fifth_bits(b + offsetof(block_q5_1, qh)));
        acc[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(&sc[2 * r]), _mm256_cvtepi32_ps(lanes_us(q, qy)), acc[r]);
      }
    }
    alignas(32) float m[8];
    _mm256_store_ps(m, summs);
    for (int r = 0; r < R; ++r) y[r] = hsum8(acc[r]) + m[2 * r + 1];
  }
};

// ---- K types ------------------------------------------------------------------------------------------

// Q4_K/Q5_K: the 8 scales (low 128 bits) and 8 mins (high) of a block as int16, from the 12 packed bytes.
inline __m256i k4_scales_mins(const uint8_t* packed) {
  uint32_t u[3];
  std::memcpy(u, packed, 12);
  constexpr uint32_t m6 = 0x3f3f3f3f, m4 = 0x0f0f0f0f, m2 = 0x03030303;
  const uint32_t sc_lo = u[0] & m6, sc_hi = (u[2] & m4) | (((u[0] >> 6) & m2) << 4);
  const uint32_t mn_lo = u[1] & m6, mn_hi = ((u[2] >> 4) & m4) | (((u[1] >> 6) & m2) << 4);
  return _mm256_cvtepu8_epi16(_mm_setr_epi32(static_cast<int>(sc_lo), static_cast<int>(sc_hi),
                                             static_cast<int>(mn_lo), static_cast<int>(mn_hi)));
}

// Sub-block scale s (0..7) of 8 int16 scales in both 128-bit halves, broadcast to all 16 int16.
inline __m256i scale_of(__m256i scales2, int s) {
  const __m256i idx = _mm256_set1_epi16(static_cast<short>(0x0100 + 0x0202 * s));
  return _mm256_shuffle_epi8(scales2, idx);
}

// Q8_K activations shared by the rows: the per-chunk sums X[s] (int16) for the mins, and y.d.
struct q8k_shared {
  const block_q8_k* a;
  int64_t nb;
  q8k_shared(const void* x, int64_t k) : a(static_cast<const block_q8_k*>(x)), nb(k / qk_k) {}
  static __m128i chunk_sums(const block_q8_k& a) {
    const __m128i b0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a.bsums));
    const __m128i b1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a.bsums + 8));
    return _mm_hadd_epi16(b0, b1);
  }
};

// Q4_K and Q5_K share everything but the fifth bit.
template <bool Five>
struct k45_kernel {
  static constexpr int rows = 4;
  using shared = q8k_shared;
  using block = std::conditional_t<Five, block_q5_k, block_q4_k>;
  template <int R>
  static void run(const uint8_t* w, size_t rb, const shared& sh, float* y, const uint8_t* pf) {
    constexpr size_t bb = sizeof(block);
    __m256 acc[R];
    __m128 accm[R];  // Q4_K: 4 lanes of min products
    float summs[R];  // Q5_K: one scalar chain
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps(), accm[r] = _mm_setzero_ps(), summs[r] = 0.0f;
    const __m256i m4 = _mm256_set1_epi8(0x0f), m16 = _mm256_set1_epi8(0x10);
    for (int64_t i = 0; i < sh.nb; ++i) {
      prefetch_block(pf, R * bb, i);
      const block_q8_k& a = sh.a[i];
      const __m128i xs = shared::chunk_sums(a);
      for (int r = 0; r < R; ++r) {
        const auto* b = reinterpret_cast<const block*>(w + r * rb + i * bb);
        const float d = a.d * half(b->d);
        const float dmin = -a.d * half(b->dmin);
        const __m256i sm = k4_scales_mins(b->scales);
        const __m128i prod = _mm_madd_epi16(_mm256_extracti128_si256(sm, 1), xs);
        if constexpr (Five) {
          const __m128i h = _mm_hadd_epi32(_mm_hadd_epi32(prod, _mm_setzero_si128()), _mm_setzero_si128());
          summs[r] = _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(static_cast<float>(_mm_cvtsi128_si32(h))),
                                                _mm_set_ss(dmin), _mm_set_ss(summs[r])));
        } else {
          accm[r] = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(prod), accm[r]);
        }
        const __m128i sc = _mm256_castsi256_si128(sm);
        const __m256i scales2 = _mm256_inserti128_si256(_mm256_castsi128_si256(sc), sc, 1);
        __m256i hbits;
        if constexpr (Five) hbits = loadu(reinterpret_cast<const block_q5_k*>(b)->qh);
        __m256i sumi = _mm256_setzero_si256();
        for (int j = 0; j < 4; ++j) {
          const __m256i bits = loadu(b->qs + 32 * j);
          __m256i lo = _mm256_and_si256(bits, m4);
          __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
          if constexpr (Five) {
            // Bit 2j of each qh byte -> 0x10 (and bit 2j+1 for the high nibbles): shifts within bytes.
            const int b0 = 2 * j, b1 = 2 * j + 1;
            const __m256i h0 = b0 <= 4 ? _mm256_slli_epi16(hbits, 4 - b0) : _mm256_srli_epi16(hbits, b0 - 4);
            const __m256i h1 = b1 <= 4 ? _mm256_slli_epi16(hbits, 4 - b1) : _mm256_srli_epi16(hbits, b1 - 4);
            lo = _mm256_or_si256(lo, _mm256_and_si256(h0, m16));
            hi = _mm256_or_si256(hi, _mm256_and_si256(h1, m16));
          }
          const __m256i pl = _mm256_madd_epi16(scale_of(scales2, 2 * j), _mm256_maddubs_epi16(lo, loadu(a.qs + 64 * j)));
          const __m256i ph = _mm256_madd_epi16(scale_of(scales2, 2 * j + 1), _mm256_maddubs_epi16(hi, loadu(a.qs + 64 * j + 32)));
          sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(pl, ph));
        }
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc[r]);
      }
    }
    for (int r = 0; r < R; ++r) {
      if constexpr (Five) {
        y[r] = hsum8(acc[r]) + summs[r];
      } else {
        __m128 m = _mm_add_ps(accm[r], _mm_movehl_ps(accm[r], accm[r]));
        m = _mm_add_ss(m, _mm_movehdup_ps(m));
        y[r] = hsum8(acc[r]) + _mm_cvtss_f32(m);
      }
    }
  }
};

struct q6_k_kernel {
  static constexpr int rows = 4;
  using shared = q8k_shared;
  template <int R>
  static void run(const uint8_t* w, size_t rb, const shared& sh, float* y, const uint8_t* pf) {
    constexpr size_t bb = sizeof(block_q6_k);
    __m256 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(3);
    for (int64_t i = 0; i < sh.nb; ++i) {
      prefetch_block(pf, R * bb, i);
      const block_q8_k& a = sh.a[i];
      const __m256i bsums = loadu(a.bsums);
      for (int r = 0; r < R; ++r) {
        const auto* b = reinterpret_cast<const block_q6_k*>(w + r * rb + i * bb);
        const float d = a.d * half(b->d);
        const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b->scales));
        // The -32 offset per lane: 32 * (sc[2l] * X[2l] + sc[2l+1] * X[2l+1]), X the 16-element sums.
        const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(_mm256_cvtepi8_epi16(sc8), bsums), 5);
        __m256i sumi = _mm256_setzero_si256();
        for (int h = 0; h < 2; ++h) {
          const __m256i l0 = loadu(b->ql + 64 * h), l1 = loadu(b->ql + 64 * h + 32), hb = loadu(b->qh + 32 * h);
          const __m256i q[4] = {
              _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(hb, m3), 4)),
              _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m3), 4)),
              _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m3), 4)),
              _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m3), 4)),
          };
          for (int t = 0; t < 4; ++t) {
            const int c = 4 * h + t;
            // [sc[2c] x8, sc[2c+1] x8] as bytes, widened to the 16 int16 of the chunk's pairs.
            const __m128i idx = _mm_setr_epi8(2 * c, 2 * c, 2 * c, 2 * c, 2 * c, 2 * c, 2 * c, 2 * c, 2 * c + 1, 2 * c + 1,
                                              2 * c + 1, 2 * c + 1, 2 * c + 1, 2 * c + 1, 2 * c + 1, 2 * c + 1);
            const __m256i s16 = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, idx));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(s16, _mm256_maddubs_epi16(q[t], loadu(a.qs + 32 * c))));
          }
        }
        sumi = _mm256_sub_epi32(sumi, offset);
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc[r]);
      }
    }
    for (int r = 0; r < R; ++r) y[r] = hsum8(acc[r]);
  }
};

// ---- BF16 x BF16 ----------------------------------------------------------------------------------------

inline __m256 load_bf16(const bf16_t* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
}

struct bf16_kernel {
  static constexpr int rows = 2;  // 4 accumulators per row + 4 activation vectors fill the registers
  struct shared {
    const bf16_t* x;
    int64_t k;
    shared(const void* xp, int64_t kk) : x(static_cast<const bf16_t*>(xp)), k(kk) {}
  };
  template <int R>
  static void run(const uint8_t* w, size_t rb, const shared& sh, float* y, const uint8_t* pf) {
    __m256 c[R][4];
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < 4; ++v) c[r][v] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= sh.k; i += 32) {
      prefetch_block(pf, R * 64, i / 32);
      const __m256 x0 = load_bf16(sh.x + i), x1 = load_bf16(sh.x + i + 8);
      const __m256 x2 = load_bf16(sh.x + i + 16), x3 = load_bf16(sh.x + i + 24);
      for (int r = 0; r < R; ++r) {
        const auto* wr = reinterpret_cast<const bf16_t*>(w + r * rb) + i;
        c[r][0] = _mm256_fmadd_ps(load_bf16(wr), x0, c[r][0]);
        c[r][1] = _mm256_fmadd_ps(load_bf16(wr + 8), x1, c[r][1]);
        c[r][2] = _mm256_fmadd_ps(load_bf16(wr + 16), x2, c[r][2]);
        c[r][3] = _mm256_fmadd_ps(load_bf16(wr + 24), x3, c[r][3]);
      }
    }
    for (int r = 0; r < R; ++r) {
      const auto* wr = reinterpret_cast<const bf16_t*>(w + r * rb);
      double s = hsum8(_mm256_add_ps(_mm256_add_ps(c[r][0], c[r][2]), _mm256_add_ps(c[r][1], c[r][3])));
      for (int64_t t = i; t < sh.k; ++t) s += static_cast<double>(bf16_to_f32(wr[t]) * bf16_to_f32(sh.x[t]));
      y[r] = static_cast<float>(s);
    }
  }
};

template <class Kernel>
float dot_one(const void* w, const void* x, int64_t k) {
  float y;
  gemv_passes<Kernel>(w, 0, 1, x, k, &y);
  return y;
}

}  // namespace

float dot_q5_0_q8_0(const void* w, const void* x, int64_t k) { return dot_one<q5_0_kernel>(w, x, k); }
float dot_q5_1_q8_1(const void* w, const void* x, int64_t k) { return dot_one<q5_1_kernel>(w, x, k); }
float dot_q4_k_q8_k(const void* w, const void* x, int64_t k) { return dot_one<k45_kernel<false>>(w, x, k); }
float dot_q5_k_q8_k(const void* w, const void* x, int64_t k) { return dot_one<k45_kernel<true>>(w, x, k); }
float dot_q6_k_q8_k(const void* w, const void* x, int64_t k) { return dot_one<q6_k_kernel>(w, x, k); }
float dot_bf16_bf16(const void* w, const void* x, int64_t k) { return dot_one<bf16_kernel>(w, x, k); }

gemv_fn gemv_more(ggml_type t) {
  switch (t) {
    case ggml_type::q5_0: return gemv_passes<q5_0_kernel>;
    case ggml_type::q5_1: return gemv_passes<q5_1_kernel>;
    case ggml_type::q4_k: return gemv_passes<k45_kernel<false>>;
    case ggml_type::q5_k: return gemv_passes<k45_kernel<true>>;
    case ggml_type::q6_k: return gemv_passes<q6_k_kernel>;
    case ggml_type::bf16: return gemv_passes<bf16_kernel>;
    default: return nullptr;
  }
}

}  // namespace dianoia::detail::avx2
