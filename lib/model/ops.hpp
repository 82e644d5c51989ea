// Element-wise and normalisation operators of the transformer blocks (f32, row-wise).
#pragma once
#include <cstdint>

namespace dianoia::detail::ops {

// y = x / sqrt(mean(x^2) + eps) * w, over rows of n (sum of float squares in double, as llama.cpp does).
// y may be x.
void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps);

// y[r * n + j] += b[j] for each of `rows` rows (projection biases).
void add_rows(float* y, const float* b, int64_t rows, int64_t n);

// g = silu(g) * u
void swiglu(float* g, const float* u, int64_t n);

// y += x
void add(float* y, const float* x, int64_t n);

}  // namespace dianoia::detail::ops
