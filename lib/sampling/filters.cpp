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

namespace dianoia::detail {

namespace {
// Entropy in nats of the p field, skipping zeros (0 log 0 = 0).
double entropy(const candidate_array& c) {
  double h = 0;
  for (size_t i = 0; i < c.size; ++i) {
    const double p = c.data[i].p;
    if (p > 0) h -= p * std::log(p);
  }
  return h;
}
}  // namespace

top_n_sigma_stage::top_n_sigma_stage(float n) : n_(n) {
  if (!(n > 0.0f) || !std::isfinite(n))
    fail(errc::invalid_argument, "top_n_sigma stage: n must be finite and > 0 (got {})", n);
}

void top_n_sigma_stage::apply(candidate_array& c, stage_context&) {
  if (c.size <= 1) return;
  // Only finite logits count: a -inf left by an earlier stage would make the mean meaningless.
  double sum = 0, mx = -INFINITY;
  size_t n = 0;
  for (size_t i = 0; i < c.size; ++i) {
    const double l = c.data[i].logit;
    if (std::isinf(l)) continue;
    sum += l;
    mx = std::max(mx, l);
    ++n;
  }
  if (n == 0) return;
  const double mean = sum / static_cast<double>(n);
  double acc = 0;
  for (size_t i = 0; i < c.size; ++i) {
    const double l = c.data[i].logit;
    if (!std::isinf(l)) acc += (l - mean) * (l - mean);
  }
  const double threshold = mx - n_ * std::sqrt(acc / static_cast<double>(n));
  size_t kept = 0;
  for (size_t i = 0; i < c.size; ++i)
    if (static_cast<double>(c.data[i].logit) >= threshold) c.data[kept++] = c.data[i];
  c.size = kept;  // the maximum always passes
}

typical_stage::typical_stage(float p) : p_(p) {
  if (!(p >= 0.0f && p < 1.0f)) fail(errc::invalid_argument, "typical stage: p must be in [0, 1) (got {})", p);
}

void typical_stage::apply(candidate_array& c, stage_context&) {
  if (c.size <= 1) return;
  sort_candidates(c);  // the tie order among equal scores is candidate order
  softmax(c);
  const double h = entropy(c);
  if (scores_.size() < c.size) scores_.resize(c.size);
  for (size_t i = 0; i < c.size; ++i) {
    const double p = c.data[i].p;
    // p == 0 (underflow): surprise +inf, ordered last.
    scores_[i] = {p > 0 ? std::fabs(-std::log(p) - h) : INFINITY, i};
  }
  // (score, index) is a total order, so an unstable sort is reproducible.
  std::sort(scores_.begin(), scores_.begin() + static_cast<ptrdiff_t>(c.size), [](const scored& a, const scored& b) {
    return a.score < b.score || (a.score == b.score && a.index < b.index);
  });
  double cum = 0;
  size_t keep = c.size;
  for (size_t i = 0; i < c.size; ++i) {
    cum += c.data[scores_[i].index].p;
    if (cum > p_) {
      keep = i + 1;
      break;
    }
  }
  if (tmp_.size() < c.size) tmp_.resize(c.size);  // sized like scores_, so it grows only with the vocabulary
  for (size_t i = 0; i < keep; ++i) tmp_[i] = c.data[scores_[i].index];
  std::copy(tmp_.begin(), tmp_.begin() + static_cast<ptrdiff_t>(keep), c.data);
  c.size = keep;
  c.sorted = false;
}

xtc_stage::xtc_stage(float probability, float threshold) : probability_(probability), threshold_(threshold) {
  if (!(probability > 0.0f && probability <= 1.0f))
    fail(errc::invalid_argument, "xtc stage: probability must be in (0, 1] (got {})", probability);
  if (!(threshold >= 0.0f && threshold <= 0.5f))
    fail(errc::invalid_argument, "xtc stage: threshold must be in [0, 0.5] (got {})", threshold);
}

void xtc_stage::apply(candidate_array& c, stage_context& ctx) {
  const double u = ctx.gen.uniform();
  if (c.size < 2 || !(u < probability_)) return;
  softmax(c);
  // p is monotone in the logit, so "the leading run of the sorted array with p >= threshold" is simply
  // the set of such candidates: no sort needed, and the order of the rest stays as it came.
  size_t above = 0, keep = 0;
  for (size_t i = 0; i < c.size; ++i) {
    if (!(static_cast<double>(c.data[i].p) >= threshold_)) continue;
    if (above == 0 || candidate_before(c.data[keep], c.data[i])) keep = i;  // the least probable of them
    ++above;
  }
  if (above < 2) return;
  size_t n = 0;
  for (size_t i = 0; i < c.size; ++i)
    if (i == keep || !(static_cast<double>(c.data[i].p) >= threshold_)) c.data[n++] = c.data[i];
  c.size = n;  // removing entries keeps a sorted array sorted
}

dynamic_temperature_stage::dynamic_temperature_stage(float t, float range, float exponent)
    : min_t_(std::max(0.0, static_cast<double>(t) - range)), max_t_(static_cast<double>(t) + range), exponent_(exponent) {
  if (!(t > 0.0f) || !std::isfinite(t))
    fail(errc::invalid_argument, "dynamic temperature stage: t must be finite and > 0 (got {})", t);
  if (!(range > 0.0f) || !std::isfinite(range))
    fail(errc::invalid_argument, "dynamic temperature stage: range must be finite and > 0 (got {})", range);
  if (!(exponent >= 0.0f) || !std::isfinite(exponent))
    fail(errc::invalid_argument, "dynamic temperature stage: exponent must be finite and >= 0 (got {})", exponent);
}

void dynamic_temperature_stage::apply(candidate_array& c, stage_context&) {
  if (c.size <= 1) return;
  softmax(c);
  const double max_entropy = std::log(static_cast<double>(c.size));
  const double norm = entropy(c) / max_entropy;
  const double t = min_t_ + (max_t_ - min_t_) * std::pow(norm, exponent_);
  last_t_ = t;
  if (!(t > 0)) {
    c.data[0] = c.data[best_index(c)];
    c.size = 1;
    c.sorted = true;
    return;
  }
  const double m = max_logit(c);
  for (size_t i = 0; i < c.size; ++i)
    c.data[i].logit = static_cast<float>((static_cast<double>(c.data[i].logit) - m) / t);
}

}  // namespace dianoia::detail
