#include "model/rope.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.hpp"

namespace dianoia::detail {
namespace {

// The pair index (as a fractional dimension) whose wavelength fits n_rot times in n_ctx_orig positions
// (YaRN paper; ggml_rope_yarn_corr_dim, computed in float like ggml).
float yarn_corr_dim(int64_t n_dims, uint32_t n_ctx_orig, float n_rot, float base) {
  return static_cast<float>(n_dims) *
         std::log(static_cast<float>(n_ctx_orig) / (n_rot * 2.0f * std::numbers::pi_v<float>)) / (2.0f * std::log(base));
}

}  // namespace

rope::rope(const hparams& hp, std::span<const float> freq_factors)
    : kind_(hp.rope), dim_(hp.rope_dim), theta_scale_(std::pow(hp.rope_base, -2.0f / static_cast<float>(hp.rope_dim))) {
  const auto& sc = hp.scaling;
  switch (sc.kind) {
    case rope_scaling_kind::none:
      break;
    case rope_scaling_kind::linear:
      freq_scale_ = 1.0f / sc.factor;
      break;
    case rope_scaling_kind::llama3:
      if (freq_factors.empty()) ff_ = llama3_factors(hp);
      break;
    case rope_scaling_kind::yarn: {
      // llama.cpp's defaults for a YaRN model: ext_factor 1, attn_factor 1; the context the model was
      // trained on before extension decides where interpolation starts.
      freq_scale_ = 1.0f / sc.factor;
      ext_factor_ = 1.0f;
      const uint32_t orig = sc.original_ctx ? sc.original_ctx : hp.n_ctx_train;
      const float lo = std::floor(yarn_corr_dim(dim_, orig, sc.yarn_beta_fast, hp.rope_base));
      const float hi = std::ceil(yarn_corr_dim(dim_, orig, sc.yarn_beta_slow, hp.rope_base));
      corr_lo_ = std::max(0.0f, lo);
      corr_hi_ = std::min(static_cast<float>(dim_ - 1), hi);
      mscale_ = 1.0f + 0.1f * std::log(1.0f / freq_scale_);
      break;
    }
  }
  if (!freq_factors.empty()) {
    if (static_cast<int64_t>(freq_factors.size()) != dim_ / 2)
      fail(errc::format, "rope frequency factors: {} values for {} rotated pairs", freq_factors.size(), dim_ / 2);
    ff_.assign(freq_factors.begin(), freq_factors.end());
  }
}

std::vector<float> rope::llama3_factors(const hparams& hp) {
  const auto& sc = hp.scaling;
  const double orig = sc.original_ctx ? sc.original_ctx : hp.n_ctx_train;
  const double low_wl = orig / sc.low_freq_factor, high_wl = orig / sc.high_freq_factor;
  std::vector<float> f;
  for (int64_t i = 0; i < hp.rope_dim; i += 2) {
    const float freq = 1.0f / std::pow(hp.rope_base, static_cast<float>(i) / static_cast<float>(hp.rope_dim));
    const double wl = 2.0 * std::numbers::pi / freq;
    if (wl < high_wl) {
      f.push_back(1.0f);
    } else if (wl > low_wl) {
      f.push_back(sc.factor);
    } else {
      const double smooth = (orig / wl - sc.low_freq_factor) / (sc.high_freq_factor - sc.low_freq_factor);
      f.push_back(static_cast<float>(1.0 / ((1.0 - smooth) / sc.factor + smooth)));
    }
  }
  return f;
}

float yarn_mscale(float factor, float mscale) {
  return factor <= 1.0f ? 1.0f : 0.1f * mscale * std::log(factor) + 1.0f;
}

void rope::angles(int64_t pos, float* cs) const {
  // The angle is advanced by repeated multiplication in float, as ggml's rope cache does, so that long
  // contexts round like the reference; each step then follows ggml's rope_yarn.
  float theta = static_cast<float>(pos);
  for (int64_t i = 0; i < dim_; i += 2) {
    const float extrap = ff_.empty() ? theta : theta / ff_[i / 2];
    const float interp = freq_scale_ * extrap;
    float t = interp, m = mscale_;
    if (ext_factor_ != 0.0f) {
      const float y = (static_cast<float>(i / 2) - corr_lo_) / std::max(0.001f, corr_hi_ - corr_lo_);
      const float mix = (1.0f - std::min(1.0f, std::max(0.0f, y))) * ext_factor_;
      t = interp * (1.0f - mix) + extrap * mix;
    } else {
      m = 1.0f;
    }
    cs[i] = std::cos(t) * m;
    cs[i + 1] = std::sin(t) * m;
    theta *= theta_scale_;
  }
}

void rope::apply(float* x, int64_t n_heads, int64_t head_dim, const float* cs) const {
  const int64_t half = dim_ / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* v = x + h * head_dim;
    if (kind_ == rope_kind::norm) {
      // Adjacent pairs (2i, 2i+1). llama.cpp's compiler fuses the x0 products (x0*cos - x1*sin and
      // x0*sin + x1*cos each become one fma with the x1 product rounded first); rounding the same way
      // makes q and k, hence the logits, bit-identical to llama.cpp's (checked on SmolLM2).
      for (int64_t i = 0; i < dim_; i += 2) {
        const float a = v[i], b = v[i + 1];
        v[i] = std::fma(a, cs[i], -(b * cs[i + 1]));
        v[i + 1] = std::fma(a, cs[i + 1], b * cs[i]);
      }
    } else {
      for (int64_t i = 0; i < half; ++i) {  // pairs (i, i + dim/2), rounded as above (one code in ggml)
        const float a = v[i], b = v[i + half];
        v[i] = std::fma(a, cs[2 * i], -(b * cs[2 * i + 1]));
        v[i + half] = std::fma(a, cs[2 * i + 1], b * cs[2 * i]);
      }
    }
  }
}

}  // namespace dianoia::detail
