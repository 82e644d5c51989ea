#include "runtime/deepconf.hpp"

#include <cmath>

#include "core/error.hpp"

namespace dianoia::detail {

void check_deepconf(const deepconf_options& o) {
  if (o.top_k < 1 || o.top_k > 100) fail(errc::invalid_argument, "confidence top-k must be in [1, 100], is {}", o.top_k);
  if (o.window == 0) fail(errc::invalid_argument, "the confidence window must hold at least one token");
  if (!(o.keep_percent > 0 && o.keep_percent <= 100))
    fail(errc::invalid_argument, "the kept share of traces must be in (0, 100] percent, is {}", o.keep_percent);
  if (o.how == deepconf_options::mode::online && o.warmup == 0)
    fail(errc::invalid_argument, "online confidence voting needs at least one warm-up trace");
  if (!(o.consensus > 0)) fail(errc::invalid_argument, "the consensus share must be positive, is {}", o.consensus);
}

void apply_deepconf(const deepconf_options& o, generate_options& g) {
  g.confidence.top_k = o.top_k;
  g.confidence.window = o.window;
  g.confidence.stop_below.reset();
}

double trace_score(const deepconf_options& o, const generation_stats& st) {
  return o.score == confidence_score::lowest_group ? st.confidence_lowest : st.confidence_bottom10;
}

deepconf_online::deepconf_online(deepconf_options o, std::function<std::optional<std::string>(uint32_t)> answer_of)
    : o_(o), answer_of_(std::move(answer_of)) {
  check_deepconf(o_);
  ctl_.warmup = o_.warmup;
  ctl_.finished = [this](uint32_t i, const generation_stats& st) { return finished(i, st); };
  ctl_.prepare = [this](uint32_t i, generate_options& g) { prepare(i, g); };
}

void deepconf_online::prepare(uint32_t i, generate_options& g) const {
  apply_deepconf(o_, g);
  if (i >= o_.warmup) g.confidence.stop_below = threshold_;
}

bool deepconf_online::finished(uint32_t i, const generation_stats& st) {
  if (i != stats_.size()) fail(errc::internal, "sample {} ended out of order", i);
  stats_.push_back(st);
  answers_.push_back(answer_of_(i));
  if (i + 1 < o_.warmup) return true;
  if (i + 1 == o_.warmup) {
    std::vector<double> scores;
    for (const auto& s : stats_) scores.push_back(trace_score(o_, s));
    threshold_ = keep_threshold(scores, o_.keep_percent);
  }
  // Is the leader safe? Its share of the weighted vote among the samples that vote so far.
  std::vector<bool> used;
  const auto r = deepconf_vote(o_, answers_, stats_, threshold_, used);
  double total = 0;
  for (const auto& e : r.entries) total += e.weight;
  return !(total > 0 && r.winner() && r.winner()->weight / total >= o_.consensus);
}

std::vector<bool> deepconf_voters(const deepconf_options& o, const std::vector<generation_stats>& st,
                                  std::optional<double> threshold) {
  std::vector<double> scores;
  for (const auto& s : st) scores.push_back(trace_score(o, s));
  if (o.how == deepconf_options::mode::offline) threshold = keep_threshold(scores, o.keep_percent);
  std::vector<bool> used(st.size(), false);
  for (size_t i = 0; i < st.size(); ++i) {
    const bool scored = !std::isnan(scores[i]) && threshold;
    if (o.how == deepconf_options::mode::online && i >= o.warmup)
      used[i] = st[i].stop != stop_reason::low_confidence && !std::isnan(scores[i]);
    else
      used[i] = scored && scores[i] >= *threshold;
  }
  return used;
}

vote_result deepconf_vote(const deepconf_options& o, const std::vector<std::optional<std::string>>& answers,
                          const std::vector<generation_stats>& st, std::optional<double> threshold,
                          std::vector<bool>& used) {
  used = deepconf_voters(o, st, threshold);
  std::vector<double> scores;
  for (const auto& s : st) scores.push_back(trace_score(o, s));
  return weighted_vote(answers, scores, used);
}

}  // namespace dianoia::detail
