// Element-wise and normalisation operators of the transformer blocks (f32, row-wise).
#pragma once
#include <cstdint>

namespace dianoia::detail::ops {

// y = x / sqrt(mean(x^2) + eps) * w, over rows of n (sum of float squares in double, as llama.cpp does).
// y may be x.
void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps);

// y[r * n + j] += b[j] for each of `rows` rows (projection biases).
void add_rows(float* y, const float* b, int64_t rows, int64_t n);

// g = silu(g) * u over one row of n. Elements in whole groups of 8 from the row start use llama.cpp's
// vector exp (ggml_expf below; ggml_vec_swiglu_f32's AVX2 loop), the last n % 8 the libm expf of its
// scalar tail, so that the result is llama.cpp's bit for bit. Call it per row: the grouping restarts
// at every row as ggml's does.
void swiglu(float* g, const float* u, int64_t n);
// The scalar version of the same arithmetic (reference for tests; used without AVX2).
void swiglu_ref(float* g, const float* u, int64_t n);

// One lane of ggml's AVX2 ggml_v_expf (a polynomial after Arm's optimized-routines expf, within 1.5 ulp
// of exp): softmax and SiLU in llama.cpp's vector code go through it, so reproducing its rounding is
// what makes our logits identical to llama.cpp's rather than merely close.
float ggml_expf(float x);

// y += x
void add(float* y, const float* x, int64_t n);

}  // namespace dianoia::detail::ops
