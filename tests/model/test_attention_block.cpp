// The prompt-block attention kernel against the per-row f32 kernel it replaces: same math, other order.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "model/attention.hpp"

using namespace dianoia::detail;

TEST_CASE("attention: a block of queries over an f16 cache equals attending row by row") {
  for (int64_t hd : {32, 64, 128}) {
    if (!attn::block_kernel_available(hd)) {
      MESSAGE("skipped: no AVX2");
      return;
    }
    std::mt19937 rng(static_cast<unsigned>(hd));
    std::normal_distribution<float> nd(0.0f, 1.0f);
    const int64_t n_kv = 2, group = 3, n_head = n_kv * group, kv_dim = n_kv * hd, q_dim = n_head * hd;
    for (int64_t pos : {0, 5, 63, 64, 130}) {
      for (int64_t n_tok : {1, 7, 16}) {
        const int64_t len = pos + n_tok;
        std::vector<fp16_t> k(static_cast<size_t>(len * kv_dim)), v(k.size());
        for (auto& x : k) x = f32_to_fp16(nd(rng));
        for (auto& x : v) x = f32_to_fp16(nd(rng));
        std::vector<float> q(static_cast<size_t>(n_tok * q_dim));
        for (auto& x : q) x = 2.0f * nd(rng);
        const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
        std::vector<float> got(q.size(), NAN), want(q.size(), NAN);
        std::vector<float> scratch(static_cast<size_t>(attn::block_scratch_floats(hd, n_tok * group)));
        std::vector<float> rs(static_cast<size_t>(len + 2 * hd));
        for (int64_t kvh = 0; kvh < n_kv; ++kvh) {
          attn::block_queries bq{q.data() + kvh * group * hd, q_dim, n_tok, group, pos + 1};
          attn::attend_block_f16(bq, k.data() + kvh * hd, v.data() + kvh * hd, kv_dim, hd, scale, scratch.data(),
                                 got.data() + kvh * group * hd, q_dim);
          for (int64_t t = 0; t < n_tok; ++t)
            for (int64_t h = 0; h < group; ++h) {
              const int64_t col = (kvh * group + h) * hd;
              attn::attend_f16_f32(&q[t * q_dim + col], k.data() + kvh * hd, v.data() + kvh * hd, kv_dim, pos + t + 1,
                                   hd, scale, rs.data(), &want[t * q_dim + col]);
            }
        }
        double worst = 0;
        for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, double{std::fabs(got[i] - want[i])});
        CAPTURE(hd);
        CAPTURE(pos);
        CAPTURE(n_tok);
        CHECK(worst <= 2e-5);
      }
    }
  }
}
