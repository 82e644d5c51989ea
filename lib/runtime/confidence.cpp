#include "runtime/confidence.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"

namespace dianoia::detail {

double token_confidence(std::span<const float> logits, std::span<token_logprob> scratch) {
  const auto r = raw_logprobs(logits, 0, scratch);
  double sum = 0;
  size_t n = 0;
  for (size_t i = 0; i < r.n_top; ++i)
    if (std::isfinite(scratch[i].logprob)) {
      sum += scratch[i].logprob;
      ++n;
    }
  return n ? -sum / static_cast<double>(n) : 0.0;
}

confidence_tracker::confidence_tracker(uint32_t window) : window_(window) {
  if (window == 0) fail(errc::invalid_argument, "the confidence window must hold at least one token");
}

void confidence_tracker::push(double c) {
  ++n_;
  last_.push_back(c);
  sum_ += c;
  if (last_.size() > window_) {
    sum_ -= last_.front();
    last_.pop_front();
  }
  if (last_.size() == window_) {
    const double g = sum_ / window_;
    lowest_ = groups_.empty() ? g : std::min(lowest_, g);
    groups_.push_back(g);
  }
}

std::optional<double> confidence_tracker::full_group() const {
  if (last_.size() < window_) return std::nullopt;
  return sum_ / window_;
}

double confidence_tracker::lowest_group() const {
  if (n_ == 0) return std::numeric_limits<double>::quiet_NaN();
  if (groups_.empty()) return sum_ / static_cast<double>(last_.size());  // shorter than a window: one group
  return lowest_;
}

double confidence_tracker::bottom_10() const {
  if (n_ == 0) return std::numeric_limits<double>::quiet_NaN();
  if (groups_.empty()) return sum_ / static_cast<double>(last_.size());
  std::vector<double> g = groups_;
  const size_t k = std::max<size_t>(1, g.size() / 10);
  std::partial_sort(g.begin(), g.begin() + static_cast<long>(k), g.end());
  double s = 0;
  for (size_t i = 0; i < k; ++i) s += g[i];
  return s / static_cast<double>(k);
}

std::optional<double> keep_threshold(std::vector<double> scores, double keep_percent) {
  std::erase_if(scores, [](double s) { return std::isnan(s); });
  if (scores.empty()) return std::nullopt;
  std::sort(scores.begin(), scores.end(), std::greater<>());
  // Keep ceil(keep% of n) traces, at least one: the threshold is the last kept score.
  const double want = std::ceil(static_cast<double>(scores.size()) * keep_percent / 100.0);
  const size_t keep = std::clamp<size_t>(static_cast<size_t>(want), 1, scores.size());
  return scores[keep - 1];
}

vote_result weighted_vote(const std::vector<std::optional<std::string>>& answers, const std::vector<double>& scores,
                          const std::vector<bool>& used) {
  // Counts and first samples as the plain vote has them, over the samples that vote.
  std::vector<std::optional<std::string>> voting(answers.size());
  for (size_t i = 0; i < answers.size(); ++i)
    if (used[i]) voting[i] = answers[i];
  vote_result r = majority_vote(voting);
  r.abstained = 0;
  for (size_t i = 0; i < answers.size(); ++i) r.abstained += used[i] && !answers[i];
  r.weighted = true;
  for (auto& e : r.entries) e.weight = 0;
  for (size_t i = 0; i < answers.size(); ++i) {
    if (!used[i] || !answers[i]) continue;
    const std::string a = trimmed_answer(*answers[i]);
    for (auto& e : r.entries)
      if (e.answer == a) e.weight += std::isnan(scores[i]) ? 0.0 : scores[i];
  }
  std::stable_sort(r.entries.begin(), r.entries.end(), [](const vote_entry& a, const vote_entry& b) {
    return a.weight != b.weight ? a.weight > b.weight : a.first_sample < b.first_sample;
  });
  r.tie = r.entries.size() >= 2 && r.entries[0].weight == r.entries[1].weight;
  return r;
}

}  // namespace dianoia::detail
