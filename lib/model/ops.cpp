#include "model/ops.hpp"

#include <bit>
#include <cmath>

#include "kernels/cpu_features.hpp"

namespace dianoia::detail::ops {

namespace avx2 {
void swiglu(float* g, const float* u, int64_t n);
}

void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps) {
  // Squares in float, summed in double: the order llama.cpp uses, which our greedy outputs are compared to.
  double ss = 0.0;
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i] * x[i]);
  const float scale = 1.0f / std::sqrt(static_cast<float>(ss / static_cast<double>(n)) + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * w[i];
}

void add_rows(float* y, const float* b, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) y[r * n + j] += b[j];
}

float ggml_expf(float x) {
  // exp(x) = 2^n * exp(b), n = round(x / ln 2) found by the 1.5 * 2^23 shifter trick, b = x - n ln 2 in two
  // steps (hi/lo parts of ln 2), exp(b) - 1 by a degree-5 polynomial evaluated as ggml groups it. Every
  // multiply-add below is one fused operation there, so it is std::fma here.
  const float shift = 0x1.8p23f;
  const float z = std::fma(x, 0x1.715476p+0f, shift);
  const float n = z - shift;
  const float b = std::fma(-n, 0x1.7f7d1cp-20f, std::fma(-n, 0x1.62e4p-1f, x));
  const uint32_t e = std::bit_cast<uint32_t>(z) << 23;
  const float k = std::bit_cast<float>(e + std::bit_cast<uint32_t>(1.0f));
  const float u = b * b;
  const float j = std::fma(std::fma(std::fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, std::fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                           u, 0x1.ffffecp-1f * b);
  if (!(std::fabs(n) > 126.0f)) return std::fma(j, k, k);
  // |n| > 126: 2^n is built from two factors so that it neither overflows nor flushes early.
  const uint32_t g = n <= 0.0f ? 0x82000000u : 0u;
  const float s1 = std::bit_cast<float>(g + 0x7f000000u);
  const float s2 = std::bit_cast<float>(e - g);
  if (std::fabs(n) > 192.0f) return s1 * s1;
  return std::fma(s2, j, s2) * s1;
}

void swiglu_ref(float* g, const float* u, int64_t n) {
  const int64_t n8 = n - n % 8;
  for (int64_t i = 0; i < n8; ++i) g[i] = g[i] / (1.0f + ggml_expf(0.0f - g[i])) * u[i];
  for (int64_t i = n8; i < n; ++i) g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

void swiglu(float* g, const float* u, int64_t n) {
  if (cpu_has_avx2()) return avx2::swiglu(g, u, n);
  swiglu_ref(g, u, n);
}

void add(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace dianoia::detail::ops
