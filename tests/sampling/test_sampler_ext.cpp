// The extended stages and configurable chains against tools/make_sampler_fixtures.py (sampler_ext.json):
// logit bias, penalties, DRY (with its breaker processing), top-n-sigma, typical, XTC, dynamic
// temperature, mirostat 2.0, whole samplers (distribution, seeded sequences with every token accepted,
// chi-squared over 10^5 draws) and log-probabilities.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "json.hpp"
#include "sampling/dry.hpp"
#include "sampling/filters.hpp"
#include "sampling/logit_bias.hpp"
#include "sampling/logprobs.hpp"
#include "sampling/penalties.hpp"
#include "sampling/sampler.hpp"
#include "test_support.hpp"

using namespace dianoia::detail;
using dianoia::test::json;

namespace {

const json& fixture() {
  static const json v = json::parse(dianoia::test::read_file(dianoia::test::fixtures_dir() + "/sampler_ext.json"));
  return v;
}

float num(const json& j) {
  if (j.kind == json::string) return j.str == "-inf" ? -INFINITY : INFINITY;
  return static_cast<float>(j.num);
}

std::vector<float> logits_named(const std::string& name) {
  std::vector<float> out;
  for (const auto& x : fixture()["logits"][name].arr) out.push_back(num(x));
  return out;
}

// The toy vocabulary: pieces from the fixture, tokenize looked up in the table the script recorded.
struct toy_vocab {
  std::vector<std::string> pieces;
  std::map<std::string, std::vector<int32_t>> table;
  token_texts texts() const {
    return {pieces, [this](std::string_view s) {
              auto it = table.find(std::string(s));
              if (it == table.end()) throw std::runtime_error("toy tokenize: no entry for '" + std::string(s) + "'");
              return it->second;
            }};
  }
};
const toy_vocab& toy() {
  static const toy_vocab v = [] {
    toy_vocab t;
    for (const auto& p : fixture()["pieces"].arr) t.pieces.push_back(p.str);
    for (const auto& e : fixture()["tokenize"].arr) t.table[e[0].str] = e[1].as_vector<int32_t>();
    return t;
  }();
  return v;
}

std::vector<std::string> breaker_strings() {
  std::vector<std::string> out;
  for (const auto& b : fixture()["breakers"]["strings"].arr) out.push_back(b.str);
  return out;
}

std::vector<logit_bias_entry> biases_of(const json& j) {
  std::vector<logit_bias_entry> out;
  for (const auto& b : j.arr) out.push_back({static_cast<int32_t>(b[0].num), num(b[1])});
  return out;
}

std::unique_ptr<sampler_stage> make_stage(const json& step) {
  const std::string& k = step[0].str;
  const json& a = step[1];
  if (k == "logit_bias") return std::make_unique<logit_bias_stage>(biases_of(a["biases"]));
  if (k == "penalties")
    return std::make_unique<penalties_stage>(static_cast<int32_t>(a["last_n"].num), num(a["repeat"]), num(a["frequency"]),
                                             num(a["presence"]));
  if (k == "dry") {
    dry_params p{num(a["multiplier"]), num(a["base"]), static_cast<int32_t>(a["allowed_length"].num),
                 static_cast<int32_t>(a["last_n"].num)};
    const auto names = breaker_strings();
    return std::make_unique<dry_stage>(p, dry_breaker_sequences(names, toy().texts()));
  }
  if (k == "top_n_sigma") return std::make_unique<top_n_sigma_stage>(num(a["n"]));
  if (k == "typical") return std::make_unique<typical_stage>(num(a["p"]));
  if (k == "xtc") return std::make_unique<xtc_stage>(num(a["probability"]), num(a["threshold"]));
  if (k == "dyn_temp") return std::make_unique<dynamic_temperature_stage>(num(a["t"]), num(a["range"]), num(a["exponent"]));
  if (k == "min_p") return std::make_unique<min_p_stage>(num(a["p"]));
  if (k == "top_k") return std::make_unique<top_k_stage>(static_cast<int32_t>(a.num));
  if (k == "temperature") return std::make_unique<temperature_stage>(num(a));
  FAIL("unknown stage " << k);
  return nullptr;
}

sampler_params params_of(const json& j) {
  sampler_params p;
  for (const auto& [k, v] : j.obj) {
    if (k == "temperature") p.temperature = num(v);
    else if (k == "top_k") p.top_k = static_cast<int32_t>(v.num);
    else if (k == "top_p") p.top_p = num(v);
    else if (k == "min_p") p.min_p = num(v);
    else if (k == "logit_bias") p.logit_bias = biases_of(v);
    else if (k == "penalty_last_n") p.penalty_last_n = static_cast<int32_t>(v.num);
    else if (k == "repeat_penalty") p.repeat_penalty = num(v);
    else if (k == "frequency_penalty") p.frequency_penalty = num(v);
    else if (k == "presence_penalty") p.presence_penalty = num(v);
    else if (k == "dry_multiplier") p.dry_multiplier = num(v);
    else if (k == "dry_allowed_length") p.dry_allowed_length = static_cast<int32_t>(v.num);
    else if (k == "dynatemp_range") p.dynatemp_range = num(v);
    else if (k == "dynatemp_exponent") p.dynatemp_exponent = num(v);
    else if (k == "typical_p") p.typical_p = num(v);
    else if (k == "xtc_probability") p.xtc_probability = num(v);
    else if (k == "xtc_threshold") p.xtc_threshold = num(v);
    else if (k == "top_n_sigma") p.top_n_sigma = num(v);
    else if (k == "mirostat") p.mirostat = static_cast<int32_t>(v.num);
    else if (k == "mirostat_tau") p.mirostat_tau = num(v);
    else if (k == "mirostat_eta") p.mirostat_eta = num(v);
    else if (k == "order") {
      std::string s;
      for (const auto& o : v.arr) s += o.str + ";";
      p.order = parse_stage_order(s);
    } else FAIL("unknown param " << k);
  }
  return p;
}

std::string stage_name(const std::string& python_name) {
  static const std::map<std::string, std::string> m{{"typical_p", "typical"}, {"dyn_temp", "dynamic_temperature"},
                                                    {"mirostat", "mirostat_v2"}};
  auto it = m.find(python_name);
  return it == m.end() ? python_name : it->second;
}

// Wilson-Hilferty approximation of the chi-squared quantile at p = 0.001 (z = 3.090).
double chi2_critical_001(int df) {
  const double z = 3.090, a = 2.0 / (9.0 * df);
  return df * std::pow(1 - a + z * std::sqrt(a), 3);
}

}  // namespace

TEST_CASE("DRY breakers: token sequences match the reference's processing of the breaker strings") {
  auto got = dry_breaker_sequences(breaker_strings(), toy().texts());
  std::sort(got.begin(), got.end());
  const auto& want = fixture()["breakers"]["sequences"].arr;
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].first == static_cast<int32_t>(want[i][0].num));
    CHECK(got[i].second == want[i][1].as_vector<int32_t>());
  }
}

TEST_CASE("extended stages: kept ids, order and logits match the reference") {
  int n = 0;
  for (const auto& c : fixture()["stages"].arr) {
    std::string desc = c["logits"].str;
    for (const auto& st : c["steps"].arr) desc += " " + st[0].str;
    CAPTURE(desc);
    CAPTURE(n);
    const auto logits = logits_named(c["logits"].str);
    sampler_chain chain;
    for (const auto& st : c["steps"].arr) chain.add(make_stage(st));
    for (const auto& t : c["history"].arr) chain.accept(static_cast<int32_t>(t.num));
    rng r(static_cast<uint64_t>(c["rng_seed"].num));
    stage_context ctx{r};
    candidate_array& cand = chain.load(logits);
    chain.run(ctx, 0, chain.size());
    REQUIRE(cand.size == c["ids"].size());
    for (size_t i = 0; i < cand.size; ++i) {
      CAPTURE(i);
      CHECK(cand.data[i].id == static_cast<int32_t>(c["ids"][i].num));
      CHECK(cand.data[i].logit == doctest::Approx(c["stage_logits"][i].num).epsilon(1e-6));
    }
    if (c.has("dyn_temperature")) {
      auto& st = dynamic_cast<dynamic_temperature_stage&>(chain.stage(chain.size() - 1));
      CHECK(st.last_temperature() == doctest::Approx(c["dyn_temperature"].num).epsilon(1e-9));
    }
    ++n;
  }
  CHECK(n >= 30);
}

TEST_CASE("samplers: stage list, distribution and seeded sequences (history accepted) match the reference") {
  for (const auto& c : fixture()["chains"].arr) {
    CAPTURE(c["logits"].str);
    CAPTURE(c["seed"].num);
    std::string stages;
    for (const auto& s : c["stages"].arr) stages += s.str + " ";
    CAPTURE(stages);
    const auto logits = logits_named(c["logits"].str);
    sampler_params p = params_of(c["params"]);
    p.seed = static_cast<uint64_t>(c["seed"].num);
    const auto texts = toy().texts();
    sampler s(p, &texts);

    REQUIRE(s.chain().size() == c["stages"].size());
    for (size_t i = 0; i < s.chain().size(); ++i) CHECK(s.chain().stage(i).name() == stage_name(c["stages"][i].str));

    for (const auto& t : c["history"].arr) s.accept(static_cast<int32_t>(t.num));
    auto dist = s.distribution(logits);
    REQUIRE(dist.size() == c["ids"].size());
    for (size_t i = 0; i < dist.size(); ++i) {
      CHECK(dist[i].id == static_cast<int32_t>(c["ids"][i].num));
      CHECK(dist[i].p == doctest::Approx(c["probs"][i].num).epsilon(1e-5));
    }
    for (size_t i = 0; i < c["sequence"].size(); ++i) {
      CAPTURE(i);
      CHECK(s.sample(logits) == static_cast<int32_t>(c["sequence"][i].num));
    }
    // reset() + reseed replays the same sequence.
    s.reset();
    s.reseed(p.seed);
    for (const auto& t : c["history"].arr) s.accept(static_cast<int32_t>(t.num));
    for (size_t i = 0; i < c["sequence"].size(); ++i) CHECK(s.sample(logits) == static_cast<int32_t>(c["sequence"][i].num));
  }
}

TEST_CASE("samplers: 1e5 first-step draws pass a chi-squared test (p = 0.001)") {
  constexpr int draws = 100000;
  int tested = 0;
  for (const auto& c : fixture()["chains"].arr) {
    if (c["expected"].size() < 2) continue;  // greedy, or a single candidate
    CAPTURE(c["logits"].str);
    std::string stages;
    for (const auto& s : c["stages"].arr) stages += s.str + " ";
    CAPTURE(stages);
    const auto logits = logits_named(c["logits"].str);
    sampler_params p = params_of(c["params"]);
    p.seed = 0x5EED;
    const auto texts = toy().texts();
    sampler s(p, &texts);
    std::vector<int32_t> history = c["history"].as_vector<int32_t>();
    std::map<int32_t, int> counts;
    for (int i = 0; i < draws; ++i) {
      s.reset();  // same state for every draw (history, mu); the generator runs on
      for (int32_t t : history) s.accept(t);
      ++counts[s.sample(logits)];
    }
    // Bins: each id with expected count >= 5, the rest pooled.
    double chi2 = 0, pooled_e = 0, pooled_o = 0;
    int bins = 0;
    for (const auto& e : c["expected"].arr) {
      const auto id = static_cast<int32_t>(e[0].num);
      const double expected = e[1].num * draws;
      const double observed = counts.count(id) ? counts[id] : 0;
      counts.erase(id);
      if (expected < 5) {
        pooled_e += expected, pooled_o += observed;
        continue;
      }
      chi2 += (observed - expected) * (observed - expected) / expected;
      ++bins;
    }
    if (pooled_e > 0) {
      chi2 += (pooled_o - pooled_e) * (pooled_o - pooled_e) / std::max(pooled_e, 1e-9);
      ++bins;
    }
    CHECK(counts.empty());  // nothing outside the support was drawn
    const double crit = chi2_critical_001(bins - 1);
    MESSAGE(c["logits"].str << " [" << stages << "] chi2 = " << chi2 << " (df " << bins - 1 << ", critical " << crit << ")");
    CHECK(chi2 < crit);
    ++tested;
  }
  CHECK(tested >= 8);
}

TEST_CASE("logprobs: full-vocabulary log-softmax of the raw logits, chosen and top-n") {
  for (const auto& c : fixture()["logprobs"].arr) {
    CAPTURE(c["logits"].str);
    const auto logits = logits_named(c["logits"].str);
    std::vector<token_logprob> top(static_cast<size_t>(c["n_top"].num));
    const auto r = raw_logprobs(logits, static_cast<int32_t>(c["chosen"].num), top);
    const json& w = c["chosen_logprob"];
    const double want = w.kind == json::string ? -INFINITY : w.num;
    if (std::isinf(want))
      CHECK(r.chosen == -INFINITY);
    else
      CHECK(r.chosen == doctest::Approx(want).epsilon(1e-12));
    REQUIRE(r.n_top == c["top"].size());
    for (size_t i = 0; i < r.n_top; ++i) {
      CHECK(top[i].id == static_cast<int32_t>(c["top"][i][0].num));
      CHECK(top[i].logprob == doctest::Approx(c["top"][i][1].num).epsilon(1e-12));
    }
  }
}
