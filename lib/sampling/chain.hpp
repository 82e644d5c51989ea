// An ordered list of stages over one reusable candidate buffer.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "sampling/stage.hpp"

namespace dianoia::detail {

class sampler_chain {
 public:
  void add(std::unique_ptr<sampler_stage> s);
  size_t size() const { return stages_.size(); }
  sampler_stage& stage(size_t i) { return *stages_[i]; }

  // Fills the candidate buffer from raw logits, in id order, unsorted. Non-finite logits, so that a
  // broken or masked row still gives the same answer everywhere:
  //   NaN      is treated as -inf;
  //   -inf     drops the token (a mask: it can never be chosen, whatever the stages do);
  //   +inf     if any logit is +inf, only those tokens remain, each with logit 0 (equally likely;
  //            greedy takes the lowest id);
  //   nothing left (every logit -inf or NaN, or an empty row) is error(invalid_argument).
  // Allocates only when the vocabulary grows past what the buffer already holds.
  candidate_array& load(std::span<const float> logits);

  // Runs stages [first, last) over the loaded candidates; stops after a stage that selects.
  void run(stage_context& ctx, size_t first, size_t last);

  // load + every stage + accept(): the chosen token id. The last stage must pick.
  int32_t sample(std::span<const float> logits, stage_context& ctx);

  // Tells every stage that `token` was chosen (sample() does this itself; for tokens chosen elsewhere,
  // e.g. the prompt when it should count for the repetition penalties).
  void accept(int32_t token);
  void reset();
  // After sample(): what the pick saw (for a random pick, p is its softmax).
  const candidate_array& candidates() const { return cur_; }
  size_t n_vocab() const { return n_vocab_; }

 private:
  std::vector<std::unique_ptr<sampler_stage>> stages_;
  std::vector<token_candidate> buf_;
  candidate_array cur_;
  size_t n_vocab_ = 0;
};

}  // namespace dianoia::detail
