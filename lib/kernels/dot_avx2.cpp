// AVX2 + FMA + F16C dot kernels (see dot.hpp for the numerics contract). The gemv entry points process
// up to four weight rows per pass so that each activation block is loaded once per four rows; each row
// keeps its own accumulators, so a row's result does not depend on how rows were grouped.
//
// Decode (M = 1) is bound by the vector ports, not by memory, once the weights stream in ahead of use, so
// the quantized kernels are arranged to spend those ports on the per-block integer dot and its fma only:
// scale conversions are vectorised and hoisted out of the row loop, nibbles are unpacked without a
// cross-lane shuffle, and rows two passes ahead are prefetched. None of this changes an operation that
// rounds: integer lane sums are exact in any order, the d_w * d_x products are single multiplications
// (exact, half x half), and each row's fma chain over blocks and final reduction are as in ref/.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <vector>

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
// A broadcast load puts the bytes in both halves and a per-half variable shift moves the upper half's high
// nibbles down: no cross-lane shuffle, so the shuffle port (the bottleneck of the obvious insert-based
// version) stays free.
inline __m256i unpack_nibbles(const uint8_t* p) {
  const __m256i b = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  const __m256i shifted = _mm256_srlv_epi32(b, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4));
  return _mm256_and_si256(shifted, _mm256_set1_epi8(0x0f));
}

// 8 int32 lanes, lane l = sum of u[j]*s[j] for j in 4l..4l+3. u unsigned bytes <= 128, s signed: pair sums
// stay below 2^15 for every input these kernels see (nibbles, or |q| <= 127 times q8).
inline __m256i lanes_us_i32(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}
inline __m256 lanes_us(__m256i u, __m256i s) { return _mm256_cvtepi32_ps(lanes_us_i32(u, s)); }
// Same for two signed operands: move x's sign onto y.
inline __m256 lanes_ss(__m256i x, __m256i y) { return lanes_us(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x)); }

template <class T>
inline T load_as(const void* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Software prefetch, prefetch_groups passes of four rows ahead. Measured on SmolLM2 shapes (K = 576,
// rows of 360-612 bytes): the hardware prefetchers see four interleaved streams a few hundred bytes long
// per pass and do not run far enough ahead; prefetching two passes ahead took rows streamed from DRAM
// or L3 from ~5 to ~8-9 GB/s on one core for a ~3% loss when the rows are already in L2.
constexpr int64_t prefetch_groups = 2;

// Block i of a pass over R rows requests the cache lines that start inside block i's share (step = R
// block sizes) of the equally long span at pf, so over the pass the whole span is requested, each line once.
inline void prefetch_block(const uint8_t* pf, size_t step, int64_t i) {
  const uintptr_t b = reinterpret_cast<uintptr_t>(pf) + static_cast<uintptr_t>(i) * step, e = b + step;
  for (uintptr_t l = (b + 63) & ~uintptr_t{63}; l < e; l += 64)
    _mm_prefetch(reinterpret_cast<const char*>(l), _MM_HINT_T0);
}

// Scales. The activation's half scales are converted to float once per gemv call (act_scales), the
// weights' for a chunk of blocks and up to four rows at a time with one vector conversion per block, and
// the d_w * d_x products are kept in a stack buffer that the integer loop broadcasts from (a load, not a
// shuffle). The products are the same single float multiplications as in the scalar reference.
constexpr int64_t scale_chunk = 32;
// Activation rows longer than this many blocks (K > 65536) take their scales from the heap.
constexpr int64_t max_stack_blocks = 2048;

// Four rows' 16-bit fields at byte offset `at` (one per row), as one 64-bit word; rows past R read as 0.
template <int R>
inline uint64_t gather_halves(const uint8_t* w, size_t rb, size_t at) {
  uint64_t v = 0;
  for (int r = 0; r < R; ++r) v |= uint64_t{load_as<uint16_t>(w + r * rb + at)} << (16 * r);
  return v;
}

// Q4_0 and Q8_0 weights: xs[i] = d_x of activation block i.
template <int R, class WBlock>
inline void scale_products_d(const uint8_t* w, size_t rb, const float* xs, int64_t c, int64_t n, float (*sc)[4]) {
  for (int64_t j = 0; j < n; ++j) {
    const uint64_t h = gather_halves<R>(w, rb, static_cast<size_t>(c + j) * sizeof(WBlock));
    const __m128 wd = _mm_cvtph_ps(_mm_cvtsi64_si128(static_cast<long long>(h)));
    _mm_store_ps(sc[j], _mm_mul_ps(wd, _mm_broadcast_ss(&xs[c + j])));
  }
}

template <int R>
void rows_q4_0(const uint8_t* w, size_t rb, const block_q8_0* a, const float* xs, int64_t nb, float* y,
               const uint8_t* pf) {
  static_assert(R >= 1 && R <= 4);
  constexpr size_t bb = sizeof(block_q4_0);
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  alignas(16) float sc[scale_chunk][4];
  const __m256i ones8 = _mm256_set1_epi8(1);
  for (int64_t c = 0; c < nb; c += scale_chunk) {
    const int64_t n = std::min(scale_chunk, nb - c);
    scale_products_d<R, block_q4_0>(w, rb, xs, c, n, sc);
    // A local copy of the accumulators per chunk: with the chunk loop around it GCC otherwise stores
    // every accumulator back to the stack on every block.
    __m256 t[R];
    for (int r = 0; r < R; ++r) t[r] = acc[r];
    for (int64_t j = 0; j < n; ++j) {
      const int64_t i = c + j;
      prefetch_block(pf, R * bb, i);
      const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[i].qs));
      // (q - 8) * y summed per lane = q * y per lane - 8 * (y per lane): the second term is shared by
      // the rows, and both are exact int32, so the lane sums are the same integers.
      const __m256i bias = _mm256_slli_epi32(lanes_us_i32(ones8, qy), 3);
      for (int r = 0; r < R; ++r) {
        const __m256i q = unpack_nibbles(w + r * rb + i * bb + offsetof(block_q4_0, qs));
        const __m256 l = _mm256_cvtepi32_ps(_mm256_sub_epi32(lanes_us_i32(q, qy), bias));
        t[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(&sc[j][r]), l, t[r]);
      }
    }
    for (int r = 0; r < R; ++r) acc[r] = t[r];
  }
  for (int r = 0; r < R; ++r) y[r] = hsum8(acc[r]);
}

// Q4_1: xs[i] = {d_x, s_x} of activation block i.
template <int R>
void rows_q4_1(const uint8_t* w, size_t rb, const block_q8_1* a, const float (*xs)[2], int64_t nb, float* y,
               const uint8_t* pf) {
  static_assert(R >= 1 && R <= 4);
  constexpr size_t bb = sizeof(block_q4_1);
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  // Lane 2r+1 is row r's sum over blocks of m_w * s_x (fma chain in block order); even lanes are unused.
  // The chain is advanced in the integer loop, where its latency hides behind the row work; in the scale
  // loop it was the critical path.
  __m256 summs = _mm256_setzero_ps();
  alignas(32) float wdm[scale_chunk][8];  // [d0 m0 d1 m1 ...] of the rows, as floats
  alignas(32) float sc[scale_chunk][8];   // lane 2r: d_w * d_x of row r
  for (int64_t c = 0; c < nb; c += scale_chunk) {
    const int64_t n = std::min(scale_chunk, nb - c);
    for (int64_t j = 0; j < n; ++j) {
      const int64_t i = c + j;
      // d and m are adjacent halves: one 32-bit word per row gives [d0 m0 d1 m1 ...] after conversion.
      uint32_t dm[4] = {};
      for (int r = 0; r < R; ++r) dm[r] = load_as<uint32_t>(w + r * rb + i * bb);
      const __m256 wv = _mm256_cvtph_ps(_mm_setr_epi32(static_cast<int>(dm[0]), static_cast<int>(dm[1]),
                                                       static_cast<int>(dm[2]), static_cast<int>(dm[3])));
      const __m256 xv = _mm256_castpd_ps(_mm256_set1_pd(load_as<double>(xs[i])));
      _mm256_store_ps(wdm[j], wv);
      _mm256_store_ps(sc[j], _mm256_mul_ps(wv, xv));
    }
    __m256 t[R];  // see rows_q4_0
    for (int r = 0; r < R; ++r) t[r] = acc[r];
    for (int64_t j = 0; j < n; ++j) {
      const int64_t i = c + j;
      prefetch_block(pf, R * bb, i);
      const __m256 xv = _mm256_castpd_ps(_mm256_set1_pd(load_as<double>(xs[i])));
      summs = _mm256_fmadd_ps(_mm256_load_ps(wdm[j]), xv, summs);
      const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[i].qs));
      for (int r = 0; r < R; ++r) {
        const __m256i q = unpack_nibbles(w + r * rb + i * bb + offsetof(block_q4_1, qs));
        t[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(&sc[j][2 * r]), lanes_us(q, qy), t[r]);
      }
    }
    for (int r = 0; r < R; ++r) acc[r] = t[r];
  }
  alignas(32) float m[8];
  _mm256_store_ps(m, summs);
  for (int r = 0; r < R; ++r) y[r] = hsum8(acc[r]) + m[2 * r + 1];
}

template <int R>
void rows_q8_0(const uint8_t* w, size_t rb, const block_q8_0* a, const float* xs, int64_t nb, float* y,
               const uint8_t* pf) {
  static_assert(R >= 1 && R <= 4);
  constexpr size_t bb = sizeof(block_q8_0);
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  alignas(16) float sc[scale_chunk][4];
  for (int64_t c = 0; c < nb; c += scale_chunk) {
    const int64_t n = std::min(scale_chunk, nb - c);
    scale_products_d<R, block_q8_0>(w, rb, xs, c, n, sc);
    __m256 t[R];  // see rows_q4_0
    for (int r = 0; r < R; ++r) t[r] = acc[r];
    for (int64_t j = 0; j < n; ++j) {
      const int64_t i = c + j;
      prefetch_block(pf, R * bb, i);
      const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[i].qs));
      for (int r = 0; r < R; ++r) {
        const auto* q = w + r * rb + i * bb + offsetof(block_q8_0, qs);
        const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
        t[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(&sc[j][r]), lanes_ss(qx, qy), t[r]);
      }
    }
    for (int r = 0; r < R; ++r) acc[r] = t[r];
  }
  for (int r = 0; r < R; ++r) y[r] = hsum8(acc[r]);
}

// The activation scales of a gemv call as floats: d per block for Q8_0 activations, {d, s} for Q8_1.
template <class Block>
struct act_scales {
  static constexpr int per_block = std::is_same_v<Block, block_q8_1> ? 2 : 1;
  alignas(32) float stack[max_stack_blocks * per_block];
  std::vector<float> heap;
  float* p;
  act_scales(const Block* a, int64_t nb) : p(stack) {
    if (nb > max_stack_blocks) heap.resize(static_cast<size_t>(nb * per_block)), p = heap.data();
    for (int64_t i = 0; i < nb; ++i) {
      p[i * per_block] = half(a[i].d);
      if constexpr (per_block == 2) p[i * per_block + 1] = half(a[i].s);
    }
  }
};

template <int R> struct q4_0_rows {
  using act = block_q8_0;
  static void run(const uint8_t* w, size_t rb, const act* a, const float* xs, int64_t nb, float* y, const uint8_t* pf) {
    rows_q4_0<R>(w, rb, a, xs, nb, y, pf);
  }
};
template <int R> struct q4_1_rows {
  using act = block_q8_1;
  static void run(const uint8_t* w, size_t rb, const act* a, const float* xs, int64_t nb, float* y, const uint8_t* pf) {
    rows_q4_1<R>(w, rb, a, reinterpret_cast<const float (*)[2]>(xs), nb, y, pf);
  }
};
template <int R> struct q8_0_rows {
  using act = block_q8_0;
  static void run(const uint8_t* w, size_t rb, const act* a, const float* xs, int64_t nb, float* y, const uint8_t* pf) {
    rows_q8_0<R>(w, rb, a, xs, nb, y, pf);
  }
};

template <template <int> class Rows>
void gemv_q(const void* w, size_t rb, int64_t nrows, const void* x, int64_t k, float* y) {
  using act = typename Rows<4>::act;
  const auto* base = static_cast<const uint8_t*>(w);
  const auto* a = static_cast<const act*>(x);
  const int64_t nb = k / qk;
  const act_scales<act> xs(a, nb);
  int64_t r = 0;
  // Prefetch prefetch_groups passes ahead, within this call's rows; the last passes re-touch their own.
  for (; r + 4 <= nrows; r += 4) {
    const int64_t ahead = r + 4 * prefetch_groups;
    const uint8_t* pf = base + (ahead + 4 <= nrows ? ahead : r) * rb;
    Rows<4>::run(base + r * rb, rb, a, xs.p, nb, y + r, pf);
  }
  const uint8_t* here = base + r * rb;
  switch (nrows - r) {
    case 3: Rows<3>::run(here, rb, a, xs.p, nb, y + r, here); break;
    case 2: Rows<2>::run(here, rb, a, xs.p, nb, y + r, here); break;
    case 1: Rows<1>::run(here, rb, a, xs.p, nb, y + r, here); break;
    default: break;
  }
}

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
  gemv_q<q4_0_rows>(w, 0, 1, x, k, &y);
  return y;
}
float dot_q4_1_q8_1(const void* w, const void* x, int64_t k) {
  float y;
  gemv_q<q4_1_rows>(w, 0, 1, x, k, &y);
  return y;
}
float dot_q8_0_q8_0(const void* w, const void* x, int64_t k) {
  float y;
  gemv_q<q8_0_rows>(w, 0, 1, x, k, &y);
  return y;
}
float dot_f16_f32(const void* w, const float* x, int64_t k) { return dot_float(load_f16, scalar_f16, w, x, k); }
float dot_f32_f32(const float* w, const float* x, int64_t k) { return dot_float(load_f32, scalar_f32, w, x, k); }

gemv_fn gemv(ggml_type t) {
  switch (t) {
    case ggml_type::q4_0: return gemv_q<q4_0_rows>;
    case ggml_type::q4_1: return gemv_q<q4_1_rows>;
    case ggml_type::q8_0: return gemv_q<q8_0_rows>;
    case ggml_type::f16: return gemv_f16;
    case ggml_type::f32: return gemv_f32;
    default: return gemv_more(t);
  }
}

}  // namespace dianoia::detail::avx2
