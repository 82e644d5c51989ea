// The llama.cpp-exact element-wise numerics: ggml's vector exp, SwiGLU, and the two flash-attention
// kernels over an f16 cache. AVX2 versions must give the scalar references' bits; the end-to-end check
// against llama.cpp itself (bit-identical SmolLM2 logits) is in tests/capi/test_capi_generate.cpp.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/quant/fp16.hpp"
#include "model/attention.hpp"
#include "model/ops.hpp"

using namespace dianoia::detail;

namespace {

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::bit_cast<uint32_t>(a[i]) != std::bit_cast<uint32_t>(b[i])) return false;
  return true;
}

}  // namespace

TEST_CASE("ops: ggml_expf is within 2 ulp of exp and saturates like ggml") {
  CHECK(ops::ggml_expf(0.0f) == 1.0f);
  CHECK(ops::ggml_expf(-INFINITY) == 0.0f);
  CHECK(ops::ggml_expf(-200.0f) == 0.0f);
  CHECK(std::isinf(ops::ggml_expf(100.0f)));
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-87.0f, 88.0f);
  for (int i = 0; i < 20000; ++i) {
    const float x = u(rng);
    const float got = ops::ggml_expf(x), want = static_cast<float>(std::exp(static_cast<double>(x)));
    const float ulp = std::nextafter(want, INFINITY) - want;
    CAPTURE(x);
    CHECK(std::fabs(got - want) <= 2.0f * ulp);
  }
}

TEST_CASE("ops: swiglu (AVX2 where present) equals its scalar reference bit for bit, tails included") {
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 6.0f);
  for (int64_t n : {1, 7, 8, 13, 64, 1536, 1541}) {
    std::vector<float> g(n), u(n);
    for (auto& x : g) x = nd(rng);
    for (auto& x : u) x = nd(rng);
    if (n >= 8) g[0] = -100.0f, g[1] = 95.0f, g[2] = -0.0f, g[3] = 1e-30f;  // overflow/underflow lanes
    auto a = g, b = g;
    ops::swiglu(a.data(), u.data(), n);
    ops::swiglu_ref(b.data(), u.data(), n);
    CAPTURE(n);
    CHECK(same_bits(a, b));
    for (int64_t i = 0; i < n; ++i) {
      const double x = g[i], want = x / (1.0 + std::exp(-x)) * u[i];
      CHECK(std::fabs(a[i] - want) <= 1e-5 * (1.0 + std::fabs(want)));
    }
  }
}

TEST_CASE("attention: the tiled f16 kernel (AVX2) equals its scalar reference and the f32 math") {
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (int64_t hd : {64, 128, 8}) {
    const int64_t n_kv = 2, stride = n_kv * hd, max_len = 200;
    std::vector<fp16_t> k(max_len * stride), v(max_len * stride);
    std::vector<float> kf(k.size()), vf(v.size());
    for (size_t i = 0; i < k.size(); ++i) {
      k[i] = f32_to_fp16(2.0f * nd(rng));
      v[i] = f32_to_fp16(nd(rng));
      kf[i] = fp16_to_f32(k[i]);
      vf[i] = fp16_to_f32(v[i]);
    }
    std::vector<float> q(hd);
    for (auto& x : q) x = nd(rng);
    std::vector<float> scratch(attn::tiled_scratch_floats(hd) + max_len), a(hd), b(hd), exact(hd);
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    for (int64_t len : {1, 7, 63, 64, 65, 128, 129, 200}) {
      CAPTURE(hd);
      CAPTURE(len);
      // the second KV head, to exercise the stride
      attn::attend_f16_tiled(q.data(), k.data() + hd, v.data() + hd, stride, len, hd, scale, scratch.data(), a.data());
      attn::attend_f16_tiled_ref(q.data(), k.data() + hd, v.data() + hd, stride, len, hd, scale, scratch.data(), b.data());
      CHECK(same_bits(a, b));
      attn::attend_f32(q.data(), kf.data() + hd, vf.data() + hd, stride, len, hd, scale, scratch.data(), exact.data());
      for (int64_t j = 0; j < hd; ++j) CHECK(std::fabs(a[j] - exact[j]) <= 1e-5f);
    }
  }
}

TEST_CASE("attention: the one-query f16 kernel (AVX2) equals its scalar reference, max raised often") {
  // Increasing scores make every key a new maximum: the S = fma(S, ms, vs) branch on each step.
  const int64_t hd = 64, len = 100;
  std::vector<fp16_t> k(len * hd), v(len * hd);
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> q(hd, 0.1f);
  for (int64_t p = 0; p < len; ++p)
    for (int64_t j = 0; j < hd; ++j) {
      k[p * hd + j] = f32_to_fp16(0.05f * static_cast<float>(p) + 0.01f * nd(rng));
      v[p * hd + j] = f32_to_fp16(nd(rng));
    }
  std::vector<float> scratch(2 * hd), a(hd), b(hd);
  attn::attend_f16(q.data(), k.data(), v.data(), hd, len, hd, 0.125f, scratch.data(), a.data());
  attn::attend_f16_ref(q.data(), k.data(), v.data(), hd, len, hd, 0.125f, scratch.data(), b.data());
  CHECK(same_bits(a, b));
}
