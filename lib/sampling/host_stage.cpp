#include "sampling/host_stage.hpp"

#include <cmath>

#include "core/error.hpp"

namespace dianoia::detail {

host_stage::host_stage(std::string name, const host_stage_fns& fns, bool picks)
    : name_(std::move(name)), fns_(fns), picks_(picks) {
  if (!fns.apply) fail(errc::invalid_argument, "host sampler '{}': apply function is null", name_);
  // A chain is built for each generation (each sample of a samples call has its own): that is when the
  // host's state starts over, as the C header promises.
  reset();
}

void host_stage::apply(candidate_array& c, stage_context& ctx) {
  const size_t before = c.size;
  softmax(c);
  size_t size = c.size;
  int64_t selected = -1;
  const int rc = fns_.apply(fns_.user, c.data, &size, &selected);
  if (rc != 0) fail(errc::invalid_argument, "host sampler '{}' failed (status {})", name_, rc);
  if (size == 0 || size > before)
    fail(errc::invalid_argument, "host sampler '{}' left {} candidates (had {}; must keep 1..{})", name_, size, before, before);
  for (size_t i = 0; i < size; ++i) {
    const token_candidate& t = c.data[i];
    if (t.id < 0 || static_cast<size_t>(t.id) >= ctx.n_vocab)
      fail(errc::invalid_argument, "host sampler '{}' wrote token id {} (vocabulary of {})", name_, t.id, ctx.n_vocab);
    if (std::isnan(t.logit) || t.logit == INFINITY)
      fail(errc::invalid_argument, "host sampler '{}' wrote logit {} for token {}", name_, t.logit, t.id);
  }
  if (selected >= static_cast<int64_t>(size) || selected < -1)
    fail(errc::invalid_argument, "host sampler '{}' selected index {} of {}", name_, selected, size);
  if (picks_ && selected < 0) fail(errc::invalid_argument, "host sampler '{}' must select a token", name_);
  c.size = size;
  c.sorted = false;
  c.selected = selected;
}

}  // namespace dianoia::detail
