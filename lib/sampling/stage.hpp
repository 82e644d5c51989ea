// The sampler stage interface. A sampler is a chain of stages run in order over one candidate array;
// the last stage picks. Penalties and DRY keep the accepted-token history, mirostat keeps state and
// picks itself, host_stage wraps this interface for callbacks.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sampling/candidates.hpp"
#include "sampling/rng.hpp"

namespace dianoia::detail {

// What a stage may use besides the candidates. One generator per sampler, shared by every stage that
// draws, so that a single seed replays the whole chain.
struct stage_context {
  rng& gen;
  size_t n_vocab = 0;  // length of the logits row; every candidate id is below it (set by the chain)
};

class sampler_stage {
 public:
  virtual ~sampler_stage() = default;
  virtual std::string_view name() const = 0;

  // Must keep c.sorted truthful: a stage that reorders without sorting clears it. Must not allocate
  // (the chain promises allocation-free sampling once the buffer exists).
  virtual void apply(candidate_array& c, stage_context& ctx) = 0;

  // True for stages that set c.selected; the chain requires its last stage to be one. A stage that
  // selects ends the run (a host callback may select before the last stage).
  virtual bool picks() const { return false; }

  // For pick stages: the truncation apply() makes before it picks, without picking, drawing or
  // changing state (sampler::distribution). Default: nothing.
  virtual void narrow(candidate_array& /*c*/, stage_context& /*ctx*/) {}

  // The token finally chosen, for stages with history (penalties, DRY; mirostat updates mu in apply()).
  virtual void accept(int32_t /*token*/) {}

  // Forget history, e.g. for a new conversation.
  virtual void reset() {}
};

}  // namespace dianoia::detail
