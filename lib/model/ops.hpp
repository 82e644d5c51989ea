// Element-wise and normalisation operators of the transformer blocks (f32, row-wise).
#pragma once
#include <cstdint>

namespace dianoia::detail::ops {

// y = x / sqrt(mean(x^2) + eps) * w, over rows of n (sum of float squares in double, as llama.cpp does).
void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps);

// Rotary embedding, GGML "normal" layout: pairs (x[2i], x[2i+1]) of the first rope_dim dims of each
// head are rotated by pos * base^(-2i/rope_dim). `x` holds n_heads heads of head_dim.
void rope_norm(float* x, int64_t n_heads, int64_t head_dim, int64_t rope_dim, int64_t pos, float base);

// g = silu(g) * u
void swiglu(float* g, const float* u, int64_t n);

// y += x
void add(float* y, const float* x, int64_t n);

}  // namespace dianoia::detail::ops
