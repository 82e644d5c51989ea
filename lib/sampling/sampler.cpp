#include "sampling/sampler.hpp"

#include <cmath>

#include "core/error.hpp"
#include "sampling/filters.hpp"
#include "sampling/pick.hpp"

namespace dianoia::detail {

namespace {
void validate(const sampler_params& p) {
  if (!std::isfinite(p.temperature))
    fail(errc::invalid_argument, "sampler: temperature must be finite (got {})", p.temperature);
  if (std::isnan(p.top_p) || p.top_p < 0.0f)
    fail(errc::invalid_argument, "sampler: top_p must be >= 0 (got {})", p.top_p);
  if (std::isnan(p.min_p) || p.min_p > 1.0f)
    fail(errc::invalid_argument, "sampler: min_p must be <= 1 (got {})", p.min_p);
}
}  // namespace

sampler::sampler(const sampler_params& p) : params_(p), rng_(p.seed) {
  validate(p);
  if (p.temperature <= 0.0f) {
    chain_.add(std::make_unique<greedy_stage>());
    return;
  }
  if (p.top_k > 0) chain_.add(std::make_unique<top_k_stage>(p.top_k));
  if (p.top_p < 1.0f) chain_.add(std::make_unique<top_p_stage>(p.top_p));
  if (p.min_p > 0.0f) chain_.add(std::make_unique<min_p_stage>(p.min_p));
  chain_.add(std::make_unique<temperature_stage>(p.temperature));
  chain_.add(std::make_unique<random_pick_stage>());
}

int32_t sampler::sample(std::span<const float> logits) {
  stage_context ctx{rng_};
  return chain_.sample(logits, ctx);
}

std::span<const token_candidate> sampler::distribution(std::span<const float> logits) {
  stage_context ctx{rng_};
  candidate_array& c = chain_.load(logits);
  chain_.run(ctx, 0, chain_.size() - 1);  // every chain built here ends with its pick
  softmax(c);
  return c.view();
}

}  // namespace dianoia::detail
