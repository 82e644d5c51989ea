// DeepConf over session::generate_samples (see runtime/confidence.hpp for the method): the options of a
// confidence vote, the online controller (warm-up threshold, early stops, consensus stop) and the final
// votes of both modes.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/confidence.hpp"
#include "runtime/session.hpp"

namespace dianoia::detail {

struct deepconf_options {
  enum class mode { offline, online } how = mode::offline;
  int32_t top_k = 20;        // candidates per token confidence
  uint32_t window = 2048;    // tokens per group
  confidence_score score = confidence_score::lowest_group;
  double keep_percent = 10;  // η: the share of traces kept (offline), the warm-up share above the threshold (online)
  uint32_t warmup = 16;      // online: traces that set the threshold
  double consensus = 0.95;   // online: stop once the leader holds this share of the weighted vote (> 1: never)
};

// Throws error(invalid_argument) for options out of range.
void check_deepconf(const deepconf_options& o);

// Sets the confidence tracking every sample needs.
void apply_deepconf(const deepconf_options& o, generate_options& g);

// The online run: give control() to generate_samples; answer_of(i) extracts sample i's answer (called
// once sample i has ended). Offline runs need no controller.
class deepconf_online {
 public:
  deepconf_online(deepconf_options o, std::function<std::optional<std::string>(uint32_t)> answer_of);
  // Valid while this object lives.
  const session::sample_control& control() const { return ctl_; }
  std::optional<double> threshold() const { return threshold_; }

 private:
  bool finished(uint32_t i, const generation_stats& st);
  void prepare(uint32_t i, generate_options& o) const;

  deepconf_options o_;
  std::function<std::optional<std::string>(uint32_t)> answer_of_;
  session::sample_control ctl_;
  std::vector<std::optional<std::string>> answers_;
  std::vector<generation_stats> stats_;
  std::optional<double> threshold_;
};

// The samples that vote: offline, the top keep_percent% by score; online, warm-up samples scoring at
// least the threshold and later samples that were not stopped for low confidence.
std::vector<bool> deepconf_voters(const deepconf_options& o, const std::vector<generation_stats>& st,
                                  std::optional<double> threshold);

// The confidence-weighted vote of a DeepConf run. `used` receives which samples voted.
vote_result deepconf_vote(const deepconf_options& o, const std::vector<std::optional<std::string>>& answers,
                          const std::vector<generation_stats>& st, std::optional<double> threshold,
                          std::vector<bool>& used);

double trace_score(const deepconf_options& o, const generation_stats& st);

}  // namespace dianoia::detail
