// The int8 GEMM (kernels/qgemm) on every instruction-set level this CPU has (or the one --isa names):
// against its scalar model (same activation quantization, integer dots summed in double) to float
// rounding, and against fp64 x * dequant(W)^T within the activation quantization's error bound.
#include "kernels/qgemm/qgemm.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.hpp"
#include "isa_levels.hpp"
#include "kernel_test_util.hpp"
#include "kernels/matmul.hpp"
#include "kernels/quant/quant.hpp"

using namespace dianoia::detail;
using dianoia::test::random_floats;
using dianoia::test::random_weights;

namespace {

const ggml_type k_types[] = {ggml_type::q4_0, ggml_type::q4_1, ggml_type::q5_0, ggml_type::q5_1,
                             ggml_type::q8_0, ggml_type::q4_k, ggml_type::q5_k, ggml_type::q6_k};

const qgemm::isa_kernels* table_of(isa l) {
  switch (l) {
    case isa::avx2: return qgemm::kernels_avx2();
    case isa::avx_vnni: return qgemm::kernels_avxvnni();
    case isa::avx512: return qgemm::kernels_avx512();
    case isa::avx512_vnni: return qgemm::kernels_avx512vnni();
    default: return nullptr;
  }
}

// fp64 product with dequantized weights and the bound the activation quantization allows: half a step
// (amax / 127 / 2) per element, times |w|, plus float accumulation.
void check_against_fp64(ggml_type t, const std::vector<uint8_t>& w, int64_t N, int64_t K, const std::vector<float>& x,
                        int64_t M, const std::vector<float>& y) {
  const int blk = qgemm::layout_of(t).blk;
  const size_t rb = ggml_row_bytes(t, static_cast<size_t>(K));
  std::vector<float> wf(static_cast<size_t>(N * K));
  for (int64_t n = 0; n < N; ++n) dequantize_row(t, w.data() + n * rb, wf.data() + n * K, K);
  int bad = 0;
  for (int64_t m = 0; m < M; ++m) {
    std::vector<double> step(static_cast<size_t>(K));
    for (int64_t b = 0; b < K; b += blk) {
      double amax = 0;
      for (int64_t j = b; j < b + blk; ++j) amax = std::max(amax, std::fabs(double{x[m * K + j]}));
      for (int64_t j = b; j < b + blk; ++j) step[j] = 0.51 * amax / 127.0;
    }
    for (int64_t n = 0; n < N; ++n) {
      double s = 0, bound = 0, mag = 0;
      for (int64_t k = 0; k < K; ++k) {
        s += double{wf[n * K + k]} * x[m * K + k];
        bound += std::fabs(double{wf[n * K + k]}) * step[k];
        mag += std::fabs(double{wf[n * K + k]} * x[m * K + k]);
      }
      if (std::fabs(y[m * N + n] - s) > bound + 1e-5 * mag + 1e-6 && ++bad <= 3)
        CHECK_MESSAGE(false, ggml_traits(t).name, " m=", m, " n=", n, " got ", y[m * N + n], " want ", s, " +- ", bound);
    }
  }
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("isa: qgemm matches its scalar model and fp64 on every level and type") {
  std::mt19937 rng(1234);
  struct shape {
    int64_t M, N, K_blocks;
  };
  const shape shapes[] = {{2, 5, 1}, {7, 16, 2}, {16, 4, 3}, {17, 37, 2}, {33, 20, 1}, {64, 19, 4}};
  thread_pool pool(2);
  for (isa l : dianoia::test::isa_levels()) {
    const qgemm::isa_kernels* k = table_of(l);
    if (!k) continue;
    for (ggml_type t : k_types) {
      if (!k->supports(t)) continue;
      const int blk = qgemm::layout_of(t).blk;
      for (const shape& s : shapes) {
        const int64_t K = s.K_blocks * blk;
        CAPTURE(isa_name(l));
        CAPTURE(ggml_traits(t).name);
        CAPTURE(s.M);
        CAPTURE(s.N);
        CAPTURE(K);
        const auto w = random_weights(rng, t, s.N, K);
        auto x = random_floats(rng, static_cast<size_t>(s.M * K));
        x[3] = 9.0f;  // an outlier: its block's other elements get coarse steps
        std::vector<float> y(static_cast<size_t>(s.M * s.N), NAN), want(y.size());
        qgemm::runner run;
        run.run(*k, t, w.data(), s.N, K, x.data(), s.M, y.data(), pool);
        qgemm::reference(t, w.data(), s.N, K, x.data(), s.M, want.data());
        double worst = 0, mag = 1e-6;
        for (size_t i = 0; i < y.size(); ++i) {
          worst = std::max(worst, double{std::fabs(y[i] - want[i])});
          mag = std::max(mag, double{std::fabs(want[i])});
        }
        CHECK(worst <= 2e-5 * mag);
        check_against_fp64(t, w, s.N, K, x, s.M, y);
      }
    }
  }
}

TEST_CASE("isa: qgemm levels agree with each other to float rounding") {
  // Same input through every level the CPU has: only the f32 summation order may differ.
  std::mt19937 rng(99);
  thread_pool pool(1);
  for (ggml_type t : k_types) {
    const int64_t M = 21, N = 9, K = 2 * qgemm::layout_of(t).blk;
    const auto w = random_weights(rng, t, N, K);
    const auto x = random_floats(rng, static_cast<size_t>(M * K));
    std::vector<float> first;
    for (isa l : dianoia::test::isa_levels()) {
      const qgemm::isa_kernels* k = table_of(l);
      if (!k || !k->supports(t)) continue;
      std::vector<float> y(static_cast<size_t>(M * N));
      qgemm::runner run;
      run.run(*k, t, w.data(), N, K, x.data(), M, y.data(), pool);
      if (first.empty()) {
        first = y;
        continue;
      }
      for (size_t i = 0; i < y.size(); ++i) CHECK(y[i] == doctest::Approx(first[i]).epsilon(1e-5));
    }
  }
}

TEST_CASE("qgemm: select honours the ceiling and the types") {
  CHECK(qgemm::select(ggml_type::f16, cpu_best_isa()) == nullptr);
  CHECK(qgemm::select(ggml_type::q4_k, isa::scalar) == nullptr);
  if (cpu_has(isa::avx2)) {
    const qgemm::isa_kernels* k = qgemm::select(ggml_type::q4_k, isa::avx2);
    REQUIRE(k != nullptr);
    CHECK(k->level == isa::avx2);
    CHECK(qgemm::select(ggml_type::q8_0, isa::avx2) == nullptr);  // saturates in vpmaddubsw: gemv path
  }
  if (cpu_has(isa::avx512_vnni)) CHECK(qgemm::select(ggml_type::q8_0, isa::avx512_bf16)->level == isa::avx512_vnni);
}

TEST_CASE("isa: matmul_engine int8 mode agrees with the exact path") {
  std::mt19937 rng(7);
  thread_pool pool(2);
  matmul_engine eng(pool);
  for (isa l : dianoia::test::isa_levels()) {
    eng.set_isa_ceiling(l);
    for (ggml_type t : k_types) {
      const int64_t M = 24, N = 40, K = 512;
      const auto w = random_weights(rng, t, N, K);
      const auto x = random_floats(rng, static_cast<size_t>(M * K));
      std::vector<float> a(static_cast<size_t>(M * N)), b(a.size());
      eng.set_prefill_mode(prefill_mode::int8);
      eng.matmul({t, w.data(), N, K}, x.data(), M, a.data());
      eng.set_prefill_mode(prefill_mode::exact);
      eng.matmul({t, w.data(), N, K}, x.data(), M, b.data());
      double worst = 0, mag = 1e-6;
      for (size_t i = 0; i < a.size(); ++i) {
        worst = std::max(worst, double{std::fabs(a[i] - b[i])});
        mag = std::max(mag, double{std::fabs(b[i])});
      }
      CAPTURE(isa_name(l));
      CAPTURE(ggml_traits(t).name);
      MESSAGE(isa_name(l) << " " << ggml_traits(t).name << " worst " << worst << " of " << mag);
      CHECK(worst <= 0.02 * mag);  // two activation quantizations (f16 vs f32 scales, different blocks for K types)
    }
  }
}
