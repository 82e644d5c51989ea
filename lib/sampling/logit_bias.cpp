#include "sampling/logit_bias.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace dianoia::detail {

logit_bias_stage::logit_bias_stage(std::span<const logit_bias_entry> biases) {
  for (const auto& b : biases) {
    if (b.token < 0) fail(errc::invalid_argument, "sampler: logit_bias token id must be >= 0 (got {})", b.token);
    if (std::isnan(b.bias) || b.bias == INFINITY)
      fail(errc::invalid_argument, "sampler: logit_bias for token {} must be finite or -inf (got {})", b.token, b.bias);
  }
  biases_.assign(biases.begin(), biases.end());
  std::stable_sort(biases_.begin(), biases_.end(), [](const auto& a, const auto& b) { return a.token < b.token; });
  size_t n = 0;
  for (size_t i = 0; i < biases_.size(); ++i) {
    if (n > 0 && biases_[n - 1].token == biases_[i].token)
      biases_[n - 1].bias += biases_[i].bias;  // -inf stays -inf
    else
      biases_[n++] = biases_[i];
  }
  biases_.resize(n);
}

const logit_bias_entry* logit_bias_stage::find(int32_t id) const {
  auto it = std::lower_bound(biases_.begin(), biases_.end(), id, [](const auto& b, int32_t v) { return b.token < v; });
  return it != biases_.end() && it->token == id ? &*it : nullptr;
}

void logit_bias_stage::apply(candidate_array& c, stage_context& ctx) {
  if (biases_.empty()) return;
  bool touched = false;
  size_t n = 0;
  // Few biases against a vocabulary-sized array: when every biased id sits at its own index (the usual
  // case: this stage runs first on a row without masked tokens), each bias is one lookup; otherwise a
  // binary search per candidate.
  bool direct = true;
  for (const auto& b : biases_) {
    if (static_cast<size_t>(b.token) >= ctx.n_vocab) break;  // not in this vocabulary
    if (static_cast<size_t>(b.token) >= c.size || c.data[b.token].id != b.token) {
      direct = false;
      break;
    }
  }
  if (direct) {
    bool any_ban = false;
    for (const auto& b : biases_) {
      if (static_cast<size_t>(b.token) >= ctx.n_vocab) break;
      if (b.bias == -INFINITY)
        any_ban = true;
      else
        c.data[b.token].logit += b.bias, touched = true;
    }
    n = c.size;
    if (any_ban) {
      n = 0;
      for (size_t i = 0; i < c.size; ++i) {
        const logit_bias_entry* b = find(c.data[i].id);
        if (!(b && b->bias == -INFINITY)) c.data[n++] = c.data[i];
      }
    }
  } else {
    for (size_t i = 0; i < c.size; ++i) {
      token_candidate t = c.data[i];
      if (const logit_bias_entry* b = find(t.id)) {
        if (b->bias == -INFINITY) continue;
        t.logit += b->bias;
        touched = true;
      }
      c.data[n++] = t;
    }
  }
  if (n == 0) fail(errc::invalid_argument, "sampler: logit_bias bans every remaining candidate");
  c.size = n;
  if (touched) c.sorted = false;
}

}  // namespace dianoia::detail
