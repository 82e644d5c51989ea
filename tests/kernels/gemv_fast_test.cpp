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

const ggml_type fast_types[] = {ggml_type::q4_k, ggml_type::q5_k, ggml_type::q6_k, ggml_type::q4_0,
                                ggml_type::q4_1, ggml_type::q5_0, ggml_type::q5_1, ggml_type::q8_0};

using dot_fn = float (*)(const void*, const void*, int64_t);
dot_fn ref_dot(ggml_type t) {
  switch (t) {
    case ggml_type::q4_k: return ref::dot_q4_k_q8_k;
    case ggml_type::q5_k: return ref::dot_q5_k_q8_k;
    case ggml_type::q6_k: return ref::dot_q6_k_q8_k;
    case ggml_type::q4_0: return ref::dot_q4_0_q8_0;
    case ggml_type::q4_1: return ref::dot_q4_1_q8_1;
    case ggml_type::q5_0: return ref::dot_q5_0_q8_0;
    case ggml_type::q5_1: return ref::dot_q5_1_q8_1;
    default: return ref::dot_q8_0_q8_0;
  }
}

// The activation row of x in the format weights of type t meet.
std::vector<uint8_t> activations(ggml_type t, const std::vector<float>& x) {
  const int64_t k = static_cast<int64_t>(x.size());
  const ggml_type at = dot_activation_type(t);
  std::vector<uint8_t> a(ggml_row_bytes(at, static_cast<size_t>(k)));
  if (at == ggml_type::q8_k) quantize_row_q8_K(x.data(), a.data(), k);
  else if (at == ggml_type::q8_0) quantize_row_q8_0(x.data(), a.data(), k);
  else quantize_row_q8_1(x.data(), a.data(), k);
  return a;
}

// Element i of an activation row, dequantized.
double act_value(ggml_type t, const uint8_t* a, int64_t i) {
  switch (dot_activation_type(t)) {
    case ggml_type::q8_k: {
      const auto* b = reinterpret_cast<const block_q8_k*>(a) + i / qk_k;
      return static_cast<double>(b->d) * b->qs[i % qk_k];
    }
    case ggml_type::q8_0: {
      const auto* b = reinterpret_cast<const block_q8_0*>(a) + i / qk;
      return static_cast<double>(fp16_to_f32(b->d)) * b->qs[i % qk];
    }
    default: {
      const auto* b = reinterpret_cast<const block_q8_1*>(a) + i / qk;
      return static_cast<double>(fp16_to_f32(b->d)) * b->qs[i % qk];
    }
  }
}

// fp64 dot of the dequantized weight row with the dequantized activation, and the sum of |terms|.
void exact_dot(ggml_type t, const uint8_t* w, const uint8_t* a, int64_t k, double& dot, double& mag) {
  std::vector<float> wf(static_cast<size_t>(k));
  dequantize_row(t, w, wf.data(), k);
  dot = 0, mag = 0;
  for (int64_t i = 0; i < k; ++i) {
    const double x = act_value(t, a, i);
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
      const gemv::gemm_fn fast = gemv::select_fast(t, l);
      if (!fast) continue;
      ++covered;
      for (int64_t k : {256, 1536, 8960, 576 + 32 * 3}) {
        if (k % ggml_traits(t).block_elems != 0) continue;
        // Q8_1 keeps s = d * sum(q) as a half: the exact dots (llama.cpp's too) use that rounded sum.
        const bool q8_1 = dot_activation_type(t) == ggml_type::q8_1;
        for (int64_t rows : {1, 2, 3, 4, 5, 7, 9, 16}) {
          CAPTURE(isa_name(l));
          CAPTURE(ggml_traits(t).name);
          CAPTURE(k);
          CAPTURE(rows);
          const auto w = dianoia::test::random_weights(rng, t, rows, k);
          const auto xf = dianoia::test::random_floats(rng, static_cast<size_t>(k));
          const auto a = activations(t, xf);
          const size_t rb = ggml_row_bytes(t, static_cast<size_t>(k));
          std::vector<float> y(static_cast<size_t>(rows), NAN);
          fast(w.data(), rb, rows, a.data(), a.size(), 1, k, y.data(), rows);
          for (int64_t r = 0; r < rows; ++r) {
            double dot, mag;
            exact_dot(t, w.data() + r * rb, a.data(), k, dot, mag);
            const float ex = ref_dot(t)(w.data() + r * rb, a.data(), k);
            // Both are sums of the same exact per-block integers times f32 scales; only the order differs.
            CHECK(std::fabs(y[static_cast<size_t>(r)] - ex) <= 1e-5 * mag + 1e-30);
            CHECK(std::fabs(y[static_cast<size_t>(r)] - dot) <= (q8_1 ? 2e-3 : 1e-5) * mag + 1e-30);
          }
        }
      }
    }
  }
  for (isa l : dianoia::test::isa_levels())
    if (l >= isa::avx512_vnni) CHECK(covered > 0);  // a level with fast kernels ran them
}

TEST_CASE("isa: fast gemv with several activation rows is bit-identical to one row at a time") {
  std::mt19937 rng(9);
  for (isa l : dianoia::test::isa_levels()) {
    for (ggml_type t : fast_types) {
      const gemv::gemm_fn fast = gemv::select_fast(t, l);
      if (!fast) continue;
      const int64_t k = ggml_traits(t).block_elems == 32 ? 576 + 32 : 1536, rows = 11;
      const auto w = dianoia::test::random_weights(rng, t, rows, k);
      const size_t rb = ggml_row_bytes(t, static_cast<size_t>(k));
      for (int64_t m : {2, 3, 5, 8, 11, 17}) {
        CAPTURE(isa_name(l));
        CAPTURE(ggml_traits(t).name);
        CAPTURE(m);
        std::vector<uint8_t> x;
        for (int64_t s = 0; s < m; ++s) {
          const auto a = activations(t, dianoia::test::random_floats(rng, static_cast<size_t>(k)));
          x.insert(x.end(), a.begin(), a.end());
        }
        const size_t xrb = x.size() / static_cast<size_t>(m);
        std::vector<float> together(static_cast<size_t>(m * rows)), alone(static_cast<size_t>(rows));
        fast(w.data(), rb, rows, x.data(), xrb, m, k, together.data(), rows);
        for (int64_t s = 0; s < m; ++s) {
          fast(w.data(), rb, rows, x.data() + s * xrb, xrb, 1, k, alone.data(), rows);
          for (int64_t r = 0; r < rows; ++r) CHECK(together[static_cast<size_t>(s * rows + r)] == alone[static_cast<size_t>(r)]);
        }
      }
    }
  }
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
    const auto a = activations(t, x);
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
