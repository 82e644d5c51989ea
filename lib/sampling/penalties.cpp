#include "sampling/penalties.hpp"

#include <cmath>

#include "core/error.hpp"

namespace dianoia::detail {

penalties_stage::penalties_stage(int32_t last_n, float repeat, float frequency, float presence)
    : repeat_(repeat), frequency_(frequency), presence_(presence) {
  if (last_n < 1) fail(errc::invalid_argument, "penalties: penalty_last_n must be >= 1 here (got {})", last_n);
  if (!(repeat > 0.0f) || !std::isfinite(repeat))
    fail(errc::invalid_argument, "penalties: repeat_penalty must be finite and > 0 (got {})", repeat);
  if (!std::isfinite(frequency))
    fail(errc::invalid_argument, "penalties: frequency_penalty must be finite (got {})", frequency);
  if (!std::isfinite(presence))
    fail(errc::invalid_argument, "penalties: presence_penalty must be finite (got {})", presence);
  window_.resize(static_cast<size_t>(last_n));
}

int32_t penalties_stage::count(int32_t token) const {
  return token >= 0 && static_cast<size_t>(token) < counts_.size() ? counts_[token] : 0;
}

void penalties_stage::accept(int32_t token) {
  if (token < 0) fail(errc::invalid_argument, "penalties: negative token id {}", token);
  // Counts cover the ids of the vocabulary seen by apply(); other ids only sit in the window (and are
  // counted if a larger vocabulary shows up), so a stray id never makes this allocate.
  const size_t cap = window_.size(), n = counts_.size();
  if (size_ == cap) {
    const int32_t old = window_[first_];
    if (static_cast<size_t>(old) < n) --counts_[old];
    window_[first_] = token;
    first_ = (first_ + 1) % cap;
  } else {
    window_[(first_ + size_) % cap] = token;
    ++size_;
  }
  if (static_cast<size_t>(token) < n) ++counts_[token];
}

void penalties_stage::reset() {
  for (size_t i = 0; i < size_; ++i) {
    const int32_t t = window_[(first_ + i) % window_.size()];
    if (static_cast<size_t>(t) < counts_.size()) counts_[t] = 0;
  }
  first_ = size_ = 0;
}

void penalties_stage::apply(candidate_array& c, stage_context& ctx) {
  if (counts_.size() < ctx.n_vocab) {  // first call for this vocabulary size: count what the window holds
    counts_.assign(ctx.n_vocab, 0);
    for (size_t i = 0; i < size_; ++i) {
      const int32_t t = window_[(first_ + i) % window_.size()];
      if (static_cast<size_t>(t) < counts_.size()) ++counts_[t];
    }
  }
  if (size_ == 0) return;
  const size_t n = counts_.size();
  for (size_t i = 0; i < c.size; ++i) {
    token_candidate& t = c.data[i];
    const int32_t k = static_cast<size_t>(t.id) < n ? counts_[t.id] : 0;
    if (k == 0) continue;
    float l = t.logit;
    l = l <= 0.0f ? l * repeat_ : l / repeat_;
    l -= static_cast<float>(k) * frequency_ + presence_;
    t.logit = l;
  }
  c.sorted = false;
}

}  // namespace dianoia::detail
