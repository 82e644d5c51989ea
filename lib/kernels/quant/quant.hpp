// Row conversions between f32 and the ggml formats.
//
// dequantize_row: weights -> f32 (embedding lookup, tests, the dequantize-then-GEMM prefill path).
// quantize_row_q8_0 / _q8_1: activations -> the q8 blocks the integer dot kernels consume. These follow
// llama.cpp's *AVX2* quantizer, not its scalar reference, because that is the path its CPU backend runs on
// our target machines: d = amax / 127 (stored as half), but the multiplier is 127 / amax computed in
// float, and rounding is to nearest *even*. The scalar versions here reproduce that bit for bit.
#pragma once
#include <cstdint>

#include "core/ggml_types.hpp"

namespace dianoia::detail {

// Types dequantize_row accepts: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (Q8_1 too).
bool dequantize_supports(ggml_type t);

// dst[0..n) = src row of n elements. Throws error(unsupported) for other types and error(format) when n is
// not a multiple of the type's block size.
void dequantize_row(ggml_type t, const void* src, float* dst, int64_t n);

// n must be a multiple of 32 (callers check); dst holds n/32 blocks. Dispatches to AVX2 when available.
void quantize_row_q8_0(const float* x, void* dst, int64_t n);
void quantize_row_q8_1(const float* x, void* dst, int64_t n);

// The scalar implementations (reference for tests; used when the CPU lacks AVX2).
void quantize_row_q8_0_ref(const float* x, void* dst, int64_t n);
void quantize_row_q8_1_ref(const float* x, void* dst, int64_t n);

// Round every element through IEEE half (what llama.cpp does to activations that meet F16 weights).
void round_row_through_fp16(const float* x, float* dst, int64_t n);

namespace avx2 {
void quantize_row_q8_0(const float* x, void* dst, int64_t n);
void quantize_row_q8_1(const float* x, void* dst, int64_t n);
void round_row_through_fp16(const float* x, float* dst, int64_t n);
void fp16_to_f32_row(const uint16_t* src, float* dst, int64_t n);
void f32_to_fp16_row(const float* src, uint16_t* dst, int64_t n);
}  // namespace avx2

}  // namespace dianoia::detail
