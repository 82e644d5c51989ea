#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu_features.hpp"
#include "kernels/quant/fp16.hpp"
#include "kernels/quant/quant.hpp"
#include "test_support.hpp"

using namespace dianoia::detail;

namespace {
// Independent value of a half, in double, from its definition.
double half_value(uint16_t h) {
  const int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
  const double v = e == 0 ? std::ldexp(m, -24) : std::ldexp(1024 + m, e - 25);
  return s ? -v : v;
}
}  // namespace

TEST_CASE("fp16 -> f32: scalar matches the definition and F16C on all 65536 values") {
  std::vector<uint16_t> all(65536);
  for (uint32_t i = 0; i < 65536; ++i) all[i] = static_cast<uint16_t>(i);
  std::vector<float> f16c(65536);
  const bool have = cpu_has_avx2();
  if (have) avx2::fp16_to_f32_row(all.data(), f16c.data(), 65536);
  int bad_def = 0, bad_f16c = 0;
  for (uint32_t i = 0; i < 65536; ++i) {
    const float s = fp16_to_f32(static_cast<uint16_t>(i));
    const bool nan = ((i >> 10) & 31) == 31 && (i & 1023);
    const bool inf = ((i >> 10) & 31) == 31 && !(i & 1023);
    if (nan) {
      bad_def += !std::isnan(s);
    } else if (inf) {
      bad_def += !(std::isinf(s) && std::signbit(s) == bool(i >> 15));
    } else {
      bad_def += static_cast<double>(s) != half_value(static_cast<uint16_t>(i)) || std::signbit(s) != bool(i >> 15);
    }
    if (have) bad_f16c += std::bit_cast<uint32_t>(s) != std::bit_cast<uint32_t>(f16c[i]);
  }
  CHECK(bad_def == 0);
  CHECK(bad_f16c == 0);
}

TEST_CASE("f32 -> fp16: scalar round-to-nearest-even matches F16C") {
  if (!cpu_has_avx2()) return;
  std::vector<float> in;
  // Every sign/exponent/top-10-mantissa pattern with the 13 dropped bits at and around the rounding
  // boundaries (normal halves), plus random bit patterns (subnormal halves, overflow, NaN payloads).
  const uint32_t lows[] = {0, 1, 0xfff, 0x1000, 0x1001, 0x1fff};
  for (uint32_t hi = 0; hi < (1u << 19); ++hi)
    for (uint32_t lo : lows) in.push_back(std::bit_cast<float>((hi << 13) | lo));
  std::mt19937 rng(7);
  for (int i = 0; i < 2000000; ++i) in.push_back(std::bit_cast<float>(static_cast<uint32_t>(rng())));
  // Exact halfway points between adjacent subnormal halves.
  for (uint32_t q = 0; q < 1024; ++q) {
    const float h = static_cast<float>(std::ldexp(q + 0.5, -24));
    in.push_back(h);
    in.push_back(std::nextafter(h, 0.0f));
    in.push_back(std::nextafter(h, 1.0f));
  }
  std::vector<uint16_t> hw(in.size());
  avx2::f32_to_fp16_row(in.data(), hw.data(), static_cast<int64_t>(in.size()));
  size_t bad = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (f32_to_fp16(in[i]) != hw[i]) {
      if (bad < 5) MESSAGE("mismatch for bits " << std::bit_cast<uint32_t>(in[i]) << ": " << f32_to_fp16(in[i]) << " vs " << hw[i]);
      ++bad;
    }
  }
  CHECK(bad == 0);
}

TEST_CASE("bf16 conversions") {
  CHECK(bf16_to_f32(0x3f80) == 1.0f);
  CHECK(bf16_to_f32(0xc000) == -2.0f);
  CHECK(f32_to_bf16(1.0f) == 0x3f80);
  CHECK(f32_to_bf16(std::bit_cast<float>(0x3f808000u)) == 0x3f80);  // tie -> even
  CHECK(f32_to_bf16(std::bit_cast<float>(0x3f818000u)) == 0x3f82);  // tie -> even (up)
  CHECK(f32_to_bf16(std::bit_cast<float>(0x3f808001u)) == 0x3f81);
  CHECK(std::isnan(bf16_to_f32(f32_to_bf16(std::nanf("")))));
}
