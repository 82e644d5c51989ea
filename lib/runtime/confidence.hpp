// Confidence-aware self-consistency: DeepConf (Fu, Wang, Tian, Zhao, "Deep Think with Confidence",
// arXiv 2508.15260).
//
//  * Token confidence: minus the mean log-probability of the k most likely tokens under the model's raw
//    distribution; high when the distribution is peaked (the model is sure), low when it is flat.
//  * Group confidence: the mean token confidence over a sliding window of the last `window` tokens (a
//    trace shorter than the window has one group: all of it).
//  * Trace score: its lowest group confidence, or the mean of its bottom 10% of groups.
//  * Offline: keep the top η% of traces by score, and vote weighting each answer by its traces' scores.
//  * Online: the first warm-up traces run in full and set a threshold, the score that keeps their top η%;
//    every later trace stops as soon as a full window's confidence falls below it (and does not vote);
//    sampling stops once the leader holds a share τ of the (confidence-weighted) vote.
#pragma once
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/vote.hpp"
#include "sampling/logprobs.hpp"

namespace dianoia::detail {

enum class confidence_score { lowest_group, bottom_10 };

// What a generation tracks (off when top_k is 0).
struct confidence_options {
  int32_t top_k = 0;        // candidates per token confidence (the paper uses 20); 0: not tracked
  uint32_t window = 2048;   // tokens per group (the paper's 2048)
  // Online: stop the generation (stop_reason::low_confidence) once a full window's confidence is below
  // this. Unset: never.
  std::optional<double> stop_below;
};

// Token confidence from a row of raw logits; `scratch` holds at least top_k entries.
double token_confidence(std::span<const float> logits, std::span<token_logprob> scratch);

// Token confidences of one trace, as they come.
class confidence_tracker {
 public:
  explicit confidence_tracker(uint32_t window);
  void push(double token_conf);
  // The confidence of the last `window` tokens, once that many were seen.
  std::optional<double> full_group() const;
  // Scores of the trace so far (NaN with no token).
  double lowest_group() const;
  double bottom_10() const;
  double score(confidence_score s) const { return s == confidence_score::lowest_group ? lowest_group() : bottom_10(); }
  uint32_t tokens() const { return n_; }

 private:
  uint32_t window_;
  uint32_t n_ = 0;
  std::deque<double> last_;   // the current window
  double sum_ = 0;            // of last_
  std::vector<double> groups_;  // full-window means, one per token from the window-th on
  double lowest_ = 0;           // of groups_
};

// The score that keeps the top `keep_percent`% of `scores` (the (100 - keep)-th percentile, by the
// nearest rank); scores below it are cut. Empty: nullopt.
std::optional<double> keep_threshold(std::vector<double> scores, double keep_percent);

// A confidence-weighted vote: answers[i] with weight scores[i], counting only samples with used[i].
// Entries sort by weight (ties: the earlier answer); count is the number of samples behind each.
vote_result weighted_vote(const std::vector<std::optional<std::string>>& answers, const std::vector<double>& scores,
                          const std::vector<bool>& used);

}  // namespace dianoia::detail
