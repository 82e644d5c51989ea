// The sampler against tools/make_sampler_fixtures.py: RNG streams, each stage, whole chains, the
// inverse-CDF pick, full seeded sequences and a chi-squared check of sampled frequencies.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "json.hpp"
#include "sampling/filters.hpp"
#include "sampling/sampler.hpp"
#include "test_support.hpp"

using namespace dianoia::detail;
using dianoia::test::json;

namespace {

const json& fixture() {
  static const json v = json::parse(dianoia::test::read_file(dianoia::test::fixtures_dir() + "/sampler_cases.json"));
  return v;
}

std::vector<float> logits_named(const std::string& name) {
  std::vector<float> out;
  for (const auto& x : fixture()["logits"][name].arr) out.push_back(static_cast<float>(x.num));
  return out;
}

uint64_t hex64(const std::string& s) { return std::strtoull(s.c_str(), nullptr, 16); }

sampler_params params_of(const json& p) {
  sampler_params sp;
  sp.temperature = static_cast<float>(p["temperature"].num);
  sp.top_k = static_cast<int32_t>(p["top_k"].num);
  sp.top_p = static_cast<float>(p["top_p"].num);
  sp.min_p = static_cast<float>(p["min_p"].num);
  return sp;
}

std::unique_ptr<sampler_stage> make_stage(const std::string& name, double arg) {
  if (name == "top_k") return std::make_unique<top_k_stage>(static_cast<int32_t>(arg));
  if (name == "top_p") return std::make_unique<top_p_stage>(static_cast<float>(arg));
  if (name == "min_p") return std::make_unique<min_p_stage>(static_cast<float>(arg));
  if (name == "temperature") return std::make_unique<temperature_stage>(static_cast<float>(arg));
  FAIL("unknown stage " << name);
  return nullptr;
}

// Wilson-Hilferty approximation of the chi-squared quantile; z = 3.29 is the one-sided 0.9995 normal
// quantile, so a correct sampler fails a given case with probability ~5e-4 (and, the seed being fixed,
// either always or never).
double chi2_critical(int df) {
  const double z = 3.29, a = 2.0 / (9.0 * df);
  return df * std::pow(1 - a + z * std::sqrt(a), 3);
}

}  // namespace

TEST_CASE("rng: first outputs match the reference for several seeds") {
  for (const auto& c : fixture()["rng"].arr) {
    CAPTURE(c["seed"].str);
    rng r(hex64(c["seed"].str));
    for (const auto& x : c["next"].arr) CHECK(r.next() == hex64(x.str));
    r.reseed(hex64(c["seed"].str));
    for (const auto& x : c["uniform"].arr) CHECK(r.uniform() == x.num);  // exact: 53-bit grid
  }
}

TEST_CASE("stages: filtered set, order, logits and probabilities match the reference") {
  int n = 0;
  for (const auto& c : fixture()["stages"].arr) {
    std::string desc = c["logits"].str;
    for (const auto& st : c["steps"].arr) desc += " " + st[0].str + "=" + std::to_string(st[1].num);
    CAPTURE(desc);
    const auto logits = logits_named(c["logits"].str);
    sampler_chain chain;
    for (const auto& st : c["steps"].arr) chain.add(make_stage(st[0].str, st[1].num));
    rng r(0);
    stage_context ctx{r};
    candidate_array& cand = chain.load(logits);
    chain.run(ctx, 0, chain.size());

    REQUIRE(cand.size == c["ids"].size());
    CHECK(cand.sorted == c["sorted"].b);
    for (size_t i = 0; i < cand.size; ++i) {
      CAPTURE(i);
      CHECK(cand.data[i].id == static_cast<int32_t>(c["ids"][i].num));
      CHECK(cand.data[i].logit == doctest::Approx(c["stage_logits"][i].num).epsilon(1e-6));
    }
    softmax(cand);
    for (size_t i = 0; i < cand.size; ++i) CHECK(cand.data[i].p == doctest::Approx(c["probs"][i].num).epsilon(1e-5));
    ++n;
  }
  CHECK(n >= 20);
}

TEST_CASE("chains: distribution, inverse-CDF picks, greedy and seeded sequences match the reference") {
  for (const auto& c : fixture()["chains"].arr) {
    CAPTURE(c["logits"].str);
    CAPTURE(c["params"]["temperature"].num);
    CAPTURE(c["params"]["top_k"].num);
    CAPTURE(c["params"]["top_p"].num);
    CAPTURE(c["params"]["min_p"].num);
    const auto logits = logits_named(c["logits"].str);
    sampler_params sp = params_of(c["params"]);

    sampler s(sp);
    auto dist = s.distribution(logits);
    REQUIRE(dist.size() == c["ids"].size());
    for (size_t i = 0; i < dist.size(); ++i) {
      CHECK(dist[i].id == static_cast<int32_t>(c["ids"][i].num));
      CHECK(dist[i].p == doctest::Approx(c["probs"][i].num).epsilon(1e-5));
    }
    for (const auto& pk : c["picks"].arr) {
      CAPTURE(pk[0].num);
      CHECK(dist[pick_by_cdf(dist, pk[0].num)].id == static_cast<int32_t>(pk[1].num));
    }

    sp.seed = static_cast<uint64_t>(c["seed"].num);
    sampler seeded(sp);
    for (size_t i = 0; i < c["sequence"].size(); ++i) {
      CAPTURE(i);
      CHECK(seeded.sample(logits) == static_cast<int32_t>(c["sequence"][i].num));
    }

    sampler_params gp = sp;
    gp.temperature = 0.0f;
    sampler g(gp);
    CHECK(g.sample(logits) == static_cast<int32_t>(c["greedy"].num));
  }
}

TEST_CASE("chains: sampled frequencies over 1e5 draws pass a chi-squared test") {
  constexpr int draws = 100000;
  int tested = 0;
  for (const auto& c : fixture()["chains"].arr) {
    const size_t k = c["ids"].size();
    double min_p = 1;
    for (const auto& p : c["probs"].arr) min_p = std::min(min_p, p.num);
    if (k < 2 || min_p * draws < 5) continue;  // chi-squared needs expected counts >= 5
    CAPTURE(c["logits"].str);
    CAPTURE(k);
    const auto logits = logits_named(c["logits"].str);
    sampler_params sp = params_of(c["params"]);
    sp.seed = 0x5EED;
    sampler s(sp);
    std::map<int32_t, int> counts;
    for (int i = 0; i < draws; ++i) ++counts[s.sample(logits)];
    double chi2 = 0, chi2_uniform = 0;
    for (size_t i = 0; i < k; ++i) {
      const int32_t id = static_cast<int32_t>(c["ids"][i].num);
      const double expected = c["probs"][i].num * draws, observed = counts[id];
      chi2 += (observed - expected) * (observed - expected) / expected;
      const double eu = static_cast<double>(draws) / k;
      chi2_uniform += (observed - eu) * (observed - eu) / eu;
      counts.erase(id);
    }
    CHECK(counts.empty());  // nothing outside the distribution was drawn
    const double crit = chi2_critical(static_cast<int>(k) - 1);
    CAPTURE(chi2);
    CAPTURE(crit);
    CHECK(chi2 < crit);
    // The statistic has teeth: none of these distributions is near uniform except "flat".
    if (c["logits"].str != "flat") CHECK(chi2_uniform > crit);
    ++tested;
  }
  CHECK(tested >= 6);
}
