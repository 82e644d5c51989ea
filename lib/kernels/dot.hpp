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
//
// Q5_0 and Q5_1 are Q4_0 and Q4_1 with a fifth bit (the same lanes and chains, Q5_1's m_w * s_x chain
// fused as llama.cpp's compiler fuses it).
//
// K types (Q4_K, Q5_K, Q6_K) meet Q8_K activations (quantize_row_q8_K). Per 256-block, 8 int32 lanes:
// lane l = sum over the eight 32-element chunks c of scale(c, t) * w[32c+t] * x[32c+t] for t in 4l..4l+3
// (scale(c, t) = the 6-bit sub-block scale of chunk c for Q4_K/Q5_K; for Q6_K the signed scale of the
// 16-element half holding t, w = q in 0..63, and the -32 offset is subtracted per lane as
// 32 * (sc[2l] * X16[2l] + sc[2l+1] * X16[2l+1]) with X16 the activation's 16-element sums: the lane split of
// llama.cpp's current AVX2 kernel, which differs from older versions that subtracted 32 * x per chunk).
// acc[l] = fma(d_x * d_w, lane, acc[l]); same 8-lane reduction. The
// mins: Q4_K keeps 4 lanes m[p] = fma(-d_x * dmin_w, mn[2p] * X[2p] + mn[2p+1] * X[2p+1], m[p]) with X[s]
// the sum of x over chunk s (from bsums), reduced (m0+m2)+(m1+m3) and added last; Q5_K sums the four
// products as an integer and keeps one scalar chain summs = fma(that, -d_x * dmin_w, summs), added last.
//
// BF16 weights meet activations rounded to bfloat16. 4 vector accumulators take steps of 32 elements with
// fma (products of two bf16 are exact in f32), reduced as (v0+v2)+(v1+v3) then as above; the last k % 32
// elements are added in *double* to that sum (ggml_vec_dot_bf16) and the result is rounded to float.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/ggml_types.hpp"

namespace dianoia::detail {

// y[r] = dot(weight row r, x) for r in [0, nrows); weight rows are row_bytes apart. x is the activation
// row in the format the weight type consumes (see dot_activation_type), k elements.
using gemv_fn = void (*)(const void* w, size_t row_bytes, int64_t nrows, const void* x, int64_t k, float* y);

// The format activations must be converted to for weights of type t: Q8_0, Q8_1, Q8_K, BF16 or F32 (F16
// weights: f32 values rounded through half).
ggml_type dot_activation_type(ggml_type t);

// The fastest implementation available on this CPU for weights of type t, or nullptr if there is none.
// Supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K.
gemv_fn select_gemv(ggml_type t);

namespace ref {
float dot_q4_0_q8_0(const void* w, const void* x, int64_t k);
float dot_q4_1_q8_1(const void* w, const void* x, int64_t k);
float dot_q8_0_q8_0(const void* w, const void* x, int64_t k);
float dot_f16_f32(const void* w, const float* x, int64_t k);
float dot_f32_f32(const float* w, const float* x, int64_t k);
gemv_fn gemv(ggml_type t);
float dot_q5_0_q8_0(const void* w, const void* x, int64_t k);
float dot_q5_1_q8_1(const void* w, const void* x, int64_t k);
float dot_q4_k_q8_k(const void* w, const void* x, int64_t k);
float dot_q5_k_q8_k(const void* w, const void* x, int64_t k);
float dot_q6_k_q8_k(const void* w, const void* x, int64_t k);
float dot_bf16_bf16(const void* w, const void* x, int64_t k);
// gemv for the types above (BF16, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K), nullptr for others.
gemv_fn gemv_more(ggml_type t);
}  // namespace ref

namespace avx2 {
float dot_q4_0_q8_0(const void* w, const void* x, int64_t k);
float dot_q4_1_q8_1(const void* w, const void* x, int64_t k);
float dot_q8_0_q8_0(const void* w, const void* x, int64_t k);
float dot_f16_f32(const void* w, const float* x, int64_t k);
float dot_f32_f32(const float* w, const float* x, int64_t k);
gemv_fn gemv(ggml_type t);
float dot_q5_0_q8_0(const void* w, const void* x, int64_t k);
float dot_q5_1_q8_1(const void* w, const void* x, int64_t k);
float dot_q4_k_q8_k(const void* w, const void* x, int64_t k);
float dot_q5_k_q8_k(const void* w, const void* x, int64_t k);
float dot_q6_k_q8_k(const void* w, const void* x, int64_t k);
float dot_bf16_bf16(const void* w, const void* x, int64_t k);
// gemv for the types above (BF16, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K), nullptr for others.
gemv_fn gemv_more(ggml_type t);
}  // namespace avx2

}  // namespace dianoia::detail
