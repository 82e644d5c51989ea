#include "sampling/logprobs.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"

namespace dianoia::detail {

namespace {
constexpr double neg_inf = -std::numeric_limits<double>::infinity();

// "a is more likely than b": larger value, then lower id. A total order on distinct ids.
bool better(double va, int32_t ia, double vb, int32_t ib) { return va > vb || (va == vb && ia < ib); }

// Keeps the k best (value, id) seen so far in a min-heap at the front of `top` (worst on top), so each
// of the V tokens costs O(1) unless it beats the current k-th. Values are raw scores here; converted to
// logprobs by the caller.
class top_k_heap {
 public:
  explicit top_k_heap(std::span<token_logprob> buf) : buf_(buf) {}
  void offer(int32_t id, double v) {
    if (buf_.empty()) return;
    auto worse_first = [](const token_logprob& a, const token_logprob& b) { return better(a.logprob, a.id, b.logprob, b.id); };
    if (n_ < buf_.size()) {
      buf_[n_++] = {id, v};
      std::push_heap(buf_.begin(), buf_.begin() + static_cast<ptrdiff_t>(n_), worse_first);
    } else if (better(v, id, buf_[0].logprob, buf_[0].id)) {
      std::pop_heap(buf_.begin(), buf_.begin() + static_cast<ptrdiff_t>(n_), worse_first);
      buf_[n_ - 1] = {id, v};
      std::push_heap(buf_.begin(), buf_.begin() + static_cast<ptrdiff_t>(n_), worse_first);
    }
  }
  // Sorts best first and shifts the values by -log_z.
  size_t finish(double log_z) {
    std::sort(buf_.begin(), buf_.begin() + static_cast<ptrdiff_t>(n_),
              [](const token_logprob& a, const token_logprob& b) { return better(a.logprob, a.id, b.logprob, b.id); });
    for (size_t i = 0; i < n_; ++i) buf_[i].logprob -= log_z;
    return n_;
  }

 private:
  std::span<token_logprob> buf_;
  size_t n_ = 0;
};
}  // namespace

logprobs_result raw_logprobs(std::span<const float> logits, int32_t chosen, std::span<token_logprob> top) {
  if (logits.empty()) fail(errc::invalid_argument, "logprobs: empty logits");
  if (chosen < 0 || static_cast<size_t>(chosen) >= logits.size())
    fail(errc::invalid_argument, "logprobs: chosen token {} outside a vocabulary of {}", chosen, logits.size());
  size_t n_pos_inf = 0, n_finite = 0;
  double mx = neg_inf;
  for (float l : logits) {
    if (l == std::numeric_limits<float>::infinity())
      ++n_pos_inf;
    else if (std::isfinite(l))
      ++n_finite, mx = std::max(mx, static_cast<double>(l));
  }
  top_k_heap heap(top);
  if (n_pos_inf > 0) {
    // +inf tokens share the mass: each has log(1/n); every other token is impossible.
    const double lp = -std::log(static_cast<double>(n_pos_inf));
    for (size_t i = 0; i < logits.size(); ++i)
      if (logits[i] == std::numeric_limits<float>::infinity()) heap.offer(static_cast<int32_t>(i), lp);
    const size_t n = heap.finish(0.0);
    return {logits[chosen] == std::numeric_limits<float>::infinity() ? lp : neg_inf, n};
  }
  if (n_finite == 0) fail(errc::invalid_argument, "logprobs: all {} logits are -inf or NaN", logits.size());
  double sum = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    const float l = logits[i];
    if (!std::isfinite(l)) continue;
    const double d = static_cast<double>(l) - mx;
    sum += std::exp(d);
    heap.offer(static_cast<int32_t>(i), d);
  }
  const double log_z = std::log(sum);
  const size_t n = heap.finish(log_z);
  const float lc = logits[chosen];
  return {std::isfinite(lc) ? static_cast<double>(lc) - mx - log_z : neg_inf, n};
}

logprobs_result candidate_logprobs(std::span<const token_candidate> cand, int32_t chosen, std::span<token_logprob> top) {
  if (cand.empty()) fail(errc::invalid_argument, "logprobs: no candidates");
  double mx = neg_inf;
  for (const auto& t : cand)
    if (std::isfinite(t.logit)) mx = std::max(mx, static_cast<double>(t.logit));
  if (mx == neg_inf) fail(errc::invalid_argument, "logprobs: no candidate has a finite logit");
  top_k_heap heap(top);
  double sum = 0, chosen_d = neg_inf;
  for (const auto& t : cand) {
    if (!std::isfinite(t.logit)) continue;
    const double d = static_cast<double>(t.logit) - mx;
    sum += std::exp(d);
    heap.offer(t.id, d);
    if (t.id == chosen) chosen_d = d;
  }
  const double log_z = std::log(sum);
  return {chosen_d - log_z, heap.finish(log_z)};
}

}  // namespace dianoia::detail
