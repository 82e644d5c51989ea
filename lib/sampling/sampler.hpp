// The configured sampler: builds the stage chain from sampler_params and owns the generator.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sampling/chain.hpp"
#include "sampling/dry.hpp"
#include "sampling/host_stage.hpp"
#include "sampling/logit_bias.hpp"
#include "sampling/rng.hpp"

namespace dianoia::detail {

// The reorderable stages (llama.cpp's --samplers). Logit bias always runs first and the pick last.
enum class stage_kind : uint8_t {
  penalties,
  dry,
  top_n_sigma,
  top_k,
  typical_p,
  top_p,
  min_p,
  xtc,
  temperature,
  host,  // the next of sampler_params::host_stages that does not pick
};

// llama.cpp's common default: penalties, dry, top_n_sigma, top_k, typical_p, top_p, min_p, xtc,
// temperature.
std::span<const stage_kind> default_stage_order();
std::string_view stage_kind_name(stage_kind k);
// Names separated by ';', ',' or spaces, as llama.cpp's --samplers: penalties, dry, top_n_sigma,
// top_k, typ_p (or typical_p, typical), top_p, min_p, xtc, temperature (or temp), host. Unknown
// name: error(invalid_argument).
std::vector<stage_kind> parse_stage_order(std::string_view s);

struct host_stage_def {
  std::string name;
  host_stage_fns fns;
  bool picks = false;  // at most one; it replaces the built-in pick (in every mode)
};

// Defaults are llama.cpp's (common_params_sampling); the stages llama.cpp disables by default are off.
struct sampler_params {
  float temperature = 0.8f;  // <= 0: greedy (see sampler)
  int32_t top_k = 40;        // <= 0: off
  float top_p = 0.95f;       // >= 1: off; must not be negative
  float min_p = 0.05f;       // <= 0: off; must not exceed 1
  uint64_t seed = 0;

  std::vector<logit_bias_entry> logit_bias;  // always applied first, greedy included

  // Repetition penalties over the last penalty_last_n accepted tokens (-1: context_size; 0: off).
  int32_t penalty_last_n = 64;
  float repeat_penalty = 1.0f;     // 1: off; must be > 0
  float frequency_penalty = 0.0f;  // 0: off
  float presence_penalty = 0.0f;   // 0: off
  // Whether accept_prompt() feeds the prompt into the penalty and DRY history (llama.cpp's server
  // does not).
  bool penalize_prompt = false;

  float dry_multiplier = 0.0f;     // 0: off
  float dry_base = 1.75f;          // >= 1
  int32_t dry_allowed_length = 2;  // >= 0
  int32_t dry_penalty_last_n = -1;  // -1: context_size; 0: off
  std::vector<std::string> dry_sequence_breakers = {"\n", ":", "\"", "*"};

  float dynatemp_range = 0.0f;     // > 0: temperature +- range by entropy; 0: off
  float dynatemp_exponent = 1.0f;  // >= 0
  float typical_p = 1.0f;          // >= 1: off; in [0, 1)
  float xtc_probability = 0.0f;    // <= 0: off; at most 1
  float xtc_threshold = 0.1f;      // > 0.5: off; must not be negative
  float top_n_sigma = -1.0f;       // <= 0: off

  int32_t mirostat = 0;  // 0: off; 2: mirostat 2.0 (version 1 is not supported)
  float mirostat_tau = 5.0f;
  float mirostat_eta = 0.1f;

  std::vector<stage_kind> order;  // empty: default_stage_order()
  std::vector<host_stage_def> host_stages;

  int32_t context_size = 4096;  // the window that penalty_last_n / dry_penalty_last_n = -1 mean
};

// The chain:
//   logit_bias -> [stages of `order`, disabled ones left out] -> pick
// with, by mode:
//   random (temperature > 0, mirostat 0): temperature is dynamic when dynatemp_range > 0; pick = dist.
//   mirostat 2 (temperature > 0): only penalties, dry and host stages of the order run, then plain
//     temperature and the mirostat pick (llama.cpp runs no penalties with mirostat; we keep them when
//     set, since nothing else would tell the user they were ignored).
//   greedy (temperature <= 0, whatever mirostat and dynatemp say): every stage of the order but
//     temperature, then argmax (ties to the lowest id). Truncations that keep the argmax (top_k, top_p,
//     min_p, top_n_sigma) are left out unless a stage that depends on the candidate set (typical, xtc,
//     host) comes after them, so the usual greedy chain is logit_bias, penalties, dry, greedy.
// Host stages: each `host` entry of the order takes the next non-picking host_stages entry; those not
// placed run just before the pick; a picking one replaces the pick.
// Non-finite logits: see sampler_chain::load. sample() allocates only on the first call for a given
// vocabulary size (and when the vocabulary grows).
class sampler {
 public:
  // NaN or out-of-range params: error(invalid_argument) naming the field. `texts` is needed only for
  // DRY with sequence breakers (see token_texts); it is not kept.
  explicit sampler(const sampler_params& p, const token_texts* texts = nullptr);

  int32_t sample(std::span<const float> logits);
  void reseed(uint64_t seed) { rng_.reseed(seed); }

  // A token chosen outside sample() (e.g. forced text) enters the history of the stages that keep one.
  void accept(int32_t token) { chain_.accept(token); }
  // The prompt: accepted as above only if params.penalize_prompt.
  void accept_prompt(std::span<const int32_t> tokens);
  // Forgets history (penalties, DRY, mirostat's mu, host stages); the generator is left as it is.
  void reset() { chain_.reset(); }

  // The distribution the pick draws from for these logits: the candidates every stage leaves, after
  // the pick's own truncation (mirostat), with p the softmax over them. Changes no state: stages that
  // draw (XTC) use a copy of the generator, so this shows what the next sample() would see.
  std::span<const token_candidate> distribution(std::span<const float> logits);

  const sampler_params& params() const { return params_; }
  sampler_chain& chain() { return chain_; }

 private:
  sampler_params params_;
  sampler_chain chain_;
  rng rng_;
};

}  // namespace dianoia::detail
