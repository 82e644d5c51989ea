// attn::attend_kv: keys and values of different sizes, in rows of their own or slices of the same rows.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "model/attention.hpp"

using namespace dianoia::detail;

TEST_CASE("attend_kv: f32 (vectorised) and f16 (scalar) agree with a double-precision softmax") {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd;
  const int64_t dk = 40, dv = 24, stride = 48, len = 37;  // values: the first dv of each key row
  std::vector<float> q(dk), rows(len * stride);
  std::vector<fp16_t> rows16(len * stride);
  for (auto& x : q) x = nd(rng);
  for (size_t i = 0; i < rows.size(); ++i) {
    rows16[i] = f32_to_fp16(nd(rng));
    rows[i] = fp16_to_f32(rows16[i]);  // the same values in both caches
  }
  const float scale = 0.3f;
  std::vector<double> w(len), want(dv, 0.0);
  double mx = -1e300, sum = 0;
  for (int64_t p = 0; p < len; ++p) {
    double d = 0;
    for (int64_t j = 0; j < dk; ++j) d += double{q[j]} * rows[p * stride + j];
    w[p] = d * scale;
    mx = std::max(mx, w[p]);
  }
  for (auto& x : w) sum += x = std::exp(x - mx);
  for (int64_t p = 0; p < len; ++p)
    for (int64_t j = 0; j < dv; ++j) want[j] += w[p] / sum * rows[p * stride + j];
  std::vector<float> scores(len), a(dv), b(dv);
  attn::attend_kv(q.data(), rows.data(), stride, dk, rows.data(), stride, dv, len, scale, scores.data(), a.data());
  attn::attend_kv(q.data(), rows16.data(), stride, dk, rows16.data(), stride, dv, len, scale, scores.data(), b.data());
  for (int64_t j = 0; j < dv; ++j) {
    CHECK(a[j] == doctest::Approx(want[j]).epsilon(1e-5));
    CHECK(b[j] == doctest::Approx(want[j]).epsilon(1e-5));
  }
}
