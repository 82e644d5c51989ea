#include "kernels/matmul.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "kernel_test_util.hpp"
#include "kernels/dot.hpp"
#include "kernels/quant/quant.hpp"
#include "test_support.hpp"

using namespace dianoia::detail;
using dianoia::test::random_floats;
using dianoia::test::random_weights;

namespace {

struct naive_result {
  std::vector<double> y, tol;
};

// fp64 x * dequant(W)^T, with a per-element error bound for the activation rounding each type implies.
naive_result naive(ggml_type t, const std::vector<uint8_t>& w, int64_t N, int64_t K, const std::vector<float>& x,
                   int64_t M, bool exact_activations) {
  const size_t rb = ggml_row_bytes(t, static_cast<size_t>(K));
  std::vector<float> wf(static_cast<size_t>(N * K));
  for (int64_t n = 0; n < N; ++n) dequantize_row(t, w.data() + n * rb, wf.data() + n * K, K);
  naive_result r{std::vector<double>(static_cast<size_t>(M * N)), std::vector<double>(static_cast<size_t>(M * N))};
  const ggml_type at = dot_activation_type(t);
  const bool q8 = !exact_activations && (at == ggml_type::q8_0 || at == ggml_type::q8_1 || at == ggml_type::q8_k);
  const int64_t qb = at == ggml_type::q8_k ? 256 : 32;  // activation block
  // Relative rounding of the activations: fp16 and bf16 half ulps; q8_0/q8_1 also round d to half.
  const double rel = exact_activations ? 0.0
                     : t == ggml_type::f16 ? std::ldexp(1.0, -11)
                     : t == ggml_type::bf16 ? std::ldexp(1.0, -8)
                     : at == ggml_type::q8_k ? 0.0 : std::ldexp(1.0, -11);
  for (int64_t m = 0; m < M; ++m) {
    // Per-element activation error: half a q8 step (+ the rounding of d), or half an fp16/bf16 ulp.
    std::vector<double> xerr(static_cast<size_t>(K));
    for (int64_t b = 0; b < K; b += qb) {
      double amax = 0;
      for (int64_t j = b; j < std::min(K, b + qb); ++j) amax = std::max(amax, std::fabs(static_cast<double>(x[m * K + j])));
      for (int64_t j = b; j < std::min(K, b + qb); ++j)
        xerr[j] = q8 ? 0.51 * amax / 127.0 + amax * rel * 1.01 + amax * 1e-6 : std::fabs(x[m * K + j]) * rel;
    }
    for (int64_t n = 0; n < N; ++n) {
      double s = 0, bound = 0, mag = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double wv = wf[n * K + k], xv = x[m * K + k];
        s += wv * xv;
        bound += std::fabs(wv) * xerr[k];
        mag += std::fabs(wv * xv);
      }
      r.y[m * N + n] = s;
      r.tol[m * N + n] = bound + 1e-5 * mag + 1e-6;
    }
  }
  return r;
}

}  // namespace

TEST_CASE("matmul_engine matches an fp64 matmul for every type and M in {1, 3, 64}") {
  std::mt19937 rng(21);
  const int64_t N = 37, K = 256;
  for (int threads : {1, 2}) {
    thread_pool pool(threads);
    matmul_engine eng(pool);
    eng.set_exact_gemv(true);  // llama.cpp's lane order, checked bit for bit below (the fast gemv: gemv_fast_test)
    for (ggml_type t : {ggml_type::f32, ggml_type::f16, ggml_type::q4_0, ggml_type::q4_1, ggml_type::q8_0,
                        ggml_type::bf16, ggml_type::q5_0, ggml_type::q5_1, ggml_type::q4_k, ggml_type::q5_k,
                        ggml_type::q6_k}) {
      REQUIRE(matmul_engine::supports(t));
      auto w = random_weights(rng, t, N, K);
      for (int64_t M : {1, 3, 64}) {
        CAPTURE(ggml_traits(t).name);
        CAPTURE(M);
        CAPTURE(threads);
        auto x = random_floats(rng, static_cast<size_t>(M * K));
        std::vector<float> y(static_cast<size_t>(M * N), NAN);
        eng.matmul({t, w.data(), N, K}, x.data(), M, y.data());
        auto want = naive(t, w, N, K, x, M, false);
        int bad = 0;
        for (size_t i = 0; i < y.size(); ++i) bad += !(std::fabs(y[i] - want.y[i]) <= want.tol[i]);
        CHECK(bad == 0);

        // llama.cpp numerics: every output is exactly the reference block dot of the quantized row.
        // (F16/BF16 with M > 1 go through sgemm: same products, another summation order; fp64 check above.)
        if (t != ggml_type::f32 && ((t != ggml_type::f16 && t != ggml_type::bf16) || M == 1)) {
          const ggml_type at = dot_activation_type(t);
          const size_t xrb = ggml_row_bytes(at, K), wrb = ggml_row_bytes(t, K);
          std::vector<uint8_t> a(xrb);
          std::vector<float> row(static_cast<size_t>(K));
          int mismatch = 0;
          for (int64_t m = 0; m < M; ++m) {
            const float* xr = x.data() + m * K;
            if (at == ggml_type::q8_0) quantize_row_q8_0_ref(xr, a.data(), K);
            else if (at == ggml_type::q8_1) quantize_row_q8_1_ref(xr, a.data(), K);
            else if (at == ggml_type::q8_k) quantize_row_q8_K(xr, a.data(), K);
            else if (at == ggml_type::bf16) quantize_row_bf16_ref(xr, a.data(), K);
            else {
              for (int64_t k = 0; k < K; ++k) row[k] = fp16_to_f32(f32_to_fp16(xr[k]));
              std::memcpy(a.data(), row.data(), xrb);
            }
            std::vector<float> yr(static_cast<size_t>(N));
            ref::gemv(t)(w.data(), wrb, N, a.data(), K, yr.data());
            for (int64_t n = 0; n < N; ++n) mismatch += yr[n] != y[m * N + n];
          }
          CHECK(mismatch == 0);
        }

        if (M > 1 && t != ggml_type::f32) {
          eng.set_prefill_mode(prefill_mode::dequant_sgemm);
          std::vector<float> y2(y.size(), NAN);
          eng.matmul({t, w.data(), N, K}, x.data(), M, y2.data());
          eng.set_prefill_mode(prefill_mode::exact);
          auto want2 = naive(t, w, N, K, x, M, true);
          int bad2 = 0;
          for (size_t i = 0; i < y2.size(); ++i) bad2 += !(std::fabs(y2[i] - want2.y[i]) <= want2.tol[i]);
          CHECK(bad2 == 0);
        }
      }
    }
  }
}

TEST_CASE("matmul_engine: larger shapes, results independent of the thread count") {
  std::mt19937 rng(22);
  const int64_t N = 1536, K = 768;  // multi-block rows for the 256-element K types too
  thread_pool p1(1), p2(2);
  matmul_engine e1(p1), e2(p2);
  for (ggml_type t : {ggml_type::q4_1, ggml_type::q4_0, ggml_type::q8_0, ggml_type::f16, ggml_type::bf16,
                      ggml_type::q5_0, ggml_type::q5_1, ggml_type::q4_k, ggml_type::q5_k, ggml_type::q6_k}) {
    auto w = random_weights(rng, t, N, K);
    for (int64_t M : {1, 5}) {
      auto x = random_floats(rng, static_cast<size_t>(M * K));
      std::vector<float> y1(static_cast<size_t>(M * N)), y2(y1.size());
      e1.matmul({t, w.data(), N, K}, x.data(), M, y1.data());
      e2.matmul({t, w.data(), N, K}, x.data(), M, y2.data());
      CHECK(y1 == y2);
    }
  }
}

TEST_CASE("matmul_engine errors") {
  thread_pool pool(1);
  matmul_engine eng(pool);
  std::vector<uint8_t> w(4096);
  std::vector<float> x(256), y(256);
  CHECK_FALSE(matmul_engine::supports(ggml_type::q2_k));
  try {
    eng.matmul({ggml_type::q3_k, w.data(), 2, 256}, x.data(), 1, y.data());
    FAIL("no throw");
  } catch (const error& e) {
    CHECK(e.code() == errc::unsupported);
    CHECK(std::string(e.what()).find("Q3_K") != std::string::npos);
  }
  try {
    eng.matmul({ggml_type::q4_k, w.data(), 2, 128}, x.data(), 1, y.data());  // K types need K % 256 == 0
    FAIL("no throw");
  } catch (const error& e) {
    CHECK(e.code() == errc::format);
  }
  try {
    eng.matmul({ggml_type::q4_0, w.data(), 2, 48}, x.data(), 1, y.data());
    FAIL("no throw");
  } catch (const error& e) {
    CHECK(e.code() == errc::format);
  }
  CHECK_THROWS_AS(eng.matmul({ggml_type::q4_0, nullptr, 2, 64}, x.data(), 1, y.data()), error);
  eng.matmul({ggml_type::q4_0, w.data(), 2, 64}, x.data(), 0, y.data());  // M = 0: nothing to do
}
