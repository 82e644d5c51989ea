// BF16, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K: AVX2 vs scalar reference (bit for bit), both vs fp64, and all of it
// against llama.cpp's own quantizers, from_float and vec_dot results (tests/fixtures/kernels_quant_types.json,
// made by tools/make_kernel_fixtures.py).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "json.hpp"
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

const ggml_type more_types[] = {ggml_type::bf16, ggml_type::q5_0, ggml_type::q5_1,
                                ggml_type::q4_k, ggml_type::q5_k, ggml_type::q6_k};

std::vector<uint8_t> activations(ggml_type t, const float* x, int64_t k) {
  const ggml_type at = dot_activation_type(t);
  std::vector<uint8_t> a(ggml_row_bytes(at, static_cast<size_t>(k)));
  switch (at) {
    case ggml_type::q8_0: quantize_row_q8_0_ref(x, a.data(), k); break;
    case ggml_type::q8_1: quantize_row_q8_1_ref(x, a.data(), k); break;
    case ggml_type::q8_k: quantize_row_q8_K(x, a.data(), k); break;
    case ggml_type::bf16: quantize_row_bf16_ref(x, a.data(), k); break;
    default: FAIL("unexpected activation type");
  }
  return a;
}

using dot_fn = float (*)(const void*, const void*, int64_t);
dot_fn ref_dot(ggml_type t) {
  switch (t) {
    case ggml_type::q5_0: return ref::dot_q5_0_q8_0;
    case ggml_type::q5_1: return ref::dot_q5_1_q8_1;
    case ggml_type::q4_k: return ref::dot_q4_k_q8_k;
    case ggml_type::q5_k: return ref::dot_q5_k_q8_k;
    case ggml_type::q6_k: return ref::dot_q6_k_q8_k;
    default: return ref::dot_bf16_bf16;
  }
}
dot_fn avx2_dot(ggml_type t) {
  switch (t) {
    case ggml_type::q5_0: return avx2::dot_q5_0_q8_0;
    case ggml_type::q5_1: return avx2::dot_q5_1_q8_1;
    case ggml_type::q4_k: return avx2::dot_q4_k_q8_k;
    case ggml_type::q5_k: return avx2::dot_q5_k_q8_k;
    case ggml_type::q6_k: return avx2::dot_q6_k_q8_k;
    default: return avx2::dot_bf16_bf16;
  }
}

// fp64 dot of the dequantized weight and activation rows. Q5_1 uses the stored s = d * sum(q) (a half)
// for its offset term, so the fp64 value is corrected by m * (s - sum(x)) per block.
double exact_dot(ggml_type t, const void* w, const std::vector<uint8_t>& a, int64_t k, double& abs_sum) {
  std::vector<float> wf(static_cast<size_t>(k)), af(static_cast<size_t>(k));
  dequantize_row(t, w, wf.data(), k);
  dequantize_row(dot_activation_type(t), a.data(), af.data(), k);
  double s = 0;
  abs_sum = 0;
  for (size_t i = 0; i < wf.size(); ++i) {
    s += static_cast<double>(wf[i]) * af[i];
    abs_sum += std::fabs(static_cast<double>(wf[i]) * af[i]);
  }
  if (t == ggml_type::q5_1) {
    const auto* wb = static_cast<const block_q5_1*>(w);
    const auto* ab = reinterpret_cast<const block_q8_1*>(a.data());
    for (int64_t b = 0; b < k / 32; ++b) {
      double xs = 0;
      for (int j = 0; j < 32; ++j) xs += af[static_cast<size_t>(b * 32 + j)];
      s += static_cast<double>(fp16_to_f32(wb[b].m)) * (fp16_to_f32(ab[b].s) - xs);
    }
  }
  return s;
}

std::vector<uint8_t> from_hex(const std::string& h) {
  std::vector<uint8_t> v(h.size() / 2);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(std::stoi(h.substr(2 * i, 2), nullptr, 16));
  return v;
}
std::vector<float> floats_from_hex(const std::string& h) {
  const auto b = from_hex(h);
  std::vector<float> f(b.size() / 4);
  std::memcpy(f.data(), b.data(), b.size());
  return f;
}
uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

}  // namespace

TEST_CASE("more dot kernels: AVX2 equals the scalar reference bit for bit, and both match fp64") {
  std::mt19937 rng(31);
  for (ggml_type t : more_types) {
    const int64_t be = ggml_traits(t).block_elems;
    for (int64_t k : {1, 7, 31, 32, 33, 64, 96, 100, 256, 512, 576, 768, 1536, 2816, 8960}) {
      if (k % be) continue;
      CAPTURE(ggml_traits(t).name);
      CAPTURE(k);
      for (int rep = 0; rep < 4; ++rep) {
        const auto w = random_weights(rng, t, 1, k);
        const auto x = random_floats(rng, static_cast<size_t>(k), rep == 3 ? 40.f : 1.f);
        const auto a = activations(t, x.data(), k);
        const float r = ref_dot(t)(w.data(), a.data(), k);
        double abs_sum;
        const double e = exact_dot(t, w.data(), a, k, abs_sum);
        CHECK(std::fabs(r - e) <= 2e-6 * abs_sum + 1e-30);
        if (cpu_has_avx2()) CHECK(bits(avx2_dot(t)(w.data(), a.data(), k)) == bits(r));
      }
    }
  }
}

// Row counts up to 13 cover every remainder after passes of four (BF16: two) rows and the prefetch of rows
// two passes ahead.
TEST_CASE("more gemv kernels: every row count gives each row's single dot exactly") {
  std::mt19937 rng(32);
  for (ggml_type t : more_types) {
    for (int64_t k : {512, 1536, 2816}) {
      CAPTURE(ggml_traits(t).name);
      CAPTURE(k);
      const size_t rb = ggml_row_bytes(t, static_cast<size_t>(k));
      const auto x = random_floats(rng, static_cast<size_t>(k));
      const auto a = activations(t, x.data(), k);
      for (int64_t nrows = 1; nrows <= 13; ++nrows) {
        const auto w = random_weights(rng, t, nrows, k);
        std::vector<float> want(static_cast<size_t>(nrows));
        for (int64_t r = 0; r < nrows; ++r) want[static_cast<size_t>(r)] = ref_dot(t)(w.data() + r * rb, a.data(), k);
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

TEST_CASE("Q8_K quantizer: zero blocks, the signed maximum and round-half-even") {
  std::vector<float> x(512, 0.0f);
  // Block 1: the first element of largest magnitude is -2, so iscale = -127 / -2 = 63.5; 1.0 -> 63.5, a
  // tie, rounds to even.
  x[256] = 1.0f;
  x[257] = -2.0f;
  x[258] = 2.0f;
  std::vector<block_q8_k> q(2);
  quantize_row_q8_K(x.data(), q.data(), 512);
  CHECK(q[0].d == 0.0f);
  for (int j = 0; j < 256; ++j) CHECK(q[0].qs[j] == 0);
  for (int j = 0; j < 16; ++j) CHECK(q[0].bsums[j] == 0);
  CHECK(q[1].d == 1.0f / (-127.f / -2.0f));
  CHECK(q[1].qs[0] == 64);    // 63.5 rounds to even
  CHECK(q[1].qs[1] == -127);
  CHECK(q[1].qs[2] == 127);
  CHECK(q[1].qs[3] == 0);
  CHECK(q[1].bsums[0] == 64);
  for (int j = 1; j < 16; ++j) CHECK(q[1].bsums[j] == 0);
}

TEST_CASE("bf16 activation rounding: AVX2 and scalar agree, NaN quieted, ties to even") {
  std::mt19937 rng(5);
  std::vector<float> x = random_floats(rng, 77, 3.0f);
  const uint32_t specials[] = {0x3f808000u, 0x3f818000u, 0x7f800001u, 0xff800000u, 0x7fffffffu, 0x00008000u, 0x80018000u};
  for (size_t i = 0; i < std::size(specials); ++i) std::memcpy(&x[i * 3], &specials[i], 4);
  std::vector<uint16_t> a(x.size()), b(x.size());
  quantize_row_bf16_ref(x.data(), a.data(), static_cast<int64_t>(x.size()));
  if (cpu_has_avx2()) {
    avx2::quantize_row_bf16(x.data(), b.data(), static_cast<int64_t>(x.size()));
    CHECK(a == b);
  }
  CHECK(a[0] == 0x3f80);  // tie, even stays
  CHECK(a[3] == 0x3f82);  // tie, odd rounds up
  CHECK(a[6] == 0x7fc0);  // signalling NaN quieted
}

TEST_CASE("dequantize_row, activation formats and dot products equal llama.cpp's (fixture)") {
  const auto path = dianoia::test::fixtures_dir() + "/kernels_quant_types.json";
  REQUIRE(dianoia::test::file_exists(path));
  const auto fx = dianoia::test::json::parse(dianoia::test::read_file(path));
  const int64_t k = fx["k"].as_int();
  std::vector<std::vector<float>> acts;
  for (const auto& h : fx["activations"].arr) acts.push_back(floats_from_hex(h.str));
  REQUIRE(fx["types"].size() == std::size(more_types));
  for (const auto& ty : fx["types"].arr) {
    const auto t = static_cast<ggml_type>(ty["id"].as_int());
    CAPTURE(ty["type"].str);
    REQUIRE(ggml_traits(t).name == ty["type"].str);
    std::vector<std::vector<uint8_t>> w;
    for (size_t r = 0; r < ty["weights"].size(); ++r) {
      w.push_back(from_hex(ty["weights"][r].str));
      REQUIRE(w.back().size() == ggml_row_bytes(t, static_cast<size_t>(k)));
      // gguf-py's numpy decoding, bit for bit.
      const auto want = floats_from_hex(ty["dequantized"][r].str);
      std::vector<float> got(static_cast<size_t>(k));
      dequantize_row(t, w.back().data(), got.data(), k);
      int bad = 0;
      for (size_t i = 0; i < got.size(); ++i) bad += bits(got[i]) != bits(want[i]);
      CHECK(bad == 0);
    }
    for (size_t c = 0; c < acts.size(); ++c) {
      CAPTURE(c);
      const auto& cs = ty["cases"][c];
      const auto want_act = from_hex(cs["act_bytes"].str);
      const auto a = activations(t, acts[c].data(), k);
      CHECK(a == want_act);
      // The matmul engine's dispatching quantizers too.
      std::vector<uint8_t> a2(a.size());
      switch (dot_activation_type(t)) {
        case ggml_type::q8_0: quantize_row_q8_0(acts[c].data(), a2.data(), k); break;
        case ggml_type::q8_1: quantize_row_q8_1(acts[c].data(), a2.data(), k); break;
        case ggml_type::q8_k: quantize_row_q8_K(acts[c].data(), a2.data(), k); break;
        default: quantize_row_bf16(acts[c].data(), a2.data(), k); break;
      }
      CHECK(a2 == want_act);
      for (size_t r = 0; r < w.size(); ++r) {
        CAPTURE(r);
        const uint32_t want = bits(floats_from_hex(cs["dots"][r].str)[0]);
        CHECK(bits(ref_dot(t)(w[r].data(), want_act.data(), k)) == want);
        if (cpu_has_avx2()) CHECK(bits(avx2_dot(t)(w[r].data(), want_act.data(), k)) == want);
      }
    }
  }
}
