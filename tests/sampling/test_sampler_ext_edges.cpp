// Behaviour of the extended sampler that needs no reference data: parameter checks naming the field,
// greedy mode with penalties / bias / DRY, prompt history, host callback stages, stage order parsing,
// mirostat state, the generator discipline, DRY's Z-algorithm against a naive scan, log-probabilities.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "sampling/dry.hpp"
#include "sampling/filters.hpp"
#include "sampling/logprobs.hpp"
#include "sampling/mirostat.hpp"
#include "sampling/penalties.hpp"
#include "sampling/sampler.hpp"

using namespace dianoia::detail;

namespace {
constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float qnan = std::numeric_limits<float>::quiet_NaN();

template <class F>
std::string invalid_argument_message(F&& f) {
  try {
    f();
  } catch (const error& e) {
    CHECK(e.code() == errc::invalid_argument);
    return e.what();
  }
  FAIL("no error thrown");
  return {};
}

sampler_params plain(float t = 1.0f) {
  sampler_params p;
  p.temperature = t;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  return p;
}

std::vector<float> wave(size_t n, float scale = 3.0f) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::sin(static_cast<float>(i) * 0.7f + 0.3f) * scale;
  return v;
}
}  // namespace

TEST_CASE("params: each invalid new field is invalid_argument naming it") {
  struct bad {
    const char* field;
    void (*set)(sampler_params&);
  };
  const bad cases[] = {
      {"penalty_last_n", [](sampler_params& p) { p.penalty_last_n = -2; }},
      {"repeat_penalty", [](sampler_params& p) { p.repeat_penalty = 0.0f; }},
      {"repeat_penalty", [](sampler_params& p) { p.repeat_penalty = qnan; }},
      {"frequency_penalty", [](sampler_params& p) { p.frequency_penalty = inf; }},
      {"presence_penalty", [](sampler_params& p) { p.presence_penalty = qnan; }},
      {"dry_multiplier", [](sampler_params& p) { p.dry_multiplier = -1.0f; }},
      {"dry_base", [](sampler_params& p) { p.dry_base = 0.5f; }},
      {"dry_allowed_length", [](sampler_params& p) { p.dry_allowed_length = -1; }},
      {"dry_penalty_last_n", [](sampler_params& p) { p.dry_penalty_last_n = -5; }},
      {"dynatemp_range", [](sampler_params& p) { p.dynatemp_range = qnan; }},
      {"dynatemp_exponent", [](sampler_params& p) { p.dynatemp_exponent = -1.0f; }},
      {"typical_p", [](sampler_params& p) { p.typical_p = qnan; }},
      {"typical_p", [](sampler_params& p) { p.typical_p = -0.5f; }},
      {"xtc_probability", [](sampler_params& p) { p.xtc_probability = 1.5f; }},
      {"xtc_threshold", [](sampler_params& p) { p.xtc_threshold = qnan; }},
      {"top_n_sigma", [](sampler_params& p) { p.top_n_sigma = qnan; }},
      {"mirostat", [](sampler_params& p) { p.mirostat = 1; }},
      {"mirostat_tau", [](sampler_params& p) { p.mirostat_tau = qnan; }},
      {"mirostat_eta", [](sampler_params& p) { p.mirostat_eta = -0.1f; }},
      {"context_size", [](sampler_params& p) { p.context_size = 0; }},
      {"logit_bias", [](sampler_params& p) { p.logit_bias = {{-1, 1.0f}}; }},
      {"logit_bias", [](sampler_params& p) { p.logit_bias = {{3, inf}}; }},
      {"logit_bias", [](sampler_params& p) { p.logit_bias = {{3, qnan}}; }},
  };
  for (const auto& c : cases) {
    CAPTURE(c.field);
    sampler_params p;
    c.set(p);
    const std::string msg = invalid_argument_message([&] { sampler s(p); });
    CHECK(msg.find(c.field) != std::string::npos);
  }
  // Documented off-switches are accepted.
  sampler_params off;
  off.xtc_threshold = 0.9f;  // > 0.5: off
  off.xtc_probability = 0.5f;
  off.typical_p = 1.5f;
  off.top_n_sigma = -3.0f;
  off.penalty_last_n = 0;
  off.repeat_penalty = 2.0f;
  off.dry_multiplier = 1.0f;
  off.dry_penalty_last_n = 0;
  sampler s(off);
  CHECK(s.chain().size() == 5);  // top_k, top_p, min_p, temperature, dist
}

TEST_CASE("greedy: logit bias, penalties and DRY apply and can change the argmax") {
  const std::vector<float> logits{0.5f, 3.0f, 2.9f, -1.0f, 2.05f};
  {
    sampler_params p = plain(0.0f);
    sampler g(p);
    CHECK(g.sample(logits) == 1);
    p.logit_bias = {{4, 1.5f}};
    sampler b(p);
    CHECK(b.sample(logits) == 4);
    p.logit_bias = {{1, -inf}, {2, -inf}, {4, -inf}};
    sampler ban(p);
    CHECK(ban.sample(logits) == 0);
    p.logit_bias = {{0, -inf}, {1, -inf}, {2, -inf}, {3, -inf}, {4, -inf}};
    sampler all(p);
    invalid_argument_message([&] { all.sample(logits); });
  }
  {
    sampler_params p = plain(0.0f);
    p.repeat_penalty = 1.5f;
    sampler g(p);
    CHECK(g.sample(logits) == 1);  // 1 enters the history
    CHECK(g.sample(logits) == 2);  // 3.0 / 1.5 = 2.0 < 2.9
    CHECK(g.sample(logits) == 4);  // 2.9 / 1.5 and 3.0 / 1.5 < 2.05
    g.reset();
    CHECK(g.sample(logits) == 1);
  }
  {
    // DRY without breakers needs no vocabulary. History 1 4 1 -> 4 would repeat "1 4".
    sampler_params p = plain(0.0f);
    p.dry_multiplier = 5.0f;
    p.dry_allowed_length = 1;
    p.dry_sequence_breakers.clear();
    sampler g(p);
    for (int32_t t : {1, 4, 1}) g.accept(t);
    const std::vector<float> l2{0.0f, 1.0f, 0.0f, 0.0f, 3.0f};
    CHECK(g.sample(l2) == 1);  // 4 penalised by 5: 3 - 5 < 1
    p.dry_sequence_breakers = {"\n"};
    invalid_argument_message([&] { sampler needs_texts(p); });
  }
}

TEST_CASE("prompt history: counted only with penalize_prompt") {
  const std::vector<float> logits{2.0f, 1.9f, 0.0f};
  const std::vector<int32_t> prompt{0, 0, 5};
  sampler_params p = plain(0.0f);
  p.presence_penalty = 1.0f;
  sampler off(p);
  off.accept_prompt(prompt);
  CHECK(off.sample(logits) == 0);
  p.penalize_prompt = true;
  sampler on(p);
  on.accept_prompt(prompt);
  CHECK(on.sample(logits) == 1);
}

TEST_CASE("penalties: window of last_n tokens, -1 means context_size, reset clears") {
  sampler_chain chain;
  chain.add(std::make_unique<penalties_stage>(3, 1.0f, 1.0f, 0.0f));
  auto& st = dynamic_cast<penalties_stage&>(chain.stage(0));
  for (int32_t t : {7, 7, 8, 9}) st.accept(t);
  CHECK(st.count(7) == 0);  // no vocabulary seen yet
  {
    rng r(0);
    stage_context ctx{r};
    const std::vector<float> row(16, 0.0f);
    chain.load(row);
    chain.run(ctx, 0, 1);  // sizes the table and counts the window
  }
  CHECK(st.history_size() == 3);
  CHECK(st.count(7) == 1);
  CHECK(st.count(8) == 1);
  st.accept(7);
  CHECK(st.count(7) == 1);  // the old 7 left the window as the new one came
  CHECK(st.count(8) == 1);
  st.accept(10);
  CHECK(st.count(8) == 0);
  st.reset();
  CHECK(st.history_size() == 0);
  CHECK(st.count(7) == 0);
  st.accept(1 << 30);  // beyond the vocabulary: kept in the window, never counted, no table growth
  CHECK(st.history_size() == 1);
  CHECK(st.count(1 << 30) == 0);

  sampler_params p = plain(0.0f);
  p.frequency_penalty = 0.01f;
  p.penalty_last_n = -1;
  p.context_size = 5000;
  sampler s(p);
  const std::vector<float> logits{1.0f, 0.995f};
  for (int i = 0; i < 4000; ++i) s.accept(0);  // all still in a window of 5000
  CHECK(s.sample(logits) == 1);
}

TEST_CASE("DRY: the Z-algorithm agrees with a naive scan on random histories") {
  // Naive reference of the documented rule (no breakers): longest common suffix per earlier position.
  auto naive = [](const std::vector<int32_t>& h, int allowed, std::vector<float>& lg, float mult, float base) {
    const size_t n = h.size();
    if (n <= static_cast<size_t>(allowed)) return;
    std::vector<int> best(lg.size(), -1);
    for (size_t j = 0; j + 1 < n; ++j) {  // earlier occurrence ends at j, h[j+1] follows
      size_t len = 0;
      while (len <= j && h[j - len] == h[n - 1 - len]) ++len;
      if (static_cast<int>(len) >= allowed) best[h[j + 1]] = std::max(best[h[j + 1]], static_cast<int>(len));
    }
    for (size_t t = 0; t < lg.size(); ++t)
      if (best[t] >= 0) lg[t] -= static_cast<float>(mult * std::pow(static_cast<double>(base), best[t] - allowed));
  };
  uint64_t x = 12345;
  auto next = [&] { return x = x * 6364136223846793005ull + 1442695040888963407ull, static_cast<int32_t>((x >> 33) % 4); };
  for (int trial = 0; trial < 200; ++trial) {
    CAPTURE(trial);
    const size_t n = 1 + trial % 60;
    std::vector<int32_t> h(n);
    for (auto& t : h) t = next();
    const int allowed = trial % 4;
    dry_stage st({0.5f, 1.3f, allowed, 1000}, {});
    for (int32_t t : h) st.accept(t);
    std::vector<float> logits{0.1f, 0.2f, 0.3f, 0.4f}, want = logits;
    naive(h, allowed, want, 0.5f, 1.3f);
    sampler_chain chain;
    chain.add(std::make_unique<dry_stage>(dry_params{0.5f, 1.3f, allowed, 1000}, std::vector<std::pair<int32_t, std::vector<int32_t>>>{}));
    for (int32_t t : h) chain.accept(t);
    rng r(0);
    stage_context ctx{r};
    candidate_array& c = chain.load(logits);
    chain.run(ctx, 0, 1);
    for (size_t i = 0; i < c.size; ++i) CHECK(c.data[i].logit == doctest::Approx(want[c.data[i].id]).epsilon(1e-6));
  }
}

TEST_CASE("host stages: reorder, shrink, rewrite, select; misbehaviour is invalid_argument") {
  const auto logits = wave(20);
  // Keeps the 3 lowest ids, reversed, and boosts the last of them.
  host_stage_fns keep3{};
  keep3.apply = [](void*, token_candidate* d, size_t* n, int64_t*) {
    std::sort(d, d + *n, [](const token_candidate& a, const token_candidate& b) { return a.id > b.id; });
    std::reverse(d, d + *n);
    *n = 3;
    d[2].logit += 100.0f;
    return 0;
  };
  sampler_params p = plain(0.0f);
  p.host_stages = {{"keep3", keep3, false}};
  sampler g(p);
  CHECK(g.sample(logits) == 2);
  CHECK(g.distribution(logits).size() == 3);

  // A picker that chooses the last candidate and counts accepts.
  struct state {
    int accepted = 0, resets = 0;
  } st;
  host_stage_fns last{};
  last.apply = [](void*, token_candidate*, size_t* n, int64_t* sel) {
    *sel = static_cast<int64_t>(*n) - 1;
    return 0;
  };
  last.accept = [](void* u, int32_t) { ++static_cast<state*>(u)->accepted; };
  last.reset = [](void* u) { ++static_cast<state*>(u)->resets; };
  last.user = &st;
  sampler_params q = plain(1.0f);
  q.host_stages = {{"last", last, true}};
  sampler picker(q);
  CHECK(st.resets == 1);  // a chain starts a generation
  CHECK(picker.sample(logits) == 19);  // unsorted: id order
  CHECK(st.accepted == 1);
  picker.reset();
  CHECK(st.resets == 2);
  // Placed by the order.
  sampler_params o = plain(1.0f);
  o.order = parse_stage_order("top_k host temperature");
  o.top_k = 5;
  o.host_stages = {{"keep3", keep3, false}};
  sampler ordered(o);
  REQUIRE(ordered.chain().size() == 4);
  CHECK(ordered.chain().stage(1).name() == "keep3");

  // Early selection by a non-picking stage ends the chain.
  host_stage_fns early{};
  early.apply = [](void*, token_candidate* d, size_t* n, int64_t* sel) {
    for (size_t i = 0; i < *n; ++i)
      if (d[i].id == 7) *sel = static_cast<int64_t>(i);
    return 0;
  };
  sampler_params e = plain(1.0f);
  e.host_stages = {{"early", early, false}};
  sampler es(e);
  for (int i = 0; i < 5; ++i) CHECK(es.sample(logits) == 7);

  auto bad = [&](int (*fn)(void*, token_candidate*, size_t*, int64_t*)) {
    host_stage_fns f{};
    f.apply = fn;
    sampler_params b = plain(1.0f);
    b.host_stages = {{"bad", f, false}};
    sampler s(b);
    return invalid_argument_message([&] { s.sample(logits); });
  };
  CHECK(bad([](void*, token_candidate*, size_t* n, int64_t*) { return *n = 0, 0; }).find("bad") != std::string::npos);
  bad([](void*, token_candidate*, size_t* n, int64_t*) { return *n += 1, 0; });
  bad([](void*, token_candidate*, size_t* n, int64_t* s) { return *s = static_cast<int64_t>(*n), 0; });
  bad([](void*, token_candidate* d, size_t*, int64_t*) { return d[0].id = 1 << 30, 0; });
  bad([](void*, token_candidate* d, size_t*, int64_t*) { return d[0].logit = std::numeric_limits<float>::quiet_NaN(), 0; });
  bad([](void*, token_candidate*, size_t*, int64_t*) { return 7; });
  host_stage_fns nopick{};
  nopick.apply = [](void*, token_candidate*, size_t*, int64_t*) { return 0; };
  sampler_params np = plain(1.0f);
  np.host_stages = {{"nopick", nopick, true}};
  sampler nps(np);
  invalid_argument_message([&] { nps.sample(logits); });
  np.host_stages.push_back({"second", nopick, true});
  invalid_argument_message([&] { sampler two(np); });
}

TEST_CASE("stage order: parsing, aliases, unknown names") {
  const auto o = parse_stage_order("penalties;dry top_n_sigma,top_k;typ_p;top_p;min_p;xtc;temperature");
  CHECK(o == std::vector<stage_kind>(default_stage_order().begin(), default_stage_order().end()));
  CHECK(parse_stage_order("temp typical typical_p") ==
        std::vector<stage_kind>{stage_kind::temperature, stage_kind::typical_p, stage_kind::typical_p});
  CHECK(parse_stage_order("").empty());
  invalid_argument_message([] { parse_stage_order("top_k;mirostat"); });
  for (stage_kind k : default_stage_order()) CHECK(parse_stage_order(stage_kind_name(k)) == std::vector<stage_kind>{k});
  // Without temperature in the order, no temperature stage runs.
  sampler_params p = plain(0.5f);
  p.order = parse_stage_order("top_k");
  p.top_k = 3;
  sampler s(p);
  CHECK(s.chain().size() == 2);
}

TEST_CASE("mirostat: mu moves with each pick, reset restores 2 tau, distribution changes nothing") {
  mirostat_v2_stage m(3.0f, 0.5f);
  CHECK(m.mu() == 6.0);
  const auto logits = wave(50);
  sampler_chain chain;
  chain.add(std::make_unique<mirostat_v2_stage>(3.0f, 0.5f));
  auto& st = dynamic_cast<mirostat_v2_stage&>(chain.stage(0));
  rng r(9);
  stage_context ctx{r};
  chain.sample(logits, ctx);
  const double mu1 = st.mu();
  CHECK(mu1 != 6.0);
  const auto& c = chain.candidates();
  const double surprise = -std::log2(static_cast<double>(c.data[c.selected].p));
  CHECK(mu1 == doctest::Approx(6.0 - 0.5 * (surprise - 3.0)));
  chain.reset();
  CHECK(st.mu() == 6.0);

  sampler_params p = plain(1.0f);
  p.mirostat = 2;
  p.mirostat_tau = 2.0f;
  p.seed = 4;
  sampler a(p), b(p);
  a.distribution(logits);
  a.distribution(logits);
  for (int i = 0; i < 20; ++i) CHECK(a.sample(logits) == b.sample(logits));
}

TEST_CASE("generator: XTC draws once per call; distribution() draws nothing") {
  sampler_params p = plain(1.0f);
  p.xtc_probability = 0.5f;
  p.xtc_threshold = 0.1f;
  p.seed = 77;
  const auto logits = wave(30, 2.0f);
  sampler a(p), b(p);
  for (int i = 0; i < 10; ++i) a.distribution(logits);
  for (int i = 0; i < 50; ++i) CHECK(a.sample(logits) == b.sample(logits));
  // One candidate: XTC still draws, so the generator's position depends only on the tokens sampled.
  const std::vector<float> one{-inf, 1.0f, -inf};
  sampler c(p), d(p);
  for (int i = 0; i < 5; ++i) {
    CHECK(c.sample(one) == 1);
    d.sample(logits);
  }
  for (int i = 0; i < 50; ++i) CHECK(c.sample(logits) == d.sample(logits));
}

TEST_CASE("dynamic temperature: greedy limit and flat/peaked behaviour") {
  // Exponent 0: always the top of the range; a huge exponent with a peaked row: the bottom (0 -> argmax).
  // exp(-200) underflows p to exactly 0: entropy 0, so t' = max(0, t - range) = 0.
  std::vector<float> peaked{200.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  sampler_chain chain;
  chain.add(std::make_unique<dynamic_temperature_stage>(0.5f, 0.5f, 50.0f));
  rng r(0);
  stage_context ctx{r};
  candidate_array& c = chain.load(peaked);
  chain.run(ctx, 0, 1);
  CHECK(c.size == 1);
  CHECK(c.data[0].id == 0);
  auto& st = dynamic_cast<dynamic_temperature_stage&>(chain.stage(0));
  CHECK(st.last_temperature() == 0.0);
  sampler_chain flat;
  flat.add(std::make_unique<dynamic_temperature_stage>(0.5f, 0.25f, 0.0f));
  std::vector<float> f{1.0f, 1.0f, 1.0f};
  flat.load(f);
  flat.run(ctx, 0, 1);
  CHECK(dynamic_cast<dynamic_temperature_stage&>(flat.stage(0)).last_temperature() == doctest::Approx(0.75));
}

TEST_CASE("logprobs: non-finite logits, buffers, candidate log-probabilities after sampling") {
  std::vector<float> l{1.0f, inf, qnan, -inf, inf};
  std::vector<token_logprob> top(4);
  auto r = raw_logprobs(l, 1, top);
  CHECK(r.chosen == doctest::Approx(std::log(0.5)));
  REQUIRE(r.n_top == 2);
  CHECK(top[0].id == 1);
  CHECK(top[1].id == 4);
  CHECK(raw_logprobs(l, 0, top).chosen == -INFINITY);
  CHECK(raw_logprobs(l, 2, {}).n_top == 0);
  invalid_argument_message([&] { raw_logprobs(l, 5, top); });
  invalid_argument_message([&] { raw_logprobs(std::vector<float>{-inf, qnan}, 0, top); });

  // Ties: lower id first; a bigger buffer than the vocabulary.
  std::vector<float> t{0.0f, 1.0f, 1.0f, 0.0f};
  std::vector<token_logprob> big(10);
  auto rt = raw_logprobs(t, 3, big);
  REQUIRE(rt.n_top == 4);
  CHECK(big[0].id == 1);
  CHECK(big[1].id == 2);
  CHECK(big[2].id == 0);
  CHECK(big[3].id == 3);
  double total = 0;
  for (size_t i = 0; i < 4; ++i) total += std::exp(big[i].logprob);
  CHECK(total == doctest::Approx(1.0).epsilon(1e-12));

  // After a random sample, the candidates' log-softmax is log p of the distribution drawn from.
  sampler_params p;
  p.seed = 3;
  const auto logits = wave(100);
  sampler s(p);
  const auto dist_copy = [&] {
    auto d = s.distribution(logits);
    return std::vector<token_candidate>(d.begin(), d.end());
  }();
  const int32_t id = s.sample(logits);
  std::vector<token_logprob> ctop(3);
  auto cr = candidate_logprobs(s.chain().candidates().view(), id, ctop);
  for (const auto& d : dist_copy)
    if (d.id == id) CHECK(cr.chosen == doctest::Approx(std::log(static_cast<double>(d.p))).epsilon(1e-5));
  CHECK(candidate_logprobs(s.chain().candidates().view(), 1 << 20, ctop).chosen == -INFINITY);
}
