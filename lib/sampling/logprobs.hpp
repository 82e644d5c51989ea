// Log-probabilities to report with a sampled token (OpenAI's / vLLM's `logprobs`).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "sampling/candidates.hpp"

namespace dianoia::detail {

struct token_logprob {
  int32_t id;
  double logprob;  // natural log; -inf for a token that cannot occur
};

struct logprobs_result {
  double chosen;  // log-probability of the chosen token
  size_t n_top;   // entries written to the caller's buffer
};

// The model's distribution, before any sampler transform (no temperature, penalties or truncation):
// a full-vocabulary log-softmax of the raw logits in double, which is what OpenAI's API and vLLM (by
// default) report. Non-finite logits as sampler_chain::load: NaN and -inf have logprob -inf; if any
// logit is +inf, those tokens share the mass equally and the rest are -inf. Writes the
// min(top.size(), tokens with finite logprob) most likely tokens to `top`, most likely first, ties by
// lower id. `chosen` may be any id in the row (it need not be among the top). Allocation-free.
// Empty row, chosen out of range, or no finite logit: error(invalid_argument).
logprobs_result raw_logprobs(std::span<const float> logits, int32_t chosen, std::span<token_logprob> top);

// The same over a candidate list (e.g. sampler::distribution(), or sampler_chain::candidates() after
// sample()): the log-softmax of the candidates' current logits, i.e. the distribution the pick drew
// from after every transform. A chosen id absent from the list has logprob -inf.
logprobs_result candidate_logprobs(std::span<const token_candidate> cand, int32_t chosen, std::span<token_logprob> top);

}  // namespace dianoia::detail
