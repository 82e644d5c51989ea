// Dot products of one weight row against one activation row, and "gemv" = the same for several
// consecutive weight rows against one activation row.
//
// Numerics are llama.cpp's AVX2 CPU path, because greedy decoding must pick the same tokens it does:
// activations are quantized per 32-block (Q8_0 for Q4_0/Q8_0 weights, Q8_1 for Q4_1), each block's
// integer products are summed exactly into 8 int32 lanes (lane l = elements 4l..4l+3), each lane is
// converted to float and accumulated as acc[l] = fma(d_w * d_x, lane, acc[l]) across blocks, and the 8
// lanes are reduced ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)). Q4_1 adds sum over blocks of m_w * s_x
// accumulated separately (with fma) and added last. The scalar references in ref/ emulate exactly this
// order, so AVX2 and scalar agree bit for bit.
//
// F16 and F32 rows: 32 float lanes (4 vectors of 8) accumulated with fma over steps of 32 elements,
// then 8-element steps into the first vector, reduced as (v0+v1)+(v2+v3) then as above; elements past the
// last multiple of 8 are added one by one with fma after the reduction.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/ggml_types.hpp"

namespace dianoia::detail {

// y[r] = dot(weight row r, x) for r in [0, nrows); weight rows are row_bytes apart. x is the activation
// row in the format the weight type consumes (see dot_activation_type), k elements.
using gemv_fn = void (*)(const void* w, size_t row_bytes, int64_t nrows, const void* x, int64_t k, float* y);

// The format activations must be converted to for weights of type t: Q8_0, Q8_1 or F32.
ggml_type dot_activation_type(ggml_type t);

// The fastest implementation available on this CPU for weights of type t, or nullptr if there is none.
// Supported: F32, F16, Q4_0, Q4_1, Q8_0.
gemv_fn select_gemv(ggml_type t);

namespace ref {
float dot_q4_0_q8_0(const void* w, const void* x, int64_t k);
float dot_q4_1_q8_1(const void* w, const void* x, int64_t k);
float dot_q8_0_q8_0(const void* w, const void* x, int64_t k);
float dot_f16_f32(const void* w, const float* x, int64_t k);
float dot_f32_f32(const float* w, const float* x, int64_t k);
gemv_fn gemv(ggml_type t);
}  // namespace ref

namespace avx2 {
float dot_q4_0_q8_0(const void* w, const void* x, int64_t k);
float dot_q4_1_q8_1(const void* w, const void* x, int64_t k);
float dot_q8_0_q8_0(const void* w, const void* x, int64_t k);
float dot_f16_f32(const void* w, const float* x, int64_t k);
float dot_f32_f32(const float* w, const float* x, int64_t k);
gemv_fn gemv(ggml_type t);
}  // namespace avx2

}  // namespace dianoia::detail
