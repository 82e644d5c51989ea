// n samples in lockstep (one forward_batch per step for a group of samples) against the same samples
// decoded one after another, on stories260K (F32 weights): the same text, counts and stop reasons per
// sample, delivered in the same order; budgets, stop strings, refusals and cancellation included.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "runtime/deepconf.hpp"
#include "runtime/loaded_model.hpp"
#include "runtime/scripted_model.hpp"
#include "runtime/session.hpp"
#include "test_support.hpp"

using namespace dianoia::detail;

namespace {

const loaded_model& stories() {
  static const auto m = loaded_model::load(dianoia::test::data_dir() + "/models/stories260K/stories260K.gguf", {});
  return *m;
}

// The model, with its batch interface hidden (samples then run one after another) or counted.
class probe final : public model {
 public:
  probe(const model& m, bool batches) : m_(m), batches_(batches) {}
  mutable uint32_t groups = 0, steps = 0;

  const hparams& hp() const override { return m_.hp(); }
  std::unique_ptr<forward_state> new_state(uint32_t n_ctx, int n_threads, bool f32_kv) const override {
    return m_.new_state(n_ctx, n_threads, f32_kv);
  }
  void forward(forward_state& st, std::span<const int32_t> t, uint32_t pos, float* l, bool all) const override {
    m_.forward(st, t, pos, l, all);
  }
  void begin_sequences(forward_state& st, uint32_t n_shared, uint32_t n_seq) const override {
    if (!batches_) return model::begin_sequences(st, n_shared, n_seq);  // error(unsupported)
    ++groups;
    m_.begin_sequences(st, n_shared, n_seq);
  }
  void forward_batch(forward_state& st, std::span<const seq_token> t, float* l) const override {
    ++steps;
    m_.forward_batch(st, t, l);
  }
  void end_sequences(forward_state& st, uint32_t keep, uint32_t n_keep) const noexcept override {
    m_.end_sequences(st, keep, n_keep);
  }

 private:
  const model& m_;
  bool batches_;
};

struct samples_run {
  std::vector<std::string> text;  // per sample: "R:" reasoning / "C:" content chunks as delivered
  std::vector<uint32_t> order;    // the sample of each chunk, in delivery order
  std::vector<generation_stats> stats;
  std::vector<int32_t> tokens;    // session::tokens() afterwards
  uint32_t n_cached = 0;
  uint32_t groups = 0, steps = 0;
};

// Decides, per chunk, whether the host accepts it (and may act on the session).
using host_rule = std::function<bool(session&, uint32_t sample, size_t chunk)>;

samples_run run_samples(bool lockstep, uint32_t n, const generate_options& opt, const std::string& prompt_text,
                        bool f32_kv = true, uint32_t n_ctx = 512, const host_rule& rule = {},
                        const session::sample_control* ctl = nullptr) {
  const auto& m = stories();
  probe net(m.net(), lockstep);
  session s(net, m.tok(), n_ctx, 2, f32_kv);
  auto prompt = m.tok().encode(prompt_text, false, false);
  prompt.insert(prompt.begin(), m.tok().bos());
  samples_run r;
  r.text.resize(n);
  std::vector<size_t> chunks(n, 0);
  r.stats = s.generate_samples(prompt, n, opt, [&](uint32_t i, channel ch, std::string_view t) {
    r.order.push_back(i);
    r.text.at(i) += (ch == channel::reasoning ? "R:" : "C:") + std::string(t) + "|";
    return rule ? rule(s, i, chunks[i]++) : true;
  }, true, ctl);
  r.tokens = s.tokens();
  r.n_cached = s.n_cached();
  r.groups = net.groups;
  r.steps = net.steps;
  return r;
}

generate_options sampling(uint64_t seed, int32_t max_tokens) {
  generate_options o;
  o.max_tokens = max_tokens;
  o.reasoning = reasoning_mode::off;
  o.sampling.temperature = 0.8f;
  o.sampling.seed = seed;
  return o;
}

// `same_cache`: false when a sample the host refused while its text was held decoded further in lockstep.
void check_same(const samples_run& a, const samples_run& b, bool same_cache = true) {
  REQUIRE(a.stats.size() == b.stats.size());
  for (size_t i = 0; i < a.stats.size(); ++i) {
    CAPTURE(i);
    CHECK(a.text[i] == b.text[i]);
    CHECK(a.stats[i].stop == b.stats[i].stop);
    CHECK(a.stats[i].stop_string == b.stats[i].stop_string);
    CHECK(a.stats[i].reasoning_tokens == b.stats[i].reasoning_tokens);
    CHECK(a.stats[i].content_tokens == b.stats[i].content_tokens);
    CHECK(a.stats[i].injected_tokens == b.stats[i].injected_tokens);
    CHECK(a.stats[i].prompt_tokens == b.stats[i].prompt_tokens);
    CHECK(a.stats[i].prompt_reused == b.stats[i].prompt_reused);
    CHECK(std::isnan(a.stats[i].confidence_lowest) == std::isnan(b.stats[i].confidence_lowest));
    if (!std::isnan(a.stats[i].confidence_lowest)) {
      CHECK(a.stats[i].confidence_lowest == b.stats[i].confidence_lowest);
      CHECK(a.stats[i].confidence_bottom10 == b.stats[i].confidence_bottom10);
    }
  }
  CHECK(a.order == b.order);
  CHECK(std::is_sorted(a.order.begin(), a.order.end()));
  if (!same_cache) return;
  CHECK(a.tokens == b.tokens);
  CHECK(a.n_cached == b.n_cached);
}

}  // namespace

// oneDNN's sgemm gives these F32 weights the same bits for one row or several (tests/model/
// test_sequences.cpp), and the attention kernels continue over a sequence's own positions exactly, so
// sampling (temperature 0.8, consecutive seeds) draws the same tokens in both ways.
TEST_CASE("samples in lockstep: each sample's text is that of decoding it alone (stories260K)") {
  for (bool f32_kv : {true, false}) {
    CAPTURE(f32_kv);
    const auto opt = sampling(42, 40);
    const auto alone = run_samples(false, 6, opt, "Once upon a time", f32_kv);
    const auto together = run_samples(true, 6, opt, "Once upon a time", f32_kv);
    check_same(alone, together);
    CHECK(alone.groups == 0);
    CHECK(together.groups == 1);
    CHECK(together.steps <= 40);  // one pass per step for the whole group
    int distinct = 0;
    for (size_t i = 1; i < alone.text.size(); ++i) distinct += alone.text[i] != alone.text[0];
    CHECK(distinct >= 3);
    CHECK(alone.tokens.size() > 1);
  }
}

TEST_CASE("samples in lockstep: samples stop at different times and leave the batch") {
  auto opt = sampling(7, 60);
  opt.stop = {"."};  // each story's first sentence, of its own length
  const auto alone = run_samples(false, 8, opt, "Once upon a time");
  const auto together = run_samples(true, 8, opt, "Once upon a time");
  check_same(alone, together);
  std::vector<uint32_t> lengths;
  for (const auto& st : alone.stats) lengths.push_back(st.content_tokens);
  std::sort(lengths.begin(), lengths.end());
  CHECK(lengths.front() < lengths.back());
  CHECK(std::count_if(alone.stats.begin(), alone.stats.end(),
                      [](const generation_stats& s) { return s.stop == stop_reason::stop_string; }) >= 4);
  // A step evaluates only the samples still running: the last step is the longest sample's.
  CHECK(together.steps < 60);
}

TEST_CASE("samples in lockstep: reasoning budgets inject per sample (wrap-up, close, continuation)") {
  auto opt = sampling(3, 50);
  opt.reasoning = reasoning_mode::on;  // stories260K has no thinking profile: "<think>\n" is added as text
  opt.max_reasoning_tokens = 12;
  opt.min_reasoning_tokens = 6;
  opt.continue_text = " Then";
  opt.wrap_up_text = " The end.";
  const auto alone = run_samples(false, 5, opt, "Lily and Tom");
  const auto together = run_samples(true, 5, opt, "Lily and Tom");
  check_same(alone, together);
  for (const auto& st : alone.stats) CHECK(st.injected_tokens > 0);
  for (const auto& t : alone.text) CHECK(t.find("C:") != std::string::npos);  // every sample got to answer
}

TEST_CASE("samples in lockstep: groups as large as the context holds at max_tokens each") {
  const auto opt = sampling(11, 150);
  // (512 - prompt) / 150 = 3 samples per step: groups of 3, 3 and 1.
  const auto alone = run_samples(false, 7, opt, "Once upon a time");
  const auto together = run_samples(true, 7, opt, "Once upon a time");
  check_same(alone, together);
  CHECK(together.groups == 3);
  // Room for only one: one after another.
  const auto tight = run_samples(true, 3, sampling(11, 300), "Once upon a time");
  CHECK(tight.groups == 0);
}

TEST_CASE("samples: a host that refuses text stops every sample, in lockstep as one after another") {
  const auto opt = sampling(5, 40);
  // Sample 2's fourth chunk is refused while it is held (sample 0 streams live meanwhile).
  const host_rule rule = [](session&, uint32_t i, size_t chunk) { return !(i == 2 && chunk == 3); };
  const auto alone = run_samples(false, 4, opt, "Once upon a time", true, 512, rule);
  const auto together = run_samples(true, 4, opt, "Once upon a time", true, 512, rule);
  check_same(alone, together, false);
  REQUIRE(alone.stats.size() == 3);  // sample 3 never reported
  CHECK(alone.stats[0].stop == stop_reason::max_tokens);
  CHECK(alone.stats[1].stop == stop_reason::max_tokens);
  CHECK(alone.stats[2].stop == stop_reason::callback);
  CHECK(std::count(together.order.begin(), together.order.end(), 3u) == 0);
  // A refusal of the sample that streams live: samples decoding alongside it are dropped unseen.
  const host_rule live = [](session&, uint32_t i, size_t chunk) { return !(i == 0 && chunk == 5); };
  const auto a0 = run_samples(false, 3, opt, "Once upon a time", true, 512, live);
  const auto t0 = run_samples(true, 3, opt, "Once upon a time", true, 512, live);
  check_same(a0, t0);
  REQUIRE(a0.stats.size() == 1);
  CHECK(a0.stats[0].stop == stop_reason::callback);
  CHECK(t0.order == std::vector<uint32_t>(6, 0u));
}

TEST_CASE("samples in lockstep: cancel() stops every sample") {
  const auto opt = sampling(9, 40);
  const host_rule cancel_early = [](session& s, uint32_t i, size_t chunk) {
    if (i == 0 && chunk == 4) s.cancel();
    return true;
  };
  const auto alone = run_samples(false, 5, opt, "Once upon a time", true, 512, {});
  const auto together = run_samples(true, 5, opt, "Once upon a time", true, 512, cancel_early);
  REQUIRE(together.stats.size() == 5);
  for (size_t i = 0; i < 5; ++i) {
    CAPTURE(i);
    CHECK(together.stats[i].stop == stop_reason::cancelled);
    // Every sample had decoded the same few steps: a prefix of its text alone.
    CHECK(alone.text[i].starts_with(together.text[i]));
    CHECK(together.stats[i].content_tokens <= 6);
  }
  CHECK(std::is_sorted(together.order.begin(), together.order.end()));
  // One after another, cancel() ends the sample it came in and no other starts.
  const auto one_by_one = run_samples(false, 5, opt, "Once upon a time", true, 512, cancel_early);
  CHECK(one_by_one.stats.size() == 1);
}

TEST_CASE("samples in lockstep: the cache holds the prompt and the last sample afterwards") {
  const auto& m = stories();
  const auto opt = sampling(21, 30);
  auto prompt = m.tok().encode("Once upon a time", false, false);
  prompt.insert(prompt.begin(), m.tok().bos());
  std::vector<std::string> out;
  for (bool lockstep : {false, true}) {
    probe net(m.net(), lockstep);
    session s(net, m.tok(), 512, 2, true);
    s.generate_samples(prompt, 4, opt, [](uint32_t, channel, std::string_view) { return true; });
    // Continue the last sample: only what is not cached (its last sampled token, and the new one) is
    // evaluated, over the kept KV.
    const uint32_t cached = s.n_cached();
    CHECK(cached + 1 == s.tokens().size());
    auto next = s.tokens();
    next.push_back(m.tok().encode(" and", false, false).front());
    auto greedy = opt;
    greedy.sampling.temperature = 0;
    std::string text;
    const auto st = s.generate(next, greedy, [&](channel, std::string_view t) {
      text += t;
      return true;
    });
    CHECK(st.prompt_reused == cached);
    out.push_back(text);
  }
  CHECK(out[0] == out[1]);
}

TEST_CASE("samples: models without a batch interface decode them one after another") {
  testing::test_vocab v;
  testing::context_model m(v.tok->n_vocab());
  m.next = [&](const std::vector<int32_t>& ctx, float* l) {
    if (ctx.size() < 12)
      for (int c : {'a', 'b', 'c'}) l[c] = 5;
    else
      l[v.eos] = 10;
  };
  session s(m, *v.tok, 256, 1);
  const auto p = v.bytes("letters: ");
  generate_options opt;
  opt.max_tokens = 8;
  opt.sampling.temperature = 1.0f;
  std::vector<uint32_t> order;
  m.evaluated = 0;
  const auto stats = s.generate_samples(p, 4, opt, [&](uint32_t i, channel, std::string_view) {
    order.push_back(i);
    return true;
  });
  REQUIRE(stats.size() == 4);
  CHECK(std::is_sorted(order.begin(), order.end()));
  // The prompt once, then each sample's tokens one forward() at a time (3 evaluated, the 4th sampled
  // token is EOS).
  CHECK(m.evaluated == p.size() + 4 * 3);
}

TEST_CASE("samples: DeepConf online in lockstep as one after another (warm-up groups, early stops, consensus)") {
  auto opt = sampling(13, 40);
  deepconf_options dc;
  dc.how = deepconf_options::mode::online;
  dc.top_k = 5;
  dc.window = 6;
  dc.warmup = 3;
  dc.keep_percent = 90;  // DeepConf-high: the threshold keeps 90% of the warm-up traces
  dc.consensus = 2;      // never safe: every sample runs
  apply_deepconf(dc, opt);
  // Answers: the sample's first letter after the prompt, so the controller has something to count.
  std::vector<std::string> text_a, text_b;
  auto online_run = [&](bool lockstep, std::vector<std::string>& texts, double consensus) {
    texts.assign(9, "");
    auto d = dc;
    d.consensus = consensus;
    deepconf_online ctl(d, [&](uint32_t i) -> std::optional<std::string> {
      return texts[i].empty() ? std::nullopt : std::optional<std::string>(texts[i].substr(2, 1));
    });
    auto r = run_samples(lockstep, 9, opt, "Once upon a time", true, 512, [&](session&, uint32_t i, size_t) { return true; },
                         &ctl.control());
    for (size_t i = 0; i < r.text.size(); ++i) texts[i] = r.text[i];
    return std::make_pair(r, ctl.threshold());
  };
  const auto [alone, th_a] = online_run(false, text_a, 2);
  const auto [together, th_b] = online_run(true, text_b, 2);
  check_same(alone, together);
  REQUIRE(th_a);
  CHECK(*th_a == *th_b);
  REQUIRE(alone.stats.size() == 9);
  CHECK(together.groups >= 2);  // the warm-up in a group of its own
  int stopped = 0;
  for (size_t i = 0; i < 9; ++i) {
    CHECK(!std::isnan(alone.stats[i].confidence_lowest));
    if (alone.stats[i].stop == stop_reason::low_confidence) {
      CHECK(i >= 3);
      ++stopped;
    }
  }
  CHECK(stopped >= 1);
  MESSAGE("online: threshold " << *th_a << ", " << stopped << " of 6 later traces stopped");
  // Every trace agrees: the leader is safe once the warm-up is in, and no later sample is reported
  // (in lockstep the next group never starts).
  auto same = dc;
  same.consensus = 0.95;
  std::vector<samples_run> runs;
  for (bool lockstep : {false, true}) {
    deepconf_online ctl(same, [](uint32_t) { return std::optional<std::string>("x"); });
    runs.push_back(run_samples(lockstep, 9, opt, "Once upon a time", true, 512, {}, &ctl.control()));
  }
  check_same(runs[0], runs[1]);
  CHECK(runs[0].stats.size() == 3);
  CHECK(runs[1].groups == 1);
}
