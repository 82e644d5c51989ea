// A stage implemented by the host program through plain function pointers (the C ABI's custom
// samplers are built on it). The host sees the candidate array as it stands at that point in the
// chain and may reorder it, shrink it, rewrite logits and p, or choose a token.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "sampling/stage.hpp"

namespace dianoia::detail {

struct host_stage_fns {
  // Required. data[0..*size) are the candidates (token_candidate is {int32 id, float logit, float p},
  // the layout of llama.cpp's llama_token_data; p is the softmax of the logits as they stand). The
  // host may permute entries, lower *size (to >= 1), change logit and p, and set *selected to an
  // index < *size to choose that token (the chain then stops). It must not change ids or add entries.
  // Returns 0 on success; anything else fails the sample with error(invalid_argument).
  int (*apply)(void* user, token_candidate* data, size_t* size, int64_t* selected);
  void (*accept)(void* user, int32_t token) = nullptr;  // optional: a token was chosen
  void (*reset)(void* user) = nullptr;                  // optional: forget history
  void* user = nullptr;
};

// What the chain checks after the callback: 1 <= size <= the size before, selected (if set) < size,
// every id still in [0, n_vocab), no NaN or +inf logit (duplicate ids are not checked); otherwise error(invalid_argument) naming the stage. The
// array is marked unsorted. With picks = true the host must select (the stage may end a chain).
class host_stage final : public sampler_stage {
 public:
  host_stage(std::string name, const host_stage_fns& fns, bool picks);
  std::string_view name() const override { return name_; }
  bool picks() const override { return picks_; }
  void apply(candidate_array& c, stage_context& ctx) override;
  void accept(int32_t token) override {
    if (fns_.accept) fns_.accept(fns_.user, token);
  }
  void reset() override {
    if (fns_.reset) fns_.reset(fns_.user);
  }

 private:
  std::string name_;
  host_stage_fns fns_;
  bool picks_;
};

}  // namespace dianoia::detail
