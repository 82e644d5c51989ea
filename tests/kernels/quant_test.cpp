#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/error.hpp"
#include "kernel_test_util.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/quant/blocks.hpp"
#include "kernels/quant/quant.hpp"
#include "test_support.hpp"

using namespace dianoia::detail;
using dianoia::test::random_floats;
using dianoia::test::random_weights;

namespace {

double h2d(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return static_cast<double>(fp16_to_f32(h));
}

// Element j of a 32-element block, decoded from raw bytes by element index (written independently of
// the library's block loops): its 4-bit value sits in byte j % 16, low nibble for j < 16.
int nibble(const uint8_t* qs, int j) { return j < 16 ? (qs[j] & 15) : (qs[j - 16] >> 4); }

double reference_element(ggml_type t, const uint8_t* row, int64_t i) {
  const auto tr = ggml_traits(t);
  const uint8_t* b = row + (i / tr.block_elems) * tr.block_bytes;
  const int j = static_cast<int>(i % tr.block_elems);
  switch (t) {
    case ggml_type::f32: { float f; std::memcpy(&f, row + 4 * i, 4); return f; }
    case ggml_type::f16: return h2d(row + 2 * i);
    case ggml_type::bf16: { uint32_t u = static_cast<uint32_t>(row[2 * i] | (row[2 * i + 1] << 8)) << 16; float f; std::memcpy(&f, &u, 4); return f; }
    case ggml_type::q4_0: return h2d(b) * (nibble(b + 2, j) - 8);
    case ggml_type::q4_1: return h2d(b) * nibble(b + 4, j) + h2d(b + 2);
    case ggml_type::q5_0: { const int hb = (b[2 + j / 8] >> (j % 8)) & 1; return h2d(b) * ((nibble(b + 6, j) + 16 * hb) - 16); }
    case ggml_type::q5_1: { const int hb = (b[4 + j / 8] >> (j % 8)) & 1; return h2d(b) * (nibble(b + 8, j) + 16 * hb) + h2d(b + 2); }
    case ggml_type::q8_0: return h2d(b) * static_cast<int8_t>(b[2 + j]);
    case ggml_type::q8_1: return h2d(b) * static_cast<int8_t>(b[4 + j]);
    default: return NAN;
  }
}

}  // namespace

TEST_CASE("dequantize_row matches an independent decoding for every supported type") {
  std::mt19937 rng(1);
  const int64_t k = 256;
  for (ggml_type t : {ggml_type::f32, ggml_type::f16, ggml_type::bf16, ggml_type::q4_0, ggml_type::q4_1,
                      ggml_type::q5_0, ggml_type::q5_1, ggml_type::q8_0}) {
    CAPTURE(ggml_traits(t).name);
    auto w = random_weights(rng, t, 1, k);
    std::vector<float> out(k);
    dequantize_row(t, w.data(), out.data(), k);
    int bad = 0;
    for (int64_t i = 0; i < k; ++i) {
      const double r = reference_element(t, w.data(), i);
      // One float rounding of d*q (+ m) at most.
      bad += std::fabs(out[static_cast<size_t>(i)] - r) > 1e-6 * std::fabs(r) + 1e-12;
    }
    CHECK(bad == 0);
  }
}

TEST_CASE("dequantize_row rejects unsupported types and ragged rows") {
  float out[64];
  uint8_t buf[256] = {};
  try {
    dequantize_row(ggml_type::q2_k, buf, out, 256);
    FAIL("no throw");
  } catch (const error& e) {
    CHECK(e.code() == errc::unsupported);
    CHECK(std::string(e.what()).find("Q2_K") != std::string::npos);
  }
  try {
    dequantize_row(ggml_type::q4_0, buf, out, 33);
    FAIL("no throw");
  } catch (const error& e) {
    CHECK(e.code() == errc::format);
  }
}

TEST_CASE("q8 activation quantizers: AVX2 and scalar are bit-identical") {
  if (!cpu_has_avx2()) return;
  std::mt19937 rng(2);
  for (int64_t k : {32, 64, 576, 8960}) {
    auto x = random_floats(rng, static_cast<size_t>(k), 3.0f);
    // A zero block, a block with exact .5 ties after scaling, and huge/tiny magnitudes.
    std::fill(x.begin(), x.begin() + 32, 0.0f);
    if (k >= 64) {
      for (int j = 32; j < 64; ++j) x[static_cast<size_t>(j)] = static_cast<float>(j - 48) + 0.5f;
      x[32] = 127.0f;
    }
    if (k >= 128) for (int j = 64; j < 96; ++j) x[static_cast<size_t>(j)] *= 1e-30f;
    const size_t nb = static_cast<size_t>(k / 32);
    std::vector<block_q8_0> a(nb), b(nb);
    quantize_row_q8_0_ref(x.data(), a.data(), k);
    avx2::quantize_row_q8_0(x.data(), b.data(), k);
    CHECK(std::memcmp(a.data(), b.data(), nb * sizeof(block_q8_0)) == 0);
    std::vector<block_q8_1> c(nb), d(nb);
    quantize_row_q8_1_ref(x.data(), c.data(), k);
    avx2::quantize_row_q8_1(x.data(), d.data(), k);
    CHECK(std::memcmp(c.data(), d.data(), nb * sizeof(block_q8_1)) == 0);
  }
}

TEST_CASE("q8 quantize -> dequantize round trip against fp64") {
  std::mt19937 rng(3);
  const int64_t k = 1024;
  auto x = random_floats(rng, k, 2.0f);
  std::vector<block_q8_0> q0(k / 32);
  std::vector<block_q8_1> q1(k / 32);
  quantize_row_q8_0(x.data(), q0.data(), k);
  quantize_row_q8_1(x.data(), q1.data(), k);
  std::vector<float> y0(k), y1(k);
  dequantize_row(ggml_type::q8_0, q0.data(), y0.data(), k);
  dequantize_row(ggml_type::q8_1, q1.data(), y1.data(), k);
  int bad = 0;
  for (int64_t b = 0; b < k / 32; ++b) {
    double amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(static_cast<double>(x[b * 32 + j])));
    const double d = amax / 127.0;
    // Half a step of rounding, plus the half-precision rounding of d carried through |q| <= 127.
    const double tol = 0.5 * d + 127.0 * d * std::ldexp(1.0, -11) + 1e-30;
    long sum = 0;
    for (int j = 0; j < 32; ++j) {
      const size_t i = static_cast<size_t>(b * 32 + j);
      bad += std::fabs(y0[i] - static_cast<double>(x[i])) > tol;
      bad += std::fabs(y1[i] - static_cast<double>(x[i])) > tol;
      bad += std::abs(q0[static_cast<size_t>(b)].qs[j]) > 127;
      sum += q1[static_cast<size_t>(b)].qs[j];
      bad += q0[static_cast<size_t>(b)].qs[j] != q1[static_cast<size_t>(b)].qs[j];
    }
    // s = d * sum(q), stored as half.
    const double s = fp16_to_f32(q1[static_cast<size_t>(b)].s);
    bad += std::fabs(s - d * static_cast<double>(sum)) > std::fabs(d * sum) * std::ldexp(1.0, -10) + 1e-7;
  }
  CHECK(bad == 0);
}
