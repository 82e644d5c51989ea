// Final stages: they choose one candidate and set candidate_array::selected.
#pragma once
#include "sampling/stage.hpp"

namespace dianoia::detail {

// Argmax; ties go to the lowest id. Draws nothing from the generator.
class greedy_stage final : public sampler_stage {
 public:
  std::string_view name() const override { return "greedy"; }
  bool picks() const override { return true; }
  void apply(candidate_array& c, stage_context& ctx) override;
};

// Softmax over what the earlier stages left, then pick_by_cdf with one uniform draw. Exactly one draw
// per call, even with a single candidate left, so the generator's position depends only on the number
// of tokens sampled, not on the logits.
class random_pick_stage final : public sampler_stage {
 public:
  std::string_view name() const override { return "dist"; }
  bool picks() const override { return true; }
  void apply(candidate_array& c, stage_context& ctx) override;
};

}  // namespace dianoia::detail
