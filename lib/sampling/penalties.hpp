// Repetition, frequency and presence penalties over the recently accepted tokens, as llama.cpp's
// "penalties" sampler.
#pragma once
#include <cstdint>
#include <vector>

#include "sampling/stage.hpp"

namespace dianoia::detail {

// For each candidate that occurs c > 0 times in the last `last_n` accepted tokens (float arithmetic,
// as llama.cpp):
//   logit <- logit <= 0 ? logit * repeat : logit / repeat      (CTRL, Keskar et al. 2019, with the
//                                                               usual fix for negative logits)
//   logit <- logit - (c * frequency + presence)
// Order is preserved; the array is marked unsorted. History comes from accept() (the chain calls it
// with every sampled token; sampler::accept_prompt may add the prompt). The window is allocated once
// at construction and the per-id count table at the first apply() (sized to the vocabulary); accept()
// never allocates.
// last_n >= 1 (the sampler maps -1 to its context size), repeat > 0, all finite.
class penalties_stage final : public sampler_stage {
 public:
  penalties_stage(int32_t last_n, float repeat, float frequency, float presence);
  std::string_view name() const override { return "penalties"; }
  void apply(candidate_array& c, stage_context& ctx) override;
  void accept(int32_t token) override;
  void reset() override;

  size_t history_size() const { return size_; }
  // Occurrences of token in the window, for ids of the vocabulary apply() has seen (0 before that).
  int32_t count(int32_t token) const;

 private:
  float repeat_, frequency_, presence_;
  std::vector<int32_t> window_;  // ring buffer of the last last_n tokens
  size_t first_ = 0, size_ = 0;
  std::vector<int32_t> counts_;  // occurrences in the window, by id
};

}  // namespace dianoia::detail
