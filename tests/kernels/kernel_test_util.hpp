// Random test data for the kernel tests: well-formed quantized rows with realistic scales.
#pragma once
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "core/ggml_types.hpp"
#include "kernels/quant/blocks.hpp"
#include "kernels/quant/fp16.hpp"

namespace dianoia::test {

inline std::vector<float> random_floats(std::mt19937& rng, size_t n, float scale = 1.0f) {
  std::normal_distribution<float> nd(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(rng);
  return v;
}

// n_rows rows of k elements of type t, random quant values and scales around `scale` per element.
inline std::vector<uint8_t> random_weights(std::mt19937& rng, detail::ggml_type t, int64_t n_rows, int64_t k,
                                           float scale = 0.05f) {
  using namespace detail;
  const size_t rb = ggml_row_bytes(t, static_cast<size_t>(k));
  std::vector<uint8_t> w(rb * static_cast<size_t>(n_rows));
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> ud(0.5f, 1.5f);
  if (t == ggml_type::f32) {
    auto f = random_floats(rng, static_cast<size_t>(n_rows * k), scale);
    std::memcpy(w.data(), f.data(), w.size());
    return w;
  }
  if (t == ggml_type::f16 || t == ggml_type::bf16) {
    auto f = random_floats(rng, static_cast<size_t>(n_rows * k), scale);
    for (size_t i = 0; i < f.size(); ++i) {
      uint16_t h = t == ggml_type::f16 ? f32_to_fp16(f[i]) : f32_to_bf16(f[i]);
      std::memcpy(w.data() + 2 * i, &h, 2);
    }
    return w;
  }
  for (auto& b : w) b = static_cast<uint8_t>(byte(rng));
  const auto tr = ggml_traits(t);
  const size_t nblocks = w.size() / tr.block_bytes;
  // K types: sane half scales over random quants, sub-block scales and mins. Q4_K/Q5_K lead with d and
  // dmin (x = d*sc*q - dmin*mn, sc and mn up to 63); Q6_K ends with d (x = d*sc*(q-32), |sc| up to 128).
  if (t == ggml_type::q4_k || t == ggml_type::q5_k || t == ggml_type::q6_k) {
    for (size_t i = 0; i < nblocks; ++i) {
      uint8_t* blk = w.data() + i * tr.block_bytes;
      if (t == ggml_type::q6_k) {
        const fp16_t d = f32_to_fp16(scale / 2048.f * ud(rng));
        std::memcpy(blk + 208, &d, 2);
      } else {
        const fp16_t d = f32_to_fp16(scale / 256.f * ud(rng)), dmin = f32_to_fp16(scale / 256.f * ud(rng));
        std::memcpy(blk, &d, 2);
        std::memcpy(blk + 2, &dmin, 2);
      }
    }
    return w;
  }
  // Overwrite the scale fields with sane halves: d (and m) lead each block.
  const float dscale = t == ggml_type::q8_0 ? scale / 64.f : scale / 8.f;
  for (size_t i = 0; i < nblocks; ++i) {
    uint8_t* blk = w.data() + i * tr.block_bytes;
    const fp16_t d = f32_to_fp16(dscale * ud(rng));
    std::memcpy(blk, &d, 2);
    if (t == ggml_type::q4_1 || t == ggml_type::q5_1) {
      const fp16_t m = f32_to_fp16(-scale * ud(rng));
      std::memcpy(blk + 2, &m, 2);
    }
  }
  return w;
}

}  // namespace dianoia::test
