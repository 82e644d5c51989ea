#include "sampling/filters.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace dianoia::detail {

top_k_stage::top_k_stage(int32_t k) : k_(static_cast<size_t>(k)) {
  if (k < 1) fail(errc::invalid_argument, "top_k stage: k must be >= 1 (got {})", k);
}

void top_k_stage::apply(candidate_array& c, stage_context&) {
  if (!c.sorted) sort_prefix(c, 0, k_);
  c.sorted = true;
  c.size = std::min(c.size, k_);
}

top_p_stage::top_p_stage(float p) : p_(p) {
  if (!(p >= 0.0f && p < 1.0f)) fail(errc::invalid_argument, "top_p stage: p must be in [0, 1) (got {})", p);
}

void top_p_stage::apply(candidate_array& c, stage_context&) {
  softmax(c);
  // Sort lazily in growing chunks: with the full vocabulary and top_k off, the nucleus is usually a few
  // dozen tokens and a full sort of 10^5 candidates would dominate the step.
  size_t have = c.sorted ? c.size : 0;
  double cum = 0;
  for (size_t i = 0; i < c.size; ++i) {
    if (i >= have) {
      const size_t want = std::max<size_t>(64, 2 * have);
      sort_prefix(c, have, want);
      have = std::min(want, c.size);
    }
    cum += c.data[i].p;
    if (cum >= p_) {
      c.size = i + 1;
      break;
    }
  }
  c.sorted = true;  // either cut to a sorted prefix, or the loop sorted everything
}

min_p_stage::min_p_stage(float min_p) {
  if (!(min_p > 0.0f && min_p <= 1.0f))
    fail(errc::invalid_argument, "min_p stage: min_p must be in (0, 1] (got {})", min_p);
  log_min_p_ = std::log(static_cast<double>(min_p));
}

void min_p_stage::apply(candidate_array& c, stage_context&) {
  const double threshold = static_cast<double>(max_logit(c)) + log_min_p_;
  size_t kept = 0;
  for (size_t i = 0; i < c.size; ++i)
    if (static_cast<double>(c.data[i].logit) >= threshold) c.data[kept++] = c.data[i];
  // The best candidate always passes (log_min_p_ <= 0), so kept >= 1.
  c.size = kept;
}

temperature_stage::temperature_stage(float t) : t_(t) {
  if (!(t > 0.0f) || !std::isfinite(t))
    fail(errc::invalid_argument, "temperature stage: t must be finite and > 0 (got {})", t);
}

void temperature_stage::apply(candidate_array& c, stage_context&) {
  const double m = max_logit(c);
  for (size_t i = 0; i < c.size; ++i)
    c.data[i].logit = static_cast<float>((static_cast<double>(c.data[i].logit) - m) / t_);
}

}  // namespace dianoia::detail
