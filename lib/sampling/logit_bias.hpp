// Logit bias: a fixed additive bias per token id (OpenAI's and llama.cpp's logit_bias).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "sampling/stage.hpp"

namespace dianoia::detail {

struct logit_bias_entry {
  int32_t token;
  float bias;  // added to the logit; -inf bans the token
};

// logit <- logit + bias (float arithmetic, as llama.cpp). A -inf bias removes the candidate instead of
// leaving a -inf logit behind; banning every remaining candidate is error(invalid_argument). Several
// entries for one id add up (in the order given). Ids at or beyond the vocabulary are ignored (the
// bias list may be written for a larger vocabulary). Order is preserved; the array is marked unsorted
// when a finite bias touched a candidate. Entries: id >= 0, bias finite or -inf.
class logit_bias_stage final : public sampler_stage {
 public:
  explicit logit_bias_stage(std::span<const logit_bias_entry> biases);
  std::string_view name() const override { return "logit_bias"; }
  void apply(candidate_array& c, stage_context& ctx) override;

 private:
  std::vector<logit_bias_entry> biases_;  // sorted by id, one entry per id
  const logit_bias_entry* find(int32_t id) const;
};

}  // namespace dianoia::detail
