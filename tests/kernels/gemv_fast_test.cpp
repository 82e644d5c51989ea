// The fast decode gemv (kernels/gemv) against the llama.cpp-exact scalar dots and fp64: the same integer
// block dots, so the only difference is f32 summation order, bounded by a few ulps of the sum of |terms|.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "isa_levels.hpp"
#include "kernel_test_util.hpp"
#include "kernels/dot.hpp"
#include "kernels/gemv/gemv.hpp"
#include "kernels/matmul.hpp"
#include "kernels/quant/blocks.hpp"
#include "kernels/quant/quant.hpp"

using namespace dianoia::detail;

namespace {

const ggml_type fast_types[] = {ggml_type::q4_k, ggml_type::q5_k, ggml_type::q6_k};

using dot_fn = float (*)(const void*, const void*, int64_t);
dot_fn ref_dot(ggml_type t) {
  switch (t) {
    case ggml_type::q4_k: return ref::dot_q4_k_q8_k;
    case ggml_type::q5_k: return ref::dot_q5_k_q8_k;
    default: return ref::dot_q6_k_q8_k;
  }
}

// fp64 dot of the dequantized weight row with the dequantized Q8_K activation, and the sum of |terms|.
void exact_dot(ggml_type t, const uint8_t* w, const block_q8_k* a, int64_t k, double& dot, double& mag) {
  std::vector<float> wf(static_cast<size_t>(k));
  dequantize_row(t, w, wf.data(), k);
  dot = 0, mag = 0;
  for (int64_t i = 0; i < k; ++i) {
    const double x = static_cast<double>(a[i / qk_k].d) * a[i / qk_k].qs[i % qk_k];
    dot += static_cast<double>(wf[static_cast<size_t>(i)]) * x;
    mag += std::fabs(static_cast<double>(wf[static_cast<size_t>(i)]) * x);
  }
}

}  // namespace

TEST_CASE("isa: fast gemv agrees with the exact dots and fp64 on every level that has it") {
  std::mt19937 rng(7);
  int covered = 0;
  for (isa l : dianoia::test::isa_levels()) {
    for (ggml_type t : fast_types) {
      const gemv_fn fast = gemv::select_fast(t, l);
      if (!fast) continue;
      ++covered;
      for (int64_t k : {256, 1536, 8960 / 256 * 256}) {
        for (int64_t rows : {1, 2, 3, 4, 5, 7, 9, 16}) {
          CAPTURE(isa_name(l));
          CAPTURE(ggml_traits(t).name);
          CAPTURE(k);
          CAPTURE(rows);
          const auto w = dianoia::test::random_weights(rng, t, rows, k);
          const auto xf = dianoia::test::random_floats(rng, static_cast<size_t>(k));
          std::vector<block_q8_k> a(static_cast<size_t>(k / qk_k));
          quantize_row_q8_K(xf.data(), a.data(), k);
          const size_t rb = ggml_row_bytes(t, static_cast<size_t>(k));
          std::vector<float> y(static_cast<size_t>(rows), NAN);
          fast(w.data(), rb, rows, a.data(), k, y.data());
          for (int64_t r = 0; r < rows; ++r) {
            double dot, mag;
            exact_dot(t, w.data() + r * rb, a.data(), k, dot, mag);
            const float ex = ref_dot(t)(w.data() + r * rb, a.data(), k);
            // Both are sums of the same exact per-block integers times f32 scales; only the order differs.
            CHECK(std::fabs(y[static_cast<size_t>(r)] - ex) <= 1e-5 * mag + 1e-30);
            CHECK(std::fabs(y[static_cast<size_t>(r)] - dot) <= 1e-5 * mag + 1e-30);
          }
        }
      }
    }
  }
  if (dianoia::detail::cpu_has(isa::avx512_vnni)) CHECK(covered > 0);
}

TEST_CASE("gemv: select_fast honours the ceiling") {
  CHECK((gemv::select_fast(ggml_type::q4_k, isa::avx2) == nullptr));
  CHECK((gemv::select_fast(ggml_type::f32, isa::avx512_bf16) == nullptr));
  if (cpu_has(isa::avx512_vnni)) {
    CHECK((gemv::select_fast(ggml_type::q4_k, isa::avx512_vnni) != nullptr));
    CHECK((gemv::select_fast(ggml_type::q6_k, isa::avx512_bf16) != nullptr));
  }
}

TEST_CASE("matmul_engine: exact gemv is bit-identical to llama.cpp's order, fast gemv close to it") {
  if (!cpu_has_avx2()) return;
  std::mt19937 rng(11);
  thread_pool pool(2);
  matmul_engine mm(pool);
  for (ggml_type t : fast_types) {
    const int64_t n = 37, k = 1024;
    const auto w = dianoia::test::random_weights(rng, t, n, k);
    const auto x = dianoia::test::random_floats(rng, static_cast<size_t>(k));
    std::vector<block_q8_k> a(static_cast<size_t>(k / qk_k));
    quantize_row_q8_K(x.data(), a.data(), k);
    const size_t rb = ggml_row_bytes(t, static_cast<size_t>(k));
    std::vector<float> exact(n), fast(n);
    mm.set_exact_gemv(true);
    mm.matmul({t, w.data(), n, k}, x.data(), 1, exact.data());
    mm.set_exact_gemv(false);
    mm.matmul({t, w.data(), n, k}, x.data(), 1, fast.data());
    for (int64_t r = 0; r < n; ++r) {
      CHECK(exact[static_cast<size_t>(r)] == ref_dot(t)(w.data() + r * rb, a.data(), k));
      double dot, mag;
      exact_dot(t, w.data() + r * rb, a.data(), k, dot, mag);
      CHECK(std::fabs(fast[static_cast<size_t>(r)] - exact[static_cast<size_t>(r)]) <= 1e-5 * mag + 1e-30);
    }
  }
}
