// DeepConf's pieces: token confidence from logits, sliding-window group confidences and trace scores,
// the threshold that keeps the top η%, confidence-weighted votes, and the online controller's decisions.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "runtime/confidence.hpp"
#include "runtime/deepconf.hpp"

using namespace dianoia::detail;

TEST_CASE("token confidence: ln(V) for a flat row, higher when peaked") {
  std::vector<token_logprob> scratch(4);
  std::vector<float> flat(100, 0.5f);
  CHECK(token_confidence(flat, scratch) == doctest::Approx(std::log(100.0)));
  std::vector<float> peaked(100, 0.0f);
  peaked[7] = 12.0f;
  CHECK(token_confidence(peaked, scratch) > token_confidence(flat, scratch) + 4);
  // -inf entries (banned tokens) do not count.
  std::vector<float> two(100, -INFINITY);
  two[1] = two[2] = 0.0f;
  CHECK(token_confidence(two, scratch) == doctest::Approx(std::log(2.0)));
}

TEST_CASE("confidence tracker: sliding groups, lowest group, bottom 10%, short traces") {
  confidence_tracker t(3);
  CHECK(std::isnan(t.lowest_group()));
  t.push(4);
  t.push(2);
  CHECK_FALSE(t.full_group());
  CHECK(t.lowest_group() == doctest::Approx(3.0));  // shorter than a window: one group of all of it
  t.push(6);
  REQUIRE(t.full_group());
  CHECK(*t.full_group() == doctest::Approx(4.0));
  t.push(1);  // groups: 4, 3
  t.push(2);  // 3
  t.push(9);  // 4
  CHECK(t.lowest_group() == doctest::Approx(3.0));
  CHECK(t.bottom_10() == doctest::Approx(3.0));  // 4 groups: the lowest one
  for (int i = 0; i < 30; ++i) t.push(10);
  CHECK(t.lowest_group() == doctest::Approx(3.0));
  CHECK(t.bottom_10() == doctest::Approx(10.0 / 3.0));  // 34 groups: mean of the lowest 3 (3, 3, 4)
  CHECK(t.tokens() == 36);
  CHECK_THROWS(confidence_tracker(0));
}

TEST_CASE("keep threshold and weighted votes") {
  CHECK(*keep_threshold({5, 1, 3, 4, 2}, 40) == 4);
  CHECK(*keep_threshold({5, 1, 3, 4, 2}, 10) == 5);   // at least one trace
  CHECK(*keep_threshold({5, 1, 3, 4, 2}, 100) == 1);
  CHECK(*keep_threshold({NAN, 2, 7}, 50) == 7);
  CHECK_FALSE(keep_threshold({}, 50));
  const std::vector<std::optional<std::string>> answers = {"7", "12", "12", std::nullopt, "7", "12"};
  const std::vector<double> scores = {9, 2, 2, 5, 8, 1};
  auto r = weighted_vote(answers, scores, std::vector<bool>(6, true));
  REQUIRE(r.entries.size() == 2);
  CHECK(r.weighted);
  CHECK(r.entries[0].answer == "7");  // 2 votes of weight 17 beat 3 of weight 5
  CHECK(r.entries[0].weight == 17);
  CHECK(r.entries[0].count == 2);
  CHECK(r.entries[1].count == 3);
  CHECK(r.abstained == 1);
  // Only the samples that vote count.
  r = weighted_vote(answers, scores, {false, true, true, true, false, true});
  REQUIRE(r.entries.size() == 1);
  CHECK(r.entries[0].answer == "12");
}

namespace {
generation_stats trace(double score, stop_reason stop = stop_reason::eos) {
  generation_stats s;
  s.confidence_lowest = score;
  s.confidence_bottom10 = score + 1;
  s.stop = stop;
  return s;
}
}  // namespace

TEST_CASE("DeepConf offline keeps the top η%; online sets the threshold from the warm-up and stops at consensus") {
  deepconf_options o;
  o.keep_percent = 50;
  const std::vector<std::optional<std::string>> answers = {"1", "2", "2", "1"};
  const std::vector<generation_stats> st = {trace(9), trace(3), trace(4), trace(8)};
  std::vector<bool> used;
  auto r = deepconf_vote(o, answers, st, std::nullopt, used);
  CHECK(used == std::vector<bool>{true, false, false, true});
  CHECK(r.winner()->answer == "1");

  o.how = deepconf_options::mode::online;
  o.warmup = 2;
  o.consensus = 0.9;
  std::vector<std::optional<std::string>> ans = {"5", "5", "6", "5", "5"};
  deepconf_online ctl(o, [&](uint32_t i) { return ans[i]; });
  generate_options g;
  ctl.control().prepare(0, g);
  CHECK(g.confidence.top_k == 20);
  CHECK_FALSE(g.confidence.stop_below);
  CHECK(ctl.control().finished(0, trace(10)));
  // Threshold: keep 50% of {10, 6} -> 10; only sample 0 votes, "5" holds all of the vote: safe, stop.
  CHECK_FALSE(ctl.control().finished(1, trace(6)));
  o.consensus = 2;
  deepconf_online never(o, [&](uint32_t i) { return ans[i]; });
  CHECK(never.control().finished(0, trace(10)));
  CHECK(never.control().finished(1, trace(6)));
  REQUIRE(never.threshold());
  CHECK(*never.threshold() == 10);
  never.control().prepare(2, g);
  REQUIRE(g.confidence.stop_below);
  CHECK(*g.confidence.stop_below == 10);
  CHECK(never.control().finished(2, trace(4, stop_reason::low_confidence)));
  // Later traces vote unless stopped; warm-up traces vote from the threshold up.
  const std::vector<generation_stats> all = {trace(10), trace(6), trace(4, stop_reason::low_confidence), trace(11)};
  CHECK(deepconf_voters(o, all, 10.0) == std::vector<bool>{true, false, false, true});
  o.warmup = 0;
  CHECK_THROWS(check_deepconf(o));
}

TEST_CASE("DeepConf online: the leader safe after the warm-up stops the sampling") {
  deepconf_options o;
  o.how = deepconf_options::mode::online;
  o.warmup = 2;
  o.keep_percent = 100;
  o.consensus = 0.95;
  std::vector<std::optional<std::string>> ans = {"5", "5", "6"};
  deepconf_online ctl(o, [&](uint32_t i) { return ans[i]; });
  CHECK(ctl.control().finished(0, trace(3)));
  CHECK_FALSE(ctl.control().finished(1, trace(4)));  // both voted "5": 100% >= 95%
  std::vector<std::optional<std::string>> split = {"5", "6", "5"};
  deepconf_online ctl2(o, [&](uint32_t i) { return split[i]; });
  CHECK(ctl2.control().finished(0, trace(3)));
  CHECK(ctl2.control().finished(1, trace(4)));  // 3 : 4, no leader safe
}
