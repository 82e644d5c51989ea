// Rotary position embedding with ggml's arithmetic (ggml_rope_ext): both pair layouts and the scaling
// schemes llama.cpp implements, so that quantized models rotate exactly as llama.cpp rotates them.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "model/model.hpp"

namespace dianoia::detail {

class rope {
 public:
  // freq_factors: one divisor per rotated pair (Llama-3's rope_freqs.weight, rope_dim/2 values) or empty.
  // A llama3-scaled hp without factors gets them computed from its low/high frequency parameters.
  // error(format) for a factor count that does not match rope_dim/2.
  rope(const hparams& hp, std::span<const float> freq_factors);

  int64_t dim() const { return dim_; }

  // cs[dim]: (cos, sin) of each pair's angle at `pos`, magnitude-scaled for YaRN.
  void angles(int64_t pos, float* cs) const;

  // Rotates the first dim() values of each of n_heads heads (head_dim apart) by the angles of cs.
  void apply(float* x, int64_t n_heads, int64_t head_dim, const float* cs) const;

  // YaRN: the cos/sin magnitude (default 1 + 0.1 ln(factor), ggml's). DeepSeek scales it by the ratio of
  // its mscale and mscale_all_dim terms instead (yarn_mscale below), and its softmax by the latter's
  // square. No effect without YaRN.
  void set_yarn_magnitude(float m) {
    if (ext_factor_ != 0.0f) mscale_ = m;
  }

  // The per-pair divisors of a Llama-3 scaling (as llama.cpp's converter writes them to rope_freqs).
  static std::vector<float> llama3_factors(const hparams& hp);

 private:
  rope_kind kind_;
  int64_t dim_;
  float theta_scale_;       // base^(-2/dim): angle ratio between consecutive pairs
  float freq_scale_ = 1;    // 1/factor for linear and YaRN
  float ext_factor_ = 0;    // YaRN: 1 mixes extrapolated and interpolated angles along the ramp
  float mscale_ = 1;        // YaRN: cos/sin magnitude, 1 + 0.1 ln(factor)
  float corr_lo_ = 0, corr_hi_ = 0;  // YaRN ramp between these pair indices
  std::vector<float> ff_;   // per-pair divisors, empty for none
};

// DeepSeek's YaRN magnitude term: 0.1 * mscale * ln(factor) + 1, or 1 for factor <= 1.
float yarn_mscale(float factor, float mscale);

}  // namespace dianoia::detail
