// Row conversions between f32 and the ggml formats.
//
// dequantize_row: weights -> f32 (embedding lookup, tests, the dequantize-then-GEMM prefill path).
// quantize_row_q8_0 / _q8_1: activations -> the q8 blocks the integer dot kernels consume. These follow
// llama.cpp's *AVX2* quantizer, not its scalar reference, because that is the path its CPU backend runs on
// our target machines: d = amax / 127 (stored as half), but the multiplier is 127 / amax computed in
// float, and rounding is to nearest *even*. The scalar versions here reproduce that bit for bit.
// quantize_row_q8_K: activations for the K types. llama.cpp runs its scalar reference quantizer here on
// every x86 build (no SIMD version exists), compiled without FMA: d = 1 / (-127 / max) with max the
// signed element of largest magnitude (first one on ties), q = min(127, round_half_even(x * (-127/max))),
// and bsums per 16 elements.
// quantize_row_bf16: activations for BF16 weights, each rounded to bfloat16 (nearest even).
#pragma once
#include <cstdint>

#include "core/ggml_types.hpp"

namespace dianoia::detail {

// Types dequantize_row accepts: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K (Q8_1 and
// Q8_K too).
bool dequantize_supports(ggml_type t);

// dst[0..n) = src row of n elements. Throws error(unsupported) for other types and error(format) when n is
// not a multiple of the type's block size.
void dequantize_row(ggml_type t, const void* src, float* dst, int64_t n);

// n must be a multiple of 32 (callers check); dst holds n/32 blocks. Dispatches to AVX2 when available.
void quantize_row_q8_0(const float* x, void* dst, int64_t n);
void quantize_row_q8_1(const float* x, void* dst, int64_t n);
// n a multiple of 256 (callers check); dst holds n/256 block_q8_k.
void quantize_row_q8_K(const float* x, void* dst, int64_t n);
// dst holds n bfloat16 values.
void quantize_row_bf16(const float* x, void* dst, int64_t n);

// The scalar implementations (reference for tests; used when the CPU lacks AVX2).
void quantize_row_q8_0_ref(const float* x, void* dst, int64_t n);
void quantize_row_q8_1_ref(const float* x, void* dst, int64_t n);
void quantize_row_bf16_ref(const float* x, void* dst, int64_t n);

// Round every element through IEEE half (what llama.cpp does to activations that meet F16 weights).
void round_row_through_fp16(const float* x, float* dst, int64_t n);
// Round every element to bfloat16 and back (BF16 weights' activations, for the sgemm path).
void round_row_through_bf16(const float* x, float* dst, int64_t n);

namespace avx2 {
void quantize_row_q8_0(const float* x, void* dst, int64_t n);
void quantize_row_q8_1(const float* x, void* dst, int64_t n);
void round_row_through_fp16(const float* x, float* dst, int64_t n);
void fp16_to_f32_row(const uint16_t* src, float* dst, int64_t n);
void f32_to_fp16_row(const float* src, uint16_t* dst, int64_t n);
void quantize_row_bf16(const float* x, void* dst, int64_t n);
void bf16_to_f32_row(const uint16_t* src, float* dst, int64_t n);
}  // namespace avx2

// The K-type row decoders behind dequantize_row (quant/kquant.cpp); nb = number of 256-blocks.
void dequantize_q4_k(const void* src, float* dst, int64_t nb);
void dequantize_q5_k(const void* src, float* dst, int64_t nb);
void dequantize_q6_k(const void* src, float* dst, int64_t nb);
void dequantize_q8_k(const void* src, float* dst, int64_t nb);

}  // namespace dianoia::detail
