// The int8 GEMM's code, written once over a vector policy V and instantiated by each qgemm_<isa>.cpp
// with that file's compiler flags. Everything here has internal linkage (an unnamed namespace) on
// purpose: each instruction-set file gets its own copy, so the linker can never hand an AVX-512 body of
// a shared inline function to a caller on an AVX2-only CPU. Include this only from those files.
//
// A policy V provides: L (lanes = tokens per vector), vi/vf (int32 and float vectors), and
//   zero_f, set1_i, set1_f, load_i, load_f, store_f, cvt, fma, dot (acc + sum of 4 u8*s8 products per lane),
//   k_wide_weights (false: the dot saturates for weights beyond +-64, so Q8_0 is not taken).
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

inline size_t act_block_bytes(const type_layout& lo, int L) {
  return static_cast<size_t>(lo.blk) * L + 4u * L + (lo.has_min ? 4u * L * lo.nsub() : 0u);
}
inline size_t panel_block_bytes(const type_layout& lo) {
  return static_cast<size_t>(R) * lo.blk + static_cast<size_t>(lo.nsub()) * R * 4u * (lo.has_min ? 3u : 2u);
}

// ---------------------------------------------------------------------------------------------------
// Activations

// One token row into lane `lane` of a group: per block, the scale, the offset bytes and the sub-block sums.
template <int L>
void pack_act_row(const type_layout& lo, const float* x, int64_t K, int lane, uint8_t* group) {
  const int64_t nblk = K / lo.blk;
  const size_t abb = act_block_bytes(lo, L);
  alignas(64) int8_t q[256];
  for (int64_t b = 0; b < nblk; ++b, x += lo.blk) {
    uint8_t* blk = group + b * abb;
    float amax = 0.0f;
    for (int j = 0; j < lo.blk; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.0f, id = amax > 0.0f ? 127.0f / amax : 0.0f;
    for (int j = 0; j < lo.blk; ++j) q[j] = static_cast<int8_t>(std::nearbyint(x[j] * id));
    for (int j = 0; j < lo.blk; j += 4) {
      uint8_t u[4];
      for (int i = 0; i < 4; ++i) u[i] = static_cast<uint8_t>(q[j + i] + 128);
      std::memcpy(blk + (static_cast<size_t>(j / 4) * L + lane) * 4, u, 4);
    }
    auto* dp = reinterpret_cast<float*>(blk + static_cast<size_t>(lo.blk) * L);
    dp[lane] = d;
    if (lo.has_min)
      for (int s = 0; s < lo.nsub(); ++s) {
        int sum = 0;
        for (int j = 0; j < lo.sub; ++j) sum += q[s * lo.sub + j];
        dp[L + s * L + lane] = static_cast<float>(sum);
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

struct block_out {
  int8_t* q;      // blk values
  float* scale;   // [nsub][R], this row at [s * R]
  float* min;     // [nsub][R] or nullptr
};

inline void decode_q4_0(const void* src, block_out o) {
  const auto* b = static_cast<const block_q4_0*>(src);
  for (int j = 0; j < 16; ++j) {
    o.q[j] = static_cast<int8_t>((b->qs[j] & 15) - 8);
    o.q[j + 16] = static_cast<int8_t>((b->qs[j] >> 4) - 8);
  }
  o.scale[0] = h2f(b->d);
}
inline void decode_q4_1(const void* src, block_out o) {
  const auto* b = static_cast<const block_q4_1*>(src);
  for (int j = 0; j < 16; ++j) {
    o.q[j] = static_cast<int8_t>(b->qs[j] & 15);
    o.q[j + 16] = static_cast<int8_t>(b->qs[j] >> 4);
  }
  o.scale[0] = h2f(b->d);
  o.min[0] = h2f(b->m);
}
inline void decode_q5_0(const void* src, block_out o) {
  const auto* b = static_cast<const block_q5_0*>(src);
  uint32_t qh;
  std::memcpy(&qh, b->qh, 4);
  for (int j = 0; j < 16; ++j) {
    o.q[j] = static_cast<int8_t>(((b->qs[j] & 15) | (((qh >> j) & 1) << 4)) - 16);
    o.q[j + 16] = static_cast<int8_t>(((b->qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16);
  }
  o.scale[0] = h2f(b->d);
}
inline void decode_q5_1(const void* src, block_out o) {
  const auto* b = static_cast<const block_q5_1*>(src);
  uint32_t qh;
  std::memcpy(&qh, b->qh, 4);
  for (int j = 0; j < 16; ++j) {
    o.q[j] = static_cast<int8_t>((b->qs[j] & 15) | (((qh >> j) & 1) << 4));
    o.q[j + 16] = static_cast<int8_t>((b->qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
  }
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
  for (int j = 0; j < 4; ++j)
    for (int l = 0; l < 32; ++l) {
      o.q[64 * j + l] = static_cast<int8_t>(b->qs[32 * j + l] & 15);
      o.q[64 * j + 32 + l] = static_cast<int8_t>(b->qs[32 * j + l] >> 4);
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
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql = b->ql + 64 * h;
    const uint8_t* qh = b->qh + 32 * h;
    int8_t* q = o.q + 128 * h;
    for (int l = 0; l < 32; ++l) {
      q[l] = static_cast<int8_t>(((ql[l] & 15) | (((qh[l] >> 0) & 3) << 4)) - 32);
      q[l + 32] = static_cast<int8_t>(((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32);
      q[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
      q[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
    }
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
  for (int p = 0; p < npanels; ++p) {
    uint8_t* panel = scratch + static_cast<size_t>(p) * nblk * pbb;
    for (int64_t b = 0; b < nblk; ++b) {
      uint8_t* pb = panel + b * pbb;
      auto* q = reinterpret_cast<int8_t*>(pb);
      auto* scale = reinterpret_cast<float*>(pb + static_cast<size_t>(R) * lo.blk);
      auto* init = reinterpret_cast<int32_t*>(scale + nsub * R);
      float* min = lo.has_min ? reinterpret_cast<float*>(init + nsub * R) : nullptr;
      for (int r = 0; r < R; ++r) {
        const int row = p * R + r;
        int8_t* qr = q + r * lo.blk;
        if (row < nr) {
          Decode(w + row * row_bytes + b * src_bb, block_out{qr, scale + r, min ? min + r : nullptr});
        } else {
          std::memset(qr, 0, static_cast<size_t>(lo.blk));
          for (int s = 0; s < nsub; ++s) {
            scale[s * R + r] = 0.0f;
            if (min) min[s * R + r] = 0.0f;
          }
        }
        for (int s = 0; s < nsub; ++s) {
          int sum = 0;
          for (int j = 0; j < lo.sub; ++j) sum += qr[s * lo.sub + j];
          init[s * R + r] = -128 * sum;
        }
      }
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
