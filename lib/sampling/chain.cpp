#include "sampling/chain.hpp"

#include <cmath>
#include <limits>

#include "core/error.hpp"

namespace dianoia::detail {

void sampler_chain::add(std::unique_ptr<sampler_stage> s) {
  if (!s) fail(errc::invalid_argument, "sampler chain: null stage");
  stages_.push_back(std::move(s));
}

candidate_array& sampler_chain::load(std::span<const float> logits) {
  if (logits.empty()) fail(errc::invalid_argument, "sampler: empty logits");
  if (logits.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    fail(errc::invalid_argument, "sampler: vocabulary of {} tokens exceeds int32 ids", logits.size());
  if (buf_.size() < logits.size()) buf_.resize(logits.size());

  size_t n = 0;
  bool any_pos_inf = false;
  for (size_t i = 0; i < logits.size(); ++i) {
    const float l = logits[i];
    if (std::isnan(l) || l == -std::numeric_limits<float>::infinity()) continue;
    any_pos_inf |= std::isinf(l);
    buf_[n++] = {static_cast<int32_t>(i), l, 0.0f};
  }
  if (any_pos_inf) {
    size_t m = 0;
    for (size_t i = 0; i < n; ++i)
      if (std::isinf(buf_[i].logit)) buf_[m++] = {buf_[i].id, 0.0f, 0.0f};
    n = m;
  }
  if (n == 0) fail(errc::invalid_argument, "sampler: all {} logits are -inf or NaN", logits.size());
  cur_ = {buf_.data(), n, false, -1};
  n_vocab_ = logits.size();
  return cur_;
}

void sampler_chain::run(stage_context& ctx, size_t first, size_t last) {
  ctx.n_vocab = n_vocab_;
  for (size_t i = first; i < last && i < stages_.size(); ++i) {
    stages_[i]->apply(cur_, ctx);
    if (cur_.size == 0) fail(errc::internal, "sampler chain: stage '{}' left no candidate", stages_[i]->name());
    if (cur_.selected >= 0) break;  // a stage chose early (host callbacks may)
  }
}

int32_t sampler_chain::sample(std::span<const float> logits, stage_context& ctx) {
  if (stages_.empty() || !stages_.back()->picks())
    fail(errc::invalid_argument, "sampler chain: the last stage must pick a token");
  load(logits);
  run(ctx, 0, stages_.size());
  if (cur_.selected < 0 || static_cast<size_t>(cur_.selected) >= cur_.size)
    fail(errc::internal, "sampler chain: stage '{}' selected index {} of {}", stages_.back()->name(),
         cur_.selected, cur_.size);
  const int32_t token = cur_.data[cur_.selected].id;
  accept(token);
  return token;
}

void sampler_chain::accept(int32_t token) {
  for (auto& s : stages_) s->accept(token);
}

void sampler_chain::reset() {
  for (auto& s : stages_) s->reset();
}

}  // namespace dianoia::detail
