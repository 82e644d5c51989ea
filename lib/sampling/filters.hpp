// Stages that narrow or reshape the candidate distribution without picking: top-k, top-p, min-p,
// temperature. Semantics follow llama.cpp's samplers of the same names (each keeps at least one
// candidate); ties are broken by candidate order (lower id first), which llama.cpp leaves unspecified.
#pragma once
#include <cstdint>

#include "sampling/stage.hpp"

namespace dianoia::detail {

// Keeps the k best candidates and leaves the array sorted (also when k >= size, so that the order the
// pick walks does not depend on whether the cut happened). k must be >= 1.
class top_k_stage final : public sampler_stage {
 public:
  explicit top_k_stage(int32_t k);
  std::string_view name() const override { return "top_k"; }
  void apply(candidate_array& c, stage_context& ctx) override;

 private:
  size_t k_;
};

// Nucleus: the shortest sorted prefix whose probability (softmax over the incoming candidates) reaches
// p, cumulated in double. Leaves the array sorted. p in [0, 1); 0 keeps only the best.
class top_p_stage final : public sampler_stage {
 public:
  explicit top_p_stage(float p);
  std::string_view name() const override { return "top_p"; }
  void apply(candidate_array& c, stage_context& ctx) override;

 private:
  double p_;
};

// Keeps candidates whose probability is at least min_p times the best one's, decided in logit space
// (logit >= max + log(min_p)) so no softmax is needed. Preserves order. min_p in (0, 1].
class min_p_stage final : public sampler_stage {
 public:
  explicit min_p_stage(float min_p);
  std::string_view name() const override { return "min_p"; }
  void apply(candidate_array& c, stage_context& ctx) override;

 private:
  double log_min_p_;
};

// logit <- (logit - max) / t. The shift leaves the softmax unchanged but keeps a tiny t from
// overflowing the best logit to +inf (which would turn the softmax into NaN). Preserves order. t > 0.
class temperature_stage final : public sampler_stage {
 public:
  explicit temperature_stage(float t);
  std::string_view name() const override { return "temperature"; }
  void apply(candidate_array& c, stage_context& ctx) override;

 private:
  double t_;
};

}  // namespace dianoia::detail
