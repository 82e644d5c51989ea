// Sampler behaviour that needs no reference data: parameter checks, non-finite logits, degenerate
// vocabularies, seeding, the pick function and the lazily sorted top-p on a large vocabulary.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>
#include <vector>

#include "core/error.hpp"
#include "sampling/filters.hpp"
#include "sampling/sampler.hpp"

using namespace dianoia::detail;

namespace {
constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();

sampler_params random_params(uint64_t seed = 1) {
  sampler_params p;
  p.seed = seed;
  return p;
}
sampler_params greedy_params() {
  sampler_params p;
  p.temperature = 0.0f;
  return p;
}

template <class F>
void check_invalid_argument(F&& f) {
  try {
    f();
    FAIL("no error thrown");
  } catch (const error& e) {
    CHECK(e.code() == errc::invalid_argument);
  }
}

std::vector<float> ramp(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::sin(static_cast<float>(i) * 0.7f) * 3.0f;
  return v;
}
}  // namespace

TEST_CASE("params: invalid values are invalid_argument, documented off-switches are accepted") {
  auto with = [](auto mutate) {
    sampler_params p;
    mutate(p);
    return p;
  };
  check_invalid_argument([&] { sampler s(with([](auto& p) { p.temperature = qnan; })); });
  check_invalid_argument([&] { sampler s(with([](auto& p) { p.temperature = inf; })); });
  check_invalid_argument([&] { sampler s(with([](auto& p) { p.top_p = -0.1f; })); });
  check_invalid_argument([&] { sampler s(with([](auto& p) { p.top_p = qnan; })); });
  check_invalid_argument([&] { sampler s(with([](auto& p) { p.min_p = qnan; })); });
  check_invalid_argument([&] { sampler s(with([](auto& p) { p.min_p = 1.5f; })); });
  check_invalid_argument([] { top_k_stage s(0); });
  check_invalid_argument([] { top_p_stage s(1.0f); });
  check_invalid_argument([] { min_p_stage s(0.0f); });
  check_invalid_argument([] { temperature_stage s(0.0f); });

  const auto logits = ramp(16);
  for (auto p : {with([](auto& p) { p.top_k = -3; }), with([](auto& p) { p.top_p = 2.0f; }),
                 with([](auto& p) { p.min_p = -1.0f; }), with([](auto& p) { p.temperature = -1.0f; }),
                 with([](auto& p) { p.top_p = 0.0f; }), with([](auto& p) { p.min_p = 1.0f; })}) {
    sampler s(p);
    CHECK(s.sample(logits) >= 0);
  }
  // Everything off: the distribution is the plain softmax of the whole row.
  sampler_params off;
  off.top_k = 0;
  off.top_p = 1.0f;
  off.min_p = 0.0f;
  off.temperature = 1.0f;
  sampler s(off);
  CHECK(s.distribution(logits).size() == logits.size());
  CHECK(s.chain().size() == 2);  // temperature + pick
}

TEST_CASE("greedy: argmax, ties to the lowest id") {
  sampler g(greedy_params());
  CHECK(g.sample(std::vector<float>{1, 5, 2, 5, 0}) == 1);
  CHECK(g.sample(std::vector<float>{-1, -1, -1}) == 0);
  CHECK(g.sample(std::vector<float>{0, 0.5f, 7, 1}) == 2);
  // The pick goes through top_k's sorted array too: ties still go to the lowest id.
  sampler_params p = random_params();
  p.top_k = 1;
  sampler s(p);
  CHECK(s.sample(std::vector<float>{3, 9, 1, 9, 9}) == 1);
}

TEST_CASE("non-finite logits: NaN and -inf are never chosen, +inf dominates, nothing finite is an error") {
  const std::vector<float> one_left{-inf, -inf, 2.5f, -inf, qnan};
  sampler g(greedy_params());
  sampler r(random_params(3));
  CHECK(g.sample(one_left) == 2);
  for (int i = 0; i < 200; ++i) CHECK(r.sample(one_left) == 2);

  const std::vector<float> with_nan{qnan, 1.0f, qnan, 0.5f, qnan, 0.8f};
  for (int i = 0; i < 500; ++i) {
    const int32_t t = r.sample(with_nan);
    CHECK((t == 1 || t == 3 || t == 5));
  }
  CHECK(g.sample(with_nan) == 1);

  const std::vector<float> pos_inf{1.0f, inf, 50.0f, qnan, inf, -inf};
  CHECK(g.sample(pos_inf) == 1);
  int c1 = 0, c4 = 0;
  sampler_params flat = random_params(9);
  flat.top_p = 1.0f;
  flat.min_p = 0.0f;
  sampler r2(flat);
  for (int i = 0; i < 2000; ++i) {
    const int32_t t = r2.sample(pos_inf);
    c1 += t == 1;
    c4 += t == 4;
  }
  CHECK(c1 + c4 == 2000);
  CHECK(c1 > 850);  // equally likely: 1000 +- 3.5 sigma
  CHECK(c4 > 850);

  check_invalid_argument([&] { g.sample(std::vector<float>{-inf, qnan, -inf}); });
  check_invalid_argument([&] { r.sample(std::vector<float>{qnan}); });
  check_invalid_argument([&] { r.sample(std::vector<float>{}); });
}

TEST_CASE("degenerate sizes: vocab of 1, k larger than the vocabulary, vocabulary changing between calls") {
  sampler r(random_params(5));
  sampler g(greedy_params());
  CHECK(r.sample(std::vector<float>{-3.0f}) == 0);
  CHECK(g.sample(std::vector<float>{42.0f}) == 0);

  sampler_params p = random_params();
  p.top_k = 1000;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  sampler big_k(p);
  const auto logits = ramp(7);
  auto d = big_k.distribution(logits);
  REQUIRE(d.size() == 7);
  CHECK(std::is_sorted(d.begin(), d.end(), [](auto& a, auto& b) { return candidate_before(a, b); }));
  double sum = 0;
  for (auto& c : d) sum += c.p;
  CHECK(sum == doctest::Approx(1.0).epsilon(1e-6));

  for (size_t n : {10u, 3u, 50u, 10u}) {
    const int32_t t = r.sample(ramp(n));
    CHECK(t >= 0);
    CHECK(t < static_cast<int32_t>(n));
  }
}

TEST_CASE("seeding: same seed same sequence, reseed restarts it, other seeds differ, one draw per token") {
  const auto logits = ramp(64);
  sampler_params p = random_params(1234);
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.temperature = 1.5f;
  sampler a(p), b(p);
  std::vector<int32_t> sa, sb;
  for (int i = 0; i < 200; ++i) {
    sa.push_back(a.sample(logits));
    sb.push_back(b.sample(logits));
  }
  CHECK(sa == sb);
  a.reseed(1234);
  std::vector<int32_t> again;
  for (int i = 0; i < 200; ++i) again.push_back(a.sample(logits));
  CHECK(again == sa);
  p.seed = 1235;
  sampler c(p);
  std::vector<int32_t> sc;
  for (int i = 0; i < 200; ++i) sc.push_back(c.sample(logits));
  CHECK(sc != sa);

  // A single remaining candidate still consumes its draw: the stream position is the token count.
  sampler d(p);
  d.sample(std::vector<float>{1.0f});
  rng ref(1235);
  ref.next();
  const double u = ref.uniform();
  sampler probe(p);
  auto dist = probe.distribution(logits);
  CHECK(d.sample(logits) == dist[pick_by_cdf(dist, u)].id);
}

TEST_CASE("pick_by_cdf: boundaries, zero-probability entries, u at the ends") {
  const std::vector<token_candidate> c{{10, 0, 0.0f}, {11, 0, 0.25f}, {12, 0, 0.0f}, {13, 0, 0.75f}, {14, 0, 0.0f}};
  CHECK(pick_by_cdf(c, 0.0) == 1);
  CHECK(pick_by_cdf(c, 0.2499) == 1);
  CHECK(pick_by_cdf(c, 0.25) == 3);  // the boundary belongs to the next candidate
  CHECK(pick_by_cdf(c, 0.9999999) == 3);
  CHECK(pick_by_cdf(c, 1.0) == 3);   // outside [0, 1): still the last candidate with mass
  // Unnormalised input is scaled by its sum.
  const std::vector<token_candidate> u{{0, 0, 2.0f}, {1, 0, 6.0f}};
  CHECK(pick_by_cdf(u, 0.24) == 0);
  CHECK(pick_by_cdf(u, 0.26) == 1);
  const std::vector<token_candidate> none{{0, 0, 0.0f}};
  CHECK_THROWS_AS(pick_by_cdf(none, 0.5), error);
}

TEST_CASE("top_p on a large unsorted vocabulary matches a full sort (lazy chunked sorting)") {
  const size_t n = 50000;
  std::vector<float> logits(n);
  uint64_t x = 99;
  for (auto& l : logits) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    l = static_cast<float>((x >> 40) % 1000) / 150.0f;  // many ties, slowly decaying tail
  }
  for (float top_p : {0.0f, 0.05f, 0.5f, 0.97f}) {
    CAPTURE(top_p);
    sampler_chain chain;
    chain.add(std::make_unique<top_p_stage>(top_p));
    rng r(0);
    stage_context ctx{r};
    candidate_array& c = chain.load(logits);
    chain.run(ctx, 0, 1);

    std::vector<token_candidate> ref(n);
    for (size_t i = 0; i < n; ++i) ref[i] = {static_cast<int32_t>(i), logits[i], 0};
    std::sort(ref.begin(), ref.end(), candidate_before);
    candidate_array rc{ref.data(), n, true, -1};
    softmax(rc);
    double cum = 0;
    size_t cut = n;
    for (size_t i = 0; i < n; ++i) {
      cum += ref[i].p;
      if (cum >= static_cast<double>(top_p)) {
        cut = i + 1;
        break;
      }
    }
    REQUIRE(c.size == cut);
    CHECK(c.sorted);
    for (size_t i = 0; i < cut; ++i) CHECK(c.data[i].id == ref[i].id);
  }
}

TEST_CASE("temperature: tiny values stay finite and concentrate on the best candidate") {
  sampler_params p = random_params(2);
  p.temperature = 1e-30f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  sampler s(p);
  const std::vector<float> logits{1.0f, 3.0f, 2.999f, -5.0f};
  auto d = s.distribution(logits);
  for (auto& c : d) CHECK(std::isfinite(c.p));
  CHECK(d[1].p == 1.0f);
  for (int i = 0; i < 100; ++i) CHECK(s.sample(logits) == 1);
}
