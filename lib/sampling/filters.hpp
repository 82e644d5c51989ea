// Stages that narrow or reshape the candidate distribution without picking: top-k, top-p, min-p,
// top-n-sigma, typical, XTC, temperature and dynamic temperature. Semantics follow llama.cpp's samplers of the same names (each keeps at least one
// candidate); ties are broken by candidate order (lower id first), which llama.cpp leaves unspecified.
#pragma once
#include <cstdint>
#include <vector>

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

// Top-nσ (Tang et al. 2024): keeps candidates whose logit is at least max - n * σ, σ the population
// standard deviation of the incoming logits (double). Preserves order. n > 0.
class top_n_sigma_stage final : public sampler_stage {
 public:
  explicit top_n_sigma_stage(float n);
  std::string_view name() const override { return "top_n_sigma"; }
  void apply(candidate_array& c, stage_context& ctx) override;

 private:
  double n_;
};

// Locally typical sampling (Meister et al. 2022), as llama.cpp's typical: softmax over the incoming
// candidates, entropy H, candidates ordered by |-log p - H| (ties by candidate order), and the shortest
// such prefix whose probability exceeds p (strictly). Leaves the array in that order (unsorted).
// p in [0, 1); 0 keeps only the most typical.
class typical_stage final : public sampler_stage {
 public:
  explicit typical_stage(float p);
  std::string_view name() const override { return "typical"; }
  void apply(candidate_array& c, stage_context& ctx) override;

 private:
  struct scored {
    double score;
    size_t index;
  };
  double p_;
  std::vector<scored> scores_;         // scratch, grows to the vocabulary once
  std::vector<token_candidate> tmp_;   // scratch for the permutation
};

// Exclude Top Choices (XTC): with probability `probability`, drops every candidate whose probability
// is >= threshold except the least probable of them (so it acts only when at least two pass). Draws
// exactly one uniform per call, whether or not it acts (llama.cpp skips the draw for < 2 candidates and
// has a generator of its own); acts when u < probability. Preserves the order of what it keeps.
// probability in (0, 1], threshold in [0, 0.5] (llama.cpp treats > 0.5 as off; the sampler leaves
// the stage out then).
class xtc_stage final : public sampler_stage {
 public:
  xtc_stage(float probability, float threshold);
  std::string_view name() const override { return "xtc"; }
  void apply(candidate_array& c, stage_context& ctx) override;

 private:
  double probability_, threshold_;
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

// Dynamic temperature (llama.cpp temp_ext with delta > 0): t' = max(0, t - range) +
// (t + range - max(0, t - range)) * (H / log n)^exponent, H the entropy (nats, double) of the softmax of
// the n incoming candidates; then logit <- (logit - max) / t' as temperature_stage. t' <= 0 keeps only
// the best candidate. Preserves order; a single candidate is left alone. t > 0, range > 0,
// exponent >= 0.
class dynamic_temperature_stage final : public sampler_stage {
 public:
  dynamic_temperature_stage(float t, float range, float exponent);
  std::string_view name() const override { return "dynamic_temperature"; }
  void apply(candidate_array& c, stage_context& ctx) override;
  // The temperature the last apply() used (for tests and logging).
  double last_temperature() const { return last_t_; }

 private:
  double min_t_, max_t_, exponent_;
  double last_t_ = 0;
};

}  // namespace dianoia::detail
