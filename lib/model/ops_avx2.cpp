// ops with AVX2/FMA: the same arithmetic as the scalar versions in ops.cpp, eight lanes at a time.
#include <cmath>

#include "model/ops.hpp"
#include "model/ops_avx2.hpp"

namespace dianoia::detail::ops::avx2 {

void swiglu(float* g, const float* u, int64_t n) {
  const int64_t n8 = n - n % 8;
  for (int64_t i = 0; i < n8; i += 8) {
    const __m256 x = _mm256_loadu_ps(g + i);
    const __m256 silu = _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), ggml_expf8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
    _mm256_storeu_ps(g + i, _mm256_mul_ps(silu, _mm256_loadu_ps(u + i)));
  }
  for (int64_t i = n8; i < n; ++i) g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

}  // namespace dianoia::detail::ops::avx2
