#include "model/ops.hpp"

#include <cmath>

namespace dianoia::detail::ops {

void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps) {
  // Squares in float, summed in double: the order llama.cpp uses, which our greedy outputs are compared to.
  double ss = 0.0;
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i] * x[i]);
  const float scale = 1.0f / std::sqrt(static_cast<float>(ss / static_cast<double>(n)) + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * w[i];
}

void rope_norm(float* x, int64_t n_heads, int64_t head_dim, int64_t rope_dim, int64_t pos, float base) {
  const float theta_scale = std::pow(base, -2.0f / static_cast<float>(rope_dim));
  for (int64_t h = 0; h < n_heads; ++h) {
    float* v = x + h * head_dim;
    // The angle is built by repeated multiplication in float, like ggml's rope, so that long contexts
    // round the same way as the reference implementation.
    float theta = static_cast<float>(pos);
    for (int64_t i = 0; i < rope_dim; i += 2) {
      const float c = std::cos(theta), s = std::sin(theta);
      const float a = v[i], b = v[i + 1];
      v[i] = a * c - b * s;
      v[i + 1] = a * s + b * c;
      theta *= theta_scale;
    }
  }
}

void swiglu(float* g, const float* u, int64_t n) {
  for (int64_t i = 0; i < n; ++i) g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

void add(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace dianoia::detail::ops
