// The configured sampler: builds the default stage chain from sampler_params and owns the generator.
#pragma once
#include <cstdint>
#include <span>

#include "sampling/chain.hpp"
#include "sampling/rng.hpp"

namespace dianoia::detail {

struct sampler_params {
  float temperature = 0.8f;  // <= 0: greedy
  int32_t top_k = 40;        // <= 0: off
  float top_p = 0.95f;       // >= 1: off; must not be negative
  float min_p = 0.05f;       // <= 0: off; must not exceed 1
  uint64_t seed = 0;
};

// Chain, as llama.cpp's default: top_k -> top_p -> min_p -> temperature -> random pick, disabled stages
// left out. With temperature <= 0 the chain is just the greedy pick: these filters always keep the
// argmax, so running them would not change the answer. (Stages that can drop the argmax, such as
// penalties or XTC, will have to go before the pick in greedy mode as well.)
// Non-finite logits: see sampler_chain::load. sample() allocates only on the first call for a given
// vocabulary size (and when the vocabulary grows).
class sampler {
 public:
  explicit sampler(const sampler_params& p);  // NaN or out-of-range params: error(invalid_argument)

  int32_t sample(std::span<const float> logits);
  void reseed(uint64_t seed) { rng_.reseed(seed); }

  // The distribution the pick draws from for these logits: the candidates every stage but the pick
  // leaves, with p the softmax over them (the full vocabulary in greedy mode). Draws nothing.
  std::span<const token_candidate> distribution(std::span<const float> logits);

  const sampler_params& params() const { return params_; }
  sampler_chain& chain() { return chain_; }

 private:
  sampler_params params_;
  sampler_chain chain_;
  rng rng_;
};

}  // namespace dianoia::detail
