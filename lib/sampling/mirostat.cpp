#include "sampling/mirostat.hpp"

#include <cmath>

#include "core/error.hpp"

namespace dianoia::detail {

mirostat_v2_stage::mirostat_v2_stage(float tau, float eta) : tau_(tau), eta_(eta), mu_(2.0 * tau) {
  if (!(tau >= 0.0f) || !std::isfinite(tau))
    fail(errc::invalid_argument, "mirostat: tau must be finite and >= 0 (got {})", tau);
  if (!(eta >= 0.0f) || !std::isfinite(eta))
    fail(errc::invalid_argument, "mirostat: eta must be finite and >= 0 (got {})", eta);
}

void mirostat_v2_stage::narrow(candidate_array& c, stage_context&) {
  softmax(c);
  // llama.cpp cuts the sorted array at the first candidate whose surprise exceeds mu; p is monotone in
  // the logit, so that is the set below, found without sorting and kept in the order it came.
  size_t n = 0;
  for (size_t i = 0; i < c.size; ++i)
    if (!(-std::log2(static_cast<double>(c.data[i].p)) > mu_)) c.data[n++] = c.data[i];
  if (n == 0) {
    c.data[0] = c.data[best_index(c)];
    n = 1;
  }
  c.size = n;
}

void mirostat_v2_stage::apply(candidate_array& c, stage_context& ctx) {
  narrow(c, ctx);
  softmax(c);
  const double u = ctx.gen.uniform();
  const size_t idx = pick_by_cdf(c.view(), u);
  c.selected = static_cast<int64_t>(idx);
  const double surprise = -std::log2(static_cast<double>(c.data[idx].p));
  mu_ -= eta_ * (surprise - tau_);
}

}  // namespace dianoia::detail
