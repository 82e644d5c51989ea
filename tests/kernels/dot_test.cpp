#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernel_test_util.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/dot.hpp"
#include "kernels/quant/blocks.hpp"
#include "kernels/quant/quant.hpp"
#include "test_support.hpp"

using namespace dianoia::detail;
using dianoia::test::random_floats;
using dianoia::test::random_weights;

namespace {

// Activations in the format weights of type t consume.
std::vector<uint8_t> activations(ggml_type t, const std::vector<float>& x) {
  const int64_t k = static_cast<int64_t>(x.size());
  const ggml_type at = dot_activation_type(t);
  std::vector<uint8_t> a(ggml_row_bytes(at, static_cast<size_t>(k)));
  if (at == ggml_type::q8_0) quantize_row_q8_0_ref(x.data(), a.data(), k);
  else if (at == ggml_type::q8_1) quantize_row_q8_1_ref(x.data(), a.data(), k);
  else std::memcpy(a.data(), x.data(), a.size());
  return a;
}

float ref_dot(ggml_type t, const void* w, const void* a, int64_t k) {
  switch (t) {
    case ggml_type::q4_0: return ref::dot_q4_0_q8_0(w, a, k);
    case ggml_type::q4_1: return ref::dot_q4_1_q8_1(w, a, k);
    case ggml_type::q8_0: return ref::dot_q8_0_q8_0(w, a, k);
    case ggml_type::f16: return ref::dot_f16_f32(w, static_cast<const float*>(a), k);
    default: return ref::dot_f32_f32(static_cast<const float*>(w), static_cast<const float*>(a), k);
  }
}
float avx2_dot(ggml_type t, const void* w, const void* a, int64_t k) {
  switch (t) {
    case ggml_type::q4_0: return avx2::dot_q4_0_q8_0(w, a, k);
    case ggml_type::q4_1: return avx2::dot_q4_1_q8_1(w, a, k);
    case ggml_type::q8_0: return avx2::dot_q8_0_q8_0(w, a, k);
    case ggml_type::f16: return avx2::dot_f16_f32(w, static_cast<const float*>(a), k);
    default: return avx2::dot_f32_f32(static_cast<const float*>(w), static_cast<const float*>(a), k);
  }
}

// fp64 dot of the dequantized weight row with the dequantized activation row: what the integer kernels
// compute exactly, up to float accumulation.
double exact_dot(ggml_type t, const void* w, const std::vector<uint8_t>& a, int64_t k, double& abs_sum) {
  std::vector<float> wf(static_cast<size_t>(k)), af(static_cast<size_t>(k));
  dequantize_row(t, w, wf.data(), k);
  dequantize_row(dot_activation_type(t), a.data(), af.data(), k);
  double s = 0;
  abs_sum = 0;
  for (int64_t i = 0; i < k; ++i) {
    s += static_cast<double>(wf[static_cast<size_t>(i)]) * af[static_cast<size_t>(i)];
    abs_sum += std::fabs(static_cast<double>(wf[static_cast<size_t>(i)]) * af[static_cast<size_t>(i)]);
  }
  if (t == ggml_type::q4_1) {
    // The kernel uses the stored s (= d*sum(q) rounded to half) for the offset term, by design.
    const auto* wb = static_cast<const block_q4_1*>(w);
    const auto* ab = reinterpret_cast<const block_q8_1*>(a.data());
    for (int64_t b = 0; b < k / 32; ++b) {
      double xs = 0;
      for (int j = 0; j < 32; ++j) xs += af[static_cast<size_t>(b * 32 + j)];
      s += static_cast<double>(fp16_to_f32(wb[b].m)) * (fp16_to_f32(ab[b].s) - xs);
    }
  }
  return s;
}

}  // namespace

TEST_CASE("dot kernels: AVX2 equals the scalar reference bit for bit, and both match fp64") {
  std::mt19937 rng(11);
  for (ggml_type t : {ggml_type::q4_0, ggml_type::q4_1, ggml_type::q8_0, ggml_type::f16, ggml_type::f32}) {
    const bool blocked = ggml_traits(t).block_elems > 1;
    for (int64_t k : {32, 64, 96, 576, 1536, 8960, 1, 7, 33, 100}) {
      if (blocked && k % 32) continue;
      CAPTURE(ggml_traits(t).name);
      CAPTURE(k);
      for (int rep = 0; rep < 4; ++rep) {
        auto w = random_weights(rng, t, 1, k);
        auto x = random_floats(rng, static_cast<size_t>(k));
        auto a = activations(t, x);
        const float r = ref_dot(t, w.data(), a.data(), k);
        double abs_sum;
        const double e = exact_dot(t, w.data(), a, k, abs_sum);
        CHECK(std::fabs(r - e) <= 1e-6 * abs_sum + 1e-6 * std::sqrt(static_cast<double>(k)) * abs_sum / k + 1e-30);
        if (cpu_has_avx2()) CHECK(avx2_dot(t, w.data(), a.data(), k) == r);
      }
    }
  }
}

// Row counts up to 13 cover every remainder after passes of four rows and the software prefetch of rows
// two passes ahead; k = 1600 (50 blocks) crosses the kernels' 32-block scale chunks; k = 65568 (2049
// blocks) takes the activation scales from the heap instead of the stack.
TEST_CASE("gemv: every row count gives each row's single dot exactly") {
  std::mt19937 rng(12);
  for (ggml_type t : {ggml_type::q4_0, ggml_type::q4_1, ggml_type::q8_0, ggml_type::f16, ggml_type::f32}) {
    for (int64_t k : {576, 1600, 65568}) {
      CAPTURE(ggml_traits(t).name);
      CAPTURE(k);
      const size_t rb = ggml_row_bytes(t, k);
      auto x = random_floats(rng, static_cast<size_t>(k));
      auto a = activations(t, x);
      for (int64_t nrows = 1; nrows <= (k > 2000 ? 5 : 13); ++nrows) {
        auto w = random_weights(rng, t, nrows, k);
        std::vector<float> want(static_cast<size_t>(nrows));
        for (int64_t r = 0; r < nrows; ++r) want[static_cast<size_t>(r)] = ref_dot(t, w.data() + r * rb, a.data(), k);
        for (gemv_fn g : {ref::gemv(t), cpu_has_avx2() ? avx2::gemv(t) : ref::gemv(t), select_gemv(t)}) {
          REQUIRE(static_cast<bool>(g));
          std::vector<float> y(static_cast<size_t>(nrows), -1.0f);
          g(w.data(), rb, nrows, a.data(), k, y.data());
          CHECK(y == want);
        }
      }
    }
  }
}
