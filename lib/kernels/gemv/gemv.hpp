// Decode matrix-vector products (M == 1) that are free to choose their own lane order: the "fast"
// numerics of a session. The llama.cpp-exact gemv of kernels/dot.hpp stays the path of
// numerics = llamacpp and of CPUs these kernels do not cover.
//
// Why separate kernels. Decoding reads every weight once per token, so it should run at the memory's
// speed; the exact AVX2 kernels, bound to llama.cpp's 8-lane order, spend ~60 cycles per Q4_K block and
// reach about a third of one core's bandwidth on this project's EPYC. With AVX-512 a block's four 64-byte
// products are one vpmaddubsw each (weights as unsigned bytes times the signed Q8 activation), and the
// sub-block scales are applied by vpdpwssd into one int32 accumulator per row, so the scales cost no
// float work and the block costs one int->float conversion and one FMA.
//
// Numerics: the activations are quantized exactly as for the exact kernels (same activation type, see
// dot_activation_type), and each block's integer dot (scales and mins included) is the same integer;
// only the f32 accumulation across blocks runs in a different lane order (16 lanes instead of 8), so
// results differ from the exact kernels by float rounding (relative ~1e-6 per row).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/ggml_types.hpp"
#include "kernels/cpu_features.hpp"
#include "kernels/dot.hpp"

namespace dianoia::detail::gemv {

// y[s * ldy + r] = dot(weight row r, activation row s) for r < nrows, s < m: weight rows rb bytes apart,
// activation rows (k elements in dot_activation_type of the weight type) x_stride bytes apart. A result
// is bit-identical whatever m and nrows are (each row pair runs the same instructions in the same
// order), so sequences decoded together match sequences decoded one by one.
using gemm_fn = void (*)(const void* w, size_t rb, int64_t nrows, const void* x, size_t x_stride, int64_t m,
                         int64_t k, float* y, int64_t ldy);

// The fastest kernel usable under `ceiling` for weights of type t, or nullptr (the exact gemv of
// dot.hpp then serves).
gemm_fn select_fast(ggml_type t, isa ceiling);

namespace avx512vnni {
// nullptr for a type without a kernel at this level.
gemm_fn get(ggml_type t);
// The 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0); nullptr for others.
gemm_fn get_q32(ggml_type t);
}  // namespace avx512vnni

}  // namespace dianoia::detail::gemv
